/* One client session: its socket, its child, and the bridge between them.
 * The only module that knows both. */
#ifndef PORTAL_CLIENT_H
#define PORTAL_CLIENT_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

struct server;
struct client;

/* Takes over the accepted socket fd; local_port is the listener's port. */
void client_start(struct server *srv, int fd,
		  const struct sockaddr_storage *peer, int local_port);

/* The child was reaped with wait status. */
void client_reaped(struct client *c, int status);

/* Reaps, each by its pid, the children that are likely to have exited
 * (their stdout has ended, or their exec failed): one cheap waitpid each,
 * where waitpid(-1) walks every child. */
void client_reap_suspects(struct server *srv);

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

#endif
