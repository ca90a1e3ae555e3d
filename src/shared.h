/* The binding of a shared route (--broadcast, --hub; man portal-gw, SHARED
 * ROUTES): one program for every client of the route, started by the first
 * one, with its members, linger, exit, crash back-off and history. It is,
 * with bind_one.c, a binding: a module that knows both sides: it drives
 * its clients through conn.h (hearing from them through struct conn_ops)
 * and its program through proc.h. The server keeps the registry (struct
 * server's shared list) and calls the shared_ functions below. */
#ifndef PORTAL_SHARED_H
#define PORTAL_SHARED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;
struct http_request;
struct route;
struct server;

/* Why a client is refused before its 101: status, reason, extra header
 * lines ("Retry-After: N\r\n"). */
struct shared_refusal {
	int status;
	const char *why;
	const char *more;
	char why_buf[48];
	char more_buf[40];
};

/* Whether a client of r (a shared route) may join now: 0, or 1 with *no
 * filled (--maxclients; the crash back-off). Counts the refusal. */
int shared_admit(struct server *srv, const struct route *r,
		 struct shared_refusal *no);

/* A hub's "+ID ADDR URI" line for client id at addr (as REMOTE_ADDR),
 * with an "=ID Name value" line for each --hub-header req has: malloc'd,
 * NULL when out of memory. */
char *shared_hub_lines(const struct server *srv, uint64_t id,
		       const char *addr, const struct http_request *req);

/* A client joining. */
struct shared_joiner {
	const struct route *route;
	char *const *envp;  /* the route's environment, if a start is due */
	char *join;         /* hub: shared_hub_lines' (taken over), or NULL */
};

/* c, admitted and with its 101 queued (not yet sent), joins the route's
 * program: at once if it runs (conn_open), once its exec is known if it
 * is starting (the first client starts it; others arriving meanwhile wait
 * for the same exec), or c is refused (conn_refuse_start). */
void shared_join(struct server *srv, struct conn *c,
		 const struct shared_joiner *j);

/* SIGTERM: no program lingers; each ends once its clients have left. */
void shared_drain(struct server *srv);
/* SIGKILL to every shared program (--drain-timeout, a second signal). */
void shared_abort(struct server *srv);
/* True while a shared program (or one being ended) is left. */
bool shared_busy(const struct server *srv);
/* At exit: frees the registry and what is left of the programs. */
void shared_free_all(struct server *srv);

/* Appends the shared routes' metrics (man portal-gw, METRICS) to
 * out[0..cap); returns the length written, 0 if it does not fit. */
size_t shared_metrics(const struct server *srv, char *out, size_t cap);

#endif
