/* epoll(7) backend, level-triggered. */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop_backend.h"

struct backend {
	int epfd;
};

struct backend *backend_new(void)
{
	struct backend *b = malloc(sizeof *b);
	if (!b)
		return NULL;
	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (b->epfd < 0) {
		free(b);
		return NULL;
	}
	return b;
}

void backend_free(struct backend *b)
{
	if (!b)
		return;
	close(b->epfd);
	free(b);
}

int backend_set(struct backend *b, int fd, unsigned old_mask, unsigned new_mask)
{
	struct epoll_event e = { 0 };
	e.data.fd = fd;
	if (new_mask & LOOP_READ)
		e.events |= EPOLLIN;
	if (new_mask & LOOP_WRITE)
		e.events |= EPOLLOUT;
	if (new_mask & LOOP_HUP)
		e.events |= EPOLLRDHUP;
	if (!new_mask)
		return old_mask ? epoll_ctl(b->epfd, EPOLL_CTL_DEL, fd, NULL) : 0;
	return epoll_ctl(b->epfd, old_mask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &e);
}

int backend_wait(struct backend *b, int timeout_ms, int *fds, unsigned *ev,
		 int max)
{
	struct epoll_event es[256];
	if (max > 256)
		max = 256;
	int n = epoll_wait(b->epfd, es, max, timeout_ms);
	for (int i = 0; i < n; i++) {
		unsigned r = 0;
		if (es[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			r |= LOOP_READ;
		if (es[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			r |= LOOP_WRITE;
		if (es[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			r |= LOOP_HUP;
		fds[i] = es[i].data.fd;
		ev[i] = r;
	}
	return n;
}
