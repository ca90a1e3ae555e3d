/* range_parse: one Range value and file size per line, with the answer
 * expected. Inputs sit against a guard page, so an over-read crashes. */
#include <string.h>

#include "check.h"
#include "range.h"

#define W RANGE_WHOLE
#define P RANGE_PART
#define U RANGE_UNSATISFIABLE

static void one(int line, const char *v, uint64_t size, enum range_result want,
		uint64_t want_first, uint64_t want_last)
{
	size_t n = strlen(v);
	char *g = check_guarded(v, n);
	uint64_t first = 7, last = 7;
	enum range_result r = range_parse(g, n, size, &first, &last);
	check_unguard(g, n);
	if (want != P)
		want_first = want_last = 0;
	if (!check_at(r == want && first == want_first && last == want_last,
		      __FILE__, line, v))
		fprintf(stderr, "    size %llu: got %d %llu-%llu, want %d "
			"%llu-%llu\n", (unsigned long long)size, (int)r,
			(unsigned long long)first, (unsigned long long)last,
			(int)want, (unsigned long long)want_first,
			(unsigned long long)want_last);
}

#define R(v, size, want, a, b) one(__LINE__, v, size, want, a, b)

int main(void)
{
	/* the three forms */
	R("bytes=0-99", 1000, P, 0, 99);
	R("bytes=100-", 1000, P, 100, 999);
	R("bytes=-500", 1000, P, 500, 999);
	R("bytes=0-0", 1000, P, 0, 0);
	R("bytes=999-999", 1000, P, 999, 999);
	R("bytes=0-", 1000, P, 0, 999);
	R("bytes=-1", 1000, P, 999, 999);
	/* ends past the file are cut to it; a suffix longer than the file
	 * is the whole file (still 206) */
	R("bytes=500-5000", 1000, P, 500, 999);
	R("bytes=-1000", 1000, P, 0, 999);
	R("bytes=-5000", 1000, P, 0, 999);
	/* the unit is case-insensitive; blanks around the range */
	R("BYTES=1-2", 1000, P, 1, 2);
	R("Bytes=1-2", 1000, P, 1, 2);
	R("bytes= 1-2 ", 1000, P, 1, 2);
	R("bytes=\t1-2\t", 1000, P, 1, 2);
	/* 64-bit edges: no wrap, an overflow is past any end */
	R("bytes=0-18446744073709551615", 1000, P, 0, 999);
	R("bytes=0-99999999999999999999999999", 1000, P, 0, 999);
	R("bytes=-99999999999999999999999999", 1000, P, 0, 999);
	R("bytes=18446744073709551615-", 1000, U, 0, 0);
	R("bytes=99999999999999999999999999-", 1000, U, 0, 0);
	R("bytes=18446744073709551614-18446744073709551615", UINT64_MAX, P,
	  18446744073709551614u, 18446744073709551614u);
	/* start at or past the end; -0 */
	R("bytes=1000-", 1000, U, 0, 0);
	R("bytes=1000-2000", 1000, U, 0, 0);
	R("bytes=5000-", 1000, U, 0, 0);
	R("bytes=-0", 1000, U, 0, 0);
	R("bytes=-000", 1000, U, 0, 0);
	/* an empty file: no byte to start at; a suffix cannot be a 206 */
	R("bytes=0-", 0, U, 0, 0);
	R("bytes=0-0", 0, U, 0, 0);
	R("bytes=-1", 0, W, 0, 0);
	R("bytes=-0", 0, U, 0, 0);
	/* ignored: malformed, another unit, last before first, lists */
	R("", 1000, W, 0, 0);
	R("bytes", 1000, W, 0, 0);
	R("bytes=", 1000, W, 0, 0);
	R("bytes=-", 1000, W, 0, 0);
	R("bytes= ", 1000, W, 0, 0);
	R("bytes =0-1", 1000, W, 0, 0);
	R(" bytes=0-1", 1000, W, 0, 0);
	R("bytes=0 - 1", 1000, W, 0, 0);
	R("bytes=0- 1", 1000, W, 0, 0);
	R("bytes=0-1x", 1000, W, 0, 0);
	R("bytes=a-b", 1000, W, 0, 0);
	R("bytes=+1-2", 1000, W, 0, 0);
	R("bytes=1--2", 1000, W, 0, 0);
	R("bytes=--1", 1000, W, 0, 0);
	R("bytes=5-4", 1000, W, 0, 0);
	R("bytes=0-1,", 1000, W, 0, 0);
	R("bytes=0-1,5-6", 1000, W, 0, 0);
	R("bytes=0-1, -1", 1000, W, 0, 0);
	R("items=0-1", 1000, W, 0, 0);
	R("bytesx=0-1", 1000, W, 0, 0);
	R("byte=0-1", 1000, W, 0, 0);
	R("bytes=0x10-", 1000, W, 0, 0);

	return check_report("range");
}
