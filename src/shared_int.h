/* Private to the shared-route binding's files: shared.c (the registry,
 * the members, the program's lifecycle, the clients' side), shared_out.c
 * (the program's output to the members: framing once, pacing; stderr) and
 * shared_hub.c (the hub protocol's lines both ways). */
#ifndef PORTAL_SHARED_INT_H
#define PORTAL_SHARED_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "errlines.h"
#include "hist.h"
#include "loop.h"
#include "opts.h"
#include "route.h"
#include "server.h"

struct conn;
struct frame;
struct proc;

#define LINE_MAX_BYTES 1048576 /* a longer line goes out in pieces ... */
#define LINE_MIN_PIECE 4096    /* ... as does one over half of --maxqueue */
#define TAG_MAX 300
#define SHARED_OUT_HIGH 65536  /* a member's queue's high-water mark */


struct member {
	struct conn *c;
	char *join; /* hub: its "+ID" and "=ID" lines, until it opens */
};

struct members {
	struct member *m;
	size_t n, cap;
};

struct shared_run {
	struct shared *sh;      /* NULL once retired */
	struct server *srv;
	struct shared_run *prev, *next; /* srv->runs */
	struct proc *proc;
	char tag[TAG_MAX];      /* "broadcast /chat" */
	bool running;           /* the exec has worked */
	bool out_done, reaped, done;
	bool paused;            /* stdout not read: every member is full */
	int status;
	uint64_t started;
	struct buf line;
	struct errlines err;
	struct loop_timer free_timer;
};

struct shared {
	struct shared *next;    /* srv->shared */
	struct server *srv;
	enum route_kind kind;
	const char *path;       /* the resource's, as on the command line */
	size_t path_len;
	const char *program;
	char *const *argv;
	char tag[TAG_MAX];
	struct shared_run *run; /* the program now, or NULL */
	struct members mem;     /* its clients, in the order they joined */
	struct members wait;    /* clients waiting for its exec */
	size_t rr;              /* the next member's turn on stdin */
	struct loop_timer linger;
	struct loop_timer pump_timer;
	bool pumping;
	unsigned quick;         /* quick exits in a row */
	uint64_t backoff_ms, backoff_until;
	struct hist hist;       /* broadcast --history: frames */
	void **hslot;
	uint64_t starts, slow;
};

static inline const struct options *shared_opts(const struct shared *sh)
{
	return sh->srv->opts;
}

static inline bool shared_framed(const struct shared *sh)
{
	return shared_opts(sh)->mode == MODE_FRAMED;
}

/* shared.c */

/* The member with session id id, or NULL. */
struct conn *shared_member(const struct shared *sh, uint64_t id);
/* Writes a[0..an) then b[0..bn) (bn may be 0) to the program's stdin as
 * one whole piece: never mixed with another client's. Out of memory: the
 * program's stdin is closed and every member fails (1011). */
void shared_to_program(struct shared *sh, const void *a, size_t an,
		       const void *b, size_t bn);
/* An internal failure that loses what every member should get: each one
 * ends with 1011 and why (conn_fail), none is left waiting for it. */
void shared_fail_members(struct shared *sh, const char *why);

/* shared_out.c: the program's output */

/* The frame one printed line sends (a text message, invalid UTF-8 as
 * U+FFFD; with --framed the message its "T "/"B " form stands for), or
 * NULL: no message, or out of memory (*oom set; the caller fails whom
 * the line was for). */
struct frame *shared_line_frame(struct shared *sh, const char *line, size_t n,
				bool *oom);
/* c's queue is below the mark under which it takes another line. */
bool shared_below_mark(const struct shared *sh, const struct conn *c);
/* Some open member is below its mark, or there is no open member. */
bool shared_any_room(const struct shared *sh);
/* f to c / to every member; a client cut as too slow is counted.
 * shared_send_all returns shared_any_room afterwards. */
void shared_send_one(struct shared *sh, struct conn *c, struct frame *f);
bool shared_send_all(struct shared *sh, struct frame *f);
/* Sends the complete lines of b while a member has room (all of them at
 * eof, the rest as a last line); returns whether there was room. */
bool shared_emit_lines(struct shared *sh, struct buf *b, bool eof);
void shared_flush_members(struct shared *sh);
/* Stops (true) or resumes reading the program's stdout. */
void shared_set_paused(struct shared_run *run, bool paused);
/* Sends what the program printed while a member has room, and reads on
 * only then (never nested); _soon: once the calls on the stack return. */
void shared_pump(struct shared *sh);
void shared_pump_soon(struct shared *sh);
/* The run's struct proc_ops out and err. */
void shared_run_out(void *owner, const uint8_t *p, size_t n);
void shared_run_err(void *owner, const uint8_t *p, size_t n);

/* shared_hub.c: the hub protocol */

/* One line the hub program printed: a message to one client or all, a
 * client's close, or a protocol error (logged, skipped). */
void shared_hub_out(struct shared *sh, const char *line, size_t n);
/* Message p[0..n) of c (in its --framed form with --framed) as "ID TEXT"
 * lines on the program's stdin; false when out of memory for them. */
bool shared_hub_message(struct shared *sh, const struct conn *c,
			const uint8_t *p, size_t n);
/* "-ID CODE": c has left. */
void shared_hub_leave(struct shared *sh, const struct conn *c,
		      unsigned code);

#endif
