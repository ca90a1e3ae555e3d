/* Fuzz target for opts_split (src/opts.h): a COMMAND's split into argv must
 * stay inside out[0..strlen(s) + 1) and argv[0..max), as its contract
 * promises, and agree with a reference that follows the contract's words.
 *
 * Input: byte 0 chooses max (1..16), the rest up to a NUL is s. */
#include <stdbool.h>

#include "fuzz.h"
#include "opts.h"

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* "blanks separate words, '...' is literal, "..." is literal except that \
 * escapes " \ $ ` and newline, and an unquoted \ escapes the next
 * character." Appends each word and its NUL to *out. */
static int ref_split(const char *s, size_t max, struct fuzz_bytes *out)
{
	size_t n = 0, i = 0;

	for (;;) {
		while (blank(s[i]))
			i++;
		if (s[i] == '\0')
			return (int)n;
		if (n + 1 >= max)
			return -2;
		n++;
		while (s[i] != '\0' && !blank(s[i])) {
			char q = s[i];
			if (q == '\'' || q == '"') {
				for (i++; s[i] != q; i++) {
					if (s[i] == '\0')
						return -1;
					if (q == '"' && s[i] == '\\' &&
					    s[i + 1] != '\0' &&
					    strchr("\"\\$`\n", s[i + 1]))
						i++;
					fuzz_put(out, &s[i], 1);
				}
				i++;
			} else if (q == '\\') {
				if (s[i + 1] == '\0')
					return -1;
				fuzz_put(out, &s[i + 1], 1);
				i += 2;
			} else {
				fuzz_put(out, &s[i++], 1);
			}
		}
		fuzz_put(out, "", 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t max = 1 + data[0] % 16u;
	size_t len = strnlen((const char *)data + 1, size - 1);
	char *s = malloc(len + 1);
	/* Exactly the room the contract asks for. */
	char *out = malloc(len + 1);
	char **argv = malloc(max * sizeof *argv);
	struct fuzz_bytes want = {0};

	if (!s || !out || !argv)
		abort();
	memcpy(s, data + 1, len);
	s[len] = '\0';
	int n = opts_split(s, out, argv, max);
	int rn = ref_split(s, max, &want);
	FUZZ_CHECK(n == rn);
	if (n >= 0) {
		FUZZ_CHECK((size_t)n < max && argv[n] == NULL);
		/* The words lie in out, one after the other, as the
		 * reference has them. */
		size_t at = 0;
		for (int i = 0; i < n; i++) {
			FUZZ_CHECK(argv[i] >= out && argv[i] < out + len + 1);
			size_t room = len + 1 - (size_t)(argv[i] - out);
			size_t wl = strnlen(argv[i], room);
			FUZZ_CHECK(wl < room);
			if (i > 0)
				FUZZ_CHECK(argv[i] > argv[i - 1]);
			FUZZ_CHECK(at + wl < want.len &&
				   memcmp(argv[i], want.p + at, wl + 1) == 0);
			at += wl + 1;
		}
		FUZZ_CHECK(at == want.len);
	}
	fuzz_bytes_free(&want);
	free(argv);
	free(out);
	free(s);
	return 0;
}
