/* http: the request-head parser, header lookup and token lists. */
#include <string.h>

#include "check.h"
#include "http.h"

#define MAXH 4
#define OK   0
#define S(s) s, sizeof(s) - 1

#define RL "GET / HTTP/1.1\r\n"

/* Each case is a head followed by rest:
 *   OK:              head+rest parses, consuming exactly head;
 *   HTTP_INCOMPLETE: head+rest is a valid prefix;
 *   other errors:    head is a valid prefix, and head plus the first byte
 *                    of rest (or more) gives the error.
 * Every prefix of head must give HTTP_INCOMPLETE. */
static const struct {
	const char *head;
	size_t head_len;
	const char *rest;
	size_t rest_len;
	int want;
} cases[] = {
	/* valid */
	{S(RL "\r\n"), S(""), OK},
	{S(RL "\r\n"), S("\x81\x85 frame bytes"), OK},
	{S("GET /echo/x?a=1&b=%20 HTTP/1.1\r\nHost: h\r\n\r\n"), S(""), OK},
	{S("GET / HTTP/1.1\nHost: h\n\n"), S(""), OK},
	{S("GET / HTTP/1.1\r\nHost: h\n\r\n"), S(""), OK},
	{S("\r\nGET / HTTP/1.1\r\n\r\n"), S(""), OK},
	{S("\nGET / HTTP/1.0\n\n"), S(""), OK},
	{S("M-SEARCH * HTTP/1.1\r\n\r\n"), S(""), OK},
	{S("get http://h/x HTTP/2.0\r\n\r\n"), S(""), OK},
	{S("GET / HTTP/0.9\r\n\r\n"), S(""), OK},
	{S(RL "X:   v  \t\r\n\r\n"), S(""), OK},
	{S(RL "X:\r\nY: \t \r\n\r\n"), S(""), OK},
	{S(RL "X: a \t b\x80\xff~\r\n\r\n"), S(""), OK},
	{S(RL "X-!#$%&'*+-.^_`|~09az: v\r\n\r\n"), S(""), OK},
	{S(RL "Host: h:80\r\nX: :\r\n\r\n"), S(""), OK},
	{S(RL "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"), S(""), OK},
	/* request line */
	{S(""), S(" GET / HTTP/1.1\r\n\r\n"), HTTP_INVALID},
	{S("\r\n"), S("\r\nGET / HTTP/1.1\r\n\r\n"), HTTP_INVALID},
	{S("\r"), S("GET / HTTP/1.1\r\n\r\n"), HTTP_INVALID},
	{S(""), S("\0GET / HTTP/1.1\r\n\r\n"), HTTP_INVALID},
	{S("GE"), S("(T / HTTP/1.1\r\n\r\n"), HTTP_INVALID},
	{S("GET"), S("\t/ HTTP/1.1\r\n\r\n"), HTTP_INVALID},
	{S("GET"), S("\r\n\r\n"), HTTP_INVALID},
	{S("GET "), S(" / HTTP/1.1\r\n\r\n"), HTTP_INVALID},
	{S("GET /a"), S("\x01 HTTP/1.1\r\n\r\n"), HTTP_INVALID},
	{S("GET /a"), S("\x7f HTTP/1.1\r\n\r\n"), HTTP_INVALID},
	{S("GET /"), S("\xc3\xa9 HTTP/1.1\r\n\r\n"), HTTP_INVALID},
	{S("GET /"), S("\0 HTTP/1.1\r\n\r\n"), HTTP_INVALID},
	{S("GET /"), S("\r\n\r\n"), HTTP_INVALID},
	{S("GET / "), S(" HTTP/1.1\r\n\r\n"), HTTP_INVALID},
	{S("GET /a "), S("b HTTP/1.1\r\n\r\n"), HTTP_INVALID},
	{S("GET / "), S("http/1.1\r\n\r\n"), HTTP_INVALID},
	{S("GET / HTTP"), S(" /1.1\r\n\r\n"), HTTP_INVALID},
	{S("GET / HTTP/"), S("x.1\r\n\r\n"), HTTP_INVALID},
	{S("GET / HTTP/1"), S("1\r\n\r\n"), HTTP_INVALID},
	{S("GET / HTTP/1."), S("x\r\n\r\n"), HTTP_INVALID},
	{S("GET / HTTP/1.1"), S("0\r\n\r\n"), HTTP_INVALID},
	{S("GET / HTTP/1.1"), S(" \r\n\r\n"), HTTP_INVALID},
	{S("GET / HTTP/1.1\r"), S("X\r\n\r\n"), HTTP_INVALID},
	{S("GET / HTTP/1.1\r"), S("\r\n\r\n"), HTTP_INVALID},
	/* header lines */
	{S(RL), S(" X: y\r\n\r\n"), HTTP_INVALID},
	{S(RL "X: a\r\n"), S(" b\r\n\r\n"), HTTP_INVALID},
	{S(RL "X: a\n"), S("\tb\n\n"), HTTP_INVALID},
	{S(RL "X"), S(" : a\r\n\r\n"), HTTP_INVALID},
	{S(RL "X"), S("\t: a\r\n\r\n"), HTTP_INVALID},
	{S(RL), S(": a\r\n\r\n"), HTTP_INVALID},
	{S(RL "X"), S("(: a\r\n\r\n"), HTTP_INVALID},
	{S(RL "X"), S(" Y: a\r\n\r\n"), HTTP_INVALID},
	{S(RL "X"), S("\r\n\r\n"), HTTP_INVALID},
	{S(RL "X"), S("\0: a\r\n\r\n"), HTTP_INVALID},
	{S(RL "X"), S("\xc3\xa9: a\r\n\r\n"), HTTP_INVALID},
	{S(RL "X: a"), S("\0b\r\n\r\n"), HTTP_INVALID},
	{S(RL "X: a"), S("\x01\r\n\r\n"), HTTP_INVALID},
	{S(RL "X: a"), S("\x1b[0m\r\n\r\n"), HTTP_INVALID},
	{S(RL "X: a"), S("\x7f\r\n\r\n"), HTTP_INVALID},
	{S(RL "X: a\r"), S("b\r\n\r\n"), HTTP_INVALID},
	{S(RL "X: a\r"), S("\r\n\r\n"), HTTP_INVALID},
	{S(RL "X: a\r\n\r"), S("X"), HTTP_INVALID},
	/* incomplete */
	{S(""), S(""), HTTP_INCOMPLETE},
	{S("\r\n"), S(""), HTTP_INCOMPLETE},
	{S(RL), S(""), HTTP_INCOMPLETE},
	{S(RL "X: a\r"), S(""), HTTP_INCOMPLETE},
	{S(RL "X: a\r\n"), S(""), HTTP_INCOMPLETE},
	{S(RL "X: a\r\n\r"), S(""), HTTP_INCOMPLETE},
	/* more header lines than MAXH */
	{S(RL "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5"), S("\r\n\r\n"),
	 HTTP_TOO_MANY_HEADERS},
};

/* Parses p[0..n) placed against a guard page. */
static int parse(const char *p, size_t n, struct http_request *req)
{
	static struct http_header hs[MAXH];
	char *g = check_guarded(p, n);
	int r = http_parse_request(g, n, req, hs, MAXH);
	check_unguard(g, n);
	return r;
}

static bool is_zero(const struct http_request *req)
{
	static const struct http_request zero;
	return memcmp(req, &zero, sizeof zero) == 0;
}

static void check_prefixes(size_t i, const char *p, size_t n)
{
	struct http_request req;
	for (size_t k = 0; k < n; k++) {
		memset(&req, 0xa5, sizeof req);
		int r = parse(p, k, &req);
		if (!check_at(r == HTTP_INCOMPLETE, __FILE__, __LINE__,
			      "prefix is HTTP_INCOMPLETE"))
			fprintf(stderr, "    case %zu, prefix %zu: got %d\n", i,
				k, r);
		CHECK(is_zero(&req));
	}
}

static void run_table(void)
{
	char all[256];
	struct http_request req;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t hl = cases[i].head_len, n = hl + cases[i].rest_len;
		memcpy(all, cases[i].head, hl);
		memcpy(all + hl, cases[i].rest, cases[i].rest_len);
		check_prefixes(i, all, hl);

		memset(&req, 0xa5, sizeof req);
		int r = parse(all, n, &req);
		int want = cases[i].want == OK ? (int)hl : cases[i].want;
		if (!check_at(r == want, __FILE__, __LINE__, "table case"))
			fprintf(stderr, "    case %zu: got %d, want %d\n", i, r,
				want);
		CHECK(r > 0 ? req.headers != NULL : is_zero(&req));

		/* An error is reported at its first byte, and stays. */
		if (cases[i].want < 0 && cases[i].want != HTTP_INCOMPLETE)
			for (size_t k = hl + 1; k <= n; k++)
				CHECK_INT(parse(all, k, &req), cases[i].want);
	}
}

static void check_header(const struct http_header *h, const char *name,
			 const char *value)
{
	CHECK_MEM(h->name, h->name_len, name, strlen(name));
	CHECK_MEM(h->value, h->value_len, value, strlen(value));
}

static void test_fields(void)
{
	static const char head[] = "GET /echo/x?a=1 HTTP/1.1\r\n"
				   "Host: example.com:8080\r\n"
				   "X-Blank:\r\n"
				   "X-Pad: \t a \t b \t\r\n"
				   "host: second\r\n"
				   "\r\n";
	struct http_header hs[MAXH];
	struct http_request req;
	char *g = check_guarded(head, sizeof head - 1);

	CHECK_INT(http_parse_request(g, sizeof head - 1, &req, hs, MAXH),
		  sizeof head - 1);
	CHECK_MEM(req.method, req.method_len, "GET", 3);
	CHECK_MEM(req.target, req.target_len, "/echo/x?a=1", 11);
	CHECK_INT(req.version_major, 1);
	CHECK_INT(req.version_minor, 1);
	CHECK(req.headers == hs);
	CHECK_INT(req.num_headers, 4);
	check_header(&hs[0], "Host", "example.com:8080");
	check_header(&hs[1], "X-Blank", "");
	check_header(&hs[2], "X-Pad", "a \t b");
	check_header(&hs[3], "host", "second");
	/* views into the caller's buffer */
	CHECK(req.method == g && hs[0].name == g + 26);

	CHECK(http_header_find(&req, "HOST") == &hs[0]);
	CHECK(http_header_find(&req, "x-pad") == &hs[2]);
	CHECK(http_header_find(&req, "Hos") == NULL);
	CHECK(http_header_find(&req, "Hosts") == NULL);
	CHECK(http_header_find(&req, "Origin") == NULL);
	check_unguard(g, sizeof head - 1);

	/* Exactly max_headers fit; one more does not; none fit in 0. */
	static const char two[] = RL "A: 1\r\nB: 2\r\n\r\n";
	CHECK_INT(http_parse_request(two, sizeof two - 1, &req, hs, 2),
		  sizeof two - 1);
	CHECK_INT(req.num_headers, 2);
	CHECK_INT(http_parse_request(two, sizeof two - 1, &req, hs, 1),
		  HTTP_TOO_MANY_HEADERS);
	CHECK(is_zero(&req));
	CHECK_INT(http_parse_request(two, sizeof two - 1, &req, NULL, 0),
		  HTTP_TOO_MANY_HEADERS);
	CHECK_INT(http_parse_request(RL "\r\n", sizeof RL + 1, &req, NULL, 0),
		  sizeof RL + 1);
	CHECK_INT(req.num_headers, 0);

	/* Any HTTP/D.D parses; the handshake decides which it accepts. */
	static const char odd[] = "PROPFIND * HTTP/3.7\n\n";
	CHECK_INT(http_parse_request(odd, sizeof odd - 1, &req, hs, MAXH),
		  sizeof odd - 1);
	CHECK_MEM(req.method, req.method_len, "PROPFIND", 8);
	CHECK_MEM(req.target, req.target_len, "*", 1);
	CHECK_INT(req.version_major, 3);
	CHECK_INT(req.version_minor, 7);
}

static bool list_has(const char *list, const char *token)
{
	size_t n = strlen(list);
	char *g = check_guarded(list, n);
	bool r = http_list_has(g, n, token);
	check_unguard(g, n);
	return r;
}

static void test_list(void)
{
	CHECK(list_has("Upgrade", "upgrade"));
	CHECK(list_has("keep-alive, Upgrade", "upgrade"));
	CHECK(list_has("keep-alive,Upgrade", "upgrade"));
	CHECK(list_has("UPGRADE , keep-alive", "upgrade"));
	CHECK(list_has(" \tupgrade\t ", "upgrade"));
	CHECK(list_has(", ,upgrade,,", "upgrade"));
	CHECK(list_has("WebSocket", "websocket"));
	CHECK(!list_has("", "upgrade"));
	CHECK(!list_has(",", "upgrade"));
	CHECK(!list_has("keep-alive", "upgrade"));
	CHECK(!list_has("upgraded", "upgrade"));
	CHECK(!list_has("xupgrade", "upgrade"));
	CHECK(!list_has("up grade", "upgrade"));
	CHECK(!list_has("websocket/13", "websocket"));
	CHECK(!list_has("h2c upgrade", "upgrade"));
	/* The length bounds the list, not a NUL. */
	CHECK(!http_list_has("keep-alive, upgrade", 14, "upgrade"));
	CHECK(http_list_has("upgrade, keep-alive", 7, "upgrade"));
}

int main(void)
{
	run_table();
	test_fields();
	test_list();
	return check_report("http");
}
