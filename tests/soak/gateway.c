/* soak's view of the gateway process: starting it with one resource per
 * kind of child and finding its port, reading its RSS, descriptors and
 * children from /proc, reaping it, and killing what it left behind. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "soak.h"

struct sockaddr_in gw_addr;
pid_t gw_pid = -1;
int gw_status = -1;

#define LOG_STALL_EVERY_MS 5000

static pid_t log_pid = -1; /* the slow log reader, if any */

long proc_rss_kb(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	FILE *f = fopen(path, "r");
	long kb = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}

int proc_fd_count(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.')
			n++;
	}
	closedir(d);
	return n;
}

/* The processes whose parent is pid, from /proc. */
void proc_children(pid_t parent, struct kids *k)
{
	memset(k, 0, sizeof *k);
	DIR *d = opendir("/proc");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		char path[300], buf[512];
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		char *r = strrchr(buf, ')');
		char st;
		long ppid;
		if (!r || sscanf(r + 1, " %c %ld", &st, &ppid) != 2 ||
		    ppid != (long)parent)
			continue;
		k->total++;
		if (st == 'Z')
			k->zombies++;
		if (k->nlist < 8) {
			k->list[k->nlist] = strtol(e->d_name, NULL, 10);
			k->state[k->nlist++] = st;
		}
	}
	closedir(d);
}

void gw_kill_leftovers(void)
{
	/* We are a subreaper: whatever the gateway left is ours now. */
	int64_t end = clock_ms() + 5000;
	for (;;) {
		struct kids k;
		proc_children(getpid(), &k);
		if (k.total == 0 || clock_ms() > end)
			break;
		for (int i = 0; i < k.nlist; i++) {
			kill(-(pid_t)k.list[i], SIGKILL);
			kill((pid_t)k.list[i], SIGKILL);
		}
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		usleep(20000);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

void gw_abort_run(const char *why)
{
	fprintf(stderr, "soak: %s; killing the gateway\n", why);
	if (gw_pid > 0 && gw_status < 0) {
		kill(gw_pid, SIGKILL);
		waitpid(gw_pid, NULL, 0);
	}
	gw_kill_leftovers();
	exit(2);
}

bool gw_exited(void)
{
	if (gw_status >= 0)
		return true;
	int st;
	pid_t r = waitpid(gw_pid, &st, WNOHANG);
	if (r == gw_pid) {
		gw_status = st;
		return true;
	}
	return false;
}

static void quote_into(char *out, size_t cap, const char *s)
{
	if (strchr(s, '\'')) {
		fprintf(stderr, "soak: a path with a quote: %s\n", s);
		exit(2);
	}
	snprintf(out, cap, "'%s'", s);
}

/* The slow log reader: copies the gateway's stderr from in to out at about
 * rate bytes a second, and stops reading for stall_ms every
 * LOG_STALL_EVERY_MS, as a log collector that falls behind would; it never
 * catches up after a stall. Exits at EOF. */
static void log_reader(int in, int out, unsigned rate, unsigned stall_ms)
{
	char buf[4096];
	int64_t start = clock_ms(), next_stall = start + LOG_STALL_EVERY_MS;
	uint64_t got = 0;
	for (;;) {
		ssize_t n = read(in, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);
		for (ssize_t o = 0; o < n;) {
			ssize_t w = write(out, buf + o, (size_t)(n - o));
			if (w <= 0)
				_exit(1);
			o += w;
		}
		got += (uint64_t)n;
		int64_t t = clock_ms();
		if (stall_ms && t >= next_stall) {
			usleep(stall_ms * 1000u);
			start += stall_ms;
			t = clock_ms();
			next_stall = t + LOG_STALL_EVERY_MS;
		}
		int64_t due = start + (int64_t)(got * 1000 / rate);
		if (due > t)
			usleep((useconds_t)(due - t) * 1000u);
	}
}

/* The gateway's stderr: the log file, or with log_rate a pipe to a slow
 * reader (log_reader) that copies it there. */
static int log_sink(int lfd, unsigned log_rate, unsigned log_stall_ms)
{
	int p[2];
	if (!log_rate)
		return lfd;
	if (pipe2(p, O_CLOEXEC) < 0) {
		perror("soak: pipe");
		exit(2);
	}
	log_pid = fork();
	if (log_pid < 0) {
		perror("soak: fork");
		exit(2);
	}
	if (log_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[1]);
		log_reader(p[0], lfd, log_rate, log_stall_ms);
	}
	close(p[0]);
	close(lfd);
	return p[1];
}

void gw_log_wait(void)
{
	if (log_pid < 0)
		return;
	int64_t end = clock_ms() + 10000;
	while (waitpid(log_pid, NULL, WNOHANG) == 0) {
		if (clock_ms() > end) {
			fprintf(stderr, "soak: the log reader did not finish\n");
			kill(log_pid, SIGKILL);
			waitpid(log_pid, NULL, 0);
			break;
		}
		usleep(20000);
	}
	log_pid = -1;
}

void gw_start(const char *gw, const char *child, const char *hang,
	      const char *dir, unsigned ping_ms, unsigned log_rate,
	      unsigned log_stall_ms)
{
	char log[PATH_MAX + 32], clog[PATH_MAX + 32], qc[PATH_MAX + 2],
		qh[PATH_MAX + 2], ql[PATH_MAX + 40], ping[32];
	snprintf(log, sizeof log, "%s/gw.log", dir);
	snprintf(clog, sizeof clog, "%s/children.log", dir);
	quote_into(qc, sizeof qc, child);
	quote_into(qh, sizeof qh, hang);
	quote_into(ql, sizeof ql, clog);
	static char res[7][3 * PATH_MAX + 100];
	static const char *const modes[] = { "echo", "crash", "flood", "errflood",
					     "early", "errecho" };
	char *argv[64];
	int a = 0;
	argv[a++] = (char *)gw;
	argv[a++] = "--address";
	argv[a++] = "127.0.0.1";
	argv[a++] = "--port";
	argv[a++] = "0";
	if (ping_ms) {
		snprintf(ping, sizeof ping, "%u", ping_ms);
		argv[a++] = "--ping-interval";
		argv[a++] = ping;
	}
	char *extra = getenv("SOAK_GW_ARGS") ? strdup(getenv("SOAK_GW_ARGS"))
					      : NULL;
	for (char *t = extra ? strtok(extra, " ") : NULL; t && a < 40;
	     t = strtok(NULL, " "))
		argv[a++] = t;
	for (int i = 0; i < 6; i++) {
		snprintf(res[i], sizeof res[i], "/%s=%s %s %s", modes[i], qc,
			 modes[i], ql);
		argv[a++] = res[i];
	}
	snprintf(res[6], sizeof res[6], "/hang=/bin/sh %s %s", qh, ql);
	argv[a++] = res[6];
	argv[a] = NULL;

	int lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (lfd < 0) {
		fprintf(stderr, "soak: %s: %s\n", log, strerror(errno));
		exit(2);
	}
	fflush(NULL);
	lfd = log_sink(lfd, log_rate, log_stall_ms);
	gw_pid = fork();
	if (gw_pid < 0) {
		perror("soak: fork");
		exit(2);
	}
	if (gw_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGPIPE, SIG_DFL);
		int nul = open("/dev/null", O_RDWR);
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(lfd, 2);
		execv(gw, argv);
		dprintf(2, "soak: exec %s: %s\n", gw, strerror(errno));
		_exit(127);
	}
	close(lfd);
	free(extra);

	/* Its port, from "listening on 127.0.0.1:PORT". */
	int64_t end = clock_ms() + 5000;
	for (;;) {
		FILE *f = fopen(log, "r");
		char line[512];
		long port = 0;
		while (f && fgets(line, sizeof line, f)) {
			char *p = strstr(line, "listening on 127.0.0.1:");
			if (p)
				port = strtol(p + 23, NULL, 10);
		}
		if (f)
			fclose(f);
		if (port > 0 && port < 65536) {
			gw_addr.sin_family = AF_INET;
			gw_addr.sin_port = htons((uint16_t)port);
			gw_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			return;
		}
		if (gw_exited() || clock_ms() > end) {
			fprintf(stderr, "soak: the gateway did not start; its log:\n");
			FILE *g = fopen(log, "r");
			while (g && fgets(line, sizeof line, g))
				fputs(line, stderr);
			if (g)
				fclose(g);
			gw_abort_run("no gateway");
		}
		usleep(20000);
	}
}

struct sample peak;

void gw_sample(void)
{
	long rss = proc_rss_kb(gw_pid);
	int fds = proc_fd_count(gw_pid);
	struct kids k;
	proc_children(gw_pid, &k);
	if (rss > peak.rss_kb)
		peak.rss_kb = rss;
	if (fds > peak.fds)
		peak.fds = fds;
	if (k.total > peak.kids)
		peak.kids = k.total;
}
