/* A child's stderr, by lines: bytes go in as they are read, and each
 * complete line comes out through a callback, for the caller to log or
 * send in its own format. Used by the one-to-one binding, the shared
 * routes' program and --cgidir scripts alike. */
#ifndef PORTAL_ERRLINES_H
#define PORTAL_ERRLINES_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* A line that has not ended once this many bytes are held goes out as it
 * stands (a piece), and the rest of it follows as further pieces. */
#define ERR_LINE_MAX 4096

struct errlines {
	struct buf b; /* the line not yet ended; empty: no storage */
};

/* Called with one line (or piece) without its "\n" and without a "\r"
 * just before it; the bytes are valid only during the call. */
typedef void errlines_fn(void *arg, const uint8_t *line, size_t n);

/* Appends p[0..n) and calls fn for each line it completes, in order.
 * n == 0 does nothing (the end is errlines_end). Returns 0, or -1 when out
 * of memory (nothing appended, fn not called). */
int errlines_feed(struct errlines *e, const uint8_t *p, size_t n,
		  errlines_fn *fn, void *arg);

/* The stream has ended: what is held goes out as a last line even without
 * its "\n", and the storage is released. */
void errlines_end(struct errlines *e, errlines_fn *fn, void *arg);

void errlines_free(struct errlines *e);

#endif
