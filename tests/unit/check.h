/* A tiny unit-test harness: each test program includes this once, calls
 * CHECK* as often as it likes and returns check_report() from main. */
#ifndef PORTAL_CHECK_H
#define PORTAL_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int check_passed, check_failed;

#define CHECK(cond) check_at((cond) != 0, __FILE__, __LINE__, #cond)

#define CHECK_INT(got, want)                                                   \
	do {                                                                   \
		long long g_ = (long long)(got), w_ = (long long)(want);       \
		if (!check_at(g_ == w_, __FILE__, __LINE__, #got " == " #want))  \
			fprintf(stderr, "    got %lld, want %lld\n", g_, w_);     \
	} while (0)

#define CHECK_MEM(got, got_len, want, want_len)                                \
	check_at((size_t)(got_len) == (size_t)(want_len) &&                    \
			 memcmp((got), (want), (size_t)(want_len)) == 0,       \
		 __FILE__, __LINE__, #got " equals " #want)

static inline int check_at(int ok, const char *file, int line, const char *what)
{
	if (ok) {
		check_passed++;
	} else {
		check_failed++;
		fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
	}
	return ok;
}

/* Returns a copy of p[0..n) placed so that its last byte is immediately
 * followed by an inaccessible page: any read past the end crashes. Release
 * with check_unguard. */
static inline void *check_guarded(const void *p, size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t span = (n + page - 1) / page * page + page;
	char *base = mmap(NULL, span, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	mprotect(base + span - page, page, PROT_NONE);
	char *q = base + span - page - n;
	if (n)
		memcpy(q, p, n);
	return q;
}

static inline void check_unguard(void *q, size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t span = (n + page - 1) / page * page + page;
	munmap((char *)q + n + page - span, span);
}

/* Prints the closing line and returns main's exit status. */
static inline int check_report(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
