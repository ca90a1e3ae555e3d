/* UTF-8 validation (RFC 3629) for incoming text and repair of outgoing text.
 * Pure: no syscalls, no allocation. */
#ifndef PORTAL_UTF8_H
#define PORTAL_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Incremental validator state: zero-initialise (or utf8_init) before the
 * first byte of a message. */
struct utf8 {
	uint32_t state;
};

enum {
	UTF8_OK = 0,       /* all bytes so far valid (possibly mid-character) */
	UTF8_INVALID = -1, /* an invalid byte was seen; state is now sticky */
};

void utf8_init(struct utf8 *u);

/* Feeds p[0..n). Returns UTF8_INVALID as soon as the bytes so far cannot
 * be the prefix of any valid UTF-8 text (fail fast, as Autobahn case 6
 * expects), else UTF8_OK. Once invalid, stays invalid. */
int utf8_feed(struct utf8 *u, const uint8_t *p, size_t n);

/* True when the bytes fed so far end on a character boundary (so the
 * message may end here) and nothing invalid was seen. */
bool utf8_complete(const struct utf8 *u);

/* Length of the longest prefix of p[0..n) that is valid UTF-8 and ends on a
 * character boundary. Equal to n for valid text. */
size_t utf8_valid_prefix(const uint8_t *p, size_t n);

/* Number of bytes (0..3) at the end of p[0..n) that form an incomplete
 * character that could still become valid with more bytes. A caller that
 * streams text keeps these back until more input arrives. */
size_t utf8_partial_tail(const uint8_t *p, size_t n);

/* The character at the start of p[0..n) (n > 0): returns its length and
 * sets *valid; or, when it is ill-formed, returns the length (at least 1)
 * of its maximal subpart, the bytes one U+FFFD stands for, and clears
 * *valid. An incomplete character at the end is ill-formed. */
size_t utf8_char(const uint8_t *p, size_t n, bool *valid);

/* Copies p[0..n) to out, replacing each maximal ill-formed subsequence with
 * U+FFFD (EF BF BD), per Unicode's "substitution of maximal subparts".
 * An incomplete character at the end is replaced too. out must have room for
 * UTF8_SCRUB_MAX(n) bytes. Returns the bytes written; *replaced (may be
 * NULL) receives the number of replacements made. */
#define UTF8_SCRUB_MAX(n) ((n) * 3)
size_t utf8_scrub(const uint8_t *p, size_t n, uint8_t *out, size_t *replaced);

#endif
