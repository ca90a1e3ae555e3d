/* The gateway: listeners, the set of client sessions, signals, shutdown. */
#ifndef PORTAL_SERVER_H
#define PORTAL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "devconsole.h"
#include "loop.h"
#include "metrics.h"
#include "net.h"
#include "opts.h"
#include "pidmap.h"

struct conn;
struct proc;
struct shared;
struct shared_run;

#define SERVER_MAX_STRAYS 256

/* --address, --unix, and as many sockets from a service manager. */
#define SERVER_MAX_LISTEN (OPTS_MAX_ADDRESSES + 2 * OPTS_MAX_LIST)

struct server {
	struct loop *loop;
	const struct options *opts;
	int lfd[SERVER_MAX_LISTEN];
	int lport[SERVER_MAX_LISTEN];   /* 0 for a Unix socket */
	const char *lpath[SERVER_MAX_LISTEN]; /* --unix: the file, else NULL */
	struct net_unix lunix[SERVER_MAX_LISTEN]; /* ... to remove at exit */
	size_t nlisten;
	bool accept_paused;
	struct loop_timer accept_timer;
	int sigfd;
	struct conn *clients; /* doubly linked, newest first */
	size_t nclients;
	struct conn *graveyard; /* ended this iteration, freed after it */
	uint64_t next_id;
	uint64_t started_s;   /* wall-clock start, for UNIQUE_ID */
	size_t nchildren;     /* children started and not yet reaped */
	struct pidmap children; /* their pids -> struct proc */
	struct proc *suspects; /* children likely to have exited, reaped by
				  pid at each SIGCHLD (proc.c's list) */
	struct loop_timer sweep_timer; /* the next waitpid(-1) sweep */
	uint64_t last_sweep;
	bool draining;
	struct loop_timer drain_timer;
	bool handing_over;    /* --reuseport SIGTERM: listener closed, the
				 handshakes in progress finish before the drain */
	struct loop_timer handover_timer;
	uint64_t handover_end;
	char *extra_ws;       /* header lines added to 101 responses */
	char *extra_http;     /* and to every other response */
	struct metrics metrics;
	struct conn_limits climits; /* every connection's (conn.h) */
	struct shared *shared; /* shared routes that have had a client */
	struct shared_run *runs; /* their programs, until reaped (shared.c) */
	struct devconsole_refusals refused; /* --devconsole: to explain */
	/* Process groups whose leader was reaped with members left (a
	 * background job that ignores SIGINT and SIGTERM): SIGKILL when due,
	 * in the order put (all due after the same delay). */
	struct { pid_t pgid; uint64_t due; } strays[SERVER_MAX_STRAYS];
	size_t nstrays;
	struct loop_timer stray_timer;
};

/* A session is over and its child, the leader of process group pgid, was
 * reaped: what is left of the group gets SIGTERM now and SIGKILL after ms
 * unless it is empty by then (and SIGKILL at once when too many groups
 * wait). Nothing when the group is empty. */
/* The registry of children: a started child (counted for --maxforks) and
 * its proc, found by pid when reaped. server_child_add returns 0, or -1
 * when out of memory (counted all the same, but reaped only by pid). */
int server_child_add(struct server *srv, pid_t pid, struct proc *p);
void server_child_del(struct server *srv, pid_t pid);

void server_end_group(struct server *srv, pid_t pgid, unsigned ms);

/* The registry of connections (clients, nclients): a new one is added by
 * the server; one that has ended (conn.c: its socket closed, its binding
 * done) is taken off and put on the graveyard, freed after the loop's
 * iteration. */
void server_conn_add(struct server *srv, struct conn *c);
void server_conn_done(struct server *srv, struct conn *c);

/* Runs the gateway until it has drained after SIGTERM/SIGINT. Returns the
 * process exit status. */
int server_run(const struct options *o);

#endif
