/* pipe2 and accept4: Linux and the BSDs; POSIX.1-2024. */
#define _GNU_SOURCE
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Pipe with both ends close-on-exec and non-blocking. O_NONBLOCK lives on
 * each end's open file description, so the child clears it on its own ends
 * (exec_child): two system calls fewer per pipe in the event loop. */
static int make_pipe(int p[2])
{
	return pipe2(p, O_CLOEXEC | O_NONBLOCK);
}

/* RLIMIT_NOFILE as portal-gw found it, given back to every child; valid
 * when nofile_raised. */
static struct rlimit nofile_orig;
static int nofile_raised;

long child_raise_nofile(void)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r) < 0)
		return -1;
	if (r.rlim_cur == r.rlim_max || nofile_raised)
		return (long)r.rlim_cur;
	struct rlimit up = { r.rlim_max, r.rlim_max };
	if (setrlimit(RLIMIT_NOFILE, &up) < 0)
		return (long)r.rlim_cur;
	nofile_orig = r;
	nofile_raised = 1;
	return (long)up.rlim_cur;
}

/* In the forked child: never returns. Only async-signal-safe calls from
 * here to execve (the parent may have been anywhere in malloc or stdio). */
static void exec_child(const char *path, char *const argv[], char *const envp[],
		       const int fd[3], int status_fd)
{
	sigset_t none;
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	/* Every disposition, not only ours: a signal portal-gw inherited as
	 * ignored (nohup, a shell's background job) is not passed on. Fails
	 * harmlessly for SIGKILL, SIGSTOP and libc's internal signals. */
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &dfl, NULL);
	setpgid(0, 0);
	/* Programs that select() or loop over every possible descriptor
	 * expect the usual limit, not the gateway's. */
	if (nofile_raised)
		setrlimit(RLIMIT_NOFILE, &nofile_orig);
	/* dup2 clears close-on-exec on the copies. fds 0-2 of portal-gw are
	 * always open (main ensures it), so no pipe end is 0, 1 or 2 and no
	 * dup2 here overwrites a source of a later one. */
	for (int i = 0; i < 3; i++) {
		if (dup2(fd[i], i) < 0 || fcntl(i, F_SETFL, 0) < 0)
			goto fail;
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(path, argv, envp);
fail:;
	int e = errno;
	/* 4 bytes into an empty pipe: atomic, never short. */
	if (write(status_fd, &e, sizeof e) < 0) {
	}
	_exit(127);
}

int child_spawn(const char *path, char *const argv[], char *const envp[],
		struct child *c)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	int st[2] = { -1, -1 };
	int rc = 0;
	sigset_t all, old;

	if (make_pipe(in) < 0 || make_pipe(out) < 0 || make_pipe(err) < 0 ||
	    make_pipe(st) < 0) {
		rc = errno;
		goto close_all;
	}
	/* No handler of ours may run in the child (it would write to the
	 * parent's self-pipe); the child unblocks after resetting them. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid_t pid = fork();
	if (pid == 0) {
		const int fd[3] = { in[0], out[1], err[1] };
		exec_child(path, argv, envp, fd, st[1]);
	}
	if (pid < 0)
		rc = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		goto close_all;
	/* Also here, so that a signal to the group right after this return
	 * cannot miss a child that has not run yet; fails harmlessly (EACCES)
	 * once it has exec'd. */
	setpgid(pid, pid);

	close(in[0]);
	close(out[1]);
	close(err[1]);
	close(st[1]);
	c->pid = pid;
	c->in = in[1];
	c->out = out[0];
	c->err = err[0];
	c->exec_fd = st[0];
	return 0;

close_all:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
		if (st[i] >= 0)
			close(st[i]);
	}
	return rc;
}

int child_exec_result(int fd)
{
	int e;
	ssize_t n;
	do
		n = read(fd, &e, sizeof e);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n == (ssize_t)sizeof e)
		return e;
	if (n < 0)
		return errno == EAGAIN ? EINPROGRESS : errno;
	return EIO; /* a short write of 4 bytes to a pipe cannot happen */
}

int child_kill_group(pid_t pid, int sig)
{
	return kill(-pid, sig);
}

const char *child_signal_name(int sig, char *buf, size_t len)
{
	static const struct {
		int sig;
		const char *name;
	} names[] = {
		{ SIGHUP, "SIGHUP" },   { SIGINT, "SIGINT" },   { SIGQUIT, "SIGQUIT" },
		{ SIGILL, "SIGILL" },   { SIGTRAP, "SIGTRAP" }, { SIGABRT, "SIGABRT" },
		{ SIGBUS, "SIGBUS" },   { SIGFPE, "SIGFPE" },   { SIGKILL, "SIGKILL" },
		{ SIGUSR1, "SIGUSR1" }, { SIGSEGV, "SIGSEGV" }, { SIGUSR2, "SIGUSR2" },
		{ SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" }, { SIGTERM, "SIGTERM" },
		{ SIGCHLD, "SIGCHLD" }, { SIGCONT, "SIGCONT" }, { SIGSTOP, "SIGSTOP" },
		{ SIGTSTP, "SIGTSTP" }, { SIGTTIN, "SIGTTIN" }, { SIGTTOU, "SIGTTOU" },
		{ SIGURG, "SIGURG" },   { SIGXCPU, "SIGXCPU" }, { SIGXFSZ, "SIGXFSZ" },
		{ SIGVTALRM, "SIGVTALRM" }, { SIGPROF, "SIGPROF" },
		{ SIGSYS, "SIGSYS" },
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (names[i].sig == sig)
			return names[i].name;
	}
	snprintf(buf, len, "signal %d", sig);
	return buf;
}
