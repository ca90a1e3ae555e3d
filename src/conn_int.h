/* Private to the connection's files: conn.c (the socket, the codec, the
 * close handshake), conn_log.c (the access line), upgrade.c (the request head, up to the 101 answer),
 * plain.c and cgireq.c (the plain HTTP answers). Bindings see conn.h. */
#ifndef PORTAL_CONN_INT_H
#define PORTAL_CONN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "buf.h"
#include "conn.h"
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
#define CLOSE_WAIT_MS 2000   /* for the peer's Close, then for its FIN */
#define LOOKUP_MS 2000       /* --reverselookup: for the client's name */
#define SLOW_CLOSE_MS 10000  /* a client cut as too slow: for its Close to
				leave, as it reads what was queued before */

enum sock_state {
	SS_HANDSHAKE, /* reading the request head */
	SS_ANSWERING, /* a plain HTTP answer is going out and the connection
			 stays open (keep-alive): nothing is read until it
			 is sent, then SS_HANDSHAKE for the next request */
	SS_SPAWNING,  /* head accepted, the 101 waits in out for the
			 binding's go-ahead (its program's exec): nothing is
			 read or written */
	SS_OPEN,      /* frames both ways */
	SS_ENDING,    /* the client sent Close or broke the protocol: no more
			 reading; the binding's last output is sent before
			 our Close (conn_linger) */
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

struct conn {
	struct server *srv;
	const struct conn_limits *lim; /* the server's, read only */
	struct conn_link link; /* the server's registry (server.c) */
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

	/* The binding (conn.h): what the session's messages go to. */
	const struct conn_ops *ops; /* or NULL */
	void *owner;
	bool gone_told;      /* ops->gone has been called */
	struct buf msg;      /* the message arriving, for ops->message */
	pid_t pid;           /* the program that the binding noted, for the */
	int status;          /* access line (conn_note_exit), and its end */
	bool exited;         /* ... pid and status are set */
};

/* upgrade.c */

/* c->in holds (part of) a request head: answers it, with an HTTP error or
 * by handing c to the binding its route names (then c->ss is SS_SPAWNING,
 * and SS_OPEN with the 101 sent once the binding says so, conn_open, or
 * an HTTP 500/503 if its program could not be started). */
void upgrade_request(struct conn *c);

/* SS_SPAWNING: gives up waiting for the binding's go-ahead (shutdown,
 * timeout, the socket's end): the binding hears gone(1006), the queued 101
 * is dropped. Also gives up a reverse lookup in progress. */
void upgrade_abandon(struct conn *c);

/* The CGI/1.1 environment for req: what the request and the gateway say,
 * gathered here; which variable gets what is env_build's (env.c).
 * decoded: the percent-decoded path that r points into. protocol: the
 * subprotocol chosen for the 101 (--protocol), or NULL. REQUEST_METHOD is
 * req's method. */
void build_env(struct conn *c, const struct http_request *req,
	       const struct hs_info *hs, const char *decoded,
	       size_t decoded_len, const struct route *r,
	       const char *protocol, struct env *e);

/* Queues an HTTP error answer (with extra header lines, may be NULL), logs
 * it, and closes the connection once it has been sent. */
void http_error_extra(struct conn *c, int status, const char *why,
		      const char *more);
void http_error(struct conn *c, int status, const char *why);

/* conn.c */

/* The one teardown of the connection: logs why at lv, closes the socket,
 * tells the binding; c is freed once the binding is done too. */
void conn_close(struct conn *c, enum log_level lv, const char *why);
void flush_out(struct conn *c);
/* Reads from the socket only while the queues it feeds have room, and
 * tells the binding whether the socket queue has room. */
void update_interest(struct conn *c);
void process_input(struct conn *c);
/* Tells the binding, once, that the client sends nothing more. */
void conn_tell_gone(struct conn *c, unsigned code);
/* Frees c once its socket is closed and nothing else holds it. */
void conn_maybe_done(struct conn *c);
void on_sock_timer(struct loop *l, struct loop_timer *t);
void on_ping_timer(struct loop *l, struct loop_timer *t);

/* conn_log.c */

/* Notes the request path p[0..len) (p may be NULL when len is 0) for the
 * log, cut to fit c->path. */
void conn_set_path(struct conn *c, const char *p, size_t len);
/* Notes the answer's status and reason (why may be NULL) for the access
 * line. */
void conn_answered(struct conn *c, int status, const char *why);
/* A plain answer has gone out and the connection stays open (keep-alive):
 * logs its access line, and the record starts afresh for the next
 * request, which has as long as a first one. */
void conn_log_next(struct conn *c);
/* The connection is done: logs its access line if a request was seen
 * and, for a session, counts it in the metrics. */
void conn_log_end(struct conn *c);

#endif
