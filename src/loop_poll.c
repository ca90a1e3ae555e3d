/* poll(2) backend: a dense pollfd array plus an fd -> index map. */
#define _GNU_SOURCE /* POLLRDHUP */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "loop_backend.h"

struct backend {
	struct pollfd *pfd;
	size_t n, cap;
	int *index; /* fd -> position in pfd + 1, 0 if absent */
	size_t nindex;
};

struct backend *backend_new(void)
{
	return calloc(1, sizeof(struct backend));
}

void backend_free(struct backend *b)
{
	if (!b)
		return;
	free(b->pfd);
	free(b->index);
	free(b);
}

static short poll_events(unsigned mask)
{
	short e = 0;
	if (mask & LOOP_READ)
		e |= POLLIN;
	if (mask & LOOP_WRITE)
		e |= POLLOUT;
#ifdef POLLRDHUP
	if (mask & LOOP_HUP)
		e |= POLLRDHUP;
#endif
	return e;
}

int backend_set(struct backend *b, int fd, unsigned old_mask, unsigned new_mask)
{
	(void)old_mask;
	if ((size_t)fd >= b->nindex) {
		size_t n = b->nindex ? b->nindex : 64;
		while (n <= (size_t)fd)
			n *= 2;
		int *ix = realloc(b->index, n * sizeof *ix);
		if (!ix)
			return -1;
		memset(ix + b->nindex, 0, (n - b->nindex) * sizeof *ix);
		b->index = ix;
		b->nindex = n;
	}
	int at = b->index[fd];
	if (!new_mask) {
		if (at) {
			size_t i = (size_t)at - 1;
			b->pfd[i] = b->pfd[--b->n];
			if (i < b->n)
				b->index[b->pfd[i].fd] = (int)i + 1;
			b->index[fd] = 0;
		}
		return 0;
	}
	if (!at) {
		if (b->n == b->cap) {
			size_t n = b->cap ? 2 * b->cap : 64;
			struct pollfd *p = realloc(b->pfd, n * sizeof *p);
			if (!p)
				return -1;
			b->pfd = p;
			b->cap = n;
		}
		b->pfd[b->n].fd = fd;
		b->pfd[b->n].revents = 0;
		at = (int)++b->n;
		b->index[fd] = at;
	}
	b->pfd[at - 1].events = poll_events(new_mask);
	return 0;
}

int backend_wait(struct backend *b, int timeout_ms, int *fds, unsigned *ev,
		 int max)
{
	int n = poll(b->pfd, (nfds_t)b->n, timeout_ms);
	if (n <= 0)
		return n;
	int k = 0;
	for (size_t i = 0; i < b->n && k < max; i++) {
		short r = b->pfd[i].revents;
		if (!r)
			continue;
		unsigned e = 0;
		if (r & (POLLIN | POLLHUP | POLLERR | POLLNVAL))
			e |= LOOP_READ;
		if (r & (POLLOUT | POLLHUP | POLLERR | POLLNVAL))
			e |= LOOP_WRITE;
		if (r & (POLLHUP | POLLERR | POLLNVAL))
			e |= LOOP_HUP;
#ifdef POLLRDHUP
		if (r & POLLRDHUP)
			e |= LOOP_HUP;
#endif
		fds[k] = b->pfd[i].fd;
		ev[k++] = e;
	}
	return k;
}
