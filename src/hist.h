/* A broadcast route's history (--history N): the last N things it sent,
 * oldest first. It holds opaque items (the binding's refcounted frames) and
 * hands each one it drops to a release callback: pushing past capacity
 * releases the oldest. Pure: the slots are the caller's; no syscalls, no
 * allocation. */
#ifndef PORTAL_HIST_H
#define PORTAL_HIST_H

#include <stddef.h>

struct hist {
	void **slot;                 /* cap slots, the caller's */
	size_t cap, head, n;         /* head: the oldest item's slot */
	void (*release)(void *item); /* called on each item dropped */
};

/* An empty history of at most cap items in slot[0..cap). cap may be 0:
 * then every push releases its item at once. */
void hist_init(struct hist *h, void **slot, size_t cap,
	       void (*release)(void *item));

/* Appends item, taking the caller's reference; releases the oldest item
 * first when the history is full. */
void hist_push(struct hist *h, void *item);

/* The number of items held. */
size_t hist_len(const struct hist *h);

/* The i-th item, 0 the oldest (i < hist_len); the history keeps it. */
void *hist_get(const struct hist *h, size_t i);

/* Releases every item, oldest first; the history is empty afterwards. */
void hist_clear(struct hist *h);

#endif
