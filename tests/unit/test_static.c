/* static.c's pure parts: request path to relative path, Content-Type,
 * HTTP dates. Inputs sit against a guard page, so an over-read crashes.
 * Then its disk part, in a scratch directory: what static_open serves and
 * refuses, and static_open_beneath refusing a symlink anywhere in a path. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	const char *t = static_type(name, strlen(name));
	return t ? t : "(none)";
}

/* Runs cmd through sh, for building the scratch tree. */
static void sh(const char *cmd)
{
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot run: %s\n", cmd);
		exit(1);
	}
}

/* static_open(root, rel): the status, and the file's first byte (or 0). */
static int serve(const char *root, const char *rel, char *first)
{
	struct static_file f;
	int st = static_open(root, rel, &f);
	*first = 0;
	if (st == 0) {
		if (read(f.fd, first, 1) != 1)
			*first = '?';
		close(f.fd);
	}
	return st;
}

static void disk(void)
{
	char tmpl[] = "/tmp/test_static.XXXXXX", root[PATH_MAX];
	static char cmd[4 * PATH_MAX];
	if (!mkdtemp(tmpl) || !realpath(tmpl, root))
		exit(1);
	snprintf(cmd, sizeof cmd,
		 "cd %s && mkdir -p www/a/b www/d && echo A >www/a/b/f.txt && "
		 "echo I >www/d/index.html && echo S >secret && echo H "
		 ">www/.h && ln -s a/b www/inner && ln -s %s/secret www/out && "
		 "ln -s %s/www/a/b/f.txt www/abs && ln -s .h www/toh && "
		 "ln -s .. www/a/up && mkfifo www/fifo && "
		 "mkdir -p www/.well-known/acme-challenge www/a/.well-known && "
		 "echo W >www/.well-known/acme-challenge/t && "
		 "echo V >www/.well-known/.v && echo K >www/a/.well-known/k && "
		 "ln -s ../.h www/.well-known/toh && "
		 "ln -s .well-known/acme-challenge/t www/tow",
		 root, root, root);
	sh(cmd);
	char www[PATH_MAX + 8], c;
	snprintf(www, sizeof www, "%s/www", root);

	CHECK_INT(serve(www, "a/b/f.txt", &c), 0);
	CHECK_INT(c, 'A');
	CHECK_INT(serve(www, "inner/f.txt", &c), 0); /* a symlink inside */
	CHECK_INT(c, 'A');
	CHECK_INT(serve(www, "abs", &c), 0); /* absolute, but inside */
	CHECK_INT(c, 'A');
	CHECK_INT(serve(www, "a/up/d/", &c), 0); /* up, still inside */
	CHECK_INT(c, 'I');
	CHECK_INT(serve(www, "d/", &c), 0);
	CHECK_INT(c, 'I');
	CHECK_INT(serve(www, "d", &c), 301);
	CHECK_INT(serve(www, "a/", &c), 404); /* no index.html */
	CHECK_INT(serve(www, "out", &c), 404);
	CHECK_INT(serve(www, "toh", &c), 404);
	CHECK_INT(serve(www, "fifo", &c), 404);
	CHECK_INT(serve(www, "nothing", &c), 404);
	CHECK_INT(serve(www, "a/b/f.txt/x", &c), 404);
	CHECK_INT(serve(www, ".well-known/acme-challenge/t", &c), 0);
	CHECK_INT(c, 'W');
	CHECK_INT(serve(www, "tow", &c), 0); /* a symlink into it */
	CHECK_INT(c, 'W');
	CHECK_INT(serve(www, ".well-known", &c), 301);
	CHECK_INT(serve(www, ".well-known/", &c), 404); /* no index.html */
	CHECK_INT(serve(www, ".well-known/.v", &c), 404);
	CHECK_INT(serve(www, ".well-known/toh", &c), 404);
	CHECK_INT(serve(www, "a/.well-known/k", &c), 404);

	/* static_open_beneath follows no symlink at all, so a directory
	 * swapped for one after realpath cannot lead anywhere. */
	int fd = static_open_beneath(www, "a/b/f.txt");
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	errno = 0;
	CHECK_INT(static_open_beneath(www, "inner/f.txt"), -1);
	CHECK(errno == ELOOP || errno == ENOTDIR);
	CHECK_INT(static_open_beneath(www, "abs"), -1);
	CHECK_INT(static_open_beneath(www, "a/up/d/index.html"), -1);
	fd = static_open_beneath(www, "/a//b/f.txt");
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	fd = static_open_beneath(www, "");
	struct stat st;
	CHECK(fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode));
	if (fd >= 0)
		close(fd);
	/* The swap itself: a/b replaced by a symlink to the outside after
	 * the path was resolved. */
	snprintf(cmd, sizeof cmd,
		 "cd %s && mkdir b2 && echo X >b2/f.txt && rm -r www/a/b && "
		 "ln -s %s/b2 www/a/b", root, root);
	sh(cmd);
	CHECK_INT(static_open_beneath(www, "a/b/f.txt"), -1);
	CHECK_INT(serve(www, "a/b/f.txt", &c), 404);

	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	sh(cmd);
}

/* static_types_load: refusals first, while static_type still has only its
 * built-in table; then a file that replaces some of it. */
static void types_file(void)
{
	char tmpl[] = "/tmp/test_static_types.XXXXXX";
	static char cmd[PATH_MAX], p[PATH_MAX + 16];
	if (!mkdtemp(tmpl))
		exit(1);
	snprintf(p, sizeof p, "%s/none", tmpl);
	errno = 0;
	CHECK_INT(static_types_load(p), -1);
	CHECK_INT(errno, ENOENT);
	CHECK_INT(static_types_load(tmpl), -1); /* a directory */
	CHECK_INT(errno, EINVAL);
	snprintf(p, sizeof p, "%s/fifo", tmpl);
	CHECK(mkfifo(p, 0600) == 0);
	CHECK_INT(static_types_load(p), -1); /* never waits for a writer */
	CHECK_INT(errno, EINVAL);
	CHECK(strcmp(type("a.ico"), "image/x-icon") == 0);

	/* Larger than STATIC_TYPES_FILE_MAX: read up to the last whole line
	 * within it, so the line across the limit is not read as "str". */
	snprintf(p, sizeof p, "%s/mime.types", tmpl);
	FILE *f = fopen(p, "w");
	if (!f)
		exit(1);
	const char *first = "image/vnd.microsoft.icon ico\ntext/x-custom Foo\n";
	size_t pad = STATIC_TYPES_FILE_MAX - strlen(first) - 4;
	fputs(first, f);
	for (size_t i = 0; i + 1 < pad; i++)
		fputc('#', f);
	fputs("\nc/d straddle\n", f);
	fclose(f);
	CHECK_INT(static_types_load(p), 2);
	CHECK(strcmp(type("a.ico"), "image/vnd.microsoft.icon") == 0);
	CHECK(strcmp(type("a.FOO"), "text/x-custom; charset=utf-8") == 0);
	CHECK(strcmp(type("a.str"), "(none)") == 0);
	CHECK(strcmp(type("a.straddle"), "(none)") == 0);
	CHECK(strcmp(type("a.html"), "text/html; charset=utf-8") == 0);
	CHECK(strcmp(type("a.woff2"), "font/woff2") == 0);

	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpl);
	sh(cmd);
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
	/* RFC 8615: /.well-known/ is served, as the first segment only */
	PATH_OK("/.well-known/security.txt", ".well-known/security.txt");
	PATH_OK("/.well-known/acme-challenge/x", ".well-known/acme-challenge/x");
	PATH_OK("/.well-known", ".well-known");
	PATH_OK("/.well-known/", ".well-known/");
	PATH_OK("//.well-known//x", ".well-known/x");
	PATH_OK("/%2ewell-known/x", ".well-known/x");
	PATH_ERR("/.well-known/.x", STATIC_HIDDEN);
	PATH_ERR("/.well-known/../.env", STATIC_HIDDEN);
	PATH_ERR("/.well-known/a/../../x", STATIC_HIDDEN);
	PATH_ERR("/a/.well-known/x", STATIC_HIDDEN);
	PATH_ERR("/.well-knownx/x", STATIC_HIDDEN);
	PATH_ERR("/.well-know", STATIC_HIDDEN);
	PATH_ERR("/.Well-Known/x", STATIC_HIDDEN);
	PATH_ERR("/.well-known.", STATIC_HIDDEN);
	PATH_ERR("/.", STATIC_HIDDEN);
	PATH_ERR("/.%2e", STATIC_HIDDEN);
	PATH_ERR("/..well-known", STATIC_HIDDEN);
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
	CHECK(strcmp(type("Makefile"), "(none)") == 0);
	CHECK(strcmp(type("a.tar.gz"), "application/gzip") == 0);
	CHECK(strcmp(type("a.tar"), "application/x-tar") == 0);
	CHECK(strcmp(type("a.zip"), "application/zip") == 0);
	CHECK(strcmp(type("f.ttf"), "font/ttf") == 0);
	CHECK(strcmp(type("f.otf"), "font/otf") == 0);
	CHECK(strcmp(type("a.mp3"), "audio/mpeg") == 0);
	CHECK(strcmp(type("a.ogg"), "audio/ogg") == 0);
	CHECK(strcmp(type("a.opus"), "audio/ogg") == 0);
	CHECK(strcmp(type("a.wav"), "audio/wav") == 0);
	CHECK(strcmp(type("a.flac"), "audio/flac") == 0);
	CHECK(strcmp(type("v.mp4"), "video/mp4") == 0);
	CHECK(strcmp(type("v.webm"), "video/webm") == 0);
	CHECK(strcmp(type("v.ogv"), "video/ogg") == 0);
	CHECK(strcmp(type("i.avif"), "image/avif") == 0);
	CHECK(strcmp(type("d.csv"), "text/csv; charset=utf-8") == 0);
	CHECK(strcmp(type("README.md"), "text/markdown; charset=utf-8") == 0);
	CHECK(strcmp(type("a.markdown"), "text/markdown; charset=utf-8") == 0);
	CHECK(strcmp(type("site.webmanifest"), "application/manifest+json") == 0);
	CHECK(strcmp(type("html"), "(none)") == 0);
	CHECK(strcmp(type("dir.html/x"), "(none)") == 0);
	CHECK(strcmp(type("x."), "(none)") == 0);

	/* A name that names no type: the first bytes tell text from binary */
	const char *text = "text/plain; charset=utf-8";
	const char *bin = "application/octet-stream";
	CHECK(strcmp(static_sniff((const uint8_t *)"", 0), text) == 0);
	CHECK(strcmp(static_sniff((const uint8_t *)"a\tb\r\n\f\x1b[0m", 10), text) == 0);
	CHECK(strcmp(static_sniff((const uint8_t *)"h\xc3\xa9", 3), text) == 0);
	CHECK(strcmp(static_sniff((const uint8_t *)"a\0b", 3), bin) == 0);
	CHECK(strcmp(static_sniff((const uint8_t *)"\x7f" "ELF\x02", 5), bin) == 0);
	CHECK(strcmp(static_sniff((const uint8_t *)"ok\x1f", 3), bin) == 0);

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

	disk();
	types_file();

	return check_report("static");
}
