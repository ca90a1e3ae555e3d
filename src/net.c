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
#include <string.h>
#include <unistd.h>

static int listen_on(const struct sockaddr *sa, socklen_t len, int v6only,
		     struct sockaddr_storage *addr, char *err, size_t errlen)
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
	if (bind(fd, sa, len) < 0 || listen(fd, SOMAXCONN) < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	socklen_t alen = sizeof *addr;
	getsockname(fd, (struct sockaddr *)addr, &alen);
	return fd;
}

int net_listen(const char *host, int port, struct sockaddr_storage *addr,
	       char *err, size_t errlen)
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
		int fd = listen_on((struct sockaddr *)&s6, sizeof s6, 0, addr, err,
				   errlen);
		if (fd >= 0 || errno != EAFNOSUPPORT)
			return fd;
		s4.sin_addr.s_addr = htonl(INADDR_ANY);
		return listen_on((struct sockaddr *)&s4, sizeof s4, 0, addr, err,
				 errlen);
	}
	if (inet_pton(AF_INET, host, &s4.sin_addr) == 1)
		return listen_on((struct sockaddr *)&s4, sizeof s4, 0, addr, err,
				 errlen);
	const char *h = host;
	char buf[INET6_ADDRSTRLEN + 2];
	size_t hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']' && hl - 2 < sizeof buf) {
		memcpy(buf, host + 1, hl - 2);
		buf[hl - 2] = '\0';
		h = buf;
	}
	if (inet_pton(AF_INET6, h, &s6.sin6_addr) == 1)
		return listen_on((struct sockaddr *)&s6, sizeof s6, 1, addr, err,
				 errlen);
	snprintf(err, errlen, "not a numeric IPv4 or IPv6 address");
	return -1;
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
	int v6 = strchr(host, ':') != NULL;
	snprintf(out, len, "%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "",
		 net_addr_port(a));
}
