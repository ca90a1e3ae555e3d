/* Shared by the fuzz targets: the libFuzzer entry point, a check that
 * aborts (libFuzzer and replay.c both report an abort as a crash), and the
 * small helpers the targets use to turn input bytes into choices. */
#ifndef PORTAL_FUZZ_H
#define PORTAL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs one input. Returns 0; a broken invariant aborts. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                       \
	((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #cond))

_Noreturn static inline void fuzz_fail(const char *file, int line,
				       const char *what)
{
	fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
	abort();
}

/* A copy of p[0..n) in a heap block of exactly n bytes, so that
 * AddressSanitizer catches any access past the bytes a function was given. */
static inline void *fuzz_dup(const void *p, size_t n)
{
	void *q = malloc(n ? n : 1);
	if (!q)
		abort();
	if (n)
		memcpy(q, p, n);
	return q;
}

/* A deterministic generator for split points and sizes (an LCG: good enough
 * to spread choices, and reproducible from the input alone). */
static inline uint32_t fuzz_rand(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

/* A growable byte string. */
struct fuzz_bytes {
	uint8_t *p;
	size_t len, cap;
};

static inline void fuzz_put(struct fuzz_bytes *b, const void *p, size_t n)
{
	if (b->cap - b->len < n) {
		size_t cap = (b->len + n) * 2 + 64;
		uint8_t *q = realloc(b->p, cap);
		if (!q)
			abort();
		b->p = q;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static inline void fuzz_put_u64(struct fuzz_bytes *b, uint64_t v)
{
	uint8_t x[8];
	for (int i = 0; i < 8; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	fuzz_put(b, x, sizeof x);
}

static inline void fuzz_bytes_free(struct fuzz_bytes *b)
{
	free(b->p);
	*b = (struct fuzz_bytes){0};
}

#endif
