#include "cgi.h"

#include <string.h>

/* RFC 9110 5.6.2: tchar. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool name_is(const char *name, size_t len, const char *want)
{
	if (len != strlen(want))
		return false;
	for (size_t i = 0; i < len; i++) {
		char a = name[i], b = want[i];
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

static bool value_ok(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* One "name: value" line (without its end). Returns false when the head
 * cannot be used; the error is left in h->error. */
static bool take_line(struct cgi_head *h, const char *p, size_t n,
		      size_t max_headers, bool *too_many)
{
	const char *colon = memchr(p, ':', n);
	size_t nl = colon ? (size_t)(colon - p) : 0;
	bool name_ok = nl > 0;
	for (size_t i = 0; i < nl && name_ok; i++)
		name_ok = is_tchar((unsigned char)p[i]);
	const char *v = colon ? colon + 1 : p;
	const char *end = p + n;
	while (v < end && is_blank(*v))
		v++;
	while (end > v && is_blank(end[-1]))
		end--;
	size_t vl = (size_t)(end - v);
	if (!name_ok || !value_ok(v, vl)) {
		h->ignored++;
		return true;
	}
	if (name_is(p, nl, "status")) {
		if (h->status) {
			h->error = "repeated Status";
			return false;
		}
		if (vl < 3 || v[0] < '2' || v[0] > '5' || v[1] < '0' ||
		    v[1] > '9' || v[2] < '0' || v[2] > '9' ||
		    (vl > 3 && !is_blank(v[3]))) {
			h->error = "bad Status";
			return false;
		}
		h->status = (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
		if (vl > 4) {
			h->reason = v + 4;
			h->reason_len = vl - 4;
			while (h->reason_len && is_blank(*h->reason)) {
				h->reason++;
				h->reason_len--;
			}
		}
		if (h->reason_len == 0)
			h->reason = NULL;
		return true;
	}
	if (name_is(p, nl, "content-length")) {
		uint64_t x = 0;
		bool ok = vl > 0 && vl <= 18;
		for (size_t i = 0; i < vl && ok; i++) {
			ok = v[i] >= '0' && v[i] <= '9';
			x = x * 10 + (uint64_t)(v[i] - '0');
		}
		if (!ok || (h->has_length && h->length != x)) {
			h->error = "bad Content-Length";
			return false;
		}
		h->has_length = true;
		h->length = x;
		return true;
	}
	if (name_is(p, nl, "connection") || name_is(p, nl, "keep-alive") ||
	    name_is(p, nl, "transfer-encoding") || name_is(p, nl, "upgrade"))
		return true;
	if (h->num_headers == max_headers) {
		*too_many = true;
		return false;
	}
	struct http_header *out = &h->headers[h->num_headers++];
	out->name = p;
	out->name_len = nl;
	out->value = v;
	out->value_len = vl;
	return true;
}

static bool has_header(const struct cgi_head *h, const char *name)
{
	for (size_t i = 0; i < h->num_headers; i++) {
		if (name_is(h->headers[i].name, h->headers[i].name_len, name))
			return true;
	}
	return false;
}

int cgi_parse(const char *buf, size_t len, struct cgi_head *h,
	      struct http_header *headers, size_t max_headers)
{
	memset(h, 0, sizeof *h);
	h->headers = headers;
	size_t i = 0, lines = 0;
	bool bad = false, too_many = false;
	for (;;) {
		const char *nl = memchr(buf + i, '\n', len - i);
		if (!nl)
			return CGI_INCOMPLETE;
		size_t n = (size_t)(nl - (buf + i));
		size_t next = i + n + 1;
		if (n > 0 && buf[i + n - 1] == '\r')
			n--;
		if (n == 0) {
			i = next;
			break;
		}
		lines++;
		/* The first error is kept; the head is still read to its end
		 * so that a result never depends on where the bytes split. */
		if (!bad && !take_line(h, buf + i, n, max_headers, &too_many))
			bad = true;
		if (too_many)
			return CGI_TOO_MANY_HEADERS;
		i = next;
	}
	if (bad)
		return CGI_INVALID;
	if (lines == 0) {
		h->error = "no headers";
		return CGI_INVALID;
	}
	bool location = has_header(h, "location");
	if (!h->status && !location && !has_header(h, "content-type")) {
		h->error = "no Content-Type, Status or Location";
		return CGI_INVALID;
	}
	if (!h->status)
		h->status = location ? 302 : 200;
	return (int)i;
}

const char *cgi_reason(int status)
{
	static const struct {
		int code;
		const char *text;
	} t[] = {
		{200, "OK"}, {201, "Created"}, {202, "Accepted"},
		{203, "Non-Authoritative Information"}, {204, "No Content"},
		{205, "Reset Content"}, {206, "Partial Content"},
		{300, "Multiple Choices"}, {301, "Moved Permanently"},
		{302, "Found"}, {303, "See Other"}, {304, "Not Modified"},
		{307, "Temporary Redirect"}, {308, "Permanent Redirect"},
		{400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"},
		{404, "Not Found"}, {405, "Method Not Allowed"},
		{406, "Not Acceptable"}, {408, "Request Timeout"},
		{409, "Conflict"}, {410, "Gone"}, {411, "Length Required"},
		{412, "Precondition Failed"}, {413, "Content Too Large"},
		{414, "URI Too Long"}, {415, "Unsupported Media Type"},
		{416, "Range Not Satisfiable"}, {422, "Unprocessable Content"},
		{429, "Too Many Requests"},
		{431, "Request Header Fields Too Large"},
		{500, "Internal Server Error"}, {501, "Not Implemented"},
		{502, "Bad Gateway"}, {503, "Service Unavailable"},
		{504, "Gateway Timeout"},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (t[i].code == status)
			return t[i].text;
	}
	return "Unknown";
}
