/* framed: the --framed pipe escaping, whole and split at every offset. */
#include <string.h>

#include "check.h"
#include "framed.h"

static void roundtrip(const char *text, size_t n)
{
	uint8_t esc[256], back[256];
	size_t e = framed_escape((const uint8_t *)text, n, esc);
	CHECK(memchr(esc, '\n', e) == NULL);
	CHECK(memchr(esc, '\r', e) == NULL);
	size_t used;
	size_t b = framed_unescape(esc, e, true, back, &used);
	CHECK_INT(used, e);
	CHECK_MEM(back, b, text, n);
	/* Split anywhere: the first part may leave a backslash behind. */
	for (size_t cut = 0; cut <= e; cut++) {
		size_t u1, u2;
		size_t b1 = framed_unescape(esc, cut, false, back, &u1);
		size_t b2 = framed_unescape(esc + u1, e - u1, true, back + b1, &u2);
		CHECK_INT(u1 + u2, e);
		CHECK_MEM(back, b1 + b2, text, n);
	}
}

int main(void)
{
	uint8_t out[64];
	size_t used;
	CHECK_INT(framed_escape((const uint8_t *)"a\\b\nc\rd", 7, out), 10);
	CHECK_MEM(out, 10, "a\\\\b\\nc\\rd", 10);

	roundtrip("", 0);
	roundtrip("plain", 5);
	roundtrip("\\", 1);
	roundtrip("\\\\n", 3);
	roundtrip("line1\nline2\r\n", 13);
	roundtrip("nul\0byte", 8);
	roundtrip("\xce\xba\xe1\xbd\xb9\\", 6);

	/* Unknown escapes and a lone final backslash stand for themselves. */
	size_t n = framed_unescape((const uint8_t *)"a\\tb\\", 5, true, out, &used);
	CHECK_MEM(out, n, "a\\tb\\", 5);
	CHECK_INT(used, 5);
	n = framed_unescape((const uint8_t *)"ab\\", 3, false, out, &used);
	CHECK_MEM(out, n, "ab", 2);
	CHECK_INT(used, 2);
	return check_report("framed");
}
