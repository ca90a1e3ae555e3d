#include "server.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "buf.h"
#include "child.h"
#include "conn.h"
#include "proc.h"
#include "log.h"
#include "logsink.h"
#include "net.h"
#include "shared.h"
#include "sig.h"

#define ACCEPT_BATCH 64       /* connections taken per wake-up */
#define ACCEPT_PAUSE_MS 100   /* after EMFILE/ENFILE, instead of spinning */
#define REAP_SWEEP_MS 100     /* between two waitpid(-1) sweeps */
#define HANDOVER_TICK_MS 10   /* --reuseport SIGTERM: how often, and ... */
#define HANDOVER_MAX_MS 1000  /* ... how long, handshakes may finish */
#define HANDOVER_ACCEPT_ROUNDS 64 /* of ACCEPT_BATCH: a SOMAXCONN queue */

static void set_accepting(struct server *srv, bool on)
{
	for (size_t i = 0; i < srv->nlisten; i++) {
		if (srv->lfd[i] >= 0)
			loop_set(srv->loop, srv->lfd[i], on ? LOOP_READ : 0);
	}
}

/* New connections are taken while serving, and while draining too when
 * --health is on: a probe must be able to see the 503 that takes this
 * instance out of its load balancer; upgrades then get 503 as well. Not
 * with --reuseport: the listener is closed at once so that the kernel
 * sends new connections to the other processes on the port instead. */
static bool accepting(const struct server *srv)
{
	return !srv->draining ||
	       (srv->opts->health_path && !srv->opts->reuseport);
}

static void on_accept_timer(struct loop *l, struct loop_timer *t)
{
	(void)l;
	struct server *srv = LOOP_TIMER_OWNER(t, struct server, accept_timer);
	srv->accept_paused = false;
	if (accepting(srv))
		set_accepting(srv, true);
}

static void on_listen(struct loop *l, int fd, unsigned ev, void *arg)
{
	(void)ev;
	struct server *srv = arg;
	size_t i = 0;
	while (i < srv->nlisten && srv->lfd[i] != fd)
		i++;
	for (int k = 0; k < ACCEPT_BATCH && accepting(srv); k++) {
		struct sockaddr_storage peer;
		int cfd = net_accept(fd, &peer);
		if (cfd >= 0) {
			unsigned max = srv->opts->maxconns;
			bool over = max && srv->nclients >= max;
			struct conn *c = conn_start(srv, cfd, &peer,
							srv->lport[i]);
			if (c)
				server_conn_add(srv, c);
			if (c && over) {
				/* Answered and closed, never dropped. */
				metrics_refused(&srv->metrics,
						METRICS_REFUSED_CONNS);
				conn_refuse(c, 503, "too many connections",
					      "Retry-After: 1\r\n");
			}
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			log_msg(LV_ERROR, "accept: %s; pausing for %d ms",
				strerror(errno), ACCEPT_PAUSE_MS);
			srv->accept_paused = true;
			set_accepting(srv, false);
			loop_timer_start(l, &srv->accept_timer, ACCEPT_PAUSE_MS,
					 on_accept_timer);
		}
		break;
	}
}

/* Every child, orphans included. waitpid(-1) walks all of the children in
 * the kernel, so with thousands of sessions it is run at most every
 * REAP_SWEEP_MS; sessions' children are mostly reaped by pid (reap). */
static void sweep(struct server *srv)
{
	int status;
	pid_t pid;
	srv->last_sweep = loop_now(srv->loop);
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct proc *p = pidmap_get(&srv->children, pid);
		if (p)
			proc_reaped(p, status);
		else
			log_msg(LV_DEBUG, "reaped orphan %ld", (long)pid);
	}
}

static void on_sweep_timer(struct loop *l, struct loop_timer *t)
{
	(void)l;
	sweep(LOOP_TIMER_OWNER(t, struct server, sweep_timer));
}

/* A SIGCHLD: the children that are likely to have exited are reaped by pid
 * now, and a sweep for any other follows within REAP_SWEEP_MS. */
static void reap(struct server *srv)
{
	proc_reap_suspects(srv);
	if (srv->sweep_timer.slot)
		return;
	uint64_t since = loop_now(srv->loop) - srv->last_sweep;
	loop_timer_start(srv->loop, &srv->sweep_timer,
			 since >= REAP_SWEEP_MS ? 0 : REAP_SWEEP_MS - since,
			 on_sweep_timer);
}

/* Closes the listeners and removes the --unix socket files this process
 * made (not those of a service manager, which owns them) at once, so that
 * a successor can bind the path while this one drains. */
static void stop_listening(struct server *srv)
{
	for (size_t i = 0; i < srv->nlisten; i++) {
		if (srv->lfd[i] < 0)
			continue;
		loop_del(srv->loop, srv->lfd[i]);
		close(srv->lfd[i]);
		srv->lfd[i] = -1;
		if (srv->lpath[i])
			net_unlink_unix(srv->lpath[i], &srv->lunix[i]);
		srv->lpath[i] = NULL;
	}
	loop_timer_stop(srv->loop, &srv->accept_timer);
}

/* SIGKILL to every child's group; sockets closed without a word. */
static void abort_all(struct server *srv)
{
	struct conn *c, *next;
	for (c = srv->clients; c; c = next) {
		next = conn_next(c);
		conn_abort(c);
	}
	shared_abort(srv);
	/* Each session ends as soon as its child is reaped, which SIGKILL
	 * makes a matter of milliseconds; then the loop ends. */
}

static void on_drain_timer(struct loop *l, struct loop_timer *t)
{
	(void)l;
	struct server *srv = LOOP_TIMER_OWNER(t, struct server, drain_timer);
	log_msg(LV_INFO, "--drain-timeout: ending %zu session(s) now",
		srv->nclients);
	abort_all(srv);
}

/* Close 1001 to every session, the end to every child: the loop ends when
 * the last session has. */
static void drain(struct server *srv)
{
	struct conn *c, *next;
	srv->draining = true;
	if (!accepting(srv))
		stop_listening(srv);
	for (c = srv->clients; c; c = next) {
		next = conn_next(c);
		conn_go_away(c);
	}
	shared_drain(srv);
}

static bool any_upgrading(const struct server *srv)
{
	for (const struct conn *c = srv->clients; c; c = conn_next(c)) {
		if (conn_upgrading(c))
			return true;
	}
	return false;
}

/* The drain waits, HANDOVER_MAX_MS at most, for the connections this
 * instance accepted before the signal to get their answer (a 101: then
 * they get 1001 like every session), since with the listener closed a
 * client that comes again goes to another instance: none is refused. */
static void on_handover_timer(struct loop *l, struct loop_timer *t)
{
	struct server *srv = LOOP_TIMER_OWNER(t, struct server, handover_timer);
	if (any_upgrading(srv) && loop_now(l) < srv->handover_end) {
		loop_timer_start(l, t, HANDOVER_TICK_MS, on_handover_timer);
		return;
	}
	srv->handing_over = false;
	drain(srv);
}

static void on_signal(struct loop *l, int fd, unsigned ev, void *arg)
{
	(void)ev;
	struct server *srv = arg;
	unsigned long set = sig_take(fd);
	if (set & (1ul << SIGCHLD))
		reap(srv);
	if (!(set & ((1ul << SIGTERM) | (1ul << SIGINT) | (1ul << SIGHUP))))
		return;
	if (srv->draining || srv->handing_over) {
		log_msg(LV_INFO, "second signal: ending every session now");
		loop_timer_stop(l, &srv->handover_timer);
		srv->handing_over = false;
		srv->draining = true;
		abort_all(srv);
		return;
	}
	log_msg(LV_INFO, "shutting down: %zu session(s) to close",
		srv->nclients);
	if (srv->opts->drain_ms)
		loop_timer_start(l, &srv->drain_timer, srv->opts->drain_ms,
				 on_drain_timer);
	if (!srv->opts->reuseport) {
		drain(srv);
		return;
	}
	/* What the kernel has queued on the listeners is taken first: the
	 * close would reset it. Only what it queues between this accept and
	 * the close is lost (README.md, "Running many"). */
	for (size_t i = 0; i < srv->nlisten; i++) {
		struct pollfd p = {.fd = srv->lfd[i], .events = POLLIN};
		for (int k = 0; k < HANDOVER_ACCEPT_ROUNDS && p.fd >= 0 &&
				!srv->accept_paused && poll(&p, 1, 0) == 1; k++)
			on_listen(l, p.fd, LOOP_READ, srv);
	}
	stop_listening(srv);
	srv->handing_over = true;
	srv->handover_end = loop_now(l) + HANDOVER_MAX_MS;
	on_handover_timer(l, &srv->handover_timer);
}

void server_conn_add(struct server *srv, struct conn *c)
{
	struct conn_link *k = conn_link(c);
	k->prev = NULL;
	k->next = srv->clients;
	if (k->next)
		conn_link(k->next)->prev = c;
	srv->clients = c;
	srv->nclients++;
}

void server_conn_done(struct server *srv, struct conn *c)
{
	struct conn_link *k = conn_link(c);
	if (k->prev)
		conn_link(k->prev)->next = k->next;
	else
		srv->clients = k->next;
	if (k->next)
		conn_link(k->next)->prev = k->prev;
	srv->nclients--;
	k->prev = NULL;
	k->next = srv->graveyard;
	srv->graveyard = c;
}

static void bury(struct server *srv)
{
	while (srv->graveyard) {
		struct conn *c = srv->graveyard;
		srv->graveyard = conn_next(c);
		conn_free(c);
	}
}

/* "Name: value\r\n" for each header of a and b; NULL if there are none. */
static char *join_headers(const struct opts_list *a, const struct opts_list *b)
{
	size_t len = 1;
	const struct opts_list *lists[2] = { a, b };
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < lists[k]->n; i++)
			len += strlen(lists[k]->item[i]) + 2;
	}
	if (len == 1)
		return NULL;
	char *s = malloc(len), *p = s;
	if (!s)
		return NULL;
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < lists[k]->n; i++)
			p += sprintf(p, "%s\r\n", lists[k]->item[i]);
	}
	return s;
}

/* Takes fd as listener number srv->nlisten and logs it as "listening on
 * WHAT" (tests and scripts read the TCP port from that line). */
static int add_listener(struct server *srv, int fd, const char *what)
{
	srv->lfd[srv->nlisten++] = fd;
	if (loop_add(srv->loop, fd, LOOP_READ, on_listen, srv) < 0) {
		log_msg(LV_FATAL, "cannot watch the listener: %s",
			strerror(errno));
		return -1;
	}
	log_msg(LV_INFO, "listening on %s", what);
	return 0;
}

/* Why a TCP port is taken: SO_REUSEPORT binds only beside sockets that
 * have it too, of the same user. */
static const char *in_use_hint(const struct options *o)
{
	return o->reuseport ? " (by a process without --reuseport, or of "
			      "another user)"
			    : " (another process listens on it; --reuseport "
			      "shares a port between portal-gw processes that "
			      "all have it)";
}

/* Sockets from a service manager first (LISTEN_FDS), then --unix, then TCP:
 * on --port/--address, or by default when there is neither of the others.
 * Any failure is fatal: nothing starts half-configured. */
static int open_listeners(struct server *srv)
{
	const struct options *o = srv->opts;
	char err[160], text[sizeof(struct sockaddr_un) + 64];
	struct sockaddr_storage a;

	int nfds = net_listen_fds(err, sizeof err);
	if (nfds < 0) {
		log_msg(LV_FATAL, "socket activation: %s", err);
		return -1;
	}
	if ((size_t)nfds > OPTS_MAX_LIST) {
		log_msg(LV_FATAL, "socket activation: %d sockets; at most %d",
			nfds, OPTS_MAX_LIST);
		return -1;
	}
	for (int i = 0; i < nfds; i++) {
		int fd = NET_LISTEN_FDS_START + i;
		socklen_t alen = sizeof a;
		memset(&a, 0, sizeof a);
		getsockname(fd, (struct sockaddr *)&a, &alen);
		srv->lport[srv->nlisten] = net_addr_port(&a);
		if (a.ss_family == AF_UNIX) {
			const struct sockaddr_un *su = (const struct sockaddr_un *)&a;
			snprintf(text, sizeof text, "unix:%.*s (fd %d from "
				 "LISTEN_FDS)", (int)sizeof su->sun_path,
				 su->sun_path[0] ? su->sun_path : "(unnamed)", fd);
		} else {
			char addr[NET_ADDR_TEXT];
			net_addr_text(&a, addr, sizeof addr);
			snprintf(text, sizeof text, "%s (fd %d from LISTEN_FDS)",
				 addr, fd);
		}
		if (add_listener(srv, fd, text) < 0)
			return -1;
	}

	for (size_t i = 0; i < o->unix_paths.n; i++) {
		const char *path = o->unix_paths.item[i];
		size_t k = srv->nlisten;
		int fd = net_listen_unix(path, &srv->lunix[k], err, sizeof err);
		if (fd < 0) {
			log_msg(LV_FATAL, "cannot listen on unix:%s: %s", path, err);
			return -1;
		}
		if (srv->lunix[k].stale_removed)
			log_msg(LV_INFO, "removed the stale socket %s (nobody "
				"listened on it)", path);
		srv->lpath[k] = path;
		srv->lport[k] = 0;
		snprintf(text, sizeof text, "unix:%s", path);
		if (add_listener(srv, fd, text) < 0)
			return -1;
	}

	bool tcp = o->port_given || o->naddresses ||
		   (nfds == 0 && o->unix_paths.n == 0);
	size_t n = !tcp ? 0 : o->naddresses ? o->naddresses : 1;
	for (size_t i = 0; i < n; i++) {
		const char *host = o->naddresses ? o->addresses[i] : NULL;
		int fd = net_listen(host, o->port, o->reuseport, &a, err,
				    sizeof err);
		if (fd < 0) {
			log_msg(LV_FATAL, "cannot listen on %s port %d: %s%s",
				host ? host : "every interface", o->port, err,
				errno != EADDRINUSE ? "" : in_use_hint(o));
			return -1;
		}
		srv->lport[srv->nlisten] = net_addr_port(&a);
		net_addr_text(&a, text, sizeof text);
		if (add_listener(srv, fd, text) < 0)
			return -1;
	}
	return 0;
}

/* How long the last log lines may take at exit: what is left of
 * --drain-timeout since the signal, so that a stalled log never holds the
 * exit past it. */
static int flush_ms(const struct server *srv)
{
	if (!srv->draining || !srv->opts->drain_ms)
		return LOGSINK_FLUSH_MS;
	uint64_t now = loop_now(srv->loop), end = srv->drain_timer.when;
	return end > now ? (int)(end - now) : 0;
}

static void on_stray_timer(struct loop *l, struct loop_timer *t)
{
	struct server *srv = LOOP_TIMER_OWNER(t, struct server, stray_timer);
	uint64_t now = loop_now(l);
	size_t done = 0;
	while (done < srv->nstrays && srv->strays[done].due <= now) {
		pid_t g = srv->strays[done++].pgid;
		if (child_kill_group(g, SIGKILL) == 0)
			log_msg(LV_INFO, "process group %ld outlived its session "
				"and SIGTERM; SIGKILL", (long)g);
	}
	srv->nstrays -= done;
	memmove(srv->strays, srv->strays + done,
		srv->nstrays * sizeof srv->strays[0]);
	if (srv->nstrays)
		loop_timer_start(l, t, srv->strays[0].due - now, on_stray_timer);
}

int server_child_add(struct server *srv, pid_t pid, struct proc *p)
{
	srv->nchildren++;
	return pidmap_put(&srv->children, pid, p);
}

void server_child_del(struct server *srv, pid_t pid)
{
	srv->nchildren--;
	pidmap_del(&srv->children, pid);
}

void server_end_group(struct server *srv, pid_t pgid, unsigned ms)
{
	if (child_kill_group(pgid, SIGTERM) < 0)
		return; /* nothing left of it */
	if (srv->nstrays == SERVER_MAX_STRAYS) {
		child_kill_group(pgid, SIGKILL);
		return;
	}
	uint64_t due = loop_now(srv->loop) + ms;
	srv->strays[srv->nstrays].pgid = pgid;
	srv->strays[srv->nstrays].due = due;
	if (srv->nstrays++ == 0)
		loop_timer_start(srv->loop, &srv->stray_timer, ms, on_stray_timer);
}

int server_run(const struct options *o)
{
	struct server srv;
	memset(&srv, 0, sizeof srv);
	srv.opts = o;
	conn_limits_init(&srv.climits, o);
	srv.loop = loop_new();
	if (!srv.loop) {
		log_msg(LV_FATAL, "cannot create the event loop: %s",
			strerror(errno));
		return 1;
	}
	srv.started_s = (uint64_t)time(NULL);
	srv.extra_ws = join_headers(&o->headers, &o->headers_ws);
	srv.extra_http = join_headers(&o->headers, &o->headers_http);
	int rc = 1;
	srv.sigfd = sig_init();
	if (srv.sigfd < 0 ||
	    loop_add(srv.loop, srv.sigfd, LOOP_READ, on_signal, &srv) < 0) {
		log_msg(LV_FATAL, "cannot set up signals: %s", strerror(errno));
		goto out;
	}
#ifdef PR_SET_CHILD_SUBREAPER
	/* Orphans of our children come back to us to be reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
#endif

	if (open_listeners(&srv) < 0)
		goto out;
	for (size_t i = 0; i < o->nresources; i++) {
		log_msg(LV_INFO, "serving %s with %s", o->resources[i].path,
			o->resources[i].program);
	}

	logsink_start(srv.loop);
	bool idle = true; /* nothing served since the memory was last given back */
	while (!(srv.draining && srv.nclients == 0 && !shared_busy(&srv))) {
		if (loop_run_once(srv.loop, -1) < 0) {
			log_msg(LV_FATAL, "event loop: %s", strerror(errno));
			goto out;
		}
		bury(&srv);
		if (srv.nclients == 0 && !idle) {
			buf_release_pool();
			idle = true;
		} else if (srv.nclients > 0) {
			idle = false;
		}
	}
	log_msg(LV_INFO, "stopped");
	rc = 0;
out:
	/* After a fatal error sessions may be left, and nobody would end
	 * their children's groups once we exit. */
	abort_all(&srv);
	bury(&srv);
	shared_free_all(&srv);
	for (size_t i = 0; i < srv.nstrays; i++)
		child_kill_group(srv.strays[i].pgid, SIGKILL);
	stop_listening(&srv);
	logsink_stop(flush_ms(&srv));
	loop_free(srv.loop);
	pidmap_free(&srv.children);
	free(srv.extra_ws);
	free(srv.extra_http);
	return rc;
}
