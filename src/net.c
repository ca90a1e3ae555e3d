/* pipe2 and accept4: Linux and the BSDs; POSIX.1-2024. */
#define _GNU_SOURCE
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* errno is kept on failure (EADDRINUSE: the caller may say why). */
static int listen_on(const struct sockaddr *sa, socklen_t len, int v6only,
		     bool reuseport, struct sockaddr_storage *addr, char *err,
		     size_t errlen)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
	if (reuseport &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
		int e = errno;
		snprintf(err, errlen, "SO_REUSEPORT: %s", strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	if (bind(fd, sa, len) < 0 || listen(fd, SOMAXCONN) < 0) {
		int e = errno;
		snprintf(err, errlen, "%s", strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	socklen_t alen = sizeof *addr;
	getsockname(fd, (struct sockaddr *)addr, &alen);
	return fd;
}

int net_listen(const char *host, int port, bool reuseport,
	       struct sockaddr_storage *addr, char *err, size_t errlen)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	memset(&s6, 0, sizeof s6);
	memset(&s4, 0, sizeof s4);
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons((uint16_t)port);
	s4.sin_family = AF_INET;
	s4.sin_port = htons((uint16_t)port);

	if (!host) {
		s6.sin6_addr = in6addr_any;
		int fd = listen_on((struct sockaddr *)&s6, sizeof s6, 0,
				   reuseport, addr, err, errlen);
		if (fd >= 0 || errno != EAFNOSUPPORT)
			return fd;
		s4.sin_addr.s_addr = htonl(INADDR_ANY);
		return listen_on((struct sockaddr *)&s4, sizeof s4, 0,
				 reuseport, addr, err, errlen);
	}
	if (inet_pton(AF_INET, host, &s4.sin_addr) == 1)
		return listen_on((struct sockaddr *)&s4, sizeof s4, 0,
				 reuseport, addr, err, errlen);
	const char *h = host;
	char buf[INET6_ADDRSTRLEN + 2];
	size_t hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']' && hl - 2 < sizeof buf) {
		memcpy(buf, host + 1, hl - 2);
		buf[hl - 2] = '\0';
		h = buf;
	}
	if (inet_pton(AF_INET6, h, &s6.sin6_addr) == 1)
		return listen_on((struct sockaddr *)&s6, sizeof s6, 1,
				 reuseport, addr, err, errlen);
	snprintf(err, errlen, "not a numeric IPv4 or IPv6 address");
	return -1;
}

/* Whether someone accepts connections on the socket file sa names: 0 when
 * a connect is refused (nobody listens: a stale file), 1 when it is taken
 * (accepted, or a full backlog), -1 with errno otherwise. Non-blocking, so
 * a busy listener cannot hang the start. */
static int unix_in_use(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int rc = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
	int err = errno;
	close(fd);
	if (rc == 0 || err == EAGAIN || err == EINPROGRESS)
		return 1;
	if (err == ECONNREFUSED)
		return 0;
	errno = err;
	return -1;
}

int net_listen_unix(const char *path, struct net_unix *id, char *err,
		    size_t errlen)
{
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "path longer than %zu bytes",
			 sizeof sa.sun_path - 1);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	if (rc < 0 && errno == EADDRINUSE) {
		struct stat st;
		int used;
		if (lstat(path, &st) < 0) {
			snprintf(err, errlen, "%s", strerror(errno));
			goto fail;
		}
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "exists and is not a socket; "
				 "not removing it");
			goto fail;
		}
		used = unix_in_use(&sa);
		if (used != 0) {
			snprintf(err, errlen, "%s", used > 0 ?
				 "in use: another process listens on it" :
				 strerror(errno));
			goto fail;
		}
		/* A socket file nobody listens on: left by a process that
		 * did not exit cleanly. */
		if (unlink(path) < 0 && errno != ENOENT) {
			snprintf(err, errlen, "cannot remove the stale socket: "
				 "%s", strerror(errno));
			goto fail;
		}
		id->stale_removed = true;
		rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	}
	if (rc < 0 || listen(fd, SOMAXCONN) < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto fail;
	}
	struct stat st;
	if (stat(path, &st) == 0) {
		id->dev = st.st_dev;
		id->ino = st.st_ino;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

void net_unlink_unix(const char *path, const struct net_unix *id)
{
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == id->dev && st.st_ino == id->ino)
		unlink(path);
}

int net_listen_fds(char *err, size_t errlen)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	char *end;
	err[0] = '\0';
	if (!pid || !fds)
		return 0;
	errno = 0;
	long p = strtol(pid, &end, 10);
	if (errno || *end || end == pid || p != (long)getpid())
		return 0; /* meant for another process */
	errno = 0;
	long n = strtol(fds, &end, 10);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (errno || *end || end == fds || n < 0 || n > 4096) {
		snprintf(err, errlen, "LISTEN_FDS=%s is not a count of "
			 "descriptors", fds);
		return -1;
	}
	for (int fd = NET_LISTEN_FDS_START; fd < NET_LISTEN_FDS_START + n; fd++) {
		int type = 0, acc = 0;
		socklen_t len = sizeof type;
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
		    type != SOCK_STREAM) {
			snprintf(err, errlen, "descriptor %d of LISTEN_FDS is "
				 "not a stream socket", fd);
			return -1;
		}
		len = sizeof acc;
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) < 0 ||
		    !acc) {
			snprintf(err, errlen, "socket %d of LISTEN_FDS is not "
				 "listening (Accept=yes is not supported)", fd);
			return -1;
		}
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
			snprintf(err, errlen, "descriptor %d: %s", fd,
				 strerror(errno));
			return -1;
		}
	}
	return (int)n;
}

int net_addr_parse(const char *s, size_t len, struct sockaddr_storage *out)
{
	char buf[INET6_ADDRSTRLEN + 2];
	struct sockaddr_in *s4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof buf || memchr(s, '\0', len))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, buf, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}

int net_resolve(const char *host, struct sockaddr_storage *out, size_t max,
		char *err, size_t errlen)
{
	struct addrinfo hints, *res;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	int rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve: %s",
			 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	size_t n = 0;
	for (struct addrinfo *ai = res; ai && n < max; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof out[n])
			continue;
		memset(&out[n], 0, sizeof out[n]);
		memcpy(&out[n++], ai->ai_addr, ai->ai_addrlen);
	}
	freeaddrinfo(res);
	if (n == 0) {
		snprintf(err, errlen, "no IPv4 or IPv6 address");
		return -1;
	}
	return (int)n;
}

int net_accept(int lfd, struct sockaddr_storage *peer)
{
	socklen_t len = sizeof *peer;
	int fd = accept4(lfd, (struct sockaddr *)peer, &len,
			 SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	return fd;
}

void net_addr_host(const struct sockaddr_storage *a, char *out, size_t len)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)a;
	out[0] = '\0';
	if (a->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		inet_ntop(AF_INET, s6->sin6_addr.s6_addr + 12, out, (socklen_t)len);
	} else if (a->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t)len);
	} else if (a->ss_family == AF_INET) {
		inet_ntop(AF_INET, &s4->sin_addr, out, (socklen_t)len);
	} else if (a->ss_family == AF_UNIX) {
		snprintf(out, len, "unix");
	}
}

int net_addr_port(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
	if (a->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)a)->sin_port);
	return 0;
}

void net_addr_text(const struct sockaddr_storage *a, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	net_addr_host(a, host, sizeof host);
	int v6 = strchr(host, ':') != NULL, port = net_addr_port(a);
	if (port == 0)
		snprintf(out, len, "%s", host);
	else
		snprintf(out, len, "%s%s%s:%d", v6 ? "[" : "", host,
			 v6 ? "]" : "", port);
}
