/* The part of the event loop that differs between epoll and poll. Private to
 * loop.c and loop_*.c. */
#ifndef PORTAL_LOOP_BACKEND_H
#define PORTAL_LOOP_BACKEND_H

#include "loop.h"

struct backend;

struct backend *backend_new(void);
void backend_free(struct backend *b);
/* Changes fd's interest from old to new; new == 0 removes it, so that
 * hang-ups on an fd nobody waits for cannot make the loop spin. */
int backend_set(struct backend *b, int fd, unsigned old_mask, unsigned new_mask);
/* Waits up to timeout_ms (-1: forever) and stores at most max ready
 * descriptors in fds[] with their events in ev[]. Returns the count, or -1
 * with errno. */
int backend_wait(struct backend *b, int timeout_ms, int *fds, unsigned *ev,
		 int max);

#endif
