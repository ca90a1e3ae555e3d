/* Deterministic line content shared by the soak driver (tests/soak/soak.c)
 * and its children (tests/soak/child.c): both sides can regenerate line
 * number SEQ of session TOKEN, so every line is checked byte for byte and
 * in order without being stored.
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

/* Writes exactly len bytes of line SEQ of session TOKEN to out. */
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
	uint64_t r = gen_hash(token, seq, 0x6c696e65u);
	while (i < len) {
		r = gen_mix(r);
		unsigned pick = (unsigned)(r & 15u);
		if (pick < 4 && len - i >= 4) {
			const char *m = multi[pick];
			while (*m)
				out[i++] = *m++;
		} else {
			out[i++] = (char)(0x20 + (r >> 8) % 95u); /* ' '..'~' */
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
