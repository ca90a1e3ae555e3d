/* One client session: its socket, its child, and the bridge between them.
 * The only module that knows both. */
#ifndef PORTAL_CLIENT_H
#define PORTAL_CLIENT_H

#include <sys/socket.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "opts.h"

struct server;
struct client;

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

/* Takes over the accepted socket fd; local_port is the listener's port. */
void client_start(struct server *srv, int fd,
		  const struct sockaddr_storage *peer, int local_port);

/* The server is shutting down: Close 1001 to the client, end the child. */
void client_go_away(struct client *c);

/* Ends everything at once: SIGKILL to the child's group, socket closed. */
void client_abort(struct client *c);

/* The server's list of clients. */
struct client *client_next(const struct client *c);
void client_free(struct client *c);

#endif
