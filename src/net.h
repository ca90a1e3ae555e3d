/* Listeners (TCP, Unix, inherited from a service manager) and accepted
 * connections: non-blocking and close-on-exec. */
#ifndef PORTAL_NET_H
#define PORTAL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* The first descriptor a service manager passes (sd_listen_fds(3)). */
#define NET_LISTEN_FDS_START 3

/* Which file a Unix listener made, so that only that one is removed. */
struct net_unix {
	dev_t dev;
	ino_t ino;
	bool stale_removed; /* a stale socket file was removed first */
};

/* Longest text net_addr_text writes: "[" IPv6 "]:" port, NUL. */
#define NET_ADDR_TEXT 64

/* Listens on host (numeric IPv4 or IPv6 address, or NULL for every
 * interface: IPv6 "::" accepting IPv4 too, or "0.0.0.0" where there is no
 * IPv6) and port (0: any free port). reuseport sets SO_REUSEPORT, so that
 * other sockets of the same user with it too can bind the same address and
 * port, and the kernel spreads new connections over them. On success
 * returns the socket and writes its local address to *addr; on failure
 * returns -1 with errno (EADDRINUSE: the port is taken) and writes the
 * reason to err[0..errlen). */
int net_listen(const char *host, int port, bool reuseport,
	       struct sockaddr_storage *addr, char *err, size_t errlen);

/* Listens on the Unix stream socket path, created with the mode umask
 * leaves. A socket file already there is removed only when nobody accepts
 * on it (connect is refused: a stale file; then id->stale_removed is set);
 * a live socket or any other kind of file is an error. On success returns
 * the socket and notes the file in *id (zeroed by the caller); on failure
 * returns -1 and writes the reason to err[0..errlen). */
int net_listen_unix(const char *path, struct net_unix *id, char *err,
		    size_t errlen);

/* Removes path if it is still the socket file *id describes. */
void net_unlink_unix(const char *path, const struct net_unix *id);

/* systemd socket activation without libsystemd: when LISTEN_PID is this
 * process and LISTEN_FDS is N, checks that descriptors 3..3+N-1 are
 * listening stream sockets, makes them non-blocking and close-on-exec,
 * unsets LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES, and returns N. Returns
 * 0 when there is no activation for this process; -1 with the reason in
 * err[0..errlen) when LISTEN_FDS or a descriptor is unusable. */
int net_listen_fds(char *err, size_t errlen);

/* Parses s[0..len), a numeric IPv4 or IPv6 address ("[...]" allowed for
 * IPv6), into *out with port 0. Returns 0, or -1 if it is not one. */
int net_addr_parse(const char *s, size_t len, struct sockaddr_storage *out);

/* Resolves the host name host (getaddrinfo: it may block, so call it only at
 * start) into at most max IPv4 and IPv6 addresses, port 0, of this host's
 * configured families. Returns how many, or -1 with the reason in
 * err[0..errlen). */
int net_resolve(const char *host, struct sockaddr_storage *out, size_t max,
		char *err, size_t errlen);

/* accept(2) that makes the new socket non-blocking and close-on-exec.
 * Returns it, or -1 with errno (EAGAIN when there is nobody waiting). */
int net_accept(int lfd, struct sockaddr_storage *peer);

/* "1.2.3.4:80" or "[::1]:80"; the host alone when the port is 0 (a Unix
 * socket's peer, "unix", or an address from X-Forwarded-For). */
void net_addr_text(const struct sockaddr_storage *a, char *out, size_t len);
/* The numeric host alone, and the port. */
void net_addr_host(const struct sockaddr_storage *a, char *out, size_t len);
int net_addr_port(const struct sockaddr_storage *a);

#endif
