/* Fuzz target for src/range.h: range_parse never reads past the value,
 * a 206 range lies inside the file, and the result agrees with a reference
 * written from RFC 9110 14.1.2 over the value's one-range grammar.
 *
 * Input: bytes 0..7 the file size (little-endian; bit 7 of byte 7 clear
 * keeps it below 2^63 half the time, as real files are), then the Range
 * value. */
#include <stdbool.h>

#include "fuzz.h"
#include "range.h"

/* The reference: the value split by hand, numbers compared as digit
 * strings so that no overflow is possible. */
static bool digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return true;
}

/* s[0..n) (digits) as a number, UINT64_MAX if it does not fit. */
static uint64_t num(const char *s, size_t n)
{
	while (n > 1 && *s == '0') {
		s++;
		n--;
	}
	if (n > 20)
		return UINT64_MAX;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return UINT64_MAX;
		v = v * 10 + d;
	}
	return v;
}

static enum range_result model(const char *v, size_t len, uint64_t size,
			       uint64_t *first, uint64_t *last)
{
	static const char unit[] = "bytes=";
	*first = *last = 0;
	if (len < 6)
		return RANGE_WHOLE;
	for (size_t i = 0; i < 6; i++) {
		char ch = v[i] >= 'A' && v[i] <= 'Z' ? (char)(v[i] + 32) : v[i];
		if (ch != unit[i])
			return RANGE_WHOLE;
	}
	size_t b = 6, e = len;
	while (b < e && (v[b] == ' ' || v[b] == '\t'))
		b++;
	while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\t'))
		e--;
	const char *dash = NULL;
	for (size_t i = b; i < e; i++) {
		if (v[i] == '-') {
			dash = v + i;
			break;
		}
	}
	if (!dash)
		return RANGE_WHOLE;
	size_t na = (size_t)(dash - (v + b)), nb = (size_t)(v + e - dash - 1);
	bool has_a = na > 0, has_b = nb > 0;
	if ((has_a && !digits(v + b, na)) || (has_b && !digits(dash + 1, nb)) ||
	    (!has_a && !has_b))
		return RANGE_WHOLE;
	if (!has_a) {
		uint64_t n = num(dash + 1, nb);
		if (n == 0)
			return RANGE_UNSATISFIABLE;
		if (size == 0)
			return RANGE_WHOLE;
		*first = n >= size ? 0 : size - n;
		*last = size - 1;
		return RANGE_PART;
	}
	uint64_t a = num(v + b, na), z = has_b ? num(dash + 1, nb) : UINT64_MAX;
	if (z < a)
		return RANGE_WHOLE;
	if (a >= size)
		return RANGE_UNSATISFIABLE;
	*first = a;
	*last = z >= size ? size - 1 : z;
	return RANGE_PART;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 8)
		return 0;
	uint64_t fsize = 0;
	for (int i = 7; i >= 0; i--)
		fsize = fsize << 8 | data[i];
	size_t len = size - 8;
	char *v = fuzz_dup(data + 8, len);
	if (len == 0)
		v[0] = '\0'; /* fuzz_dup's one byte; nothing reads it */
	uint64_t first, last, mf, ml;
	enum range_result r = range_parse(v, len, fsize, &first, &last);
	enum range_result m = model(v, len, fsize, &mf, &ml);
	FUZZ_CHECK(r == m);
	FUZZ_CHECK(first == mf && last == ml);
	if (r == RANGE_PART)
		FUZZ_CHECK(first <= last && last < fsize);
	else
		FUZZ_CHECK(first == 0 && last == 0);
	free(v);
	return 0;
}
