/* utf8: Markus Kuhn's stress test and Autobahn case 6, each fed whole, byte
 * by byte and split at every offset; an exhaustive comparison with an
 * oracle built by encoding every scalar value; the ASCII fast path at every
 * position; utf8_scrub's maximal subparts. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "utf8.h"

#define NONE SIZE_MAX

/* One line per case: the bytes; the index of the byte at which utf8_feed
 * must first report UTF8_INVALID, or NONE; and what utf8_valid_prefix must
 * return. V is complete valid text, P valid but cut short, X invalid. */
struct ucase {
	const char *s;
	size_t n;
	size_t fail;
	size_t prefix;
};
#define V(lit)		{lit, sizeof lit - 1, NONE, sizeof lit - 1}
#define P(lit, prefix)	{lit, sizeof lit - 1, NONE, prefix}
#define X(lit, fail, prefix) {lit, sizeof lit - 1, fail, prefix}

#define KOSME "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
#define ASCII32 "0123456789abcdef0123456789abcdef"

static const struct ucase cases[] = {
	/* Kuhn 1, Autobahn 6.2 and 6.5 */
	V(""),
	V(KOSME),
	V("Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"),
	/* Kuhn 2.1, Autobahn 6.7-6.8: first sequence of each length */
	V("\x00"), V("\xc2\x80"), V("\xe0\xa0\x80"), V("\xf0\x90\x80\x80"),
	X("\xf8\x88\x80\x80\x80", 0, 0), X("\xfc\x84\x80\x80\x80\x80", 0, 0),
	/* Kuhn 2.2, Autobahn 6.9-6.10: last sequence of each length */
	V("\x7f"), V("\xdf\xbf"), V("\xef\xbf\xbf"), V("\xf4\x8f\xbf\xbf"),
	X("\xf7\xbf\xbf\xbf", 0, 0), X("\xfb\xbf\xbf\xbf\xbf", 0, 0),
	X("\xfd\xbf\xbf\xbf\xbf\xbf", 0, 0),
	/* Kuhn 2.3, Autobahn 6.11: other boundaries; U+110000 fails at the
	 * second byte */
	V("\xed\x9f\xbf"), V("\xee\x80\x80"), V("\xef\xbf\xbd"),
	V("\xf4\x8f\xbf\xbf"), X("\xf4\x90\x80\x80", 1, 0),
	/* Kuhn 3.1, Autobahn 6.12: unexpected continuation bytes */
	X("\x80", 0, 0), X("\xbf", 0, 0), X("\x80\xbf", 0, 0),
	X("\x80\xbf\x80", 0, 0), X("\x80\xbf\x80\xbf", 0, 0),
	X("\x80\xbf\x80\xbf\x80\xbf\x80", 0, 0), X("a\x80", 1, 1),
	X("\xc2\x80\x80", 2, 2), X("\xf0\x90\x80\x80\x80", 4, 4),
	/* Kuhn 3.3, Autobahn 6.14: last byte missing; what could still
	 * complete is valid so far */
	X("\xc0", 0, 0), X("\xe0\x80", 1, 0), X("\xf0\x80\x80", 1, 0),
	X("\xf8\x80\x80\x80", 0, 0), X("\xfc\x80\x80\x80\x80", 0, 0),
	P("\xdf", 0), P("\xef\xbf", 0), X("\xf7\xbf\xbf", 0, 0),
	X("\xfb\xbf\xbf\xbf", 0, 0), X("\xfd\xbf\xbf\xbf\xbf", 0, 0),
	P("\xc2", 0), P("\xe0\xa0", 0), P("\xf0\x90\x80", 0),
	P("\xf4\x8f\xbf", 0), P("a\xf1", 1), P(KOSME "\xe1\xbd", 11),
	/* Kuhn 3.4, Autobahn 6.15: incomplete sequences concatenated */
	X("\xc0\xe0\x80\xf0\x80\x80\xf8\x80\x80\x80\xfc\x80\x80\x80\x80"
	  "\xdf\xef\xbf\xf7\xbf\xbf\xfb\xbf\xbf\xbf\xfd\xbf\xbf\xbf\xbf", 0, 0),
	X("\xdf\xef\xbf", 1, 0), X("\xe1\x80\x41", 2, 0),
	X("\xc2\xc2\x80", 1, 0), X("\xf1\x80\x80\xc0", 3, 0),
	/* Kuhn 3.5, Autobahn 6.16: impossible bytes */
	X("\xfe", 0, 0), X("\xff", 0, 0), X("\xfe\xfe\xff\xff", 0, 0),
	X("\xf5\x80\x80\x80", 0, 0),
	/* Kuhn 4.1, Autobahn 6.17: overlong '/' */
	X("\xc0\xaf", 0, 0), X("\xe0\x80\xaf", 1, 0),
	X("\xf0\x80\x80\xaf", 1, 0), X("\xf8\x80\x80\x80\xaf", 0, 0),
	X("\xfc\x80\x80\x80\x80\xaf", 0, 0),
	/* Kuhn 4.2, Autobahn 6.18: the largest overlongs */
	X("\xc1\xbf", 0, 0), X("\xe0\x9f\xbf", 1, 0),
	X("\xf0\x8f\xbf\xbf", 1, 0), X("\xf8\x87\xbf\xbf\xbf", 0, 0),
	X("\xfc\x83\xbf\xbf\xbf\xbf", 0, 0),
	/* Kuhn 4.3, Autobahn 6.19: overlong NUL */
	X("\xc0\x80", 0, 0), X("\xe0\x80\x80", 1, 0),
	X("\xf0\x80\x80\x80", 1, 0), X("\xf8\x80\x80\x80\x80", 0, 0),
	X("\xfc\x80\x80\x80\x80\x80", 0, 0),
	/* Kuhn 5.1, Autobahn 6.20: single surrogates */
	X("\xed\xa0\x80", 1, 0), X("\xed\xad\xbf", 1, 0),
	X("\xed\xae\x80", 1, 0), X("\xed\xaf\xbf", 1, 0),
	X("\xed\xb0\x80", 1, 0), X("\xed\xbe\x80", 1, 0),
	X("\xed\xbf\xbf", 1, 0),
	/* Kuhn 5.2, Autobahn 6.21: paired surrogates */
	X("\xed\xa0\x80\xed\xb0\x80", 1, 0), X("\xed\xa0\x80\xed\xbf\xbf", 1, 0),
	X("\xed\xad\xbf\xed\xb0\x80", 1, 0), X("\xed\xad\xbf\xed\xbf\xbf", 1, 0),
	X("\xed\xae\x80\xed\xb0\x80", 1, 0), X("\xed\xae\x80\xed\xbf\xbf", 1, 0),
	X("\xed\xaf\xbf\xed\xb0\x80", 1, 0), X("\xed\xaf\xbf\xed\xbf\xbf", 1, 0),
	/* Kuhn 5.3, Autobahn 6.22-6.23: noncharacters and BOM are valid */
	V("\xef\xbf\xbe"), V("\xef\xbf\xbf"), V("\xef\xb7\x90"),
	V("\xef\xb7\xaf"), V("\xf0\x9f\xbf\xbe"), V("\xf0\x9f\xbf\xbf"),
	V("\xf3\xbf\xbf\xbf"), V("\xf4\x8f\xbf\xbe"), V("\xef\xbb\xbf" "abc"),
	/* Autobahn 6.3-6.4: fail fast after valid text */
	X(KOSME "\xed\xa0\x80" "edited", 12, 11),
	X(KOSME "\xf4\x90\x80\x80" "edited", 12, 11),
	/* long runs for the 8-byte ASCII path */
	V(ASCII32 ASCII32), V(ASCII32 "\xc2\x80" ASCII32),
	X(ASCII32 "\xff", 32, 32), X(ASCII32 "\xc0\xaf" ASCII32, 32, 32),
	P("0123456789abcdef01234567\xf0\x90\x80", 24),
	X("0123456789abcdef01234567\xf0\x90\x80" "0123456789", 27, 24),
	X(ASCII32 "\xe1\x80" ASCII32, 34, 32),
};

static void dump(const struct ucase *c)
{
	fprintf(stderr, "    input:");
	for (size_t i = 0; i < c->n; i++)
		fprintf(stderr, " %02x", (unsigned char)c->s[i]);
	fprintf(stderr, "\n");
}

static int feed_guarded(struct utf8 *u, const char *p, size_t n)
{
	uint8_t *g = check_guarded(p, n);
	int r = utf8_feed(u, g, n);
	check_unguard(g, n);
	return r;
}

/* Everything the header promises about one case. */
static void check_case(const struct ucase *c)
{
	int failed = check_failed;
	bool complete = c->fail == NONE && c->prefix == c->n;
	int end = c->fail < c->n ? UTF8_INVALID : UTF8_OK;
	struct utf8 u = {0};

	/* whole */
	CHECK_INT(feed_guarded(&u, c->s, c->n), end);
	CHECK(utf8_complete(&u) == complete);

	/* one byte at a time: the exact fail-fast position */
	utf8_init(&u);
	for (size_t i = 0; i < c->n; i++)
		CHECK_INT(feed_guarded(&u, c->s + i, 1),
			  i >= c->fail ? UTF8_INVALID : UTF8_OK);
	CHECK(utf8_complete(&u) == complete);

	/* split at every offset */
	for (size_t k = 0; k <= c->n; k++) {
		utf8_init(&u);
		CHECK_INT(feed_guarded(&u, c->s, k),
			  c->fail < k ? UTF8_INVALID : UTF8_OK);
		CHECK_INT(feed_guarded(&u, c->s + k, c->n - k), end);
		CHECK(utf8_complete(&u) == complete);
	}

	uint8_t *g = check_guarded(c->s, c->n);
	CHECK_INT(utf8_valid_prefix(g, c->n), c->prefix);
	if (c->fail == NONE)
		CHECK_INT(utf8_partial_tail(g, c->n), c->n - c->prefix);

	/* Scrubbing keeps the valid prefix, changes nothing in valid text
	 * and always yields valid text. */
	uint8_t out[UTF8_SCRUB_MAX(80)];
	size_t replaced = 99;
	size_t m = utf8_scrub(g, c->n, out, &replaced);
	CHECK(m <= UTF8_SCRUB_MAX(c->n));
	CHECK(m >= c->prefix && memcmp(out, c->s, c->prefix) == 0);
	CHECK_INT(utf8_valid_prefix(out, m), m);
	CHECK((replaced == 0) == complete);
	if (complete)
		CHECK_MEM(out, m, c->s, c->n);
	check_unguard(g, c->n);

	if (check_failed != failed)
		dump(c);
}

/* Autobahn 6.6: every prefix of "κόσμε". Autobahn 6.12-6.13: every lone
 * continuation byte; every other non-ASCII byte alone and followed by a
 * space. */
static void check_generated(void)
{
	static const size_t bounds[] = {0, 2, 5, 7, 9, 11};
	for (size_t len = 0; len <= 11; len++) {
		struct ucase c = {KOSME, len, NONE, 0};
		for (size_t b = 0; b < 6; b++)
			if (bounds[b] <= len)
				c.prefix = bounds[b];
		check_case(&c);
	}

	for (int b = 0x80; b <= 0xff; b++) {
		char s[2] = {(char)b, ' '};
		bool lead = b >= 0xc2 && b <= 0xf4;
		struct ucase alone = {s, 1, lead ? NONE : 0, 0};
		struct ucase spaced = {s, 2, lead ? 1 : 0, 0};
		check_case(&alone);
		check_case(&spaced);
	}
}

/* ASCII runs of every length up to five words and a byte (one round of
 * the 32-byte loop, then the 8-byte one) with one byte of interest
 * at every position, so that the 8-byte words meet it in every lane, at
 * every alignment and at every distance from the end of the input. */
static void check_fast_path(void)
{
	char s[41]; /* past one round of the 32-byte ASCII loop */

	for (size_t n = 1; n <= sizeof s; n++) {
		for (size_t j = 0; j < n; j++) {
			for (size_t i = 0; i < n; i++)
				s[i] = (char)(0x20 + (i * 13) % 0x5f);
			s[j] = '\x7f';
			struct ucase ok = {s, n, NONE, n};
			check_case(&ok);

			s[j] = '\x80';
			struct ucase cont = {s, n, j, j};
			check_case(&cont);

			s[j] = '\xff';
			struct ucase bad = {s, n, j, j};
			check_case(&bad);

			/* U+20AC, whole or cut short by the end */
			if (j + 3 <= n) {
				memcpy(s + j, "\xe2\x82\xac", 3);
				struct ucase euro = {s, n, NONE, n};
				check_case(&euro);
			} else {
				memcpy(s + j, "\xe2\x82\xac", n - j);
				struct ucase cut = {s, n, NONE, j};
				check_case(&cut);
			}
		}
	}
}

/* The oracle: every prefix of the encoding of every scalar value, made by
 * a plain encoder that shares nothing with the DFA. */
static bool pre1[256];
static bool pre2[1 << 16];
static uint8_t pre3[1 << 21]; /* a bit per 24-bit sequence */

static size_t encode(uint32_t cp, uint8_t b[4])
{
	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | cp >> 6);
		b[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | cp >> 12);
		b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (uint8_t)(0xf0 | cp >> 18);
	b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
	b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
	b[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

static uint32_t be24(const uint8_t *x)
{
	return (uint32_t)x[0] << 16 | (uint32_t)x[1] << 8 | x[2];
}

static void build_oracle(void)
{
	for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
		uint8_t b[4];
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		size_t n = encode(cp, b);
		pre1[b[0]] = true;
		if (n >= 2)
			pre2[b[0] << 8 | b[1]] = true;
		if (n >= 3)
			pre3[be24(b) >> 3] |= (uint8_t)(1u << (be24(b) & 7));
	}
}

/* Whether x[0..k), 1 <= k <= 4, is one encoded scalar value. */
static bool oracle_full(const uint8_t *x, size_t k)
{
	uint32_t cp = k == 1 ? x[0] : x[0] & (0x7fu >> k);
	uint8_t b[4];

	for (size_t i = 1; i < k; i++)
		cp = cp << 6 | (x[i] & 0x3fu);
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	return encode(cp, b) == k && memcmp(b, x, k) == 0;
}

/* Whether x[0..k) is a prefix of (or is) one encoded scalar value. */
static bool oracle_prefix(const uint8_t *x, size_t k)
{
	switch (k) {
	case 1:
		return pre1[x[0]];
	case 2:
		return pre2[x[0] << 8 | x[1]];
	case 3:
		return pre3[be24(x) >> 3] >> (be24(x) & 7) & 1;
	default:
		return oracle_full(x, 4);
	}
}

/* Maximal subparts straight from the definition (Unicode 15, 3.9). */
static size_t oracle_scrub(const uint8_t *x, size_t k, uint8_t *out,
			   size_t *bad)
{
	size_t i = 0, o = 0;

	*bad = 0;
	while (i < k) {
		size_t len = 0;
		while (i + len < k && len < 4 && oracle_prefix(x + i, len + 1))
			len++;
		if (len > 0 && oracle_full(x + i, len)) {
			memcpy(out + o, x + i, len);
			o += len;
			i += len;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			(*bad)++;
			i += len > 0 ? len : 1;
		}
	}
	return o;
}

static size_t oracle_tail(const uint8_t *x, size_t k)
{
	for (size_t j = 1; j <= 3 && j <= k; j++)
		if (oracle_prefix(x + k - j, j) && !oracle_full(x + k - j, j))
			return j;
	return 0;
}

static long mismatches[5];

/* Compares every entry point with the oracle on x[0..k); notes the first
 * mismatch. */
static void compare(const uint8_t *x, size_t k)
{
	struct utf8 u = {0};
	bool ok = true;

	for (size_t i = 0; i < k; i++)
		ok &= utf8_feed(&u, x + i, 1) ==
		      (oracle_prefix(x, i + 1) ? UTF8_OK : UTF8_INVALID);
	bool full = oracle_full(x, k);
	ok &= utf8_complete(&u) == full;
	ok &= utf8_valid_prefix(x, k) == (full ? k : 0);
	ok &= utf8_partial_tail(x, k) == oracle_tail(x, k);

	uint8_t got[12], want[12];
	size_t got_bad, want_bad;
	size_t m = utf8_scrub(x, k, got, &got_bad);
	ok &= m == oracle_scrub(x, k, want, &want_bad) &&
	      memcmp(got, want, m) == 0 && got_bad == want_bad;

	if (!ok && mismatches[k]++ == 0) {
		fprintf(stderr, "    oracle disagrees on");
		for (size_t i = 0; i < k; i++)
			fprintf(stderr, " %02x", x[i]);
		fprintf(stderr, "\n");
	}
}

/* Every 1-byte sequence; every 2-byte one that starts non-ASCII; every
 * 3-byte one that starts with E0..FF (shorter leads are settled by then);
 * every 4-byte one whose first three bytes begin a 4-byte character and
 * whose third byte is at the edge of a class (to keep the count down). */
static bool class_edge(unsigned c)
{
	return c == 0x80 || c == 0x8f || c == 0x90 || c == 0x9f || c == 0xa0 ||
	       c == 0xbf;
}

static void check_exhaustive(void)
{
	uint8_t x[4];

	build_oracle();
	for (unsigned a = 0; a < 256; a++) {
		x[0] = (uint8_t)a;
		compare(x, 1);
		for (unsigned b = 0; a >= 0x80 && b < 256; b++) {
			x[1] = (uint8_t)b;
			compare(x, 2);
			for (unsigned c = 0; a >= 0xe0 && c < 256; c++) {
				x[2] = (uint8_t)c;
				compare(x, 3);
				if (a < 0xf0 || !class_edge(c) ||
				    !oracle_prefix(x, 3))
					continue;
				for (unsigned d = 0; d < 256; d++) {
					x[3] = (uint8_t)d;
					compare(x, 4);
				}
			}
		}
	}
	for (size_t k = 1; k <= 4; k++)
		CHECK_INT(mismatches[k], 0);
}

static void check_boundaries(void)
{
	/* U+0041 U+00B5 U+20AC U+1D11E cut after every byte */
	static const char text[] = "A\xc2\xb5\xe2\x82\xac\xf0\x9d\x84\x9e";
	static const size_t bound[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10};
	for (size_t n = 0; n < sizeof text; n++) {
		uint8_t *g = check_guarded(text, n);
		CHECK_INT(utf8_valid_prefix(g, n), bound[n]);
		CHECK_INT(utf8_partial_tail(g, n), n - bound[n]);
		check_unguard(g, n);
	}

	static const struct {
		const char *s;
		size_t tail;
	} tails[] = {
		{"", 0},
		{"a", 0},
		{"\xc2", 1},
		{"a\xc2", 1},
		{"\xe1\x80", 2},
		{"\xf0\x90\x80", 3},
		{"ab\xf4\x8f\xbf", 3},
		{"\xe1\x80\x80", 0},
		{"\xf0\x90\x80\x80", 0},
		{"\xe0\x80", 0},
		{"\xed\xa0", 0},
		{"\xf4\x90", 0},
		{"\xf5\x80\x80", 0},
		{"\xc0", 0},
		{"\xff", 0},
		{"\x80", 0},
		{"\x80\x80\x80", 0},
		{"\xe1\xc2", 1},
		{"\xc2\x80\xe1", 1},
		{"\xff\x80\x80\x80\xe1\x80", 2},
		{"\x80\x80\x80\x80", 0},
	};
	for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
		size_t n = strlen(tails[i].s);
		uint8_t *g = check_guarded(tails[i].s, n);
		CHECK_INT(utf8_partial_tail(g, n), tails[i].tail);
		check_unguard(g, n);
	}
}

#define F "\xef\xbf\xbd"
#define S(in, out, replaced) {in, sizeof in - 1, out, sizeof out - 1, replaced}

/* One line per case: input, scrubbed output, replacements. */
static const struct {
	const char *in;
	size_t n;
	const char *out;
	size_t m;
	size_t replaced;
} scrubs[] = {
	S("", "", 0),
	S("abc", "abc", 0),
	S(KOSME, KOSME, 0),
	S("\x00\xff", "\x00" F, 1),
	S("\xe1\x80\x41", F "A", 1),
	S("\xf4\x90\x80\x80", F F F F, 4),
	S("\xc0\xaf", F F, 2),
	S("\xed\xa0\x80", F F F, 3),
	S("\xf8\x88\x80\x80\x80", F F F F F, 5),
	S("\x80\x80\x80", F F F, 3),
	S("\xce\xba\xff\xce\xba", "\xce\xba" F "\xce\xba", 1),
	S("\xf0\x9f\x98\x80\x80", "\xf0\x9f\x98\x80" F, 1),
	/* an incomplete character at the end */
	S("\xc2", F, 1),
	S("ab\xe1\x80", "ab" F, 1),
	S("\xf0\x90\x80", F, 1),
	S(KOSME "\xf4\x8f\xbf", KOSME F, 1),
	/* Unicode 15, section 3.9, U+FFFD substitution and tables 3-8..3-11 */
	S("\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64",
	  "a" F F F "b" F "c" F F "d", 6),
	S("\xc0\xaf\xe0\x80\xbf\xf0\x81\x82\x41", F F F F F F F F "A", 8),
	S("\xed\xa0\x80\xed\xbf\xbf\xed\xaf\x41", F F F F F F F F "A", 8),
	S("\xf4\x91\x92\x93\xff\x41\x80\xbf\x42", F F F F F "A" F F "B", 7),
	S("\xe1\x80\xe2\xf0\x91\x92\xf1\xbf\x41", F F F F "A", 4),
};

/* Input and an output of exactly UTF8_SCRUB_MAX(n) bytes sit against guard
 * pages. */
static void check_scrub(void)
{
	static const uint8_t junk[UTF8_SCRUB_MAX(64)];

	for (size_t i = 0; i < sizeof scrubs / sizeof scrubs[0]; i++) {
		size_t n = scrubs[i].n, cap = UTF8_SCRUB_MAX(n);
		uint8_t *g = check_guarded(scrubs[i].in, n);
		uint8_t *o = check_guarded(junk, cap);
		size_t replaced = 99;
		size_t m = utf8_scrub(g, n, o, &replaced);
		if (!CHECK_MEM(o, m, scrubs[i].out, scrubs[i].m))
			fprintf(stderr, "    case %zu\n", i);
		CHECK_INT(replaced, scrubs[i].replaced);
		CHECK_INT(utf8_scrub(g, n, o, NULL), scrubs[i].m);
		check_unguard(g, n);
		check_unguard(o, cap);
	}
}

static void check_state(void)
{
	struct utf8 u = {0};

	/* a zeroed state is ready and complete; (NULL, 0) is empty text */
	CHECK(utf8_complete(&u));
	CHECK_INT(utf8_feed(&u, NULL, 0), UTF8_OK);
	CHECK(utf8_complete(&u));
	CHECK_INT(utf8_valid_prefix(NULL, 0), 0);
	CHECK_INT(utf8_partial_tail(NULL, 0), 0);
	CHECK_INT(utf8_scrub(NULL, 0, NULL, NULL), 0);

	/* invalid is sticky, whatever comes after */
	CHECK_INT(utf8_feed(&u, (const uint8_t *)"\xc0", 1), UTF8_INVALID);
	CHECK_INT(utf8_feed(&u, (const uint8_t *)"a", 1), UTF8_INVALID);
	CHECK_INT(utf8_feed(&u, (const uint8_t *)ASCII32, 32), UTF8_INVALID);
	CHECK_INT(utf8_feed(&u, NULL, 0), UTF8_INVALID);
	CHECK(!utf8_complete(&u));

	/* utf8_init starts a new message */
	utf8_init(&u);
	CHECK(utf8_complete(&u));
	CHECK_INT(utf8_feed(&u, (const uint8_t *)"\xe2\x82", 2), UTF8_OK);
	CHECK(!utf8_complete(&u));
	CHECK_INT(utf8_feed(&u, (const uint8_t *)"\xac", 1), UTF8_OK);
	CHECK(utf8_complete(&u));
}

int main(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_case(&cases[i]);
	check_generated();
	check_fast_path();
	check_boundaries();
	check_scrub();
	check_state();
	check_exhaustive();

	return check_report("utf8");
}
