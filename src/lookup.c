/* pipe2: Linux and the BSDs; POSIX.1-2024. */
#define _GNU_SOURCE
#include "lookup.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

#define LOOKUP_MAX 64 /* lookups at once; past it, none is started */
#define LOOKUP_STACK (256 * 1024) /* getnameinfo may load NSS modules */

/* What the helper thread and the loop share. Freed by whichever of the
 * two lets go of it last (the loop may stop waiting first). */
struct job {
	atomic_int refs;
	atomic_bool found; /* name is complete: set before the pipe write */
	struct sockaddr_storage addr;
	int wfd; /* the thread's end of the pipe */
	char name[NI_MAXHOST];
};

struct lookup {
	struct loop *loop;
	struct loop_timer timer;
	int rfd;
	struct job *job;
	lookup_done_fn *done;
	void *arg;
};

static atomic_int running; /* helper threads alive */

static void job_release(struct job *j)
{
	if (atomic_fetch_sub(&j->refs, 1) == 1)
		free(j);
}

static socklen_t addr_len(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					: sizeof(struct sockaddr_in);
}

static void *resolve(void *arg)
{
	struct job *j = arg;
	/* NI_NAMEREQD: no name is no name, not the address as text. */
	if (getnameinfo((const struct sockaddr *)&j->addr, addr_len(&j->addr),
			j->name, sizeof j->name, NULL, 0, NI_NAMEREQD) == 0)
		atomic_store(&j->found, true);
	/* The loop may have stopped waiting and closed its end: EPIPE, with
	 * SIGPIPE ignored by the process. */
	if (write(j->wfd, "", 1) < 0) {
	}
	close(j->wfd);
	job_release(j);
	atomic_fetch_sub(&running, 1);
	return NULL;
}

/* The lookup's end, from the loop: the pipe said done, or the deadline. */
static void finish(struct lookup *lk, bool answered)
{
	char name[NI_MAXHOST];
	bool found = answered && atomic_load(&lk->job->found);
	if (found)
		memcpy(name, lk->job->name, sizeof name);
	lookup_done_fn *done = lk->done;
	void *arg = lk->arg;
	lookup_cancel(lk);
	done(arg, found ? name : NULL);
}

static void on_pipe(struct loop *l, int fd, unsigned ev, void *arg)
{
	(void)l;
	(void)ev;
	char b;
	ssize_t n = read(fd, &b, 1);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	finish(arg, true);
}

static void on_deadline(struct loop *l, struct loop_timer *t)
{
	(void)l;
	finish(LOOP_TIMER_OWNER(t, struct lookup, timer), false);
}

/* A detached helper thread for j, with every signal blocked: handlers
 * run on the loop's thread only. */
static bool spawn_thread(struct job *j)
{
	pthread_attr_t at;
	pthread_t t;
	sigset_t all, old;
	if (pthread_attr_init(&at) != 0)
		return false;
	pthread_attr_setstacksize(&at, LOOKUP_STACK);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	bool ok = pthread_create(&t, &at, resolve, j) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&at);
	return ok;
}

struct lookup *lookup_start(struct loop *l, const struct sockaddr_storage *addr,
			    unsigned ms, lookup_done_fn *done, void *arg)
{
	if (addr->ss_family != AF_INET && addr->ss_family != AF_INET6)
		return NULL;
	if (atomic_fetch_add(&running, 1) >= LOOKUP_MAX) {
		atomic_fetch_sub(&running, 1);
		return NULL;
	}
	struct lookup *lk = calloc(1, sizeof *lk);
	struct job *j = calloc(1, sizeof *j);
	int p[2] = { -1, -1 };
	if (!lk || !j || pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		goto fail;
	if (loop_add(l, p[0], LOOP_READ, on_pipe, lk) < 0)
		goto fail;
	atomic_init(&j->refs, 2);
	atomic_init(&j->found, false);
	/* An IPv4 client of an IPv6 listener (::ffff:127.0.0.1) is looked
	 * up as the IPv4 address it is, which /etc/hosts and PTR records
	 * name (::ffff:... they do not). */
	char text[NET_ADDR_TEXT];
	net_addr_host(addr, text, sizeof text);
	if (net_addr_parse(text, strlen(text), &j->addr) != 0)
		j->addr = *addr;
	j->wfd = p[1];
	if (!spawn_thread(j)) {
		loop_del(l, p[0]);
		goto fail;
	}
	lk->loop = l;
	lk->rfd = p[0];
	lk->job = j;
	lk->done = done;
	lk->arg = arg;
	loop_timer_start(l, &lk->timer, ms, on_deadline);
	return lk;

fail:
	for (int i = 0; i < 2; i++) {
		if (p[i] >= 0)
			close(p[i]);
	}
	free(j);
	free(lk);
	atomic_fetch_sub(&running, 1);
	return NULL;
}

void lookup_cancel(struct lookup *lk)
{
	loop_timer_stop(lk->loop, &lk->timer);
	loop_del(lk->loop, lk->rfd);
	close(lk->rfd);
	job_release(lk->job);
	free(lk);
}
