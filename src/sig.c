#include "sig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int self_pipe[2] = { -1, -1 };

static const int caught[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP };

static void on_signal(int signo)
{
	int saved = errno;
	unsigned char b = (unsigned char)signo;
	/* A full pipe already holds a wake-up; dropping this byte loses only a
	 * duplicate, and sig_take drains whatever is there. */
	if (write(self_pipe[1], &b, 1) < 0) {
	}
	errno = saved;
}

int sig_init(void)
{
	if (pipe(self_pipe) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		if (fcntl(self_pipe[i], F_SETFD, FD_CLOEXEC) < 0 ||
		    fcntl(self_pipe[i], F_SETFL, O_NONBLOCK) < 0)
			return -1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return -1;
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	for (size_t i = 0; i < sizeof caught / sizeof caught[0]; i++) {
		if (sigaction(caught[i], &sa, NULL) < 0)
			return -1;
	}
	return self_pipe[0];
}

unsigned long sig_take(int fd)
{
	unsigned long set = 0;
	unsigned char buf[64];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] < sizeof set * 8)
				set |= 1ul << buf[i];
		}
	}
	return set;
}
