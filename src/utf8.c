/* UTF-8 (RFC 3629 section 4) as a table-driven DFA in the manner of Bjoern
 * Hoehrmann's decoder: each byte maps to a class, and (state, class) to the
 * next state. The DFA rejects at the first byte that no well-formed
 * sequence could continue with. That one property gives both fail-fast
 * validation and the maximal subparts of Unicode's U+FFFD substitution
 * (Unicode 15, section 3.9). */
#include "utf8.h"

#include <string.h>

/* Byte classes. E0, ED, F0 and F4 narrow the range of the byte after them
 * (RFC 3629 section 4, Unicode table 3-7). */
enum {
	C_ASC, /* 00..7F */
	C_80,  /* 80..8F: continuation */
	C_90,  /* 90..9F: continuation */
	C_A0,  /* A0..BF: continuation */
	C_L2,  /* C2..DF: lead of 2 */
	C_E0,  /* E0: lead of 3, then A0..BF (no overlongs) */
	C_L3,  /* E1..EC, EE..EF: lead of 3 */
	C_ED,  /* ED: lead of 3, then 80..9F (no surrogates) */
	C_F0,  /* F0: lead of 4, then 90..BF (no overlongs) */
	C_L4,  /* F1..F3: lead of 4 */
	C_F4,  /* F4: lead of 4, then 80..8F (nothing above U+10FFFF) */
	C_BAD, /* C0, C1, F5..FF: never appear in UTF-8 */
	NCLASS
};

/* States. S_ACCEPT is 0 so that a zeroed struct utf8 is ready to use. */
enum {
	S_ACCEPT, /* on a character boundary */
	S_REJECT, /* sticky */
	S_1,      /* one more continuation byte wanted */
	S_2,      /* two more */
	S_3,      /* three more */
	S_E0,     /* after E0 */
	S_ED,     /* after ED */
	S_F0,     /* after F0 */
	S_F4,     /* after F4 */
	NSTATE
};

/* 00..7F are C_ASC, which is 0. */
static const uint8_t byte_class[256] = {
	[0x80] = C_80, C_80, C_80, C_80, C_80, C_80, C_80, C_80,
		 C_80, C_80, C_80, C_80, C_80, C_80, C_80, C_80,
	[0x90] = C_90, C_90, C_90, C_90, C_90, C_90, C_90, C_90,
		 C_90, C_90, C_90, C_90, C_90, C_90, C_90, C_90,
	[0xa0] = C_A0, C_A0, C_A0, C_A0, C_A0, C_A0, C_A0, C_A0,
		 C_A0, C_A0, C_A0, C_A0, C_A0, C_A0, C_A0, C_A0,
		 C_A0, C_A0, C_A0, C_A0, C_A0, C_A0, C_A0, C_A0,
		 C_A0, C_A0, C_A0, C_A0, C_A0, C_A0, C_A0, C_A0,
	[0xc0] = C_BAD, C_BAD, C_L2, C_L2, C_L2, C_L2, C_L2, C_L2,
		 C_L2, C_L2, C_L2, C_L2, C_L2, C_L2, C_L2, C_L2,
		 C_L2, C_L2, C_L2, C_L2, C_L2, C_L2, C_L2, C_L2,
		 C_L2, C_L2, C_L2, C_L2, C_L2, C_L2, C_L2, C_L2,
	[0xe0] = C_E0, C_L3, C_L3, C_L3, C_L3, C_L3, C_L3, C_L3,
		 C_L3, C_L3, C_L3, C_L3, C_L3, C_ED, C_L3, C_L3,
	[0xf0] = C_F0, C_L4, C_L4, C_L4, C_F4, C_BAD, C_BAD, C_BAD,
		 C_BAD, C_BAD, C_BAD, C_BAD, C_BAD, C_BAD, C_BAD, C_BAD,
};

/* next_state[state][class], the classes in the order C_ASC, C_80, C_90,
 * C_A0, C_L2, C_E0, C_L3, C_ED, C_F0, C_L4, C_F4, C_BAD. */
#define A S_ACCEPT
#define R S_REJECT
static const uint8_t next_state[NSTATE][NCLASS] = {
	[S_ACCEPT] = {A, R, R, R, S_1, S_E0, S_2, S_ED, S_F0, S_3, S_F4, R},
	[S_REJECT] = {R, R, R, R, R, R, R, R, R, R, R, R},
	[S_1] = {R, A, A, A, R, R, R, R, R, R, R, R},
	[S_2] = {R, S_1, S_1, S_1, R, R, R, R, R, R, R, R},
	[S_3] = {R, S_2, S_2, S_2, R, R, R, R, R, R, R, R},
	[S_E0] = {R, R, R, S_1, R, R, R, R, R, R, R, R},
	[S_ED] = {R, S_1, S_1, R, R, R, R, R, R, R, R, R},
	[S_F0] = {R, R, S_2, S_2, R, R, R, R, R, R, R, R},
	[S_F4] = {R, S_2, R, R, R, R, R, R, R, R, R, R},
};
#undef A
#undef R

static uint32_t step(uint32_t s, uint8_t b)
{
	return next_state[s][byte_class[b]];
}

/* The fast path for the ASCII that dominates real text: from p[i], skips
 * whole 8-byte words of p[0..n) that are all ASCII and returns where the
 * byte loop resumes. Takes an index rather than p + i so that (NULL, 0)
 * never becomes NULL + 0. */
static size_t skip_ascii(const uint8_t *p, size_t i, size_t n)
{
	/* 32 bytes per test while the text is ASCII: a quarter of the
	 * branches of the 8-byte loop, which then finds the exact word. */
	for (; n - i >= 32; i += 32) {
		uint64_t w[4];
		memcpy(w, p + i, sizeof w);
		if ((w[0] | w[1] | w[2] | w[3]) & UINT64_C(0x8080808080808080))
			break;
	}
	for (; n - i >= 8; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, sizeof w);
		if (w & UINT64_C(0x8080808080808080))
			break;
	}
	return i;
}

void utf8_init(struct utf8 *u)
{
	u->state = S_ACCEPT;
}

int utf8_feed(struct utf8 *u, const uint8_t *p, size_t n)
{
	uint32_t s = u->state;
	size_t i = 0;

	for (;;) {
		if (s == S_ACCEPT)
			i = skip_ascii(p, i, n);
		if (i == n || s == S_REJECT)
			break;
		s = step(s, p[i++]);
	}
	u->state = s;
	return s == S_REJECT ? UTF8_INVALID : UTF8_OK;
}

bool utf8_complete(const struct utf8 *u)
{
	return u->state == S_ACCEPT;
}

size_t utf8_valid_prefix(const uint8_t *p, size_t n)
{
	uint32_t s = S_ACCEPT;
	size_t i = 0, good = 0;

	for (;;) {
		if (s == S_ACCEPT) {
			i = skip_ascii(p, i, n);
			good = i;
		}
		if (i == n || s == S_REJECT)
			break;
		s = step(s, p[i++]);
	}
	return good;
}

size_t utf8_partial_tail(const uint8_t *p, size_t n)
{
	/* An incomplete character starts at the last byte that is not a
	 * continuation byte, and no further back than 3 bytes. */
	size_t k = 1;
	while (k <= 3 && k <= n && (p[n - k] & 0xc0) == 0x80)
		k++;
	if (k > 3 || k > n)
		return 0;

	uint32_t s = S_ACCEPT;
	for (size_t i = n - k; i < n; i++)
		s = step(s, p[i]);
	return s != S_ACCEPT && s != S_REJECT ? k : 0;
}

size_t utf8_char(const uint8_t *p, size_t n, bool *valid)
{
	/* len counts the bytes the DFA accepts, up to the end of one
	 * character. */
	uint32_t s = S_ACCEPT;
	size_t len = 0;
	do {
		s = step(s, p[len]);
		if (s == S_REJECT)
			break;
		len++;
	} while (s != S_ACCEPT && len < n);
	*valid = s == S_ACCEPT;
	/* Else p[0..len) is a maximal subpart: a prefix of a well-formed
	 * sequence cut short by a byte that cannot continue it, or by the end
	 * of the input. An empty one is a byte that cannot start a
	 * sequence. */
	return len > 0 ? len : 1;
}

size_t utf8_scrub(const uint8_t *p, size_t n, uint8_t *out, size_t *replaced)
{
	static const uint8_t fffd[3] = {0xef, 0xbf, 0xbd};
	size_t i = 0, o = 0, bad = 0;

	while (i < n) {
		bool valid;
		size_t len = utf8_char(p + i, n - i, &valid);
		if (valid) {
			memcpy(out + o, p + i, len);
			o += len;
		} else {
			memcpy(out + o, fffd, sizeof fffd);
			o += sizeof fffd;
			bad++;
		}
		i += len;
	}
	if (replaced)
		*replaced = bad;
	return o;
}
