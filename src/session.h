/* Private to the session's two files: client.c (the bridge between socket
 * and child) and upgrade.c (the request head, up to the 101 answer). */
#ifndef PORTAL_SESSION_H
#define PORTAL_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "buf.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "net.h"
#include "outq.h"
#include "ws.h"

struct cgireq;
struct env;
struct hs_info;
struct http_request;
struct route;

#define READ_CHUNK 65536     /* one read from the socket */
#define OUT_HIGH 65536       /* socket queue high-water mark */
#define LINE_CHUNK 65536     /* a longer partial line goes out as a fragment */
#define ERR_LINE_MAX 4096    /* stderr lines are logged in pieces this long */
#define CLOSE_WAIT_MS 2000   /* for the peer's Close, then for its FIN */
#define END_WAIT_MS 1500     /* for the child's last output (+3 closems) */
#define LOOKUP_MS 2000       /* --reverselookup: for the client's name */
#define SLOW_CLOSE_MS 10000  /* a client cut as too slow: for its Close to
				leave, as it reads what was queued before */

enum sock_state {
	SS_HANDSHAKE, /* reading the request head */
	SS_ANSWERING, /* a plain HTTP answer is going out and the connection
			 stays open (keep-alive): nothing is read until it
			 is sent, then SS_HANDSHAKE for the next request */
	SS_SPAWNING,  /* head accepted, child forked, its exec not yet known:
			 the 101 waits in out, nothing is read or written,
			 the child's pipes are not polled */
	SS_OPEN,      /* frames both ways */
	SS_ENDING,    /* the client sent Close or broke the protocol: no more
			 reading; the child is ended and its last output sent
			 before our Close */
	SS_CLOSE_SENT, /* our Close is queued; waiting for the peer's */
	SS_CLOSING,   /* last bytes queued: flush, shut down, wait for FIN */
	SS_GONE,      /* socket closed */
	SS_CGI,       /* --cgidir: a plain request answered by a CGI script
			 (cgireq.c): its body to the script's stdin, the
			 script's answer to the socket */
};

/* --trust-proxy with a valid X-Forwarded-For: both addresses, for the
 * access line (c->peer becomes the forwarded one for a session). */
struct forwarded {
	struct sockaddr_storage peer; /* the socket's: the proxy */
	char addr[NET_ADDR_TEXT];     /* the client's, from X-Forwarded-For */
};

struct client {
	struct server *srv;
	const struct client_limits *lim; /* the server's, read only */
	struct client *prev, *next;
	uint64_t id;
	uint64_t started;
	uint64_t head_us; /* when the upgrade's head was read (CLOCK_MONOTONIC
			     µs), for the handshake histogram */
	uint64_t opened;  /* when the 101 was sent (loop ms) */

	int fd;
	enum sock_state ss;
	struct sockaddr_storage peer;
	int local_port;
	char path[256]; /* request path, for the log */
	struct buf in;
	struct outq out; /* to the socket: own bytes and shared frames */
	struct ws_decoder dec;
	struct loop_timer sock_timer;
	struct loop_timer ping_timer;
	bool ping_outstanding;
	uint64_t last_read;   /* when bytes last came from the client */
	uint64_t written;     /* bytes written to the socket so far */
	uint64_t written_mark; /* ... when sock_timer was last armed */
	bool close_flushed;   /* our Close has left the queue */
	bool upgraded;        /* a 101 was sent: a session to log */
	bool done; /* on the server's graveyard */
	bool peer_eof; /* SS_CLOSING: the client half-closed; our answer is
			  still going out, then the socket is closed */
	bool peer_known;      /* X-Forwarded-For taken (--trust-proxy), the
				 name looked up (--reverselookup) */
	struct lookup *lookup; /* SS_HANDSHAKE: the name being looked up;
				  nothing is read meanwhile */
	char *remote_host;    /* the name found, or NULL */

	struct proc *proc;  /* the child, or NULL: none started */
	bool out_done;      /* its stdout has ended (or never will start) */
	bool reaped;        /* ... it has exited, with status */
	char *program;      /* SS_SPAWNING: what is exec'd, for the log */
	struct buf line, errline;
	bool frag_open;     /* a stdout line is going out in fragments */
	unsigned frag_type; /* --framed: WS_TEXT or WS_BINARY of that line */
	bool warned_frame;
	uint8_t b64_carry[3]; /* --framed: bytes of a binary message to the */
	size_t b64_n;         /* child that await a group of three */
	bool warned_utf8;
	int status;
	bool draining;      /* stderr is being drained: no flush meanwhile */

	unsigned close_code; /* what we sent, for the log */
	unsigned end_code;   /* SS_ENDING: the Close to send, 0 for none */
	const char *end_reason;
	struct msg_counts n;
	int body_fd;         /* plain HTTP: a file being sent, or -1 */
	uint64_t body_left;  /* ... and how much of it is still to send */
	struct cgireq *cgi;  /* SS_CGI: the CGI request's state (cgireq.c) */
	size_t keep_head;    /* plain HTTP: the length of the request head
				being answered if the connection is to stay
				open after the answer, else 0 */
	bool kept_alive;     /* a plain answer was sent on this connection and
				it stayed open */

	/* For the access line, logged once when the connection has ended. */
	uint16_t http_status; /* the status sent (101: a session); 0: none yet */
	uint64_t sent_base;  /* written when this request began (keep-alive) */
	char method[14];     /* cut; "" until a request head has been parsed */
	/* malloc'd when answered or closed, so an open session holds none */
	char *reason;        /* the answer's reason, a session's Close's */
	char *origin;        /* a 403's refused Origin (malloc'd), or NULL */
	bool ws_request;     /* the request being answered has an Upgrade */
	bool console;        /* the console's subprotocol: output tagged */
	struct forwarded *fwd; /* malloc'd, or NULL */

	/* A shared route's session (client.h, bindings): no child of its
	 * own; its binding gets its messages whole. */
	const struct client_binding_ops *bops; /* or NULL */
	void *bowner;
	struct buf msg;      /* the message arriving, handed over whole */
	pid_t shared_pid;    /* the shared program that ended the session by
				exiting (status in status), else 0 */
};

/* upgrade.c */

/* c->in holds (part of) a request head: answers it, with an HTTP error or
 * by starting the child (then c->ss is SS_SPAWNING, and SS_OPEN with the
 * 101 sent once the exec is known to have worked, or an HTTP 500/503 if it
 * failed). */
void upgrade_request(struct client *c);

/* SS_SPAWNING: gives up waiting for the exec (shutdown, timeout, the
 * socket's end): forgets the exec status pipe and the queued 101. Also
 * gives up a reverse lookup in progress. */
void upgrade_abandon(struct client *c);

/* The child's CGI/1.1 environment for req: what the request and the
 * gateway say, gathered here; which variable gets what is env_build's
 * (env.c). decoded: the percent-decoded path that r points into. protocol:
 * the subprotocol chosen for the 101 (--protocol), or NULL. REQUEST_METHOD
 * is req's method. */
void build_env(struct client *c, const struct http_request *req,
	       const struct hs_info *hs, const char *decoded,
	       size_t decoded_len, const struct route *r,
	       const char *protocol, struct env *e);

/* Queues an HTTP error answer (with extra header lines, may be NULL), logs
 * it, and closes the connection once it has been sent. */
void http_error_extra(struct client *c, int status, const char *why,
		      const char *more);
void http_error(struct client *c, int status, const char *why);

/* client.c */

/* The one teardown of the connection: logs why at lv, closes the socket,
 * ends the child; the session is freed once the child is gone too. */
void client_close(struct client *c, enum log_level lv, const char *why);
/* An internal failure (out of memory): logged as an error; the child is
 * ended and an open session gets Close 1011 with why (after what is
 * queued), any other connection is closed. */
void client_fail(struct client *c, const char *why);
void flush_out(struct client *c);
/* Queues one frame for the socket; false when out of memory. */
bool queue_frame(struct client *c, unsigned opcode, bool fin,
		 const uint8_t *p, size_t n);
/* Reads from the socket only while both queues it feeds have room, and
 * from the child's stdout only while the socket queue has room. */
void update_interest(struct client *c);
/* Once the child's stdout has ended and the child is reaped: the Close
 * that says how it ended. Harmless to call before. */
void finish_output(struct client *c);
void process_input(struct client *c);
/* Notes the request path p[0..len) (p may be NULL when len is 0) for the
 * log, cut to fit c->path. */
void client_set_path(struct client *c, const char *p, size_t len);
/* Notes the answer's status and reason (why may be NULL) for the access
 * line. */
void client_answered(struct client *c, int status, const char *why);
/* The session's side of its proc (struct proc_ops): */
void client_proc_stdin_room(void *owner);
void client_proc_exited(void *owner, int status);
/* Ends the child, if any (proc_stop). */
void client_child_stop(struct client *c);
void on_sock_timer(struct loop *l, struct loop_timer *t);
void on_ping_timer(struct loop *l, struct loop_timer *t);

/* output.c */

void client_proc_out(void *owner, const uint8_t *p, size_t n);
/* The child's stdout has ended: its last line goes out even without a
 * "\n", and the session moves on to its end. */
void client_proc_out_eof(void *owner);
/* Stderr bytes (n == 0: its end) to lines, logged or sent (--stderr). */
void client_proc_err(void *owner, const uint8_t *p, size_t n);
/* At the session's end: what the child's stderr still holds (a bounded
 * number of reads, without blocking) is logged or sent, then it is
 * closed. */
void client_drain_stderr(struct client *c);

#endif
