/* logsink's queue: the drop policy (child stderr up to half the queue, info
 * up to three quarters, access and error to the end), lines queued whole or
 * not at all, the forced rest of a part-written line, wrapping around the
 * ring with bytes kept in order across every split point, and the one line
 * that reports the drops by kind once the queue has drained. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "logsink.h"

/* Writes n bytes of pattern seeded s (a line of that length). */
static void pattern(char *p, size_t n, unsigned s)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)('a' + (s + i) % 26);
	if (n)
		p[n - 1] = '\n';
}

/* Takes up to n bytes off the front of q into out, as a writer would. */
static size_t take(struct logq *q, char *out, size_t n)
{
	struct iovec iov[2];
	int k = logq_peek(q, iov);
	size_t got = 0;
	for (int i = 0; i < k && got < n; i++) {
		size_t m = iov[i].iov_len < n - got ? iov[i].iov_len : n - got;
		memcpy(out + got, iov[i].iov_base, m);
		got += m;
	}
	logq_consume(q, got);
	return got;
}

static void test_policy(void)
{
	static char store[1000];
	char line[100];
	struct logq q;
	logq_init(&q, store, sizeof store);
	pattern(line, sizeof line, 0);

	/* stderr: up to 500 bytes, then dropped; the other kinds still fit */
	for (int i = 0; i < 5; i++)
		CHECK(logq_put(&q, LOG_KIND_STDERR, line, 100, false));
	CHECK(!logq_put(&q, LOG_KIND_STDERR, line, 100, false));
	CHECK(!logq_put(&q, LOG_KIND_STDERR, line, 1, false));
	CHECK_INT(q.len, 500);
	/* info: up to 750; whole lines only, so 250 more is two lines */
	CHECK(logq_put(&q, LOG_KIND_INFO, line, 100, false));
	CHECK(logq_put(&q, LOG_KIND_INFO, line, 100, false));
	CHECK(!logq_put(&q, LOG_KIND_INFO, line, 100, false));
	CHECK(logq_put(&q, LOG_KIND_INFO, line, 50, false));
	CHECK(!logq_put(&q, LOG_KIND_INFO, line, 1, false));
	CHECK_INT(q.len, 750);
	/* access and error: to the last byte */
	CHECK(logq_put(&q, LOG_KIND_ACCESS, line, 100, false));
	CHECK(logq_put(&q, LOG_KIND_ERROR, line, 100, false));
	CHECK(!logq_put(&q, LOG_KIND_ACCESS, line, 51, false));
	CHECK(logq_put(&q, LOG_KIND_ERROR, line, 50, false));
	CHECK_INT(q.len, 1000);
	CHECK(!logq_put(&q, LOG_KIND_ERROR, line, 1, false));
	/* forced: the rest of a line is queued past the share, never past
	 * the end */
	char out[1000];
	CHECK_INT(take(&q, out, 900), 900);
	CHECK(logq_put(&q, LOG_KIND_ERROR, line, 100, false));
	for (int i = 0; i < 7; i++)
		CHECK(logq_put(&q, LOG_KIND_ACCESS, line, 100, false));
	CHECK(!logq_put(&q, LOG_KIND_STDERR, line, 10, false));
	CHECK(logq_put(&q, LOG_KIND_STDERR, line, 90, true));
	CHECK(!logq_put(&q, LOG_KIND_STDERR, line, 20, true));
	CHECK_INT(q.len, 990);

	CHECK_INT(q.dropped[LOG_KIND_STDERR], 4);
	CHECK_INT(q.dropped[LOG_KIND_INFO], 2);
	CHECK_INT(q.dropped[LOG_KIND_ACCESS], 1);
	CHECK_INT(q.dropped[LOG_KIND_ERROR], 1);

	char text[160];
	size_t n = logq_report(&q, text, sizeof text);
	const char want[] =
		"8 log lines dropped (stderr 4, info 2, access 1, error 1)";
	CHECK_MEM(text, n, want, sizeof want - 1);
	CHECK(text[n] == '\0');
	/* reported once; the totals stay for --metrics */
	CHECK_INT(logq_report(&q, text, sizeof text), 0);
	CHECK_INT(q.total[LOG_KIND_STDERR], 4);
	CHECK_INT(q.total[LOG_KIND_ERROR], 1);

	/* only the kinds that lost lines are named */
	logq_init(&q, store, 4);
	CHECK(!logq_put(&q, LOG_KIND_ACCESS, line, 5, false));
	n = logq_report(&q, text, sizeof text);
	const char one[] = "1 log lines dropped (access 1)";
	CHECK_MEM(text, n, one, sizeof one - 1);
	/* a report cut short still ends within out */
	CHECK(!logq_put(&q, LOG_KIND_ACCESS, line, 5, false));
	n = logq_report(&q, text, 10);
	CHECK(n < 10 && text[n] == '\0');
}

/* Lines of every length put and taken in pieces of every size: what comes
 * out is exactly what went in, in order, across the ring's wrap. */
static void test_order(void)
{
	static char store[64];
	char in[4096], out[4096], line[40];
	for (size_t piece = 1; piece <= 64; piece++) {
		struct logq q;
		logq_init(&q, store, sizeof store);
		size_t nin = 0, nout = 0;
		unsigned seed = 0;
		while (nin < 3000) {
			size_t len = 1 + (seed * 7) % 39;
			pattern(line, len, seed++);
			if (logq_put(&q, LOG_KIND_ERROR, line, len, false)) {
				memcpy(in + nin, line, len);
				nin += len;
			} else {
				CHECK(q.len + len > q.cap);
			}
			nout += take(&q, out + nout, piece);
			CHECK(q.len <= q.cap);
		}
		nout += take(&q, out + nout, sizeof out);
		CHECK_INT(q.len, 0);
		CHECK_MEM(out, nout, in, nin);
	}
}

int main(void)
{
	test_policy();
	test_order();
	return check_report("logsink");
}
