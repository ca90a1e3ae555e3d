/* mime_parse and mime_lookup on bytes: the mime.types format, its edge
 * cases, malformed and oversized input. Inputs sit against a guard page,
 * so an over-read crashes. */
#include <string.h>
#include <time.h>

#include "check.h"
#include "mime.h"

static struct mime_table t;

static size_t parse(const char *buf, size_t n)
{
	char *g = check_guarded(buf, n);
	size_t k = mime_parse(&t, g, n);
	check_unguard(g, n);
	return k;
}

static size_t parse_str(const char *s)
{
	return parse(s, strlen(s));
}

/* The type of ext in t, "" for none. */
static const char *type(const char *ext)
{
	const char *ty = mime_lookup(&t, ext, strlen(ext));
	return ty ? ty : "";
}

#define TYPE(ext, want) CHECK(strcmp(type(ext), want) == 0)

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(void)
{
	/* the format: type, then extensions; comments; blank lines */
	CHECK_INT(parse_str("# comment\n"
			    "\n"
			    "text/html\t\thtml htm shtml\n"
			    "application/json json  # JSON\n"
			    "image/png png\r\n"
			    "  video/mp4 mp4 mpg4\n"
			    "application/x-nothing\n"
			    "audio/ogg oga ogg opus"),
		  10);
	TYPE("html", "text/html; charset=utf-8");
	TYPE("htm", "text/html; charset=utf-8");
	TYPE("shtml", "text/html; charset=utf-8");
	TYPE("json", "application/json");
	TYPE("png", "image/png"); /* CRLF: the CR is not part of it */
	TYPE("mp4", "video/mp4");
	TYPE("mpg4", "video/mp4");
	TYPE("opus", "audio/ogg"); /* the last line has no "\n" */
	TYPE("HTML", "text/html; charset=utf-8");
	TYPE("Mp4", "video/mp4");
	TYPE("x-nothing", "");
	TYPE("nothing", "");
	TYPE("", "");
	TYPE("jso", "");
	TYPE("jsonx", "");
	TYPE("#", "");

	/* the first line naming an extension wins; extensions are folded */
	CHECK_INT(parse_str("text/javascript js mjs\n"
			    "application/javascript js JSX\n"
			    "text/x-other JS\n"),
		  3);
	TYPE("js", "text/javascript; charset=utf-8");
	TYPE("jsx", "application/javascript");
	TYPE("JSX", "application/javascript");

	/* malformed types skip their line; bad extensions only themselves */
	CHECK_INT(parse_str("nothing a b\n"
			    "/x c\n"
			    "x/ d\n"
			    "a/b/c e\n"
			    "te(x)t/plain f\n"
			    "text/plain ok b@d "
			    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa good.ext a+b_c-d\n"),
		  3);
	TYPE("a", "");
	TYPE("c", "");
	TYPE("e", "");
	TYPE("f", "");
	TYPE("ok", "text/plain; charset=utf-8");
	TYPE("b@d", "");
	TYPE("good.ext", "text/plain; charset=utf-8");
	TYPE("a+b_c-d", "text/plain; charset=utf-8");
	TYPE("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "");
	/* exactly MIME_EXT_LEN is kept */
	CHECK_INT(parse_str("x/y aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"), 1);
	TYPE("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "x/y");

	/* a NUL is just a byte that is not allowed */
	CHECK_INT(parse("x/y a\0b c\n", 10), 1);
	TYPE("c", "x/y");
	TYPE("a", "");
	/* "text/" alone gets no charset, only a type under it */
	CHECK_INT(parse_str("texts/x t1\ntext/x t2\nTEXT/X t3\n"), 3);
	TYPE("t1", "texts/x");
	TYPE("t2", "text/x; charset=utf-8");
	TYPE("t3", "TEXT/X");

	/* empty and comment-only input */
	CHECK_INT(parse("", 0), 0);
	TYPE("html", "");
	CHECK_INT(parse_str("#text/html html\n   \n\t\n"), 0);
	TYPE("html", "");

	/* more extensions than the table holds: the first MIME_EXT_MAX are
	 * kept, the rest left out, quickly; a huge file of noise is fast */
	static char big[1 << 20];
	size_t n = 0;
	n += (size_t)snprintf(big, sizeof big, "a/b");
	for (int i = 0; n + 16 < sizeof big; i++)
		n += (size_t)snprintf(big + n, sizeof big - n, " e%d", i);
	double t0 = now_ms();
	CHECK_INT(parse(big, n), MIME_EXT_MAX);
	double t1 = now_ms();
	TYPE("e0", "a/b");
	TYPE("e4095", "a/b");
	TYPE("e4096", "");
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)((i * 2654435761u) >> 13);
	double t2 = now_ms();
	parse(big, sizeof big);
	double t3 = now_ms();
	CHECK(t1 - t0 < 500);
	CHECK(t3 - t2 < 500);
	/* long types fill the text store: what fits is kept */
	n = 0;
	for (int i = 0; n + 200 < sizeof big; i++)
		n += (size_t)snprintf(big + n, sizeof big - n,
				      "x/%0120d ext%d\n", i, i);
	CHECK(parse(big, n) < MIME_EXT_MAX);
	CHECK(t.used <= MIME_TEXT_MAX);
	TYPE("ext0", "x/000000000000000000000000000000000000000000000000000000"
		     "000000000000000000000000000000000000000000000000000000000"
		     "000000000");

	return check_report("mime");
}
