#include "framed.h"

size_t framed_escape(const uint8_t *p, size_t n, uint8_t *out)
{
	uint8_t *o = out;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (c == '\\' || c == '\n' || c == '\r') {
			*o++ = '\\';
			*o++ = c == '\\' ? '\\' : c == '\n' ? 'n' : 'r';
		} else {
			*o++ = c;
		}
	}
	return (size_t)(o - out);
}

size_t framed_unescape(const uint8_t *p, size_t n, bool final, uint8_t *out,
		       size_t *used)
{
	uint8_t *o = out;
	size_t i = 0;
	while (i < n) {
		if (p[i] != '\\') {
			*o++ = p[i++];
			continue;
		}
		if (i + 1 == n) {
			if (!final)
				break;
			*o++ = '\\';
			i++;
			continue;
		}
		uint8_t e = p[i + 1];
		if (e == 'n')
			*o++ = '\n';
		else if (e == 'r')
			*o++ = '\r';
		else if (e == '\\')
			*o++ = '\\';
		else {
			*o++ = '\\';
			i++;
			continue;
		}
		i += 2;
	}
	*used = i;
	return (size_t)(o - out);
}
