/* Deterministic line content shared by the soak driver (tests/soak/soak.c
 * and the files soak.h lists) and its children (tests/soak/child.c): both
 * sides can regenerate line number SEQ of session TOKEN, so every line is
 * checked byte for byte and in order without being stored.
 *
 * A line is valid UTF-8 (ASCII with 2-, 3- and 4-byte characters mixed in),
 * never holds '\n' or '\r', and starts with "TOKEN:SEQ:" when it is long
 * enough, which makes a mismatch easy to read. */
#ifndef SOAK_GEN_H
#define SOAK_GEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* splitmix64 finaliser: a good 64-bit mix of one word. */
static inline uint64_t gen_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static inline uint64_t gen_hash(uint32_t token, uint64_t seq, uint32_t salt)
{
	return gen_mix(gen_mix(((uint64_t)token << 32) ^ salt) ^ seq);
}

/* Writes exactly len bytes of line SEQ of session TOKEN to out. Each
 * character takes 16 bits of a 64-bit hash: 4 to choose between ASCII and
 * a multi-byte character, 12 for which. */
static inline void gen_line(uint32_t token, uint64_t seq, size_t len, char *out)
{
	static const char multi[][5] = { "\xc3\xa9", "\xe2\x82\xac",
					 "\xf0\x9f\x98\x80", "\xd0\x96" };
	char prefix[40];
	int k = snprintf(prefix, sizeof prefix, "%u:%llu:", token,
			 (unsigned long long)seq);
	size_t i = 0;
	for (; i < len && i < (size_t)k; i++)
		out[i] = prefix[i];
	uint64_t r = gen_hash(token, seq, 0x6c696e65u), bits = 0;
	unsigned left = 0;
	while (i < len) {
		if (left == 0) {
			r = gen_mix(r);
			bits = r;
			left = 4;
		}
		unsigned v = (unsigned)(bits & 0xffffu);
		bits >>= 16;
		left--;
		if ((v & 15u) < 2 && len - i >= 4) {
			const char *m = multi[(v >> 4) & 3u];
			while (*m)
				out[i++] = *m++;
		} else {
			out[i++] = (char)(0x20 + (v >> 4) % 95u); /* ' '..'~' */
		}
	}
}

/* The length of line SEQ of a flood of lines at most maxlen bytes long;
 * about one line in 64 is empty. */
static inline size_t gen_flood_len(uint32_t token, uint64_t seq, size_t maxlen)
{
	uint64_t r = gen_hash(token, seq, 0x666c6f6fu);
	if ((r & 63u) == 0 || maxlen == 0)
		return 0;
	return (size_t)((r >> 8) % maxlen) + 1;
}

#endif
