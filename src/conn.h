/* A connection: its socket, the request head and the plain answers up to
 * a 101 (upgrade.c, plain.c, cgireq.c), the frame codec, the outbound
 * queue, the ping and socket timers, the close handshake and the access
 * line. It knows no child and no route's program: what a session's
 * messages go to is its binding (bind_one.c, shared.c), which it calls
 * only through struct conn_ops and the owner pointer given to conn_bind. */
#ifndef PORTAL_CONN_H
#define PORTAL_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "opts.h"

struct conn;
struct frame;
struct server;

/* What the answering of a request (upgrade.c, plain.c, cgireq.c) reads of
 * the command line. */
struct conn_http_limits {
	bool devconsole;        /* --devconsole */
	bool trust_proxy;       /* --trust-proxy */
	bool reverselookup;     /* --reverselookup */
	bool sameorigin;        /* --sameorigin */
	unsigned maxforks;      /* --maxforks; 0: no limit */
	const struct opts_list *origins;   /* --origin */
	const struct opts_list *passenv;   /* --passenv */
	const struct opts_list *protocols; /* --protocol */
	const char *staticdir;  /* --staticdir, or NULL */
	const char *cgidir;     /* --cgidir, or NULL */
	const char *health_path;  /* --health, or NULL */
	const char *metrics_path; /* --metrics, or NULL */
	/* The route table (the resources and --dir), for route_find and the
	 * console's index: read, never changed. */
	const struct options *routes;
};

/* What a connection (and its binding) reads of the command line, filled
 * once at start: no connection or binding file reads an option field. */
struct conn_limits {
	unsigned handshake_ms; /* --handshake-timeout: the request head */
	unsigned ping_ms;      /* --ping-interval; 0: no pings */
	unsigned pong_ms;      /* --ping-timeout: for a pong */
	unsigned closems;      /* --closems */
	size_t max_head;       /* --max-head */
	uint64_t max_message;  /* --max-message */
	enum msg_mode mode;    /* lines, --binary, --framed */
	enum stderr_mode err_mode; /* --stderr */
	struct conn_http_limits http;
};

void conn_limits_init(struct conn_limits *l, const struct options *o);

/* --- the server's side ----------------------------------------------------- */

/* Takes over the accepted socket fd; local_port is the listener's port.
 * Returns the new connection (for the server to register:
 * server_conn_add), or NULL (fd closed: out of memory). */
struct conn *conn_start(struct server *srv, int fd,
			const struct sockaddr_storage *peer, int local_port);

/* Answers the connection at once with status, reason why and extra header
 * lines (may be NULL), then closes it (--maxconns). */
void conn_refuse(struct conn *c, int status, const char *why,
		 const char *more);

/* Accepted and not yet a session nor answered: reading the request head
 * (or idle between keep-alive requests), or waiting for its binding's
 * go-ahead for a 101. */
bool conn_upgrading(const struct conn *c);

/* The server is shutting down: Close 1001 to the client; the binding is
 * told to stop. */
void conn_go_away(struct conn *c);

/* Ends everything at once: the binding is told to stop now, the socket
 * is closed. */
void conn_abort(struct conn *c);

/* The server's registry of connections: the links are set by server.c
 * alone (server_conn_add, server_conn_done). */
struct conn_link {
	struct conn *prev, *next;
};
struct conn_link *conn_link(struct conn *c);
struct conn *conn_next(const struct conn *c);
/* The graveyard's end, after the loop's iteration in which c ended. */
void conn_free(struct conn *c);

/* --- bindings: what a session's messages go to ---------------------------- */

/* A piece of a message from the client (RFC 6455 fragments and reads cut
 * it anywhere). */
struct conn_data {
	unsigned opcode;  /* WS_TEXT or WS_BINARY */
	bool first, last; /* the message's first piece, its last */
	const uint8_t *p;
	size_t n;
};

/* Calls to the binding. Each may call down into the conn (conn_send,
 * conn_end...) and may unbind it (conn_bind(c, NULL, NULL)): then no call
 * follows. Optional ones may be NULL. */
struct conn_ops {
	/* Pieces of a message, as they arrive; or, if data is NULL, */
	void (*data)(void *owner, struct conn *c, const struct conn_data *d);
	/* ... the message whole (gathered by the conn): opcode WS_TEXT or
	 * WS_BINARY, p[0..n). */
	void (*message)(void *owner, struct conn *c, unsigned opcode,
			const uint8_t *p, size_t n);
	/* True when c may hand over its next message now; else c reads
	 * nothing until conn_resume. */
	bool (*room)(void *owner, const struct conn *c);
	/* Optional: c has handed over what one read brought (a batch of
	 * messages): the time to write them on. */
	void (*fed)(void *owner, struct conn *c);
	/* c's outbound queue is below its high-water mark (room), or not;
	 * called whenever c's interest is reconsidered. room is true once
	 * the socket is closed. */
	void (*writable)(void *owner, struct conn *c, bool room);
	/* Once: the client sends nothing more: code the close code of its
	 * Close (1005: it had none), or 1006 (it broke the protocol,
	 * vanished, or left before its 101). The binding may ask c to wait
	 * for its last output before c's Close (conn_linger). */
	void (*gone)(void *owner, struct conn *c, unsigned code);
	/* Optional: c is ending (shutdown, an internal failure, the server's
	 * abort): stop what feeds it; now: at once (SIGKILL). Called with now
	 * while c still waits for the go-ahead (conn_open): it waited too
	 * long (--handshake-timeout). */
	void (*stop)(void *owner, struct conn *c, bool now);
	/* Optional: c's socket is closed; true while the binding still has
	 * something to say on c's access line (then c waits, and the binding
	 * calls conn_end_exit when it has). */
	bool (*busy)(void *owner, const struct conn *c);
	/* Optional: c's socket is closed and the binding not busy: its last
	 * words, before c's access line (conn_note_exit). */
	void (*finish)(void *owner, struct conn *c);
	/* Optional: the last call: c is being freed (after the loop's
	 * iteration in which it ended). */
	void (*free)(void *owner, struct conn *c);
};

/* Sets c's binding (ops NULL: none; no more calls to the old one). */
void conn_bind(struct conn *c, const struct conn_ops *ops, void *owner);

/* The 101 queued for c goes out and c's session opens; pid (> 0) is the
 * session's child, for the log, or 0 (a shared route). */
void conn_open(struct conn *c, pid_t pid);
/* c's 101 waited for a program that could not be started (err: an errno
 * from fork or exec; why: the cause): 500, or 503 when it may work later. */
void conn_refuse_start(struct conn *c, int err, const char *why);

uint64_t conn_id(const struct conn *c);
/* Open: frames may be sent to it. */
bool conn_is_open(const struct conn *c);
/* Open, or the client has left and c waits for the binding's last output
 * (conn_linger): data may still be sent. */
bool conn_can_send(const struct conn *c);
/* The --devconsole page's subprotocol: the binding tags its output. */
bool conn_console(const struct conn *c);
/* Its outbound queue is below the high-water mark. */
bool conn_has_room(const struct conn *c);
/* Bytes in its outbound queue. */
size_t conn_queued(const struct conn *c);

/* Queues one frame (a control frame, or a --devconsole tag); false when
 * out of memory (the caller ends c with conn_fail). */
bool conn_send(struct conn *c, unsigned opcode, bool fin, const uint8_t *p,
	       size_t n);
/* The same for a frame of a message's data, counted for the access line
 * and the metrics (a message when fin). */
bool conn_send_data(struct conn *c, unsigned opcode, bool fin,
		    const uint8_t *p, size_t n);
/* Queues a reference to the shared frame f (a --devconsole client gets a
 * tagged copy of its payload), unless c's queue would then hold more than
 * limit bytes: c is then closed with 1008 "too slow: N queued" (logged).
 * Returns 0 (queued, or c not open), 1 (cut as too slow), -1 (out of
 * memory: c ends with 1011). Written by conn_flush. */
int conn_send_frame(struct conn *c, struct frame *f, size_t limit);
/* Writes what is queued for c as far as its socket takes. */
void conn_flush(struct conn *c);
/* Reads what c has sent and not yet handed over, then from its socket. */
void conn_resume(struct conn *c);

/* From gone: c waits up to ms for the binding's last output, then sends
 * the Close that answers the client's (conn_end_exit sends it sooner). */
void conn_linger(struct conn *c, unsigned ms);
/* Close code with reason (may be NULL) to c, after what is queued. */
void conn_end(struct conn *c, unsigned code, const char *reason);
/* The program pid that c's messages went to has ended with wait status:
 * an open c gets the Close that maps to (1000, or 1011 naming the status
 * or the signal), a lingering c the Close that answers the client's; its
 * access line names pid and the status. */
void conn_end_exit(struct conn *c, pid_t pid, int status);
/* For c's access line and the metrics: its program's pid and status. */
void conn_note_exit(struct conn *c, pid_t pid, int status);
/* An internal failure (out of memory): logged as an error; the binding is
 * told to stop, and an open session gets Close 1011 with why (after what
 * is queued), any other connection is closed. */
void conn_fail(struct conn *c, const char *why);

#endif
