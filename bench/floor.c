/* The machine's floors, against which the gateway is judged:
 *  - spawn: how many posix_spawn+waitpid of a trivial program (stdin and
 *    stdout on /dev/null) one thread completes per second, with -P children
 *    running at once; churn can not beat it, since every session costs one.
 *  - relay: a minimal server, one `cat` per TCP connection, bytes copied
 *    between the socket and the child's pipes with read/write and nothing
 *    else (no HTTP, no frames); `wsbench throughput --raw` measures it.
 *  - freeport: a port nobody listens on, for servers that cannot bind 0. */
#define _GNU_SOURCE /* accept4, pipe2 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wsbench.h"

extern char **environ;

static int spawn_one(const char *prog, posix_spawn_file_actions_t *fa,
		     pid_t *pid)
{
	char *argv[] = {(char *)prog, NULL};

	return posix_spawnp(pid, prog, fa, NULL, argv, environ);
}

static int spawn_loop(const struct opts *o, struct result *r)
{
	posix_spawn_file_actions_t fa;
	double t0 = now(), t_measure = t0 + o->warmup, t_end = -1, t;
	int running = 0, rc;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	for (;;) {
		t = now();
		if (t_end < 0 && t >= t_measure) {
			t_measure = t;
			t_end = t + o->duration;
			r->sessions = 0;
		}
		if (t_end >= 0 && t >= t_end)
			break;
		if (t - t0 > o->deadline) {
			r->timed_out = true;
			fail(r, "deadline reached");
			break;
		}
		while (running < o->parallel) {
			rc = spawn_one(o->prog, &fa, &pid);
			if (rc != 0) {
				fail(r, "posix_spawnp %s: %s", o->prog,
				     strerror(rc));
				return -1;
			}
			running++;
		}
		if (waitpid(-1, NULL, 0) > 0) {
			running--;
			r->sessions++;
		}
	}
	r->secs = t - t_measure;
	while (running-- > 0)
		waitpid(-1, NULL, 0);
	posix_spawn_file_actions_destroy(&fa);
	return 0;
}

/* With -T N, N processes spawn side by side (one per CPU is the machine's
 * floor; one alone is what a single-threaded server can reach). */
int floor_spawn(const struct opts *o, struct result *r)
{
	int p[2];
	double secs = 0;

	if (o->threads <= 1)
		return spawn_loop(o, r);
	if (pipe(p) < 0)
		return -1;
	for (int i = 0; i < o->threads; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			struct result mine = {0};
			char line[64];
			int n;

			close(p[0]);
			if (spawn_loop(o, &mine) < 0)
				_exit(1);
			n = snprintf(line, sizeof line, "%llu %f\n",
				     (unsigned long long)mine.sessions,
				     mine.secs);
			_exit(write(p[1], line, (size_t)n) == n ? 0 : 1);
		}
		if (pid < 0)
			return -1;
	}
	close(p[1]);
	{
		FILE *f = fdopen(p[0], "r");
		unsigned long long n;
		double s;
		int got = 0;

		while (f && fscanf(f, "%llu %lf", &n, &s) == 2) {
			r->sessions += n;
			secs += s;
			got++;
		}
		if (f)
			fclose(f);
		while (wait(NULL) > 0)
			;
		if (got != o->threads) {
			fail(r, "a spawner failed");
			return -1;
		}
		r->secs = secs / got;
	}
	return 0;
}

int floor_freeport(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		perror("wsbench freeport");
		return 1;
	}
	printf("%d\n", ntohs(a.sin_port));
	close(fd);
	return 0;
}

#define RELAY_BUF 65536

struct relay {
	int sock, in, out; /* in: child's stdin, out: child's stdout */
	bool sock_eof, dead;
	size_t upos, ulen, dpos, dlen;
	struct relay *next_dead;
	unsigned char up[RELAY_BUF], down[RELAY_BUF];
};

static struct relay *dead_list;

static int io(ssize_t n, size_t *len)
{
	if (n > 0) {
		*len = (size_t)n;
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return n == 0 ? 2 : -1;
}

static void relay_end(struct relay *r)
{
	if (r->in >= 0)
		close(r->in);
	if (r->out >= 0)
		close(r->out);
	close(r->sock);
	r->in = r->out = r->sock = -1;
	r->dead = true;
	r->next_dead = dead_list;
	dead_list = r;
}

/* Edge-triggered: moves bytes both ways until every side would block. */
static void relay_pump(struct relay *r)
{
	bool moved = true;

	while (moved && !r->dead) {
		size_t n;
		int k;

		moved = false;
		if (r->upos == r->ulen && !r->sock_eof) {
			k = io(read(r->sock, r->up, RELAY_BUF), &n);
			if (k == 1) {
				r->upos = 0;
				r->ulen = n;
			}
			r->sock_eof = k == 2;
			if (k < 0)
				goto end;
			moved = k > 0;
		}
		if (r->upos < r->ulen && r->in >= 0) {
			k = io(write(r->in, r->up + r->upos, r->ulen - r->upos),
			       &n);
			if (k < 0)
				goto end;
			if (k == 1) {
				r->upos += n;
				moved = true;
			}
		}
		if (r->sock_eof && r->upos == r->ulen && r->in >= 0) {
			close(r->in);
			r->in = -1;
		}
		if (r->dpos == r->dlen && r->out >= 0) {
			k = io(read(r->out, r->down, RELAY_BUF), &n);
			if (k == 1) {
				r->dpos = 0;
				r->dlen = n;
			} else if (k != 0) {
				close(r->out);
				r->out = -1;
			}
			moved |= k != 0;
		}
		if (r->dpos < r->dlen) {
			k = io(write(r->sock, r->down + r->dpos,
				     r->dlen - r->dpos),
			       &n);
			if (k < 0)
				goto end;
			if (k == 1) {
				r->dpos += n;
				moved = true;
			}
		}
		if (r->out < 0 && r->dpos == r->dlen)
			goto end;
	}
	return;
end:
	relay_end(r);
}

static void relay_accept(int ep, int lfd, const char *prog)
{
	posix_spawn_file_actions_t fa;
	int s, in[2], out[2], one = 1;
	pid_t pid;

	while ((s = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >=
	       0) {
		struct relay *r = calloc(1, sizeof *r);
		struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET,
					 .data.ptr = r};

		if (!r || pipe2(in, O_CLOEXEC) < 0) {
			close(s);
			free(r);
			return;
		}
		if (pipe2(out, O_CLOEXEC) < 0) {
			close(s);
			close(in[0]);
			close(in[1]);
			free(r);
			return;
		}
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, in[0], 0);
		posix_spawn_file_actions_adddup2(&fa, out[1], 1);
		if (spawn_one(prog, &fa, &pid) != 0)
			fprintf(stderr, "relay: cannot spawn %s\n", prog);
		posix_spawn_file_actions_destroy(&fa);
		close(in[0]);
		close(out[1]);
		fcntl(in[1], F_SETFL, O_NONBLOCK);
		fcntl(out[0], F_SETFL, O_NONBLOCK);
		r->sock = s;
		r->in = in[1];
		r->out = out[0];
		epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
		epoll_ctl(ep, EPOLL_CTL_ADD, r->in, &ev);
		epoll_ctl(ep, EPOLL_CTL_ADD, r->out, &ev);
		relay_pump(r);
	}
}

int floor_relay(const struct opts *o)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)o->port)};
	socklen_t len = sizeof a;
	struct epoll_event evs[256], lev = {.events = EPOLLIN};
	int lfd, ep, one = 1;

	signal(SIGCHLD, SIG_IGN); /* children reap themselves */
	signal(SIGPIPE, SIG_IGN);
	if (inet_pton(AF_INET, o->host, &a.sin_addr) != 1) {
		fprintf(stderr, "relay: IPv4 address expected: %s\n", o->host);
		return 2;
	}
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    listen(lfd, 4096) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &len) < 0) {
		perror("relay");
		return 1;
	}
	fprintf(stderr, "relay info listening on %s:%d\n", o->host,
		ntohs(a.sin_port));
	ep = epoll_create1(EPOLL_CLOEXEC);
	lev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);

		for (int i = 0; i < n; i++) {
			struct relay *r = evs[i].data.ptr;

			if (!r)
				relay_accept(ep, lfd, o->prog);
			else if (!r->dead)
				relay_pump(r);
		}
		while (dead_list) {
			struct relay *r = dead_list;

			dead_list = r->next_dead;
			free(r);
		}
	}
}
