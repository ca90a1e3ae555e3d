/* cgi: the parser of a CGI script's response head. */
#include <string.h>

#include "cgi.h"
#include "check.h"

#define MAXH 4
#define S(s) s, sizeof(s) - 1

/* Each case: a head, then body bytes that follow it; want is the head's
 * length (all of head) or an error. */
static const struct {
	const char *head;
	size_t head_len;
	const char *body;
	int want;
	int status;
	const char *reason; /* NULL: none */
	size_t nh;          /* headers passed on */
	long long length;   /* -1: no Content-Length */
	size_t ignored;
} cases[] = {
	{S("Content-Type: text/plain\n\n"), "hello\n", 0, 200, NULL, 1, -1, 0},
	{S("Content-type: text/plain\r\n\r\n"), "x\r\n\r\n", 0, 200, NULL, 1, -1, 0},
	{S("Status: 201 Created\r\nContent-Type: a/b\r\nX-Foo: bar\r\n\r\n"),
	 "", 0, 201, "Created", 2, -1, 0},
	{S("status:404\n\n"), "", 0, 404, NULL, 0, -1, 0},
	{S("Status: 500   Very   Bad  \n\n"), "", 0, 500, "Very   Bad", 0, -1, 0},
	{S("Location: http://example.com/\r\n\r\n"), "", 0, 302, NULL, 1, -1, 0},
	{S("Location: /x\nStatus: 301 Moved\n\n"), "", 0, 301, "Moved", 1, -1, 0},
	{S("Content-Type: a/b\nContent-Length: 3\n\n"), "abcdef", 0, 200, NULL, 1, 3, 0},
	{S("Content-Type: a/b\nContent-Length: 3\nContent-Length: 3\n\n"), "", 0,
	 200, NULL, 1, 3, 0},
	{S("Content-Type: a/b\nConnection: keep-alive\nTransfer-Encoding: chunked\n"
	   "Keep-Alive: 5\nUpgrade: h2c\n\n"), "", 0, 200, NULL, 1, -1, 0},
	/* skipped lines, as Go's net/http/cgi */
	{S("hello\nContent-Type: a/b\n\n"), "", 0, 200, NULL, 1, -1, 1},
	{S("Bad Name: v\nX: a\x01" "b\nContent-Type: a/b\n\n"), "", 0, 200, NULL,
	 1, -1, 2},
	{S("X: a\tb\x80\xff\nContent-Type: a/b\n\n"), "", 0, 200, NULL, 2, -1, 0},
	/* unusable heads */
	{S("\n"), "body", CGI_INVALID, 0, NULL, 0, -1, 0},
	{S("\r\n"), "body", CGI_INVALID, 0, NULL, 0, -1, 0},
	{S("hello world\n\n"), "", CGI_INVALID, 0, NULL, 0, -1, 1},
	{S("X-A: 1\n\n"), "body\n", CGI_INVALID, 0, NULL, 0, -1, 0},
	{S("Status: abc\nContent-Type: a/b\n\n"), "", CGI_INVALID, 0, NULL, 0, -1, 0},
	{S("Status: 20\n\n"), "", CGI_INVALID, 0, NULL, 0, -1, 0},
	{S("Status: 2000\n\n"), "", CGI_INVALID, 0, NULL, 0, -1, 0},
	{S("Status: 101 Switching\n\n"), "", CGI_INVALID, 0, NULL, 0, -1, 0},
	{S("Status: 600\n\n"), "", CGI_INVALID, 0, NULL, 0, -1, 0},
	{S("Status: 200\nStatus: 200\n\n"), "", CGI_INVALID, 0, NULL, 0, -1, 0},
	{S("Content-Type: a/b\nContent-Length: 3x\n\n"), "", CGI_INVALID, 0,
	 NULL, 0, -1, 0},
	{S("Content-Type: a/b\nContent-Length:\n\n"), "", CGI_INVALID, 0, NULL,
	 0, -1, 0},
	{S("Content-Type: a/b\nContent-Length: 3\nContent-Length: 4\n\n"), "",
	 CGI_INVALID, 0, NULL, 0, -1, 0},
	{S("Content-Type: a/b\nContent-Length: 1234567890123456789\n\n"), "",
	 CGI_INVALID, 0, NULL, 0, -1, 0},
	{S("A: 1\nB: 2\nC: 3\nD: 4\nE: 5\n\n"), "", CGI_TOO_MANY_HEADERS, 0, NULL,
	 0, -1, 0},
};

static void check_case(size_t i)
{
	char all[512];
	size_t hl = cases[i].head_len, bl = strlen(cases[i].body);
	memcpy(all, cases[i].head, hl);
	memcpy(all + hl, cases[i].body, bl);
	struct http_header hs[MAXH];
	struct cgi_head h;
	/* Every split point: a prefix is incomplete, or (for too many
	 * headers, known at the line that overflows) already the answer. */
	for (size_t k = 0; k < hl; k++) {
		char *g = check_guarded(all, k);
		int r = cgi_parse(g, k, &h, hs, MAXH);
		if (!check_at(r == CGI_INCOMPLETE ||
			      (r == cases[i].want && r == CGI_TOO_MANY_HEADERS),
			      __FILE__, __LINE__, "prefix is incomplete"))
			fprintf(stderr, "    case %zu, %zu bytes: %d\n", i, k, r);
		check_unguard(g, k);
	}
	char *g = check_guarded(all, hl + bl);
	int r = cgi_parse(g, hl + bl, &h, hs, MAXH);
	int want = cases[i].want == 0 ? (int)hl : cases[i].want;
	if (!check_at(r == want, __FILE__, __LINE__, "result"))
		fprintf(stderr, "    case %zu: got %d, want %d\n", i, r, want);
	if (r > 0) {
		CHECK_INT(h.status, cases[i].status);
		if (cases[i].reason)
			CHECK_MEM(h.reason, h.reason_len, cases[i].reason,
				  strlen(cases[i].reason));
		else
			CHECK(h.reason == NULL);
		CHECK_INT(h.num_headers, cases[i].nh);
		CHECK_INT(h.has_length ? (long long)h.length : -1,
			  cases[i].length);
		CHECK_INT(h.ignored, cases[i].ignored);
	} else if (r == CGI_INVALID) {
		CHECK(h.error != NULL);
	}
	check_unguard(g, hl + bl);
}

static void test_views(void)
{
	const char in[] = "Status: 201 Made\r\nX-Foo:  bar baz \r\n"
			  "Location: /there\r\n\r\nbody";
	struct http_header hs[MAXH];
	struct cgi_head h;
	int r = cgi_parse(in, sizeof in - 1, &h, hs, MAXH);
	CHECK_INT(r, (int)(strstr(in, "body") - in));
	CHECK_INT(h.num_headers, 2);
	CHECK_MEM(hs[0].name, hs[0].name_len, "X-Foo", 5);
	CHECK_MEM(hs[0].value, hs[0].value_len, "bar baz", 7);
	CHECK_MEM(hs[1].name, hs[1].name_len, "Location", 8);
	CHECK_MEM(hs[1].value, hs[1].value_len, "/there", 6);
	CHECK_INT(h.status, 201);
	CHECK_MEM(h.reason, h.reason_len, "Made", 4);

	/* A head with no lines to pass on needs no storage. */
	r = cgi_parse("Status: 204\n\n", 13, &h, NULL, 0);
	CHECK_INT(r, 13);
	CHECK_INT(h.status, 204);
	r = cgi_parse("", 0, &h, hs, MAXH);
	CHECK_INT(r, CGI_INCOMPLETE);
}

int main(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_case(i);
	test_views();
	CHECK(strcmp(cgi_reason(201), "Created") == 0);
	CHECK(strcmp(cgi_reason(502), "Bad Gateway") == 0);
	CHECK(strcmp(cgi_reason(299), "Unknown") == 0);
	return check_report("cgi");
}
