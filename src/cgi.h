/* The head of a CGI/1.1 script's response (RFC 3875 6): header lines on its
 * stdout up to an empty line. Pure: no syscalls, no allocation; results are
 * views into the caller's buffer, which need not be NUL-terminated. */
#ifndef PORTAL_CGI_H
#define PORTAL_CGI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

struct cgi_head {
	int status;           /* from Status:, else 302 with Location, else 200 */
	const char *reason;   /* Status:'s reason phrase; NULL: none given */
	size_t reason_len;
	bool has_length;      /* a Content-Length was given ... */
	uint64_t length;      /* ... and its value */
	struct http_header *headers; /* to pass on: see cgi_parse */
	size_t num_headers;
	size_t ignored;       /* lines skipped: no ':', or a bad name or value */
	const char *error;    /* CGI_INVALID: why, for the log */
};

enum cgi_result {
	CGI_INCOMPLETE = -1,       /* need more bytes: no empty line yet */
	CGI_INVALID = -2,          /* not a usable head: see head->error */
	CGI_TOO_MANY_HEADERS = -3, /* more lines to pass on than max_headers */
};

/* Parses the head at buf[0..len). Lines end with LF, an optional CR before
 * it is dropped. As Go's net/http/cgi (websocketd's): a line without ':' or
 * whose name is not an RFC 9110 token is skipped (counted in ignored), the
 * value's surrounding blanks are trimmed, and the head is CGI_INVALID when
 * it has no line at all, or has neither Status, Location nor Content-Type.
 * Status (any case) must start with three digits from 200 to 599 (else
 * CGI_INVALID); Location without Status means 302. Also skipped: a value
 * with a control character other than HTAB. Content-Length must be digits
 * (else CGI_INVALID) and is returned in length, not in headers; the
 * hop-by-hop Connection, Keep-Alive, Transfer-Encoding and Upgrade lines
 * are dropped: the gateway frames the body itself. Every other line is
 * returned in headers[0..max_headers), in order, Location and Content-Type
 * included.
 *
 * Returns the head's length (bytes consumed, > 0) or a negative enum
 * cgi_result. *h is zeroed first whatever the result. A prefix of a head
 * gives CGI_INCOMPLETE, so call again with more bytes (parsing restarts);
 * the caller bounds the head's size. */
int cgi_parse(const char *buf, size_t len, struct cgi_head *h,
	      struct http_header *headers, size_t max_headers);

/* The standard reason phrase for a status from 200 to 599 (RFC 9110 15),
 * for a Status: line that gives none; "Unknown" for one without. */
const char *cgi_reason(int status);

#endif
