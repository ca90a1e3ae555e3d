/* opts_split: shell-like quoting without a shell. */
#include <string.h>

#include "check.h"
#include "opts.h"

static void split_ok(const char *s, int want_n, const char *const *want)
{
	char out[256];
	char *argv[16];
	int n = opts_split(s, out, argv, 16);
	CHECK_INT(n, want_n);
	for (int i = 0; i < want_n && i < n; i++) {
		if (!check_at(strcmp(argv[i], want[i]) == 0, __FILE__, __LINE__,
			      "word matches"))
			fprintf(stderr, "    input [%s] word %d: got [%s], want [%s]\n",
				s, i, argv[i], want[i]);
	}
	if (n >= 0)
		CHECK(argv[n] == NULL);
}

int main(void)
{
	split_ok("./echo.sh", 1, (const char *const[]){ "./echo.sh" });
	split_ok("  cat   -u  ", 2, (const char *const[]){ "cat", "-u" });
	split_ok("", 0, NULL);
	split_ok("   ", 0, NULL);
	split_ok("sh -c 'echo $HOME; ls *'", 3,
		 (const char *const[]){ "sh", "-c", "echo $HOME; ls *" });
	split_ok("printf \"a b\\\"c\\\\d\\$e\\x\"", 2,
		 (const char *const[]){ "printf", "a b\"c\\d$e\\x" });
	split_ok("a\\ b c\\'d", 2, (const char *const[]){ "a b", "c'd" });
	split_ok("x'y'\"z\"w", 1, (const char *const[]){ "xyzw" });
	split_ok("'' \"\"", 2, (const char *const[]){ "", "" });
	split_ok("~ $PATH ; | >", 5,
		 (const char *const[]){ "~", "$PATH", ";", "|", ">" });
	split_ok("a\tb\nc", 3, (const char *const[]){ "a", "b", "c" });

	char out[64];
	char *argv[4];
	CHECK_INT(opts_split("'open", out, argv, 4), -1);
	CHECK_INT(opts_split("\"open", out, argv, 4), -1);
	CHECK_INT(opts_split("trailing\\", out, argv, 4), -1);
	CHECK_INT(opts_split("a b c d", out, argv, 4), -2);
	CHECK_INT(opts_split("a b c", out, argv, 4), 3);
	return check_report("opts");
}
