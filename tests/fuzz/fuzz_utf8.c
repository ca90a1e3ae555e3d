/* Fuzz target for src/utf8.h: utf8_feed, utf8_complete, utf8_valid_prefix,
 * utf8_partial_tail and utf8_scrub must agree with each other and with a
 * reference written from the Unicode tables rather than a DFA.
 *
 * Input: byte 0 seeds the split points, byte 1 bounds the piece size, the
 * rest is the text. */
#include <stdbool.h>

#include "fuzz.h"
#include "utf8.h"

/* --- reference (Unicode 15 table 3-7, byte by byte) -------------------- */

/* How many bytes from p[0..n) (n > 0) belong to one character: *want is
 * the length of the sequence p[0] starts (1 if p[0] cannot start one) and
 * the result is how many of its bytes are there and well-formed, so the
 * character is complete when the result equals *want, and otherwise
 * p[0..result) is the maximal subpart Unicode replaces with one U+FFFD. */
static size_t ref_char(const uint8_t *p, size_t n, size_t *want)
{
	uint8_t b = p[0], lo = 0x80, hi = 0xbf;

	if (b < 0x80) {
		*want = 1;
		return 1;
	}
	if (b >= 0xc2 && b <= 0xdf)
		*want = 2;
	else if (b >= 0xe0 && b <= 0xef)
		*want = 3;
	else if (b >= 0xf0 && b <= 0xf4)
		*want = 4;
	else {
		*want = 1; /* and none of it is there */
		return 0;
	}
	if (b == 0xe0)
		lo = 0xa0;
	else if (b == 0xed)
		hi = 0x9f;
	else if (b == 0xf0)
		lo = 0x90;
	else if (b == 0xf4)
		hi = 0x8f;
	size_t i = 1;
	for (; i < *want && i < n; i++) {
		if (p[i] < lo || p[i] > hi)
			break;
		lo = 0x80;
		hi = 0xbf;
	}
	return i;
}

struct ref {
	bool bad;      /* some byte cannot continue any valid text */
	size_t bad_at; /* if bad: index of the first such byte */
	size_t prefix; /* longest valid prefix ending on a boundary */
};

static struct ref ref_check(const uint8_t *p, size_t n)
{
	struct ref r = {false, 0, 0};
	size_t i = 0, want;

	while (i < n) {
		size_t got = ref_char(p + i, n - i, &want);
		if (got == want) {
			i += got;
			continue;
		}
		r.prefix = i;
		if (i + got < n) {
			r.bad = true;
			r.bad_at = i + got;
		}
		return r;
	}
	r.prefix = n;
	return r;
}

/* Bytes at the end of p[0..n) that are a proper prefix of a character. */
static size_t ref_tail(const uint8_t *p, size_t n)
{
	size_t want;

	for (size_t t = 1; t <= 3 && t <= n; t++)
		if (ref_char(p + n - t, t, &want) == t && want > t)
			return t;
	return 0;
}

static size_t ref_scrub(const uint8_t *p, size_t n, uint8_t *out,
			size_t *replaced)
{
	size_t i = 0, o = 0, want;

	*replaced = 0;
	while (i < n) {
		size_t got = ref_char(p + i, n - i, &want);
		if (got == want) {
			memcpy(out + o, p + i, got);
			o += got;
			i += got;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			++*replaced;
			i += got ? got : 1;
		}
	}
	return o;
}

/* --- checks ------------------------------------------------------------ */

static bool valid(const uint8_t *p, size_t n)
{
	struct utf8 u;
	utf8_init(&u);
	return utf8_feed(&u, p, n) == UTF8_OK && utf8_complete(&u);
}

/* boundary[i] tells whether p[0..i) is valid text ending on a character
 * boundary, by the reference. Returns a block of n + 1 flags. */
static bool *ref_boundaries(const uint8_t *p, size_t n, const struct ref *r)
{
	bool *b = calloc(n + 1, sizeof *b);
	size_t i = 0, want;

	if (!b)
		abort();
	b[0] = true;
	while (i < r->prefix) {
		i += ref_char(p + i, n - i, &want);
		b[i] = true;
	}
	return b;
}

/* Feeding pieces: after each piece the result is that of the whole prefix,
 * and it is UTF8_INVALID exactly from the piece holding byte bad_at. */
static void check_pieces(const uint8_t *p, size_t n, const struct ref *r,
			 const bool *boundary, uint32_t seed, size_t max_piece)
{
	struct utf8 u;
	size_t at = 0;

	utf8_init(&u);
	while (at < n) {
		size_t k = 1 + fuzz_rand(&seed) % max_piece;
		if (k > n - at)
			k = n - at;
		uint8_t *piece = fuzz_dup(p + at, k);
		int res = utf8_feed(&u, piece, k);
		free(piece);
		at += k;
		bool bad_seen = r->bad && r->bad_at < at;
		FUZZ_CHECK(res == (bad_seen ? UTF8_INVALID : UTF8_OK));
		FUZZ_CHECK(utf8_complete(&u) == (!bad_seen && boundary[at]));
	}
	/* An empty feed changes nothing. */
	FUZZ_CHECK(utf8_feed(&u, NULL, 0) == (r->bad ? UTF8_INVALID : UTF8_OK));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint32_t seed = data[0];
	size_t max_piece = 1 + data[1] % 32u;
	const uint8_t *p = data + 2;
	size_t n = size - 2;
	struct ref r = ref_check(p, n);
	struct utf8 u;

	/* Whole. */
	utf8_init(&u);
	int res = utf8_feed(&u, p, n);
	FUZZ_CHECK(res == (r.bad ? UTF8_INVALID : UTF8_OK));
	FUZZ_CHECK(utf8_complete(&u) == (!r.bad && r.prefix == n));

	/* Fail fast: the bytes before the first bad one are still OK. */
	if (r.bad) {
		utf8_init(&u);
		FUZZ_CHECK(utf8_feed(&u, p, r.bad_at) == UTF8_OK);
		FUZZ_CHECK(utf8_feed(&u, p + r.bad_at, 1) == UTF8_INVALID);
		FUZZ_CHECK(utf8_feed(&u, p, n) == UTF8_INVALID); /* sticky */
		FUZZ_CHECK(!utf8_complete(&u));
	}

	bool *boundary = ref_boundaries(p, n, &r);
	check_pieces(p, n, &r, boundary, seed, max_piece);
	check_pieces(p, n, &r, boundary, seed, 1);
	free(boundary);

	/* The longest valid prefix, and the incomplete tail. */
	size_t vp = utf8_valid_prefix(p, n);
	size_t tail = utf8_partial_tail(p, n);
	FUZZ_CHECK(vp == r.prefix);
	FUZZ_CHECK(valid(p, vp));
	FUZZ_CHECK(tail == ref_tail(p, n));
	FUZZ_CHECK(tail <= 3 && tail <= n);
	/* Feeding says OK exactly when the text is a valid prefix followed by
	 * an incomplete tail (or nothing). */
	FUZZ_CHECK(!r.bad == (vp + tail == n));
	FUZZ_CHECK(valid(p, n) == (vp == n));

	/* Scrubbing: into a block of exactly the documented size. */
	size_t cap = UTF8_SCRUB_MAX(n);
	uint8_t *out = malloc(cap ? cap : 1);
	uint8_t *want = malloc(cap ? cap : 1);
	if (!out || !want)
		abort();
	size_t replaced = 12345, want_replaced;
	size_t o = utf8_scrub(p, n, out, &replaced);
	size_t wo = ref_scrub(p, n, want, &want_replaced);
	FUZZ_CHECK(o <= cap);
	FUZZ_CHECK(o == wo && memcmp(out, want, o) == 0);
	FUZZ_CHECK(replaced == want_replaced);
	FUZZ_CHECK(valid(out, o));
	FUZZ_CHECK((replaced == 0) == valid(p, n));
	if (replaced == 0)
		FUZZ_CHECK(o == n && memcmp(out, p, n) == 0);
	/* The valid prefix survives scrubbing unchanged, and scrubbing is
	 * idempotent. */
	FUZZ_CHECK(o >= vp && memcmp(out, p, vp) == 0);
	size_t again_cap = UTF8_SCRUB_MAX(o);
	uint8_t *again = malloc(again_cap ? again_cap : 1);
	if (!again)
		abort();
	FUZZ_CHECK(utf8_scrub(out, o, again, NULL) == o);
	FUZZ_CHECK(memcmp(again, out, o) == 0);
	free(again);
	free(want);
	free(out);
	return 0;
}
