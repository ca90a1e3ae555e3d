/* Base64 (RFC 4648 section 4). The decoder accepts only the canonical
 * padded form (section 3.5), so every byte string has exactly one
 * encoding it will take. */
#include "base64.h"

static const char b64_alphabet[64] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encode(const void *in, size_t n, char *out)
{
	const uint8_t *p = in;
	char *o = out;

	for (; n >= 3; p += 3, n -= 3) {
		uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
		*o++ = b64_alphabet[v >> 18];
		*o++ = b64_alphabet[v >> 12 & 63];
		*o++ = b64_alphabet[v >> 6 & 63];
		*o++ = b64_alphabet[v & 63];
	}
	if (n > 0) {
		uint32_t v = (uint32_t)p[0] << 16;
		if (n == 2)
			v |= (uint32_t)p[1] << 8;
		*o++ = b64_alphabet[v >> 18];
		*o++ = b64_alphabet[v >> 12 & 63];
		*o++ = n == 2 ? b64_alphabet[v >> 6 & 63] : '=';
		*o++ = '=';
	}
	return (size_t)(o - out);
}

/* The 6-bit value of an alphabet character, or -1 (for '=' too). */
static int b64_value(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* On failure out[0..cap) may hold part of the result; nothing is ever
 * written past cap. */
long base64_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
	if (n % 4 != 0)
		return -1;
	if (n == 0)
		return 0;

	/* Only the last quantum may be padded: "xx==" or "xxx=". */
	size_t pad = in[n - 1] != '=' ? 0 : in[n - 2] != '=' ? 1 : 2;
	size_t len = n / 4 * 3 - pad;
	if (len > cap)
		return -1;

	uint8_t *o = out;
	for (size_t i = 0; i < n; i += 4) {
		size_t chars = i + 4 < n ? 4 : 4 - pad;
		uint32_t v = 0;
		for (size_t j = 0; j < 4; j++) {
			int d = j < chars ? b64_value(in[i + j]) : 0;
			if (d < 0)
				return -1;
			v = v << 6 | (uint32_t)d;
		}
		*o++ = (uint8_t)(v >> 16);
		if (chars > 2)
			*o++ = (uint8_t)(v >> 8);
		if (chars > 3)
			*o++ = (uint8_t)v;
		/* RFC 4648 3.5: the bits that padding leaves over are zero. */
		if ((chars == 2 && (v & 0xffff)) || (chars == 3 && (v & 0xff)))
			return -1;
	}
	return (long)len;
}
