/* A small readiness-driven event loop: descriptors and timers, nothing about
 * protocols. One thread. Backends: epoll (loop_epoll.c) or poll (loop_poll.c),
 * chosen at build time. */
#ifndef PORTAL_LOOP_H
#define PORTAL_LOOP_H

#include <stddef.h>
#include <stdint.h>

#define LOOP_READ 1u
#define LOOP_WRITE 2u
#define LOOP_HUP 4u /* the peer shut down or reset (sockets; not reading) */

struct loop;

/* Called with the subset of LOOP_READ|LOOP_WRITE that is ready; errors and
 * hang-ups are reported as readiness for whatever the fd was waiting for,
 * so that the next read or write returns them. */
typedef void loop_io_fn(struct loop *l, int fd, unsigned events, void *arg);

struct loop_timer;
typedef void loop_timer_fn(struct loop *l, struct loop_timer *t);

/* A timer is embedded in its owner's struct; zero-initialise it. */
struct loop_timer {
	uint64_t when; /* ms on loop_now's clock */
	size_t slot;   /* position in the heap + 1; 0 when not armed */
	loop_timer_fn *fn;
};

/* The struct of type that embeds timer t as its member field. */
#define LOOP_TIMER_OWNER(t, type, field) \
	((type *)(void *)((char *)(t) - offsetof(type, field)))

struct loop *loop_new(void);
void loop_free(struct loop *l);

/* Registers fd with interest mask (may be 0). Returns 0, or -1 with errno. */
int loop_add(struct loop *l, int fd, unsigned mask, loop_io_fn *fn, void *arg);
/* Changes the interest of a registered fd. Returns 0, or -1 with errno. */
int loop_set(struct loop *l, int fd, unsigned mask);
/* Current interest of fd (0 if it is not registered). */
unsigned loop_mask(const struct loop *l, int fd);
/* Forgets fd; call before closing it. No callback for it runs afterwards. */
void loop_del(struct loop *l, int fd);

/* Milliseconds of a monotonic clock, read once per iteration. */
uint64_t loop_now(const struct loop *l);

/* Arms (or re-arms) t to call fn after ms milliseconds. */
void loop_timer_start(struct loop *l, struct loop_timer *t, uint64_t ms,
		      loop_timer_fn *fn);
/* Disarms t; harmless if it is not armed. */
void loop_timer_stop(struct loop *l, struct loop_timer *t);

/* Waits for readiness or the next timer, at most max_ms (-1: no limit),
 * and runs the callbacks. Returns 0, or -1 with errno on a backend failure
 * (EINTR is not a failure). */
int loop_run_once(struct loop *l, int max_ms);

#endif
