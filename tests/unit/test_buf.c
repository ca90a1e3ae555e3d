/* buf: a queue holds storage only while bytes are queued; emptied 64 KiB
 * blocks are reused (up to 16) rather than freed, and a reused block
 * behaves as a fresh one. */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "check.h"

static void test_fifo(void)
{
	struct buf b = { 0 };
	CHECK(buf_data(&b) == NULL);
	CHECK_INT(buf_append(&b, "hello ", 6), 0);
	CHECK_INT(buf_append(&b, "world", 5), 0);
	CHECK_MEM(buf_data(&b), b.len, "hello world", 11);
	buf_consume(&b, 6);
	CHECK_MEM(buf_data(&b), b.len, "world", 5);
	buf_consume(&b, 5);
	/* Empty: the storage is given back. */
	CHECK(b.p == NULL);
	CHECK_INT(b.cap, 0);
	CHECK_INT(b.len, 0);
}

static void test_reuse(void)
{
	struct buf a = { 0 }, b = { 0 };
	uint8_t *p = buf_reserve(&a, 65536);
	CHECK(p != NULL);
	CHECK_INT(a.cap, 65536);
	memset(p, 'x', 65536);
	buf_commit(&a, 65536);
	uint8_t *block = a.p;
	buf_consume(&a, 65536);
	CHECK(a.p == NULL);
	/* The next queue of that size gets the same block, empty. */
	p = buf_reserve(&b, 65536);
	CHECK(b.p == block);
	CHECK_INT(b.len, 0);
	CHECK_INT(b.off, 0);
	CHECK_INT(buf_append(&b, "abc", 3), 0);
	CHECK_MEM(buf_data(&b), b.len, "abc", 3);
	/* It grows out of the pool like any other. */
	CHECK(buf_reserve(&b, 200000) != NULL);
	CHECK_MEM(buf_data(&b), b.len, "abc", 3);
	buf_free(&b);
	CHECK(b.p == NULL);
}

static void test_bounded(void)
{
	/* More blocks than the pool keeps: all are usable, none is handed
	 * out twice. */
	struct buf q[40];
	memset(q, 0, sizeof q);
	for (int i = 0; i < 40; i++) {
		CHECK(buf_reserve(&q[i], 65536) != NULL);
		buf_commit(&q[i], 1);
		q[i].p[0] = (uint8_t)i;
	}
	for (int i = 0; i < 40; i++) {
		for (int j = 0; j < i; j++)
			CHECK(q[i].p != q[j].p);
	}
	for (int i = 0; i < 40; i++) {
		CHECK_INT(q[i].p[0], i);
		buf_free(&q[i]);
	}
	for (int i = 0; i < 40; i++)
		CHECK(buf_reserve(&q[i], 65536) != NULL);
	for (int i = 0; i < 40; i++) {
		for (int j = 0; j < i; j++)
			CHECK(q[i].p != q[j].p);
	}
	for (int i = 0; i < 40; i++)
		buf_free(&q[i]);
}

/* Giving the pool back leaves queues working (new storage is taken) and is
 * harmless when repeated or when the pool is empty. */
static void test_release(void)
{
	struct buf a = {0};
	CHECK(buf_reserve(&a, 65536) != NULL);
	buf_free(&a); /* into the pool */
	buf_release_pool();
	buf_release_pool();
	CHECK(buf_append(&a, "after", 5) == 0);
	CHECK_INT(a.len, 5);
	CHECK(memcmp(buf_data(&a), "after", 5) == 0);
	buf_free(&a);
}

int main(void)
{
	test_fifo();
	test_reuse();
	test_bounded();
	test_release();
	return check_report("buf");
}
