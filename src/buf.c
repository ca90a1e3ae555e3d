#include "buf.h"

#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h> /* malloc_trim */
#endif

/* Storage of 64 to 256 KiB (what a queue grows to around one 64 KiB read)
 * is kept on a free list when a queue empties, up to POOL_MAX blocks (at
 * most 4 MiB) for the whole process, rather than freed: a busy session
 * empties and refills its queues at every message, and malloc would hand
 * the memory back to the system (brk) and take it again each time. Idle
 * sessions still hold nothing. Single-threaded, like the rest. */
#define POOL_MIN 65536
#define POOL_TOP 262144
#define POOL_MAX 16

static struct {
	uint8_t *p;
	size_t cap;
} pool[POOL_MAX];
static size_t npool;

static uint8_t *alloc_block(size_t cap)
{
	for (size_t i = npool; i-- > 0;) {
		if (pool[i].cap != cap)
			continue;
		uint8_t *p = pool[i].p;
		pool[i] = pool[--npool];
		return p;
	}
	return malloc(cap);
}

static void release_block(uint8_t *p, size_t cap)
{
	if (cap >= POOL_MIN && cap <= POOL_TOP && npool < POOL_MAX) {
		pool[npool].p = p;
		pool[npool++].cap = cap;
	} else {
		free(p);
	}
}

uint8_t *buf_reserve(struct buf *b, size_t n)
{
	if (n == 0)
		n = 1; /* an empty queue has no storage to point into */
	if (b->cap - b->off - b->len >= n)
		return b->p + b->off + b->len;
	if (b->off > 0 && b->cap - b->len >= n) {
		memmove(b->p, b->p + b->off, b->len);
		b->off = 0;
		return b->p + b->len;
	}
	/* New storage, and the queued bytes copied once (realloc after the
	 * memmove above would often copy them twice). */
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->len < n)
		cap *= 2;
	uint8_t *p = alloc_block(cap);
	if (!p)
		return NULL;
	if (b->len)
		memcpy(p, b->p + b->off, b->len);
	if (b->p)
		release_block(b->p, b->cap);
	b->p = p;
	b->off = 0;
	b->cap = cap;
	return b->p + b->len;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	uint8_t *dst = buf_reserve(b, n);
	if (!dst)
		return -1;
	memcpy(dst, p, n);
	b->len += n;
	return 0;
}

void buf_consume(struct buf *b, size_t n)
{
	b->off += n;
	b->len -= n;
	if (b->len == 0)
		buf_free(b);
}

void buf_free(struct buf *b)
{
	if (b->p)
		release_block(b->p, b->cap);
	b->p = NULL;
	b->off = b->len = b->cap = 0;
}

void buf_release_pool(void)
{
	while (npool > 0)
		free(pool[--npool].p);
#ifdef __GLIBC__
	/* glibc keeps freed heap pages, also below the top of the heap
	 * (where a long-lived allocation pins the top); this returns them. */
	malloc_trim(0);
#endif
}
