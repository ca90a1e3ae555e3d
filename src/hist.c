#include "hist.h"

void hist_init(struct hist *h, void **slot, size_t cap,
	       void (*release)(void *item))
{
	h->slot = slot;
	h->cap = cap;
	h->head = 0;
	h->n = 0;
	h->release = release;
}

void hist_push(struct hist *h, void *item)
{
	if (h->cap == 0) {
		h->release(item);
		return;
	}
	if (h->n == h->cap) {
		h->release(h->slot[h->head]);
		h->slot[h->head] = item;
		h->head = (h->head + 1) % h->cap;
		return;
	}
	h->slot[(h->head + h->n) % h->cap] = item;
	h->n++;
}

size_t hist_len(const struct hist *h)
{
	return h->n;
}

void *hist_get(const struct hist *h, size_t i)
{
	return h->slot[(h->head + i) % h->cap];
}

void hist_clear(struct hist *h)
{
	while (h->n) {
		void *item = h->slot[h->head];
		h->head = (h->head + 1) % h->cap;
		h->n--;
		h->release(item);
	}
	h->head = 0;
}
