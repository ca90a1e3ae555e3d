/* The server side of the RFC 6455 opening handshake (section 4.2): checks a
 * parsed request and writes the response. Pure: no syscalls, no allocation. */
#ifndef PORTAL_HANDSHAKE_H
#define PORTAL_HANDSHAKE_H

#include <stddef.h>

#include "http.h"

/* Length of a Sec-WebSocket-Accept value: base64 of a SHA-1 digest. */
#define HS_ACCEPT_LEN 28

struct hs_info {
	const char *path; /* request-target up to '?' */
	size_t path_len;
	const char *query; /* after '?', without it; NULL if there is none */
	size_t query_len;
	const char *key; /* Sec-WebSocket-Key value */
	size_t key_len;
	const char *origin; /* Origin value, NULL if absent */
	size_t origin_len;
	const char *host; /* Host value */
	size_t host_len;
};

/* Checks req against RFC 6455 section 4.2.1 and fills *info (zeroed first).
 * Returns 0 when it is a valid opening handshake; otherwise the HTTP status
 * to answer:
 *   405 method is not GET;
 *   400 request-target is not an absolute path ("/..."), version is not
 *       HTTP/1.1 or a later HTTP/1.x (HTTP/2 has no Upgrade), Host is
 *       missing or repeated, Upgrade does not list "websocket",
 *       Connection does not list "upgrade", or
 *       Sec-WebSocket-Key is missing, repeated or not the base64 of 16 bytes;
 *   426 Sec-WebSocket-Version is missing or not 13 (answer with
 *       "Sec-WebSocket-Version: 13"). */
int hs_check(const struct http_request *req, struct hs_info *info);

/* Subprotocol negotiation (RFC 6455 4.2.2 step 5.4). The client's
 * Sec-WebSocket-Protocol lines together form one comma list, in the
 * client's order of preference (4.1; RFC 9110 5.3). Returns the index in
 * names[0..n) of the first element of that list that equals one of names
 * (case-sensitive, as the registry's identifiers are: RFC 6455 11.5), or
 * -1 when the client offers none of them or sent no such line. So the
 * client's order decides, and names only says what is acceptable. Blanks
 * around elements and empty elements are ignored. */
int hs_select_protocol(const struct http_request *req,
		       const char *const *names, size_t n);

/* Writes the Sec-WebSocket-Accept value for key[0..len) (RFC 6455 1.3:
 * base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))). No NUL. */
void hs_accept(const char *key, size_t len, char out[HS_ACCEPT_LEN]);

/* Writes the 101 response for key into out[0..cap). extra (may be NULL) is
 * inserted verbatim before the final CRLF and must be a sequence of
 * "Name: value\r\n" lines. Returns the length, or 0 if cap is too small. */
size_t hs_response_101(char *out, size_t cap, const char *key, size_t key_len,
		       const char *extra);

/* Writes a complete error response for status (400, 403, 404, 405, 408,
 * 426, 431, 500, 503) with a short text/plain body naming the problem and
 * "Connection: close"; 405 adds "Allow: GET", 426 adds "Upgrade: websocket"
 * and "Sec-WebSocket-Version: 13". extra as above. Returns the length, or 0 if
 * cap is too small. */
size_t hs_response_error(char *out, size_t cap, int status, const char *extra);

/* Reason phrase for status, e.g. "Not Found"; "Error" if unknown. */
const char *hs_reason(int status);

#endif
