#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loop_backend.h"

/* Ready descriptors taken per wait; more simply wait for the next turn. */
#define LOOP_BATCH 256

/* Interest is taken away lazily: loop_set only records a smaller mask
 * (mask), and the backend keeps the old one (armed) until an event for a
 * bit no longer wanted arrives. A queue that drains and fills again
 * between two waits, as under backpressure, then costs no epoll_ctl at all;
 * an unwanted event costs one, as eager removal would have. */
struct handler {
	loop_io_fn *fn;
	void *arg;
	unsigned mask;  /* what the owner waits for */
	unsigned armed; /* what the backend reports; a superset of mask */
	int live;
};

struct loop {
	struct backend *backend;
	struct handler *fds; /* indexed by descriptor */
	size_t nfds;
	struct loop_timer **heap; /* min-heap on when */
	size_t nheap, capheap;
	uint64_t now;
};

static uint64_t clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->backend = backend_new();
	if (!l->backend) {
		free(l);
		return NULL;
	}
	l->now = clock_ms();
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	backend_free(l->backend);
	free(l->fds);
	free(l->heap);
	free(l);
}

static int grow_fds(struct loop *l, int fd)
{
	if ((size_t)fd < l->nfds)
		return 0;
	size_t n = l->nfds ? l->nfds : 64;
	while (n <= (size_t)fd)
		n *= 2;
	struct handler *h = realloc(l->fds, n * sizeof *h);
	if (!h)
		return -1;
	memset(h + l->nfds, 0, (n - l->nfds) * sizeof *h);
	l->fds = h;
	l->nfds = n;
	return 0;
}

int loop_add(struct loop *l, int fd, unsigned mask, loop_io_fn *fn, void *arg)
{
	if (fd < 0 || grow_fds(l, fd) < 0) {
		errno = fd < 0 ? EBADF : ENOMEM;
		return -1;
	}
	struct handler *h = &l->fds[fd];
	if (backend_set(l->backend, fd, h->live ? h->armed : 0, mask) < 0)
		return -1;
	h->fn = fn;
	h->arg = arg;
	h->mask = h->armed = mask;
	h->live = 1;
	return 0;
}

int loop_set(struct loop *l, int fd, unsigned mask)
{
	struct handler *h = &l->fds[fd];
	if (h->mask == mask)
		return 0;
	if ((mask & ~h->armed) == 0) {
		h->mask = mask; /* disarmed when an unwanted event comes */
		return 0;
	}
	if (backend_set(l->backend, fd, h->armed, mask) < 0)
		return -1;
	h->mask = h->armed = mask;
	return 0;
}

unsigned loop_mask(const struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].live)
		return 0;
	return l->fds[fd].mask;
}

void loop_del(struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].live)
		return;
	backend_set(l->backend, fd, l->fds[fd].armed, 0);
	memset(&l->fds[fd], 0, sizeof l->fds[fd]);
}

uint64_t loop_now(const struct loop *l)
{
	return l->now;
}

/* The heap stores slot = index + 1 in each timer, so 0 means unarmed. */
static void heap_place(struct loop *l, size_t i, struct loop_timer *t)
{
	l->heap[i] = t;
	t->slot = i + 1;
}

static void heap_up(struct loop *l, size_t i)
{
	struct loop_timer *t = l->heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (l->heap[parent]->when <= t->when)
			break;
		heap_place(l, i, l->heap[parent]);
		i = parent;
	}
	heap_place(l, i, t);
}

static void heap_down(struct loop *l, size_t i)
{
	struct loop_timer *t = l->heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && l->heap[c + 1]->when < l->heap[c]->when)
			c++;
		if (t->when <= l->heap[c]->when)
			break;
		heap_place(l, i, l->heap[c]);
		i = c;
	}
	heap_place(l, i, t);
}

void loop_timer_stop(struct loop *l, struct loop_timer *t)
{
	if (!t->slot)
		return;
	size_t i = t->slot - 1;
	t->slot = 0;
	struct loop_timer *last = l->heap[--l->nheap];
	if (i == l->nheap)
		return;
	heap_place(l, i, last);
	heap_up(l, i);
	heap_down(l, last->slot - 1);
}

void loop_timer_start(struct loop *l, struct loop_timer *t, uint64_t ms,
		      loop_timer_fn *fn)
{
	loop_timer_stop(l, t);
	if (l->nheap == l->capheap) {
		size_t n = l->capheap ? 2 * l->capheap : 64;
		struct loop_timer **h = realloc(l->heap, n * sizeof *h);
		if (!h)
			abort(); /* a few pointers; nothing sane is left */
		l->heap = h;
		l->capheap = n;
	}
	t->when = l->now + ms;
	t->fn = fn;
	heap_place(l, l->nheap++, t);
	heap_up(l, l->nheap - 1);
}

static void run_timers(struct loop *l)
{
	while (l->nheap > 0 && l->heap[0]->when <= l->now) {
		struct loop_timer *t = l->heap[0];
		loop_timer_stop(l, t);
		t->fn(l, t);
	}
}

int loop_run_once(struct loop *l, int max_ms)
{
	int timeout = max_ms;
	if (l->nheap > 0) {
		uint64_t when = l->heap[0]->when;
		uint64_t wait = when > l->now ? when - l->now : 0;
		if (timeout < 0 || wait < (uint64_t)timeout)
			timeout = (int)(wait > 60000 ? 60000 : wait);
	}

	int fds[LOOP_BATCH];
	unsigned ev[LOOP_BATCH];
	int n = backend_wait(l->backend, timeout, fds, ev, LOOP_BATCH);
	int saved = errno;
	l->now = clock_ms();
	if (n < 0) {
		if (saved != EINTR) {
			errno = saved;
			return -1;
		}
		n = 0;
	}
	for (int i = 0; i < n; i++) {
		int fd = fds[i];
		/* An earlier callback may have removed or changed this fd. */
		if ((size_t)fd >= l->nfds || !l->fds[fd].live)
			continue;
		struct handler *h = &l->fds[fd];
		if (ev[i] & h->armed & ~h->mask) {
			/* Now, or a level-triggered event nobody wants
			 * (a hang-up is reported whatever the interest)
			 * would come back at every wait. */
			if (backend_set(l->backend, fd, h->armed, h->mask) == 0)
				h->armed = h->mask;
		}
		unsigned ready = ev[i] & h->mask;
		if (ready)
			h->fn(l, fd, ready, h->arg);
	}
	run_timers(l);
	return 0;
}
