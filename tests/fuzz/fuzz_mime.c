/* Fuzz target for src/mime.h: mime_parse keeps inside its table whatever
 * the bytes, every extension it keeps is found again by mime_lookup (in
 * any case) with a well-formed type, and a lookup of anything else never
 * reads out of bounds.
 *
 * Input: a mime.types file. */
#include <stdbool.h>

#include "fuzz.h"
#include "mime.h"

static struct mime_table t;

static bool well_formed_type(const char *ty)
{
	size_t n = strnlen(ty, MIME_TYPE_LEN + 32);
	const char *slash = memchr(ty, '/', n);
	return n > 2 && n <= MIME_TYPE_LEN + strlen("; charset=utf-8") &&
	       slash && slash != ty;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_dup(data, size);
	size_t n = mime_parse(&t, buf, size);
	FUZZ_CHECK(n == t.n && n <= MIME_EXT_MAX);
	FUZZ_CHECK(t.used <= MIME_TEXT_MAX);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(t.ext[i] < t.used && t.type[i] < t.used);
		const char *e = t.text + t.ext[i];
		size_t el = strnlen(e, t.used - t.ext[i]);
		FUZZ_CHECK(el > 0 && el <= MIME_EXT_LEN && t.ext[i] + el < t.used);
		const char *ty = mime_lookup(&t, e, el);
		FUZZ_CHECK(ty == t.text + t.type[i]);
		FUZZ_CHECK(well_formed_type(ty));
		char up[MIME_EXT_LEN];
		for (size_t k = 0; k < el; k++) {
			FUZZ_CHECK(!(e[k] >= 'A' && e[k] <= 'Z'));
			up[k] = e[k] >= 'a' && e[k] <= 'z' ? (char)(e[k] - 32) : e[k];
		}
		FUZZ_CHECK(mime_lookup(&t, up, el) == ty);
	}
	/* Every word of the input as an extension: found or not, in bounds. */
	for (size_t i = 0; i < size;) {
		size_t k = i;
		while (k < size && buf[k] != ' ' && buf[k] != '\n')
			k++;
		const char *ty = mime_lookup(&t, buf + i, k - i);
		FUZZ_CHECK(!ty || (ty >= t.text && ty < t.text + t.used));
		i = k + 1;
	}
	free(buf);
	return 0;
}
