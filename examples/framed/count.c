/* --framed in C: answers each message with its type and exact length.
 *
 *   cc -o count examples/framed/count.c
 *   portal-gw --framed --port 4433 /count=./count
 */
#include <stdio.h>
#include <string.h>

/* Length of the text a "T " payload stands for: each escape is one byte. */
static size_t text_len(const char *p, size_t n)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++, len++) {
		if (p[i] == '\\' && i + 1 < n && strchr("nr\\", p[i + 1]))
			i++;
	}
	return len;
}

/* Length of the bytes a "B " base64 payload stands for. */
static size_t binary_len(const char *p, size_t n)
{
	size_t len = n / 4 * 3;
	if (n >= 1 && p[n - 1] == '=')
		len--;
	if (n >= 2 && p[n - 2] == '=')
		len--;
	return len;
}

int main(void)
{
	static char line[1 << 20];
	while (fgets(line, sizeof line, stdin)) {
		size_t n = strcspn(line, "\n");
		if (n >= 2 && line[0] == 'T' && line[1] == ' ')
			printf("T text of %zu bytes\n", text_len(line + 2, n - 2));
		else if (n >= 2 && line[0] == 'B' && line[1] == ' ')
			printf("T binary of %zu bytes\n", binary_len(line + 2, n - 2));
		fflush(stdout);
	}
	return 0;
}
