/* failmalloc.so: an LD_PRELOAD for portal-gw's end-to-end tests that makes
 * every malloc, calloc and realloc of more than $FAILMALLOC_OVER bytes fail
 * with ENOMEM, so that a test can drive the gateway into running out of
 * memory for one session (a large message) while everything smaller, and
 * so the rest of the gateway, works on. The children it starts do not get
 * LD_PRELOAD (their environment is built afresh). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

void *malloc(size_t n);
void *calloc(size_t k, size_t n);
void *realloc(void *p, size_t n);

static int too_big(size_t n)
{
	static size_t limit;
	if (!limit) {
		const char *s = getenv("FAILMALLOC_OVER");
		limit = s ? strtoul(s, NULL, 10) : 0;
		if (!limit)
			limit = (size_t)-1;
	}
	if (n <= limit)
		return 0;
	errno = ENOMEM;
	return 1;
}

void *malloc(size_t n)
{
	static void *(*real)(size_t);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "malloc");
	return too_big(n) ? NULL : real(n);
}

void *calloc(size_t k, size_t n)
{
	static void *(*real)(size_t, size_t);
	if (!real) {
		/* dlsym may call calloc: answer it from a static block. */
		static char early[4096];
		static int busy;
		if (busy)
			return early;
		busy = 1;
		*(void **)&real = dlsym(RTLD_NEXT, "calloc");
		busy = 0;
	}
	return k && n > (size_t)-1 / k ? NULL
	       : too_big(k * n)        ? NULL
					: real(k, n);
}

void *realloc(void *p, size_t n)
{
	static void *(*real)(void *, size_t);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "realloc");
	return too_big(n) ? NULL : real(p, n);
}
