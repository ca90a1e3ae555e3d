#include "handshake.h"

#include <stdint.h>
#include <string.h>

#include "base64.h"
#include "sha1.h"

/* RFC 6455 1.3. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* The next header named name after h, or the first one if h is NULL. */
static const struct http_header *next_header(const struct http_request *req,
					     const struct http_header *h,
					     const char *name)
{
	struct http_request rest = *req;
	if (h) {
		size_t skip = (size_t)(h - req->headers) + 1;
		rest.headers += skip;
		rest.num_headers -= skip;
	}
	return http_header_find(&rest, name);
}

/* Upgrade and Connection may be sent as several lines, which together form
 * one list (RFC 9110 5.3). */
static bool any_list_has(const struct http_request *req, const char *name,
			 const char *token)
{
	for (const struct http_header *h = next_header(req, NULL, name); h;
	     h = next_header(req, h, name))
		if (http_list_has(h->value, h->value_len, token))
			return true;
	return false;
}

int hs_check(const struct http_request *req, struct hs_info *info)
{
	const struct http_header *h;

	memset(info, 0, sizeof *info);
	/* Methods are case-sensitive (RFC 9110 9.1). */
	if (req->method_len != 3 || memcmp(req->method, "GET", 3) != 0)
		return 405;
	if (req->target_len == 0 || req->target[0] != '/')
		return 400;
	const char *q = memchr(req->target, '?', req->target_len);
	info->path = req->target;
	info->path_len = q ? (size_t)(q - req->target) : req->target_len;
	if (q) {
		info->query = q + 1;
		info->query_len = req->target_len - info->path_len - 1;
	}
	if (req->version_major != 1 || req->version_minor < 1)
		return 400;

	/* RFC 9112 3.2: exactly one Host. */
	h = next_header(req, NULL, "Host");
	if (!h || next_header(req, h, "Host"))
		return 400;
	info->host = h->value;
	info->host_len = h->value_len;

	if (!any_list_has(req, "Upgrade", "websocket") ||
	    !any_list_has(req, "Connection", "upgrade"))
		return 400;

	/* RFC 6455 11.3.1: Sec-WebSocket-Key must not appear more than once.
	 * 16 bytes encode to 24 characters, which bounds the decode. */
	h = next_header(req, NULL, "Sec-WebSocket-Key");
	if (!h || next_header(req, h, "Sec-WebSocket-Key"))
		return 400;
	uint8_t nonce[16];
	if (h->value_len != BASE64_ENCODED_LEN(sizeof nonce) ||
	    base64_decode(h->value, h->value_len, nonce, sizeof nonce) !=
		(long)sizeof nonce)
		return 400;
	info->key = h->value;
	info->key_len = h->value_len;

	h = http_header_find(req, "Origin");
	if (h) {
		info->origin = h->value;
		info->origin_len = h->value_len;
	}

	/* Checked last: a 426 tells a WebSocket client which version to use,
	 * which is only useful once the request is otherwise a handshake. A
	 * repeated field combines to a list (RFC 9110 5.3), never "13". */
	h = next_header(req, NULL, "Sec-WebSocket-Version");
	if (!h || next_header(req, h, "Sec-WebSocket-Version") ||
	    h->value_len != 2 || memcmp(h->value, "13", 2) != 0)
		return 426;
	return 0;
}

/* Index in names[0..n) of the element list[0..len), or -1. */
static int find_name(const char *elem, size_t len, const char *const *names,
		     size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strlen(names[i]) == len && memcmp(names[i], elem, len) == 0)
			return (int)i;
	}
	return -1;
}

int hs_select_protocol(const struct http_request *req,
		       const char *const *names, size_t n)
{
	const char *name = "Sec-WebSocket-Protocol";
	for (const struct http_header *h = next_header(req, NULL, name); h;
	     h = next_header(req, h, name)) {
		const char *v = h->value, *end = v + h->value_len;
		while (v < end) {
			const char *comma = memchr(v, ',', (size_t)(end - v));
			const char *e = comma ? comma : end;
			const char *a = v, *b = e;
			while (a < b && (*a == ' ' || *a == '\t'))
				a++;
			while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
				b--;
			int k = a < b ? find_name(a, (size_t)(b - a), names, n) : -1;
			if (k >= 0)
				return k;
			v = comma ? comma + 1 : end;
		}
	}
	return -1;
}

void hs_accept(const char *key, size_t len, char out[HS_ACCEPT_LEN])
{
	struct sha1 s;
	uint8_t digest[SHA1_LEN];

	sha1_init(&s);
	sha1_update(&s, key, len);
	sha1_update(&s, ws_guid, sizeof ws_guid - 1);
	sha1_final(&s, digest);
	base64_encode(digest, sizeof digest, out);
}

/* Appends into p[0..cap), or only counts when p is NULL. Once something
 * does not fit, full stays set and nothing more is written. */
struct out {
	char *p;
	size_t cap, len;
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || o->cap - o->len < n) {
		o->full = true;
		return;
	}
	if (o->p)
		memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_uint(struct out *o, size_t v)
{
	char digits[20];
	size_t i = sizeof digits;
	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, digits + i, sizeof digits - i);
}

static size_t finish(const struct out *o)
{
	return o->full ? 0 : o->len;
}

size_t hs_response_101(char *out, size_t cap, const char *key, size_t key_len,
		       const char *extra)
{
	struct out o = {out, cap, 0, false};
	char accept[HS_ACCEPT_LEN];

	hs_accept(key, key_len, accept);
	put_str(&o, "HTTP/1.1 101 Switching Protocols\r\n"
		    "Upgrade: websocket\r\n"
		    "Connection: Upgrade\r\n"
		    "Sec-WebSocket-Accept: ");
	put(&o, accept, sizeof accept);
	put_str(&o, "\r\n");
	if (extra)
		put_str(&o, extra);
	put_str(&o, "\r\n");
	return finish(&o);
}

struct status {
	int code;
	const char *reason; /* RFC 9110 15 */
	const char *why;    /* the body's explanation; NULL for none */
};

static const struct status statuses[] = {
	{101, "Switching Protocols", NULL},
	{400, "Bad Request", "not a valid WebSocket handshake"},
	{403, "Forbidden", "origin not allowed"},
	{404, "Not Found", "no resource at this path"},
	{405, "Method Not Allowed", "a WebSocket handshake must use GET"},
	{408, "Request Timeout", "request head not received in time"},
	{426, "Upgrade Required", "a WebSocket resource: connect with WebSocket version 13"},
	{431, "Request Header Fields Too Large", "request head too large"},
	{500, "Internal Server Error", "cannot start program"},
	{503, "Service Unavailable", "server busy, try again later"},
};

static const struct status *find_status(int code)
{
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
		if (statuses[i].code == code)
			return &statuses[i];
	return NULL;
}

const char *hs_reason(int status)
{
	const struct status *st = find_status(status);
	return st ? st->reason : "Error";
}

/* "404 Not Found: no resource at this path\n". */
static void put_body(struct out *o, int code, const struct status *st)
{
	put_uint(o, (size_t)code);
	put_str(o, " ");
	put_str(o, st ? st->reason : "Error");
	if (st && st->why) {
		put_str(o, ": ");
		put_str(o, st->why);
	}
	put_str(o, "\n");
}

size_t hs_response_error(char *out, size_t cap, int status, const char *extra)
{
	/* A status line needs three digits (RFC 9112 4). */
	if (status < 100 || status > 599)
		status = 500;
	const struct status *st = find_status(status);
	struct out body = {NULL, SIZE_MAX, 0, false};
	struct out o = {out, cap, 0, false};

	put_body(&body, status, st);
	put_str(&o, "HTTP/1.1 ");
	put_uint(&o, (size_t)status);
	put_str(&o, " ");
	put_str(&o, hs_reason(status));
	put_str(&o, "\r\nContent-Type: text/plain; charset=utf-8\r\n"
		    "Content-Length: ");
	put_uint(&o, body.len);
	put_str(&o, "\r\nConnection: close\r\n");
	if (status == 405)
		put_str(&o, "Allow: GET\r\n");
	if (status == 426) /* RFC 9110 15.5.22: Upgrade is a must */
		put_str(&o, "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n");
	if (extra)
		put_str(&o, extra);
	put_str(&o, "\r\n");
	put_body(&o, status, st);
	return finish(&o);
}
