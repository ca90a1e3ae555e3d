/* Base64 (RFC 4648 section 4, with padding). Pure: no syscalls, no allocation. */
#ifndef PORTAL_BASE64_H
#define PORTAL_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed to encode n bytes (no terminating NUL). */
#define BASE64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)

/* Encodes in[0..n) into out, which must hold BASE64_ENCODED_LEN(n) chars.
 * Returns the number of chars written; writes no NUL. */
size_t base64_encode(const void *in, size_t n, char *out);

/* Decodes the canonical padded form in[0..n) into out[0..cap).
 * Returns the number of bytes written, or -1 if the input is not canonical
 * base64 (length not a multiple of 4, a character outside the alphabet,
 * misplaced or excess padding, non-zero pad bits) or the result would not
 * fit in cap. */
long base64_decode(const char *in, size_t n, uint8_t *out, size_t cap);

#endif
