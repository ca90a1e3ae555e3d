/* soak's small tools: the loop's clock, the seeded random numbers that make
 * a run replayable, allocation that exits on failure, and struct bbuf, the
 * byte queue every connection reads and writes through. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"
#include "soak.h"

int64_t now;

int64_t clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t rng;

uint64_t rnd(void)
{
	return gen_mix(rng++);
}

/* A random number in [lo, hi]. */
uint32_t rnd_in(uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(rnd() % ((uint64_t)hi - lo + 1));
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "soak: out of memory\n");
		exit(2);
	}
	return p;
}

uint8_t *bb_reserve(struct bbuf *b, size_t n)
{
	if (b->off && b->off + b->len + n > b->cap) {
		memmove(b->p, b->p + b->off, b->len);
		b->off = 0;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	return b->p + b->off + b->len;
}

void bb_free(struct bbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

void bb_consume(struct bbuf *b, size_t n)
{
	b->off += n;
	b->len -= n;
	if (b->len == 0) {
		b->off = 0;
		if (b->cap > 262144)
			bb_free(b);
	}
}

void bb_append(struct bbuf *b, const void *p, size_t n)
{
	memcpy(bb_reserve(b, n), p, n);
	b->len += n;
}
