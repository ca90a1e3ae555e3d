#include "http.h"

#include <limits.h>
#include <string.h>

/* A read position in buf[0..len). Every step below fails with HTTP_INVALID
 * on the first byte that cannot belong to a valid head, and with
 * HTTP_INCOMPLETE only when it runs out of bytes, so any prefix of a valid
 * head is HTTP_INCOMPLETE and bad bytes are reported before the head ends. */
struct scan {
	const unsigned char *p;
	size_t len, i;
};

/* RFC 9110 5.6.2: tchar. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* ASCII-only, so the result does not depend on the locale. */
static bool eq_nocase(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

/* Consumes a line end (CRLF or bare LF). Returns 1 if one was consumed, 0
 * if the next byte starts something else, or HTTP_INCOMPLETE/INVALID (a CR
 * not followed by LF). */
static int eol(struct scan *s)
{
	if (s->i == s->len)
		return HTTP_INCOMPLETE;
	if (s->p[s->i] == '\n') {
		s->i++;
		return 1;
	}
	if (s->p[s->i] != '\r')
		return 0;
	if (s->i + 1 == s->len)
		return HTTP_INCOMPLETE;
	if (s->p[s->i + 1] != '\n')
		return HTTP_INVALID;
	s->i += 2;
	return 1;
}

static int expect(struct scan *s, unsigned char c)
{
	if (s->i == s->len)
		return HTTP_INCOMPLETE;
	if (s->p[s->i] != c)
		return HTTP_INVALID;
	s->i++;
	return 0;
}

static int digit(struct scan *s, int *d)
{
	if (s->i == s->len)
		return HTTP_INCOMPLETE;
	if (s->p[s->i] < '0' || s->p[s->i] > '9')
		return HTTP_INVALID;
	*d = s->p[s->i++] - '0';
	return 0;
}

/* Consumes 1*tchar, which must be followed by something (a delimiter the
 * caller checks). */
static int token(struct scan *s)
{
	size_t start = s->i;
	while (s->i < s->len && is_tchar(s->p[s->i]))
		s->i++;
	if (s->i == s->len)
		return HTTP_INCOMPLETE;
	return s->i == start ? HTTP_INVALID : 0;
}

/* RFC 9112 3: method SP request-target SP HTTP-version CRLF. The target
 * may hold only visible ASCII (RFC 3986 has no other characters); its form
 * is the caller's concern. */
static int request_line(struct scan *s, struct http_request *req)
{
	int r;
	size_t start = s->i;

	if ((r = token(s)) < 0)
		return r;
	req->method = (const char *)s->p + start;
	req->method_len = s->i - start;
	if ((r = expect(s, ' ')) < 0)
		return r;

	start = s->i;
	while (s->i < s->len && s->p[s->i] > ' ' && s->p[s->i] < 0x7f)
		s->i++;
	if (s->i == s->len)
		return HTTP_INCOMPLETE;
	if (s->i == start)
		return HTTP_INVALID;
	req->target = (const char *)s->p + start;
	req->target_len = s->i - start;
	if ((r = expect(s, ' ')) < 0)
		return r;

	for (const char *v = "HTTP/"; *v; v++)
		if ((r = expect(s, (unsigned char)*v)) < 0)
			return r;
	if ((r = digit(s, &req->version_major)) < 0 ||
	    (r = expect(s, '.')) < 0 || (r = digit(s, &req->version_minor)) < 0)
		return r;
	r = eol(s);
	return r == 0 ? HTTP_INVALID : r < 0 ? r : 0;
}

/* RFC 9112 5: field-name ":" OWS field-value OWS, the line end not yet
 * consumed. A line that starts with a blank is obs-fold (or whitespace
 * before the first field, RFC 9112 2.2): both rejected. */
static int header_line(struct scan *s, struct http_header *h)
{
	int r;
	size_t start = s->i;

	if ((r = token(s)) < 0)
		return r;
	h->name = (const char *)s->p + start;
	h->name_len = s->i - start;
	if ((r = expect(s, ':')) < 0)
		return r;

	while (s->i < s->len && is_blank(s->p[s->i]))
		s->i++;
	start = s->i;
	size_t end = start;
	for (;;) {
		if (s->i == s->len)
			return HTTP_INCOMPLETE;
		unsigned char c = s->p[s->i];
		if (c == '\r' || c == '\n')
			break;
		/* RFC 9110 5.5: VCHAR or obs-text; DEL is neither. */
		if (!is_blank(c) && (c < 0x21 || c == 0x7f))
			return HTTP_INVALID;
		s->i++;
		if (!is_blank(c))
			end = s->i;
	}
	h->value = (const char *)s->p + start;
	h->value_len = end - start;
	return 0;
}

int http_parse_request(const char *buf, size_t len, struct http_request *req,
		       struct http_header *headers, size_t max_headers)
{
	struct http_request out = {0};
	/* The length is returned as an int; the caller's size limit on the
	 * head is far below INT_MAX. */
	struct scan s = {(const unsigned char *)buf,
			 len > INT_MAX ? INT_MAX : len, 0};
	int r;

	memset(req, 0, sizeof *req);
	/* RFC 9112 2.2: a server SHOULD ignore at least one empty line
	 * received before the request-line. */
	if ((r = eol(&s)) < 0)
		return r;
	if ((r = request_line(&s, &out)) < 0)
		return r;
	for (;;) {
		if ((r = eol(&s)) < 0)
			return r;
		if (r == 1)
			break;
		struct http_header h;
		if ((r = header_line(&s, &h)) < 0)
			return r;
		if (out.num_headers == max_headers)
			return HTTP_TOO_MANY_HEADERS;
		headers[out.num_headers++] = h;
		/* header_line stopped at CR or LF. */
		if ((r = eol(&s)) < 0)
			return r;
	}
	out.headers = headers;
	*req = out;
	return (int)s.i;
}

const struct http_header *http_header_find(const struct http_request *req,
					   const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < req->num_headers; i++) {
		const struct http_header *h = &req->headers[i];
		if (h->name_len == n && eq_nocase(h->name, name, n))
			return h;
	}
	return NULL;
}

bool http_list_has(const char *list, size_t len, const char *token)
{
	size_t n = strlen(token);
	size_t i = 0;
	while (i < len) {
		size_t start = i;
		while (i < len && list[i] != ',')
			i++;
		size_t end = i++;
		while (start < end && is_blank((unsigned char)list[start]))
			start++;
		while (end > start && is_blank((unsigned char)list[end - 1]))
			end--;
		if (end - start == n && eq_nocase(list + start, token, n))
			return true;
	}
	return false;
}
