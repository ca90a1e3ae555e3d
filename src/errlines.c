/* A child's stderr, by lines (errlines.h). */
#include <stdbool.h>
#include <string.h>

#include "errlines.h"

/* Hands out every complete line held; at the end (eof) also the rest.
 * Without a "\n", ERR_LINE_MAX held bytes go out as one piece: the memory a
 * child that never ends its line can take stays bounded. */
static void split(struct errlines *e, bool eof, errlines_fn *fn, void *arg)
{
	for (;;) {
		uint8_t *p = buf_data(&e->b);
		size_t len = e->b.len;
		uint8_t *nl = len ? memchr(p, '\n', len) : NULL;
		size_t n;
		if (nl)
			n = (size_t)(nl - p);
		else if (len >= ERR_LINE_MAX || (eof && len > 0))
			n = len;
		else
			break;
		fn(arg, p, n > 0 && p[n - 1] == '\r' ? n - 1 : n);
		buf_consume(&e->b, nl ? n + 1 : n);
	}
}

int errlines_feed(struct errlines *e, const uint8_t *p, size_t n,
		  errlines_fn *fn, void *arg)
{
	if (n == 0)
		return 0;
	if (buf_append(&e->b, p, n) < 0)
		return -1;
	split(e, false, fn, arg);
	return 0;
}

void errlines_end(struct errlines *e, errlines_fn *fn, void *arg)
{
	split(e, true, fn, arg);
	buf_free(&e->b);
}

void errlines_free(struct errlines *e)
{
	buf_free(&e->b);
}
