/* The one-to-one binding, the default route: one connection, one child. */
#ifndef PORTAL_BIND_ONE_H
#define PORTAL_BIND_ONE_H

struct conn;
struct route;
struct server;

/* Starts r's program for c (whose 101 is to wait for the exec's outcome:
 * conn_open, or conn_refuse_start) with envp, and binds the two. Returns 0,
 * or an errno: c is to be refused; a child that was started but could not
 * be watched stays bound to c, to be reaped. */
int bind_one_start(struct server *srv, struct conn *c, const struct route *r,
		   char *const envp[]);

#endif
