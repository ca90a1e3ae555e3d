/* Fuzz target for src/http.h and src/handshake.h: the request-head parser,
 * header lookup and token lists, then the handshake check, the subprotocol
 * choice and both response writers on whatever parses.
 *
 * Input: byte 0 chooses max_headers (0..33), byte 1 the capacity of the
 * response buffers and the extra headers, the rest is the request head. */
#include <stdbool.h>

#include "fuzz.h"
#include "handshake.h"
#include "http.h"

#define MAX_HEADERS 33

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

static bool same_nocase(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	       (c >= 'a' && c <= 'z') ||
	       (c != 0 && memchr("!#$%&'*+-.^_`|~", c, 15) != NULL);
}

static bool inside(const char *p, size_t n, const char *buf, size_t len)
{
	return p != NULL && p >= buf && n <= len &&
	       (size_t)(p - buf) <= len - n;
}

/* --- the parse --------------------------------------------------------- */

static void check_zeroed(const struct http_request *req)
{
	FUZZ_CHECK(req->method == NULL && req->method_len == 0);
	FUZZ_CHECK(req->target == NULL && req->target_len == 0);
	FUZZ_CHECK(req->version_major == 0 && req->version_minor == 0);
	FUZZ_CHECK(req->headers == NULL && req->num_headers == 0);
}

/* A successful parse of buf[0..r): every view lies in the head and holds
 * what the grammar allows. */
static void check_request(const char *buf, int r,
			  const struct http_request *req,
			  const struct http_header *headers, size_t max_headers)
{
	size_t len = (size_t)r;

	FUZZ_CHECK(buf[len - 1] == '\n');
	FUZZ_CHECK(inside(req->method, req->method_len, buf, len));
	FUZZ_CHECK(req->method_len > 0);
	for (size_t i = 0; i < req->method_len; i++)
		FUZZ_CHECK(is_tchar((unsigned char)req->method[i]));
	FUZZ_CHECK(inside(req->target, req->target_len, buf, len));
	FUZZ_CHECK(req->target_len > 0);
	for (size_t i = 0; i < req->target_len; i++)
		FUZZ_CHECK(req->target[i] > ' ' && req->target[i] < 0x7f);
	FUZZ_CHECK(req->version_major >= 0 && req->version_major <= 9);
	FUZZ_CHECK(req->version_minor >= 0 && req->version_minor <= 9);
	FUZZ_CHECK(req->headers == headers);
	FUZZ_CHECK(req->num_headers <= max_headers);
	for (size_t i = 0; i < req->num_headers; i++) {
		const struct http_header *h = &req->headers[i];
		FUZZ_CHECK(inside(h->name, h->name_len, buf, len));
		FUZZ_CHECK(h->name_len > 0);
		for (size_t j = 0; j < h->name_len; j++)
			FUZZ_CHECK(is_tchar((unsigned char)h->name[j]));
		FUZZ_CHECK(inside(h->value, h->value_len, buf, len));
		if (h->value_len > 0) {
			FUZZ_CHECK(h->value[0] != ' ' && h->value[0] != '\t');
			char end = h->value[h->value_len - 1];
			FUZZ_CHECK(end != ' ' && end != '\t');
		}
		for (size_t j = 0; j < h->value_len; j++) {
			unsigned char c = (unsigned char)h->value[j];
			FUZZ_CHECK(c == '\t' || (c >= 0x20 && c != 0x7f));
		}
	}
}

/* The same request head, parsed from a different length, gave the same
 * views. */
static void check_same(const struct http_request *a,
		       const struct http_request *b)
{
	FUZZ_CHECK(a->method == b->method && a->method_len == b->method_len);
	FUZZ_CHECK(a->target == b->target && a->target_len == b->target_len);
	FUZZ_CHECK(a->version_major == b->version_major);
	FUZZ_CHECK(a->version_minor == b->version_minor);
	FUZZ_CHECK(a->num_headers == b->num_headers);
	for (size_t i = 0; i < a->num_headers; i++) {
		FUZZ_CHECK(a->headers[i].name == b->headers[i].name);
		FUZZ_CHECK(a->headers[i].name_len == b->headers[i].name_len);
		FUZZ_CHECK(a->headers[i].value == b->headers[i].value);
		FUZZ_CHECK(a->headers[i].value_len == b->headers[i].value_len);
	}
}

/* Parsing is decided byte by byte: a prefix of the input is either
 * HTTP_INCOMPLETE or gives the very result the whole input gives. */
static void check_prefixes(const char *buf, size_t len, int r,
			   size_t max_headers)
{
	struct http_header hs[MAX_HEADERS];
	struct http_request req;
	uint32_t seed = (uint32_t)len;
	size_t picks = len <= 64 ? len : 24;

	for (size_t i = 0; i <= picks; i++) {
		size_t k;
		if (len <= 64)
			k = i;
		else if (i == picks && r > 0)
			k = (size_t)r - 1;
		else
			k = fuzz_rand(&seed) % len;
		char *p = fuzz_dup(buf, k);
		int rk = http_parse_request(p, k, &req, hs, max_headers);
		free(p);
		FUZZ_CHECK(rk == HTTP_INCOMPLETE || rk == r);
		if (r > 0 && k < (size_t)r)
			FUZZ_CHECK(rk == HTTP_INCOMPLETE);
	}
}

/* --- lookups ------------------------------------------------------------ */

static void check_find(const struct http_request *req)
{
	char name[256];

	for (size_t i = 0; i < req->num_headers; i++) {
		const struct http_header *h = &req->headers[i];
		if (h->name_len >= sizeof name)
			continue;
		memcpy(name, h->name, h->name_len);
		name[h->name_len] = '\0';
		const struct http_header *f = http_header_find(req, name);
		FUZZ_CHECK(f != NULL && f >= req->headers && f <= h);
		for (const struct http_header *g = req->headers; g < f; g++)
			FUZZ_CHECK(!same_nocase(g->name, g->name_len, name,
						h->name_len));
		FUZZ_CHECK(
		    same_nocase(f->name, f->name_len, name, h->name_len));
		/* Case does not matter. */
		for (size_t j = 0; j < h->name_len; j++)
			if ((name[j] >= 'a' && name[j] <= 'z') ||
			    (name[j] >= 'A' && name[j] <= 'Z'))
				name[j] = (char)(name[j] ^ 0x20);
		FUZZ_CHECK(http_header_find(req, name) == f);
	}
	FUZZ_CHECK(http_header_find(req, "") == NULL);
}

/* RFC 9110 5.6.1: a list's elements are separated by commas with optional
 * blanks around them; empty elements do not count. */
static bool ref_list_has(const char *list, size_t len, const char *token)
{
	size_t n = strlen(token);
	const char *p = list, *end = list + len;

	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end;
		const char *s = p;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		const char *t = e;
		while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if (t > s && same_nocase(s, (size_t)(t - s), token, n))
			return true;
		if (!comma)
			break;
		p = comma + 1;
	}
	return false;
}

static void check_lists(const struct http_request *req)
{
	static const char *const tokens[] = {"upgrade", "websocket", "13",
					     "keep-alive", "Upgrade"};
	char name[64];

	for (size_t i = 0; i < req->num_headers; i++) {
		const struct http_header *h = &req->headers[i];
		for (size_t j = 0; j < sizeof tokens / sizeof tokens[0]; j++)
			FUZZ_CHECK(
			    http_list_has(h->value, h->value_len, tokens[j]) ==
			    ref_list_has(h->value, h->value_len, tokens[j]));
		/* A token taken from the input: the first header's name. */
		size_t n = req->headers[0].name_len;
		if (n < sizeof name) {
			memcpy(name, req->headers[0].name, n);
			name[n] = '\0';
			FUZZ_CHECK(
			    http_list_has(h->value, h->value_len, name) ==
			    ref_list_has(h->value, h->value_len, name));
		}
	}
}

/* --- the handshake ------------------------------------------------------ */

static size_t count(const struct http_request *req, const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < req->num_headers; i++)
		n += same_nocase(req->headers[i].name, req->headers[i].name_len,
				 name, strlen(name));
	return n;
}

static const struct http_header *find(const struct http_request *req,
				      const char *name)
{
	for (size_t i = 0; i < req->num_headers; i++)
		if (same_nocase(req->headers[i].name, req->headers[i].name_len,
				name, strlen(name)))
			return &req->headers[i];
	return NULL;
}

static bool any_has(const struct http_request *req, const char *name,
		    const char *token)
{
	for (size_t i = 0; i < req->num_headers; i++)
		if (same_nocase(req->headers[i].name, req->headers[i].name_len,
				name, strlen(name)) &&
		    ref_list_has(req->headers[i].value,
				 req->headers[i].value_len, token))
			return true;
	return false;
}

static bool is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* The canonical base64 of 16 bytes: 21 characters, one whose low 4 bits
 * are padding (so zero: A, Q, g or w), then "==". */
static bool key_ok(const char *k, size_t n)
{
	if (n != 24 || k[22] != '=' || k[23] != '=')
		return false;
	for (size_t i = 0; i < 22; i++)
		if (!is_b64(k[i]))
			return false;
	return memchr("AQgw", k[21], 4) != NULL;
}

/* hs_check as its contract lists the checks, in order. */
static int ref_hs_check(const struct http_request *req)
{
	if (req->method_len != 3 || memcmp(req->method, "GET", 3) != 0)
		return 405;
	if (req->target[0] != '/')
		return 400;
	if (req->version_major != 1 || req->version_minor < 1)
		return 400;
	if (count(req, "Host") != 1)
		return 400;
	if (!any_has(req, "Upgrade", "websocket") ||
	    !any_has(req, "Connection", "upgrade"))
		return 400;
	const struct http_header *k = find(req, "Sec-WebSocket-Key");
	if (count(req, "Sec-WebSocket-Key") != 1 ||
	    !key_ok(k->value, k->value_len))
		return 400;
	const struct http_header *v = find(req, "Sec-WebSocket-Version");
	if (count(req, "Sec-WebSocket-Version") != 1 || v->value_len != 2 ||
	    memcmp(v->value, "13", 2) != 0)
		return 426;
	return 0;
}

static void check_info(const struct http_request *req,
		       const struct hs_info *info, const char *buf, size_t len)
{
	const struct http_header *h;

	FUZZ_CHECK(info->path == req->target);
	FUZZ_CHECK(info->path_len >= 1 && info->path_len <= req->target_len);
	FUZZ_CHECK(memchr(info->path, '?', info->path_len) == NULL);
	if (info->query) {
		FUZZ_CHECK(info->query == info->path + info->path_len + 1);
		FUZZ_CHECK(info->path_len + 1 + info->query_len ==
			   req->target_len);
	} else {
		FUZZ_CHECK(info->path_len == req->target_len);
		FUZZ_CHECK(info->query_len == 0);
	}
	h = find(req, "Sec-WebSocket-Key");
	FUZZ_CHECK(info->key == h->value && info->key_len == h->value_len);
	h = find(req, "Host");
	FUZZ_CHECK(info->host == h->value && info->host_len == h->value_len);
	h = find(req, "Origin");
	if (h)
		FUZZ_CHECK(info->origin == h->value &&
			   info->origin_len == h->value_len);
	else
		FUZZ_CHECK(info->origin == NULL && info->origin_len == 0);
	FUZZ_CHECK(inside(info->key, info->key_len, buf, len));
	FUZZ_CHECK(inside(info->host, info->host_len, buf, len));
}

static bool starts(const char *p, size_t n, const char *s)
{
	size_t k = strlen(s);
	return n >= k && memcmp(p, s, k) == 0;
}

static size_t find_mem(const char *p, size_t n, const char *s)
{
	size_t k = strlen(s);
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(p + i, s, k) == 0)
			return i;
	return SIZE_MAX;
}

/* Writes into a block of exactly cap bytes; the result is all or nothing,
 * and all whenever the full response fits. */
static size_t response(bool upgrade, int status, const char *key,
		       size_t key_len, const char *extra, size_t cap,
		       char *full, size_t full_cap)
{
	size_t n, want;
	char *out = malloc(cap ? cap : 1);

	if (!out)
		abort();
	if (upgrade) {
		want = hs_response_101(full, full_cap, key, key_len, extra);
		n = hs_response_101(out, cap, key, key_len, extra);
	} else {
		want = hs_response_error(full, full_cap, status, extra);
		n = hs_response_error(out, cap, status, extra);
	}
	FUZZ_CHECK(want > 0);
	FUZZ_CHECK(n == (cap >= want ? want : 0));
	if (n)
		FUZZ_CHECK(memcmp(out, full, n) == 0);
	free(out);
	return want;
}

static void check_101(const char *key, size_t key_len, const char *extra,
		      size_t cap)
{
	char full[1024], accept[HS_ACCEPT_LEN];
	size_t n =
	    response(true, 101, key, key_len, extra, cap, full, sizeof full);

	FUZZ_CHECK(starts(full, n, "HTTP/1.1 101 Switching Protocols\r\n"));
	hs_accept(key, key_len, accept);
	for (size_t i = 0; i < HS_ACCEPT_LEN; i++)
		FUZZ_CHECK(is_b64(accept[i]) || (i == 27 && accept[i] == '='));
	size_t at = find_mem(full, n, "\r\nSec-WebSocket-Accept: ");
	FUZZ_CHECK(at != SIZE_MAX);
	at += strlen("\r\nSec-WebSocket-Accept: ");
	FUZZ_CHECK(at + HS_ACCEPT_LEN + 2 <= n);
	FUZZ_CHECK(memcmp(full + at, accept, HS_ACCEPT_LEN) == 0);
	FUZZ_CHECK(find_mem(full, n, "\r\n\r\n") == n - 4);
}

static void check_error(int status, const char *extra, size_t cap)
{
	char full[1024];
	size_t n =
	    response(false, status, NULL, 0, extra, cap, full, sizeof full);
	int shown = status < 100 || status > 599 ? 500 : status;
	char line[32];

	snprintf(line, sizeof line, "HTTP/1.1 %d ", shown);
	FUZZ_CHECK(starts(full, n, line));
	FUZZ_CHECK(find_mem(full, n, "\r\nConnection: close\r\n") != SIZE_MAX);
	FUZZ_CHECK((find_mem(full, n, "\r\nAllow: GET\r\n") != SIZE_MAX) ==
		   (shown == 405));
	FUZZ_CHECK((find_mem(full, n, "\r\nSec-WebSocket-Version: 13\r\n") !=
		    SIZE_MAX) == (shown == 426));
	/* Content-Length counts the body after the empty line. */
	size_t cl = find_mem(full, n, "\r\nContent-Length: ");
	size_t end = find_mem(full, n, "\r\n\r\n");
	FUZZ_CHECK(cl != SIZE_MAX && end != SIZE_MAX && cl < end);
	size_t v = 0;
	for (size_t i = cl + strlen("\r\nContent-Length: ");
	     full[i] >= '0' && full[i] <= '9'; i++)
		v = v * 10 + (size_t)(full[i] - '0');
	FUZZ_CHECK(v == n - (end + 4));
	FUZZ_CHECK(starts(full + end + 4, n - end - 4, line + 9));
}

/* hs_select_protocol as its contract says: the client's entries in order,
 * over every Sec-WebSocket-Protocol line, blanks trimmed; the first one
 * that equals (case-sensitively) one of names wins. */
static int ref_select_protocol(const struct http_request *req,
			       const char *const *names, size_t n)
{
	for (size_t i = 0; i < req->num_headers; i++) {
		const struct http_header *h = &req->headers[i];
		if (!same_nocase(h->name, h->name_len, "Sec-WebSocket-Protocol", 22))
			continue;
		size_t at = 0;
		while (at <= h->value_len) {
			const char *v = h->value + at;
			const char *end = memchr(v, ',', h->value_len - at);
			size_t len = end ? (size_t)(end - v) : h->value_len - at;
			size_t a = 0, b = len;
			while (a < b && (v[a] == ' ' || v[a] == '\t'))
				a++;
			while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
				b--;
			for (size_t k = 0; k < n && b > a; k++) {
				if (strlen(names[k]) == b - a &&
				    memcmp(names[k], v + a, b - a) == 0)
					return (int)k;
			}
			at += len + 1;
		}
	}
	return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const extras[] = {
	    NULL, "", "X-A: b\r\n",
	    "Sec-WebSocket-Protocol: chat\r\nX-Long: "
	    "0123456789abcdef0123456789abcdef0123456789abcdef\r\n"};
	struct http_header headers[MAX_HEADERS];
	struct http_request req;

	if (size < 2)
		return 0;
	size_t max_headers = data[0] % (MAX_HEADERS + 1);
	size_t cap = (size_t)data[1] * 2;
	const char *extra = extras[data[1] % 4];
	const char *buf = (const char *)data + 2;
	size_t len = size - 2;

	memset(&req, 0xa5, sizeof req);
	int r = http_parse_request(buf, len, &req, headers, max_headers);
	check_prefixes(buf, len, r, max_headers);
	if (r < 0) {
		FUZZ_CHECK(r == HTTP_INCOMPLETE || r == HTTP_INVALID ||
			   r == HTTP_TOO_MANY_HEADERS);
		check_zeroed(&req);
		/* The statuses the contract lists, and others (1xx is not
		 * an error and is left out). */
		static const int statuses[] = {400, 403, 404, 405, 408,
					       426, 431, 500, 503};
		int st =
		    data[0] < 9 ? statuses[data[0]] : data[0] * 4 + data[1];
		if (st >= 100 && st < 200)
			st += 100;
		check_error(st, extra, cap);
		return 0;
	}
	FUZZ_CHECK(r > 0 && (size_t)r <= len);
	check_request(buf, r, &req, headers, max_headers);

	/* Bytes after the head do not matter. */
	struct http_header headers2[MAX_HEADERS];
	struct http_request req2;
	FUZZ_CHECK(http_parse_request(buf, (size_t)r, &req2, headers2,
				      max_headers) == r);
	check_same(&req, &req2);
	check_find(&req);
	check_lists(&req);

	struct hs_info info;
	memset(&info, 0xa5, sizeof info);
	int status = hs_check(&req, &info);
	FUZZ_CHECK(status == ref_hs_check(&req));
	static const char *const protocols[] = {"chat", "v2", "superchat", "a"};
	FUZZ_CHECK(hs_select_protocol(&req, protocols, 4) ==
		   ref_select_protocol(&req, protocols, 4));
	if (status == 0) {
		check_info(&req, &info, buf, (size_t)r);
		check_101(info.key, info.key_len, extra, cap);
	} else {
		check_error(status, extra, cap);
	}
	return 0;
}
