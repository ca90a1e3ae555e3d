/* outq: own bytes and shared frames go out in the order queued, whatever
 * a writev takes; frames are shared by reference and freed with the last
 * queue that holds them (the ASan build checks the frees); a frame over
 * the caller's bound is refused. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "outq.h"
#include "ws.h"

/* Reads what fd holds (non-blocking) into out; returns its length. */
static size_t drain(int fd, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (;;) {
		ssize_t k = read(fd, out + n, cap - n);
		if (k <= 0)
			return n;
		n += (size_t)k;
	}
}

/* A queue of "ab", frame(F1), "cd", frame(F2), "e", and the stream it
 * stands for in want. */
static size_t build(struct outq *q, struct frame *f1, struct frame *f2,
		    uint8_t *want)
{
	size_t n = 0;
	CHECK_INT(outq_append(q, "ab", 2), 0);
	memcpy(want + n, "ab", 2), n += 2;
	CHECK_INT(outq_push_frame(q, f1, 1 << 20), 0);
	memcpy(want + n, "\x81\x02" "F1", 4), n += 4;
	uint8_t *p = outq_reserve(q, 2);
	CHECK(p != NULL);
	memcpy(p, "cd", 2);
	outq_commit(q, 2);
	memcpy(want + n, "cd", 2), n += 2;
	CHECK_INT(outq_push_frame(q, f2, 1 << 20), 0);
	memcpy(want + n, "\x82\x03" "F22", 5), n += 5;
	CHECK_INT(outq_append(q, "e", 1), 0);
	memcpy(want + n, "e", 1), n += 1;
	CHECK_INT(q->len, n);
	return n;
}

/* Every split point: what a partial write leaves goes out in order. */
static void test_order_every_split(void)
{
	int sv[2];
	CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	struct frame *f1 = frame_new(WS_TEXT, true, (const uint8_t *)"F1", 2);
	struct frame *f2 = frame_new(WS_BINARY, true, (const uint8_t *)"F22", 3);
	CHECK(f1 && f2);
	CHECK_INT(frame_size(f1), 4);
	uint8_t want[64], got[64];
	size_t total = 0;
	for (size_t split = 0; split <= 14; split++) {
		struct outq q = { 0 };
		total = build(&q, f1, f2, want);
		outq_consume(&q, split);
		CHECK_INT(q.len, total - split);
		if (q.len > 0)
			CHECK_INT(outq_write(&q, sv[0]), total - split);
		CHECK_INT(q.len, 0);
		CHECK(q.own.p == NULL && q.ref == NULL); /* nothing held */
		size_t n = drain(sv[1], got, sizeof got);
		CHECK_MEM(got, n, want + split, total - split);
	}
	CHECK_INT(total, 14);
	frame_unref(f1);
	frame_unref(f2);
	close(sv[0]);
	close(sv[1]);
}

/* One frame in two queues: each writes it; it lives until the last one
 * lets go (an early free would be a use after free under ASan). */
static void test_shared(void)
{
	int sv[2];
	CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	struct frame *f = frame_new(WS_TEXT, true, (const uint8_t *)"hi", 2);
	struct outq a = { 0 }, b = { 0 };
	CHECK_INT(outq_push_frame(&a, f, 100), 0);
	CHECK_INT(outq_push_frame(&b, f, 100), 0);
	frame_unref(f); /* the queues hold it now */
	uint8_t got[16];
	CHECK_INT(outq_write(&a, sv[0]), 4);
	CHECK_MEM(got, drain(sv[1], got, sizeof got), "\x81\x02hi", 4);
	CHECK_INT(outq_write(&b, sv[0]), 4);
	CHECK_MEM(got, drain(sv[1], got, sizeof got), "\x81\x02hi", 4);
	/* Freed with a queue that still holds it. */
	f = frame_new(WS_TEXT, true, (const uint8_t *)"x", 1);
	CHECK_INT(outq_push_frame(&a, f, 100), 0);
	frame_unref(f);
	outq_free(&a);
	close(sv[0]);
	close(sv[1]);
}

/* The caller's bound: a frame that would take the queue over it is not
 * queued, and the queue is as it was. */
static void test_limit(void)
{
	struct frame *f = frame_new(WS_TEXT, true, (const uint8_t *)"12345678", 8);
	struct outq q = { 0 };
	CHECK_INT(outq_append(&q, "abc", 3), 0);
	CHECK_INT(outq_push_frame(&q, f, 12), 1);
	CHECK_INT(q.len, 3);
	CHECK_INT(outq_push_frame(&q, f, 13), 0);
	CHECK_INT(q.len, 13);
	CHECK_INT(outq_push_frame(&q, f, 5), 1);
	frame_unref(f);
	outq_free(&q);
	CHECK_INT(q.len, 0);
}

/* More pieces than one writev takes, through a socket that takes little
 * at a time: everything arrives, in order. */
static void test_many_partial(void)
{
	int sv[2];
	CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	int small = 4096;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	static uint8_t want[1 << 20], got[1 << 20];
	static uint8_t payload[1000];
	size_t n = 0;
	struct outq q = { 0 };
	for (int i = 0; i < 300; i++) {
		memset(payload, 'a' + i % 26, sizeof payload);
		struct frame *f = frame_new(WS_BINARY, true, payload, sizeof payload);
		CHECK_INT(outq_push_frame(&q, f, sizeof want), 0);
		want[n] = 0x82, want[n + 1] = 126, want[n + 2] = 1000 >> 8,
		want[n + 3] = 1000 & 255;
		memcpy(want + n + 4, payload, sizeof payload);
		n += 4 + sizeof payload;
		frame_unref(f);
		if (i % 3 == 0) {
			char own[8];
			memset(own, '0' + i % 10, sizeof own);
			CHECK_INT(outq_append(&q, own, sizeof own), 0);
			memcpy(want + n, own, sizeof own);
			n += sizeof own;
		}
	}
	size_t got_n = 0;
	int rounds = 0;
	while (q.len > 0 && rounds++ < 100000) {
		ssize_t w = outq_write(&q, sv[0]);
		CHECK(w > 0 || errno == EAGAIN);
		got_n += drain(sv[1], got + got_n, sizeof got - got_n);
	}
	got_n += drain(sv[1], got + got_n, sizeof got - got_n);
	CHECK_MEM(got, got_n, want, n);
	outq_free(&q);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	test_order_every_split();
	test_shared();
	test_limit();
	test_many_partial();
	return check_report("outq");
}
