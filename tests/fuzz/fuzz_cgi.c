/* Fuzz target for src/cgi.h: the parser of a CGI script's response head.
 *
 * Input: byte 0 chooses max_headers (0..16), the rest is the script's
 * output. */
#include <stdbool.h>

#include "cgi.h"
#include "fuzz.h"

#define MAX_HEADERS 16

static bool inside(const char *p, size_t n, const char *buf, size_t len)
{
	return p != NULL && p >= buf && n <= len &&
	       (size_t)(p - buf) <= len - n;
}

static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	       (c >= 'a' && c <= 'z') ||
	       (c != 0 && memchr("!#$%&'*+-.^_`|~", c, 15) != NULL);
}

/* A successful parse: every view lies in the head and holds what the
 * contract allows. */
static void check_head(const char *buf, int r, const struct cgi_head *h,
		       const struct http_header *headers, size_t max_headers)
{
	size_t len = (size_t)r;
	FUZZ_CHECK(buf[len - 1] == '\n');
	FUZZ_CHECK(h->status >= 200 && h->status <= 599);
	FUZZ_CHECK(h->headers == headers && h->num_headers <= max_headers);
	FUZZ_CHECK(h->error == NULL);
	if (h->reason) {
		FUZZ_CHECK(inside(h->reason, h->reason_len, buf, len));
		FUZZ_CHECK(h->reason_len > 0);
	}
	for (size_t i = 0; i < h->num_headers; i++) {
		const struct http_header *x = &h->headers[i];
		FUZZ_CHECK(inside(x->name, x->name_len, buf, len));
		FUZZ_CHECK(x->name_len > 0);
		for (size_t j = 0; j < x->name_len; j++)
			FUZZ_CHECK(is_tchar((unsigned char)x->name[j]));
		FUZZ_CHECK(x->value_len == 0 ||
			   inside(x->value, x->value_len, buf, len));
		for (size_t j = 0; j < x->value_len; j++) {
			unsigned char c = (unsigned char)x->value[j];
			FUZZ_CHECK(c == '\t' || (c >= 0x20 && c != 0x7f));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_header headers[MAX_HEADERS], hs[MAX_HEADERS];
	struct cgi_head h, hk;
	if (size < 1)
		return 0;
	size_t max_headers = data[0] % (MAX_HEADERS + 1);
	const char *buf = (const char *)data + 1;
	size_t len = size - 1;

	memset(&h, 0xa5, sizeof h);
	int r = cgi_parse(buf, len, &h, headers, max_headers);
	FUZZ_CHECK(r > 0 || r == CGI_INCOMPLETE || r == CGI_INVALID ||
		   r == CGI_TOO_MANY_HEADERS);
	FUZZ_CHECK(r <= (int)len);
	if (r == CGI_INVALID)
		FUZZ_CHECK(h.error != NULL);
	if (r > 0)
		check_head(buf, r, &h, headers, max_headers);

	/* Decided byte by byte: a prefix is incomplete or gives the same
	 * result; a head's own bytes give the head. */
	uint32_t seed = (uint32_t)len;
	size_t picks = len <= 64 ? len : 24;
	for (size_t i = 0; i <= picks; i++) {
		size_t k = len <= 64 ? i : fuzz_rand(&seed) % (len + 1);
		if (r > 0 && i == picks)
			k = (size_t)r;
		char *p = fuzz_dup(buf, k);
		int rk = cgi_parse(p, k, &hk, hs, max_headers);
		free(p);
		FUZZ_CHECK(rk == CGI_INCOMPLETE || rk == r);
		if (r > 0 && k < (size_t)r)
			FUZZ_CHECK(rk == CGI_INCOMPLETE);
		if (r > 0 && k == (size_t)r) {
			FUZZ_CHECK(rk == r && hk.status == h.status &&
				   hk.num_headers == h.num_headers &&
				   hk.has_length == h.has_length &&
				   hk.length == h.length);
		}
	}
	return 0;
}
