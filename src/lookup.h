/* Reverse DNS lookups (--reverselookup) off the event loop: getnameinfo
 * runs in a helper thread of its own; the loop learns the outcome through
 * a pipe, and stops waiting at a deadline. Protocol-blind. */
#ifndef PORTAL_LOOKUP_H
#define PORTAL_LOOKUP_H

#include <sys/socket.h>

#include "loop.h"

struct lookup;

/* name: the address's name, or NULL when it has none, the lookup failed,
 * or it was not done within the deadline. */
typedef void lookup_done_fn(void *arg, const char *name);

/* Starts looking up the name of addr; done(arg, name) runs once, from the
 * loop, when the name is known or after ms milliseconds. Returns NULL
 * when no lookup can be started (64 already running, no thread, no
 * descriptor or memory): the caller goes on without a name. */
struct lookup *lookup_start(struct loop *l, const struct sockaddr_storage *addr,
			    unsigned ms, lookup_done_fn *done, void *arg);

/* Gives up a lookup whose done has not run yet: it never runs. */
void lookup_cancel(struct lookup *lk);

#endif
