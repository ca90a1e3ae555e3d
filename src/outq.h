/* A connection's outbound queue: its own bytes (answers, frames built for
 * it alone) and references to shared frames (struct frame: built once,
 * refcounted, immutable), kept in the order queued and written together
 * with writev. A broadcast line is framed once; every queue that holds it
 * refers to the same bytes. A queue holds no memory while empty, and
 * without shared frames it is a plain byte queue (struct buf). */
#ifndef PORTAL_OUTQ_H
#define PORTAL_OUTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

/* A complete server frame (header and payload, unmasked), immutable. */
struct frame;

/* A frame of opcode (WS_TEXT, WS_BINARY...) with fin and payload p[0..n),
 * with one reference; NULL when out of memory. */
struct frame *frame_new(unsigned opcode, bool fin, const uint8_t *p, size_t n);
/* Another reference to f; returns f. */
struct frame *frame_ref(struct frame *f);
/* Drops a reference; the last one frees f. NULL is ignored. */
void frame_unref(struct frame *f);
/* Header and payload bytes: what a queue holding f will write. */
size_t frame_size(const struct frame *f);
/* Its payload, *n bytes long. */
const uint8_t *frame_payload(const struct frame *f, size_t *n);

struct outq_ref;

struct outq {
	struct buf own;        /* the queue's own bytes, in order */
	struct outq_ref *ref;  /* shared frames, oldest first from ref0 */
	size_t ref0, nref, refcap;
	uint64_t own_done;     /* own bytes written so far (positions) */
	uint64_t own_put;      /* own bytes queued so far */
	size_t fdone;          /* bytes of the oldest frame written */
	size_t len;            /* every byte queued: read it, never write */
};

/* Room for n more own bytes at the end (NULL when out of memory); what was
 * written there is queued by outq_commit. */
uint8_t *outq_reserve(struct outq *q, size_t n);
void outq_commit(struct outq *q, size_t n);
/* Queues p[0..n) after everything queued; 0, or -1 when out of memory. */
int outq_append(struct outq *q, const void *p, size_t n);

/* Queues a reference to f after everything queued, unless that would put
 * more than limit bytes in the queue. Returns 0 (queued: the queue took a
 * reference of its own), 1 (over limit: nothing queued), or -1 (out of
 * memory: nothing queued). */
int outq_push_frame(struct outq *q, struct frame *f, size_t limit);

/* Writes what is queued to fd with one writev (at most OUTQ_IOV pieces)
 * and drops what was written. Returns the bytes written, or -1 with errno
 * from writev (EAGAIN: the socket is full). */
#define OUTQ_IOV 64
ssize_t outq_write(struct outq *q, int fd);
/* Drops n bytes from the front (n <= len). */
void outq_consume(struct outq *q, size_t n);

/* Empties the queue and releases its memory and references. */
void outq_free(struct outq *q);

#endif
