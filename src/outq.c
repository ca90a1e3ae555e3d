/* The outbound queue (outq.h). Own bytes are one byte queue; each shared
 * frame is noted with the position in that queue's stream (own bytes ever
 * queued) at which it was pushed: it goes out after the own bytes before
 * that position and before those after it. */
#include "outq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "ws.h"

struct frame {
	size_t refs;
	size_t size;
	size_t head; /* header bytes */
	uint8_t bytes[];
};

struct outq_ref {
	struct frame *f;
	uint64_t at; /* own bytes queued before it */
};

struct frame *frame_new(unsigned opcode, bool fin, const uint8_t *p, size_t n)
{
	if (n > SIZE_MAX - sizeof(struct frame) - WS_MAX_HEADER)
		return NULL;
	struct frame *f = malloc(sizeof *f + WS_MAX_HEADER + n);
	if (!f)
		return NULL;
	size_t h = ws_encode_header(f->bytes, opcode, fin, n, NULL);
	if (n)
		memcpy(f->bytes + h, p, n);
	f->refs = 1;
	f->size = h + n;
	f->head = h;
	return f;
}

struct frame *frame_ref(struct frame *f)
{
	f->refs++;
	return f;
}

void frame_unref(struct frame *f)
{
	if (f && --f->refs == 0)
		free(f);
}

size_t frame_size(const struct frame *f)
{
	return f->size;
}

const uint8_t *frame_payload(const struct frame *f, size_t *n)
{
	*n = f->size - f->head;
	return f->bytes + f->head;
}

uint8_t *outq_reserve(struct outq *q, size_t n)
{
	return buf_reserve(&q->own, n);
}

void outq_commit(struct outq *q, size_t n)
{
	buf_commit(&q->own, n);
	q->own_put += n;
	q->len += n;
}

int outq_append(struct outq *q, const void *p, size_t n)
{
	if (buf_append(&q->own, p, n) < 0)
		return -1;
	q->own_put += n;
	q->len += n;
	return 0;
}

/* Room for one more reference at the end of q->ref. */
static int ref_room(struct outq *q)
{
	if (q->ref0 > 0 && q->ref0 + q->nref == q->refcap) {
		memmove(q->ref, q->ref + q->ref0, q->nref * sizeof *q->ref);
		q->ref0 = 0;
	}
	if (q->ref0 + q->nref < q->refcap)
		return 0;
	size_t cap = q->refcap ? 2 * q->refcap : 8;
	struct outq_ref *r = realloc(q->ref, cap * sizeof *r);
	if (!r)
		return -1;
	q->ref = r;
	q->refcap = cap;
	return 0;
}

int outq_push_frame(struct outq *q, struct frame *f, size_t limit)
{
	if (f->size > limit || q->len > limit - f->size)
		return 1;
	if (ref_room(q) < 0)
		return -1;
	struct outq_ref *r = &q->ref[q->ref0 + q->nref++];
	r->f = frame_ref(f);
	r->at = q->own_put;
	q->len += f->size;
	return 0;
}

/* Own bytes from the front of the own queue up to the next frame (all of
 * them when no frame is queued). */
static size_t own_before_frame(const struct outq *q)
{
	if (q->nref == 0)
		return q->own.len;
	return (size_t)(q->ref[q->ref0].at - q->own_done);
}

void outq_consume(struct outq *q, size_t n)
{
	q->len -= n;
	while (n > 0) {
		size_t own = own_before_frame(q);
		if (own > 0) {
			size_t k = n < own ? n : own;
			buf_consume(&q->own, k);
			q->own_done += k;
			n -= k;
			continue;
		}
		struct outq_ref *r = &q->ref[q->ref0];
		size_t k = r->f->size - q->fdone;
		if (n < k) {
			q->fdone += n;
			return;
		}
		n -= k;
		frame_unref(r->f);
		q->fdone = 0;
		q->ref0++;
		if (--q->nref == 0)
			q->ref0 = 0;
	}
	if (q->len == 0)
		outq_free(q); /* an empty queue holds no memory */
}

ssize_t outq_write(struct outq *q, int fd)
{
	struct iovec iov[OUTQ_IOV];
	int k = 0;
	const uint8_t *own = buf_data(&q->own);
	uint64_t pos = q->own_done; /* of own */
	size_t skip = q->fdone;
	for (size_t i = q->ref0; i < q->ref0 + q->nref && k < OUTQ_IOV; i++) {
		size_t before = (size_t)(q->ref[i].at - pos);
		if (before > 0) {
			iov[k++] = (struct iovec){ (void *)(uintptr_t)own, before };
			own += before;
			pos += before;
			if (k == OUTQ_IOV)
				break;
		}
		struct frame *f = q->ref[i].f;
		iov[k++] = (struct iovec){ f->bytes + skip, f->size - skip };
		skip = 0;
	}
	size_t rest = (size_t)(q->own_put - pos);
	if (k < OUTQ_IOV && rest > 0)
		iov[k++] = (struct iovec){ (void *)(uintptr_t)own, rest };
	ssize_t n;
	do
		n = writev(fd, iov, k);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		outq_consume(q, (size_t)n);
	return n;
}

void outq_free(struct outq *q)
{
	for (size_t i = q->ref0; i < q->ref0 + q->nref; i++)
		frame_unref(q->ref[i].f);
	free(q->ref);
	buf_free(&q->own);
	memset(q, 0, sizeof *q);
}
