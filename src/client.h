/* One client session: its socket, its child, and the bridge between them.
 * The only module that knows both. */
#ifndef PORTAL_CLIENT_H
#define PORTAL_CLIENT_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "opts.h"

struct server;
struct client;
struct frame;

/* What a session reads of the command line, filled once at start: the
 * session files read no option field. */
struct client_limits {
	unsigned handshake_ms; /* --handshake-timeout: the request head */
	unsigned ping_ms;      /* --ping-interval; 0: no pings */
	unsigned pong_ms;      /* --ping-timeout: for a pong */
	unsigned closems;      /* --closems */
	size_t max_head;       /* --max-head */
	uint64_t max_message;  /* --max-message */
	enum msg_mode mode;    /* lines, --binary, --framed */
	enum stderr_mode err_mode; /* --stderr */
};

void client_limits_init(struct client_limits *l, const struct options *o);

/* Takes over the accepted socket fd; local_port is the listener's port.
 * Returns the new connection, or NULL (fd closed: out of memory). */
struct client *client_start(struct server *srv, int fd,
			    const struct sockaddr_storage *peer,
			    int local_port);

/* Answers the connection at once with status, reason why and extra header
 * lines (may be NULL), then closes it (--maxconns). */
void client_refuse(struct client *c, int status, const char *why,
		   const char *more);

/* Accepted and not yet a session nor answered: reading the request head
 * (or idle between keep-alive requests), or starting the child for a 101. */
bool client_upgrading(const struct client *c);

/* The server is shutting down: Close 1001 to the client, end the child. */
void client_go_away(struct client *c);

/* Ends everything at once: SIGKILL to the child's group, socket closed. */
void client_abort(struct client *c);

/* The server's list of clients. */
struct client *client_next(const struct client *c);
void client_free(struct client *c);

/* --- bindings: what joins a session to a program it shares ---------------
 * A session of a shared route has no child of its own: its binding (the
 * owner, shared.c) hears from it through these calls, and drives it through
 * the client_ functions below. */
struct client_binding_ops {
	/* A whole message from c: opcode WS_TEXT or WS_BINARY, p[0..n). */
	void (*message)(void *owner, struct client *c, unsigned opcode,
			const uint8_t *p, size_t n);
	/* True when c may hand over its next message now (the program's
	 * stdin has room); else c reads nothing until client_resume. */
	bool (*room)(void *owner, const struct client *c);
	/* c's outbound queue is below its high-water mark. */
	void (*drained)(void *owner, struct client *c);
	/* The last call: c has left, with code the close code it sent (1005:
	 * its Close had none; 1006: none, it vanished or broke the protocol),
	 * or before its 101 (then code is 1006). */
	void (*gone)(void *owner, struct client *c, unsigned code);
};

/* Sets c's binding (ops NULL: none, and no gone call). */
void client_bind(struct client *c, const struct client_binding_ops *ops,
		 void *owner);
uint64_t client_id(const struct client *c);
/* Open: frames may be sent to it. */
bool client_is_open(const struct client *c);
/* Its outbound queue is below the high-water mark. */
bool client_has_room(const struct client *c);
/* Bytes in its outbound queue. */
size_t client_queued(const struct client *c);
/* Queues a reference to the shared frame f (whose payload is p[0..n), for
 * a --devconsole client's tagged copy), unless c's queue would then hold
 * more than limit bytes: c is then closed with 1008 "too slow: N queued"
 * (logged). Returns 0 (queued, or c not open), 1 (cut as too slow), -1 (out
 * of memory: c ends with 1011). Written by client_flush. */
int client_send_frame(struct client *c, struct frame *f, const uint8_t *p,
		      size_t n, size_t limit);
/* Writes what is queued for c as far as its socket takes. */
void client_flush(struct client *c);
/* Reads what c has sent and not yet handed over, then from its socket. */
void client_resume(struct client *c);
/* Close code with reason (may be NULL) to c, after what is queued. */
void client_end(struct client *c, unsigned code, const char *reason);
/* The shared program pid ended with wait status: c gets the Close that
 * maps to, and its access line names pid and the status. */
void client_end_exit(struct client *c, pid_t pid, int status);

/* upgrade.c: the 101 queued for c goes out and c's session opens (the
 * binding then adds it and calls client_resume). */
void client_open(struct client *c);
/* c's 101 waited for a program that could not be started (err: an errno
 * from fork or exec; why: the cause): 500, or 503 when it may work later. */
void client_refuse_start(struct client *c, int err, const char *why);

#endif
