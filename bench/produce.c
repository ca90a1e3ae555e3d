/* The fan-out producer (`wsbench produce`): the one program a broadcast
 * server runs for all its clients. It prints lines of exactly -s bytes
 * (64 by default) plus "\n", each carrying its sequence number and the
 * CLOCK_MONOTONIC time it was made, both as 16 hex digits:
 *
 *   0000000000000000 00001c2a3b4c5d6e xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
 *
 * so that a client on the same host can check order and measure the
 * delivery lag (`wsbench fanout`). It writes whole lines, 4 KiB at a time
 * (atomic on a pipe) as fast as the pipe takes them, or -r lines a second;
 * a full pipe blocks it, as it would any program: that is the backpressure
 * the server gives it.
 *
 * --go FILE: print nothing until FILE exists, so that a run starts once
 * every client is in (the load client creates it). It gives up when its
 * parent goes or after 120 s. It stops after -d seconds of printing or -n
 * lines, whichever comes first, or when its reader goes (EPIPE). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wsbench.h"

#define BATCH 4096 /* PIPE_BUF: one write of whole lines is atomic */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void hex16(unsigned char *p, uint64_t v)
{
	for (int i = 15; i >= 0; i--, v >>= 4)
		p[i] = (unsigned char)"0123456789abcdef"[v & 15];
}

/* Waits for o->go to exist; -1 when the parent went or 120 s passed. */
static int wait_go(const struct opts *o)
{
	struct timespec tick = {0, 1000000};
	pid_t parent = getppid();
	double t0 = now();
	struct stat st;

	while (stat(o->go, &st) < 0) {
		if (getppid() != parent || now() - t0 > 120) {
			fprintf(stderr, "produce: no %s: giving up\n", o->go);
			return -1;
		}
		nanosleep(&tick, NULL);
	}
	return 0;
}

static int write_all(const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(1, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1; /* EPIPE: the reader is gone */
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int produce_run(const struct opts *o)
{
	static unsigned char buf[BATCH];
	size_t line = o->size + 1, per = BATCH / line;
	uint64_t seq = 0, t0, t_end, due;
	struct timespec nap = {0, 100000};

	for (size_t i = 0; i < per; i++) {
		unsigned char *p = buf + i * line;

		memset(p, 'x', o->size);
		p[16] = p[33] = ' ';
		p[o->size] = '\n';
	}
	if (o->go && wait_go(o) < 0)
		return 1;
	t0 = now_ns();
	t_end = t0 + (uint64_t)(o->duration * 1e9);
	for (;;) {
		uint64_t t = now_ns();
		size_t n = per;

		if (t >= t_end || (o->count > 0 && seq >= (uint64_t)o->count))
			return 0;
		if (o->rate > 0) {
			due = (uint64_t)((double)(t - t0) * 1e-9 * o->rate) + 1;
			if (due <= seq) {
				nanosleep(&nap, NULL);
				continue;
			}
			if (due - seq < n)
				n = (size_t)(due - seq);
		}
		if (o->count > 0 && (uint64_t)o->count - seq < n)
			n = (size_t)((uint64_t)o->count - seq);
		for (size_t i = 0; i < n; i++) {
			hex16(buf + i * line, seq++);
			hex16(buf + i * line + 17, now_ns());
		}
		if (write_all(buf, n * line) < 0)
			return 0;
	}
}
