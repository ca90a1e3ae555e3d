/* errlines: a child's stderr comes out by lines, whatever the reads; a "\r"
 * before the "\n" is dropped; a line that does not end within ERR_LINE_MAX
 * bytes comes out in pieces; the rest comes out at the end. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "errlines.h"

#define MAXGOT 16

struct got {
	size_t n;
	char line[MAXGOT][3 * ERR_LINE_MAX];
	size_t len[MAXGOT];
};

static void collect(void *arg, const uint8_t *p, size_t n)
{
	struct got *g = arg;
	if (g->n < MAXGOT && n <= sizeof g->line[0]) {
		memcpy(g->line[g->n], p, n);
		g->len[g->n] = n;
	}
	g->n++;
}

static struct got g;

static int feed(struct errlines *e, const char *s)
{
	return errlines_feed(e, (const uint8_t *)s, strlen(s), collect, &g);
}

#define CHECK_LINE(i, want)                                                    \
	CHECK_MEM(g.line[i], g.len[i], want, strlen(want))

/* Each case: the reads in order, how many lines are out before the end,
 * and every line out after it. */
static const struct {
	const char *reads[4];
	size_t before_end;
	const char *want[5];
} cases[] = {
	{ { "one\ntwo\n\nthree" }, 3, { "one", "two", "", "three" } },
	{ { "ab", "c\r", "\nd" }, 1, { "abc", "d" } },
	/* Only a "\r" just before the end goes, at the end of input too. */
	{ { "a\rb\r\n\r\nc\r" }, 2, { "a\rb", "", "c" } },
	{ { "\r", "\r\n" }, 1, { "\r" } },
	{ { "x\n" }, 1, { "x" } },
	{ { "" }, 0, { NULL } },
};

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct errlines e = { 0 };
		memset(&g, 0, sizeof g);
		for (size_t r = 0; cases[i].reads[r]; r++)
			CHECK_INT(feed(&e, cases[i].reads[r]), 0);
		CHECK_INT(g.n, cases[i].before_end);
		errlines_end(&e, collect, &g);
		CHECK(e.b.p == NULL);
		size_t n = 0;
		for (; cases[i].want[n]; n++)
			CHECK_LINE(n, cases[i].want[n]);
		CHECK_INT(g.n, n);
	}
}

/* A line split across reads at every point comes out once, whole. */
static void test_split_reads(void)
{
	const char *s = "hello world\r\n";
	size_t n = strlen(s);
	for (size_t cut = 0; cut <= n; cut++) {
		struct errlines e = { 0 };
		memset(&g, 0, sizeof g);
		CHECK_INT(errlines_feed(&e, (const uint8_t *)s, cut, collect,
					&g), 0);
		CHECK_INT(errlines_feed(&e, (const uint8_t *)s + cut, n - cut,
					collect, &g), 0);
		CHECK_INT(g.n, 1);
		CHECK_LINE(0, "hello world");
		CHECK(e.b.p == NULL); /* nothing held: no storage */
		errlines_end(&e, collect, &g);
		CHECK_INT(g.n, 1);
	}
}

/* A line that does not end: once ERR_LINE_MAX bytes are held they come out
 * as a piece, and the rest follows as the next. */
static void test_long(void)
{
	static char big[ERR_LINE_MAX + 10], ended[ERR_LINE_MAX + 11];
	struct errlines e = { 0 };
	memset(&g, 0, sizeof g);
	memset(big, 'x', sizeof big);
	memcpy(ended, big, sizeof big);
	ended[sizeof big] = '\n';
	CHECK_INT(errlines_feed(&e, (const uint8_t *)big, ERR_LINE_MAX - 1,
				collect, &g), 0);
	CHECK_INT(g.n, 0); /* one byte short: held */
	CHECK_INT(errlines_feed(&e, (const uint8_t *)big, 1, collect, &g), 0);
	CHECK_INT(g.n, 1);
	CHECK_MEM(g.line[0], g.len[0], big, ERR_LINE_MAX);
	CHECK_INT(feed(&e, "yz\n"), 0);
	CHECK_INT(g.n, 2);
	CHECK_LINE(1, "yz");
	/* Over the maximum in one read, unended: one piece of all of it. */
	CHECK_INT(errlines_feed(&e, (const uint8_t *)big, sizeof big, collect,
				&g), 0);
	CHECK_INT(g.n, 3);
	CHECK_MEM(g.line[2], g.len[2], big, sizeof big);
	/* Ended in that read: the line whole, however long. */
	CHECK_INT(errlines_feed(&e, (const uint8_t *)ended, sizeof ended,
				collect, &g), 0);
	CHECK_INT(feed(&e, "rest"), 0);
	CHECK_INT(g.n, 4);
	CHECK_MEM(g.line[3], g.len[3], big, sizeof big);
	errlines_end(&e, collect, &g);
	CHECK_INT(g.n, 5);
	CHECK_LINE(4, "rest");
}

/* The end with nothing held gives no line; free without an end drops what
 * is held. */
static void test_end_empty(void)
{
	struct errlines e = { 0 };
	memset(&g, 0, sizeof g);
	errlines_end(&e, collect, &g);
	CHECK_INT(g.n, 0);
	CHECK_INT(feed(&e, "half"), 0);
	errlines_free(&e);
	CHECK(e.b.p == NULL);
	CHECK_INT(g.n, 0);
}

int main(void)
{
	test_cases();
	test_split_reads();
	test_long();
	test_end_empty();
	return check_report("errlines");
}
