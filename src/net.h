/* TCP listeners and accepted connections: non-blocking and close-on-exec. */
#ifndef PORTAL_NET_H
#define PORTAL_NET_H

#include <stddef.h>
#include <sys/socket.h>

/* Longest text net_addr_text writes: "[" IPv6 "]:" port, NUL. */
#define NET_ADDR_TEXT 64

/* Listens on host (numeric IPv4 or IPv6 address, or NULL for every
 * interface: IPv6 "::" accepting IPv4 too, or "0.0.0.0" where there is no
 * IPv6) and port (0: any free port). On success returns the socket and
 * writes its local address to *addr; on failure returns -1 and writes the
 * reason to err[0..errlen). */
int net_listen(const char *host, int port, struct sockaddr_storage *addr,
	       char *err, size_t errlen);

/* accept(2) that makes the new socket non-blocking and close-on-exec.
 * Returns it, or -1 with errno (EAGAIN when there is nobody waiting). */
int net_accept(int lfd, struct sockaddr_storage *peer);

/* "1.2.3.4:80" or "[::1]:80". */
void net_addr_text(const struct sockaddr_storage *a, char *out, size_t len);
/* The numeric host alone, and the port. */
void net_addr_host(const struct sockaddr_storage *a, char *out, size_t len);
int net_addr_port(const struct sockaddr_storage *a);

#endif
