/* One client session: its socket, its child, and the bridge between them.
 * The only module that knows both. */
#ifndef PORTAL_CLIENT_H
#define PORTAL_CLIENT_H

#include <sys/socket.h>
#include <sys/types.h>

struct server;
struct client;

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
