/* Byte queues for sessions: memory is taken only while data is queued and
 * given back when the queue empties, so an idle session holds none. */
#ifndef PORTAL_BUF_H
#define PORTAL_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *p;
	size_t off; /* queued bytes are p[off .. off+len) */
	size_t len;
	size_t cap;
};

static inline uint8_t *buf_data(const struct buf *b)
{
	return b->p ? b->p + b->off : NULL; /* NULL + 0 is undefined */
}

/* Returns room for at least n more bytes at the end of the queue (moving or
 * growing the storage), or NULL when out of memory. Commit what was written
 * with buf_commit. */
uint8_t *buf_reserve(struct buf *b, size_t n);

static inline void buf_commit(struct buf *b, size_t n)
{
	b->len += n;
}

/* Appends p[0..n); returns 0, or -1 when out of memory. */
int buf_append(struct buf *b, const void *p, size_t n);

/* Drops n bytes from the front; releases the storage once empty. */
void buf_consume(struct buf *b, size_t n);

void buf_free(struct buf *b);

/* Gives the storage kept for reuse back to the system: called when no
 * session is left, so that a gateway that was busy once does not keep its
 * peak memory while idle. */
void buf_release_pool(void);

#endif
