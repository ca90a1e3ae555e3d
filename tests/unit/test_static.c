/* static.c's pure parts: request path to relative path, Content-Type,
 * HTTP dates. Inputs sit against a guard page, so an over-read crashes. */
#include <string.h>

#include "check.h"
#include "static.h"

/* static_path on in; returns the result and leaves the text in out. */
static int path(const char *in, char *out, size_t cap)
{
	size_t n = strlen(in);
	char *g = check_guarded(in, n);
	int r = static_path(g, n, out, cap);
	check_unguard(g, n);
	return r;
}

#define PATH_OK(in, want)                                                      \
	do {                                                                   \
		char o_[256];                                                  \
		int r_ = path(in, o_, sizeof o_);                              \
		CHECK_INT(r_, (int)strlen(want));                              \
		if (r_ >= 0)                                                   \
			CHECK(strcmp(o_, want) == 0);                          \
	} while (0)

#define PATH_ERR(in, err)                                                      \
	do {                                                                   \
		char o_[256];                                                  \
		CHECK_INT(path(in, o_, sizeof o_), err);                       \
	} while (0)

static int date(const char *s, int64_t *t)
{
	size_t n = strlen(s);
	char *g = check_guarded(s, n);
	int ok = static_parse_date(g, n, t);
	check_unguard(g, n);
	return ok;
}

static const char *type(const char *name)
{
	return static_type(name, strlen(name));
}

int main(void)
{
	/* path: one case per line */
	PATH_OK("/", "");
	PATH_OK("/index.html", "index.html");
	PATH_OK("/a/b.css", "a/b.css");
	PATH_OK("/a/", "a/");
	PATH_OK("//a///b", "a/b");
	PATH_OK("/a%20b.txt", "a b.txt");
	PATH_OK("/%41%62c", "Abc");
	PATH_OK("/a+b", "a+b");
	PATH_OK("/a.b/c..d", "a.b/c..d");
	PATH_OK("/%e2%82%ac", "\xe2\x82\xac");
	PATH_ERR("", STATIC_BAD);
	PATH_ERR("a", STATIC_BAD);
	PATH_ERR("/%00", STATIC_BAD);
	PATH_ERR("/a%2fb", STATIC_BAD);
	PATH_ERR("/a%2Fb", STATIC_BAD);
	PATH_ERR("/%", STATIC_BAD);
	PATH_ERR("/%4", STATIC_BAD);
	PATH_ERR("/%zz", STATIC_BAD);
	PATH_ERR("/a%4", STATIC_BAD);
	PATH_ERR("/..", STATIC_HIDDEN);
	PATH_ERR("/../etc/passwd", STATIC_HIDDEN);
	PATH_ERR("/a/../../x", STATIC_HIDDEN);
	PATH_ERR("/%2e%2e/x", STATIC_HIDDEN);
	PATH_ERR("/%2E%2E", STATIC_HIDDEN);
	PATH_ERR("/./a", STATIC_HIDDEN);
	PATH_ERR("/.git/config", STATIC_HIDDEN);
	PATH_ERR("/a/.env", STATIC_HIDDEN);
	PATH_ERR("/a//.env", STATIC_HIDDEN);
	PATH_ERR("/%2eenv", STATIC_HIDDEN);
	{
		char o[4];
		CHECK_INT(path("/abc", o, sizeof o), 3);
		CHECK_INT(path("/abcd", o, sizeof o), STATIC_LONG);
		CHECK_INT(path("/ab/", o, sizeof o), 3);
		CHECK_INT(path("/abc/", o, sizeof o), STATIC_LONG);
	}

	/* Content-Type */
	CHECK(strcmp(type("index.html"), "text/html; charset=utf-8") == 0);
	CHECK(strcmp(type("A.HTM"), "text/html; charset=utf-8") == 0);
	CHECK(strcmp(type("s.css"), "text/css; charset=utf-8") == 0);
	CHECK(strcmp(type("app.js"), "text/javascript; charset=utf-8") == 0);
	CHECK(strcmp(type("m.mjs"), "text/javascript; charset=utf-8") == 0);
	CHECK(strcmp(type("d.json"), "application/json") == 0);
	CHECK(strcmp(type("app.js.map"), "application/json") == 0);
	CHECK(strcmp(type("r.txt"), "text/plain; charset=utf-8") == 0);
	CHECK(strcmp(type("i.svg"), "image/svg+xml") == 0);
	CHECK(strcmp(type("i.png"), "image/png") == 0);
	CHECK(strcmp(type("i.jpg"), "image/jpeg") == 0);
	CHECK(strcmp(type("i.JPEG"), "image/jpeg") == 0);
	CHECK(strcmp(type("i.gif"), "image/gif") == 0);
	CHECK(strcmp(type("i.webp"), "image/webp") == 0);
	CHECK(strcmp(type("favicon.ico"), "image/x-icon") == 0);
	CHECK(strcmp(type("m.wasm"), "application/wasm") == 0);
	CHECK(strcmp(type("f.woff"), "font/woff") == 0);
	CHECK(strcmp(type("f.woff2"), "font/woff2") == 0);
	CHECK(strcmp(type("f.xml"), "application/xml") == 0);
	CHECK(strcmp(type("f.pdf"), "application/pdf") == 0);
	CHECK(strcmp(type("Makefile"), "application/octet-stream") == 0);
	CHECK(strcmp(type("a.tar.gz"), "application/octet-stream") == 0);
	CHECK(strcmp(type("html"), "application/octet-stream") == 0);
	CHECK(strcmp(type("dir.html/x"), "application/octet-stream") == 0);
	CHECK(strcmp(type("x."), "application/octet-stream") == 0);

	/* HTTP dates: the three forms of RFC 9110 5.6.7 name one instant */
	int64_t t = -1;
	CHECK(date("Sun, 06 Nov 1994 08:49:37 GMT", &t));
	CHECK_INT(t, 784111777);
	t = -1;
	CHECK(date("Sunday, 06-Nov-94 08:49:37 GMT", &t));
	CHECK_INT(t, 784111777);
	t = -1;
	CHECK(date("Sun Nov  6 08:49:37 1994", &t));
	CHECK_INT(t, 784111777);
	CHECK(date("Thu, 01 Jan 1970 00:00:00 GMT", &t));
	CHECK_INT(t, 0);
	CHECK(date("Tue, 29 Feb 2000 23:59:59 GMT", &t));
	CHECK_INT(t, 951868799);
	CHECK(date("Wed, 01-Jan-25 00:00:00 GMT", &t) == 0); /* short day */
	CHECK(date("Wednesday, 01-Jan-25 00:00:00 GMT", &t));
	CHECK_INT(t, 1735689600);
	CHECK(date("Fri Nov 27 10:30:00 2026", &t));
	CHECK_INT(t, 1795775400);
	CHECK(!date("", &t));
	CHECK(!date("Sun, 06 Nov 1994 08:49:37", &t));
	CHECK(!date("Sun, 06 Nov 1994 08:49:37 GMT ", &t));
	CHECK(!date("Sun, 06 Nov 1994 08:49:37 UTC", &t));
	CHECK(!date("Sun, 6 Nov 1994 08:49:37 GMT", &t));
	CHECK(!date("Sun, 06 nov 1994 08:49:37 GMT", &t));
	CHECK(!date("Sun, 31 Nov 1994 08:49:37 GMT", &t));
	CHECK(!date("Mon, 29 Feb 2100 00:00:00 GMT", &t));
	CHECK(!date("Sun, 06 Nov 1994 24:00:00 GMT", &t));
	CHECK(!date("Sun, 00 Nov 1994 08:49:37 GMT", &t));
	CHECK(!date("Sun Nov 6 08:49:37 1994", &t));
	CHECK(!date("1994-11-06T08:49:37Z", &t));
	CHECK(!date("-1", &t));

	/* formatting, and back */
	char buf[STATIC_DATE_LEN + 1];
	static_format_date(784111777, buf);
	CHECK(strcmp(buf, "Sun, 06 Nov 1994 08:49:37 GMT") == 0);
	static_format_date(0, buf);
	CHECK(strcmp(buf, "Thu, 01 Jan 1970 00:00:00 GMT") == 0);
	static_format_date(951868799, buf);
	CHECK(strcmp(buf, "Tue, 29 Feb 2000 23:59:59 GMT") == 0);
	for (int64_t s = 0; s < 4102444800; s += 86400 * 37 + 3671) {
		int64_t back = -1;
		static_format_date(s, buf);
		if (!CHECK(date(buf, &back) && back == s))
			fprintf(stderr, "    %lld -> %s\n", (long long)s, buf);
	}

	return check_report("static");
}
