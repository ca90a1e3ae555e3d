/* HTTP/1.1 request-head parser (RFC 9112). Pure: no syscalls, no allocation;
 * results are views into the caller's buffer, which need not be
 * NUL-terminated. */
#ifndef PORTAL_HTTP_H
#define PORTAL_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct http_header {
	const char *name;
	size_t name_len;
	const char *value; /* leading and trailing blanks removed */
	size_t value_len;
};

struct http_request {
	const char *method;
	size_t method_len;
	const char *target; /* request-target as sent, e.g. "/echo/x?a=1" */
	size_t target_len;
	int version_major; /* HTTP/1.1 -> 1, 1 */
	int version_minor;
	struct http_header *headers; /* caller's array, see http_parse_request */
	size_t num_headers;
};

/* Header lines a request may have: 256, above what browsers send (about 20)
 * and Apache's 100, so that real requests pass; more is 431. A caller's
 * array of this many entries takes 8 KiB. */
#define HTTP_MAX_HEADERS 256

enum http_result {
	HTTP_INCOMPLETE = -1,       /* need more bytes: the head has not ended */
	HTTP_INVALID = -2,          /* malformed request line or header */
	HTTP_TOO_MANY_HEADERS = -3, /* more header lines than max_headers */
};

/* Parses the request head at buf[0..len): request line, header lines, then
 * an empty line. Lines end with CRLF (a bare LF is accepted too). Header
 * names are RFC 9110 tokens; obsolete line folding, control characters
 * other than HTAB in values, and whitespace before a colon are HTTP_INVALID.
 *
 * Returns the length of the head (bytes consumed, > 0) and fills *req, with
 * req->headers = headers and at most max_headers entries; or a negative
 * enum http_result. *req is zeroed first whatever the result. Call again
 * with the same buffer, grown, after HTTP_INCOMPLETE (parsing restarts from
 * the beginning; heads are small). The caller enforces the size limit. */
int http_parse_request(const char *buf, size_t len, struct http_request *req,
		       struct http_header *headers, size_t max_headers);

/* First header named name (case-insensitive), or NULL. */
const struct http_header *http_header_find(const struct http_request *req,
					   const char *name);

/* True when the comma-separated token list list[0..len) contains token
 * (case-insensitive, blanks around elements ignored), e.g. a Connection
 * value "keep-alive, Upgrade" contains "upgrade". */
bool http_list_has(const char *list, size_t len, const char *token);

#endif
