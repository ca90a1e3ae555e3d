/* pipe2, dup3 and clone: Linux (pipe2 and dup3 also on the BSDs). */
#define _GNU_SOURCE
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#ifdef __linux__
#include <sched.h>
#include <sys/syscall.h>
#define SPAWN_CLONE 1
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1) /* <linux/close_range.h> */
#endif
#endif

/* Code that runs in a new child before its exec. A cloned child runs on a
 * stack AddressSanitizer knows nothing of, which its checks would take for
 * an overflow: they are left out of these few system calls. */
#if defined(__SANITIZE_ADDRESS__)
#define CHILD_SIDE __attribute__((no_sanitize_address))
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHILD_SIDE __attribute__((no_sanitize_address))
#endif
#endif
#ifndef CHILD_SIDE
#define CHILD_SIDE
#endif

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

/* Writes v, an int, to the status pipe: at most 8 bytes are ever in it, so
 * the write is whole and never blocks. */
CHILD_SIDE static void put_status(int fd, int v)
{
	if (write(fd, &v, sizeof v) < 0) {
	}
}

/* In the new child, vfork'd by a spawner thread or forked: never returns.
 * Only async-signal-safe calls from here to execve (the parent may have
 * been anywhere in malloc or stdio), and no writes to memory but our own
 * stack (a vfork'd child shares the parent's). */
CHILD_SIDE static void exec_child(const char *path, char *const argv[],
				  char *const envp[], const int fd[3],
				  int status_fd)
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
	put_status(status_fd, errno);
	_exit(127);
}

/* --- spawning -------------------------------------------------------- */

/* What the child reads up to its execve, copied into one block that the
 * caller keeps until the exec's outcome is known (struct child's mem): a
 * vfork'd child shares our memory, and the caller's envp may be on its
 * stack. */
struct spawn_args {
	const char *path;
	char **argv;
	char **envp;
};

static size_t count(char *const v[], size_t *bytes)
{
	size_t n = 0;
	for (; v[n]; n++)
		*bytes += strlen(v[n]) + 1;
	return n;
}

static char **copy_strings(char *const v[], size_t n, char **ptr, char **str)
{
	char **out = ptr;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(v[i]) + 1;
		memcpy(*str, v[i], len);
		out[i] = *str;
		*str += len;
	}
	out[n] = NULL;
	return out;
}

static void *pack(const char *path, char *const argv[], char *const envp[],
		  struct spawn_args *a)
{
	size_t bytes = strlen(path) + 1;
	size_t na = count(argv, &bytes), ne = count(envp, &bytes);
	size_t ptrs = (na + 1 + ne + 1) * sizeof(char *);
	char **block = malloc(ptrs + bytes);
	if (!block)
		return NULL;
	char *str = (char *)block + ptrs;
	a->argv = copy_strings(argv, na, block, &str);
	a->envp = copy_strings(envp, ne, block + na + 1, &str);
	a->path = strcpy(str, path);
	return block;
}

/* A spawn handed to a spawner thread. */
struct spawn_job {
	struct spawn_args a;
	int fd[3];     /* the child's stdin, stdout, stderr */
	int status_fd; /* write end of the exec status pipe */
};

/* Spawner threads vfork on the event loop's behalf. A vfork spares the
 * parent a fork's page-table copy and the copy-on-write faults that follow
 * it (about 100 us of CPU a session, measured), but suspends the caller
 * until the child has exec'd: a thread, not the loop. The loop hands over one job at a
 * time in sp_job and waits only for the child's pid, which the child
 * itself writes to the status pipe as soon as it runs. Past
 * SPAWN_THREADS_MAX busy threads (execs held up, say by a slow disk), the
 * loop forks instead. */
#define SPAWN_THREADS_MAX 4
#define SPAWN_STACK (256 * 1024)
static pthread_mutex_t sp_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sp_wake = PTHREAD_COND_INITIALIZER;
static struct spawn_job *sp_job; /* the job not yet taken */
static int sp_threads, sp_idle;

/* vforks a child for j; in the parent, returns its pid or -1 with errno,
 * and *told says whether the child wrote its pid. */
static pid_t spawn_vfork(const struct spawn_job *j, volatile bool *told)
{
	pid_t pid = vfork();
	if (pid == 0) {
		put_status(j->status_fd, (int)getpid());
		*told = true;
		exec_child(j->a.path, j->a.argv, j->a.envp, j->fd, j->status_fd);
	}
	return pid;
}

#ifdef SPAWN_CLONE
/* A vfork'd child also gets a copy of the whole descriptor table, and its
 * exec then closes every close-on-exec entry: next to 4,000 open sessions,
 * 16,000 of each per spawn. On Linux the child is cloned sharing our table
 * instead, and makes itself a small one with close_range's UNSHARE, which
 * copies only the descriptors below slot_end: its pipe ends are dup3'd
 * into slots reserved there at start (child_init), four per spawner
 * thread, each a /dev/null between spawns. */
#define CLONE_STACK (64 * 1024)
static int slots[SPAWN_THREADS_MAX * 4]; /* thread t: slots + 4 * t */
static int slot_null = -1, slot_end; /* 0: no slots, vfork */

struct clone_arg {
	const struct spawn_job *j;
	const int *slot; /* stdin, stdout, stderr, status */
	volatile bool told;
};

CHILD_SIDE static int clone_child(void *p)
{
	struct clone_arg *c = p;
	put_status(c->slot[3], (int)getpid());
	c->told = true;
	if (syscall(SYS_close_range, (unsigned)slot_end, ~0U,
		    CLOSE_RANGE_UNSHARE) < 0 && unshare(CLONE_FILES) < 0) {
		put_status(c->slot[3], errno);
		_exit(127);
	}
	exec_child(c->j->a.path, c->j->a.argv, c->j->a.envp, c->slot,
		   c->slot[3]);
	return 127;
}

static pid_t spawn_clone(const struct spawn_job *j, const int slot[4],
			 char *stack, volatile bool *told)
{
	const int src[4] = { j->fd[0], j->fd[1], j->fd[2], j->status_fd };
	struct clone_arg c = { j, slot, false };
	pid_t pid = -1;
	int k, err = 0;
	for (k = 0; k < 4; k++) {
		if (dup3(src[k], slot[k], O_CLOEXEC) < 0) {
			err = errno;
			break;
		}
	}
	if (k == 4) {
		pid = clone(clone_child, stack + CLONE_STACK,
			    CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, &c);
		err = errno;
	}
	/* Our references to the child's ends go; the child has its own. */
	for (k = 0; k < 4; k++)
		dup3(slot_null, slot[k], O_CLOEXEC);
	*told = c.told;
	errno = err;
	return pid;
}
#endif

int child_init(long nofile)
{
#ifdef SPAWN_CLONE
	/* Below that, sessions are too few for the copy to matter, and the
	 * descriptors are better left to them. */
	if (nofile < 1024)
		return 0;
	int n = SPAWN_THREADS_MAX * 4, top = -1, i;
	for (i = 0; i < n; i++) {
		if ((slots[i] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
			break;
		top = slots[i] > top ? slots[i] : top;
	}
	if (i == n && (slot_null = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0) {
		slot_end = top + 1;
		return 0;
	}
	int err = errno;
	while (i-- > 0)
		close(slots[i]);
	errno = err;
	return -1;
#else
	(void)nofile;
	return 0;
#endif
}

static void *spawner(void *arg)
{
	int t = (int)(intptr_t)arg; /* which slots are ours */
	(void)t;
	char *stack = NULL;
#ifdef SPAWN_CLONE
	if (slot_end)
		stack = malloc(CLONE_STACK);
#endif
	for (;;) {
		pthread_mutex_lock(&sp_lock);
		sp_idle++;
		while (!sp_job)
			pthread_cond_wait(&sp_wake, &sp_lock);
		sp_idle--;
		struct spawn_job j = *sp_job;
		sp_job = NULL;
		pthread_mutex_unlock(&sp_lock);
		/* Set by the child, in our memory, once it has said its pid. */
		volatile bool told = false;
		pid_t pid;
#ifdef SPAWN_CLONE
		if (stack)
			pid = spawn_clone(&j, slots + 4 * t, stack, &told);
		else
#endif
			pid = spawn_vfork(&j, &told);
		if (pid < 0)
			put_status(j.status_fd, -errno);
		else if (!told) /* killed before it could: the loop waits */
			put_status(j.status_fd, (int)pid);
	}
	return NULL;
}

/* Hands j to a spawner thread, starting one if none is idle. Returns false
 * when all SPAWN_THREADS_MAX are busy or no thread can be started. Called
 * with every signal blocked, which a new thread inherits for good. */
static bool hand_over(struct spawn_job *j)
{
	bool ok = true;
	pthread_mutex_lock(&sp_lock);
	if (sp_idle == 0) {
		pthread_attr_t at;
		pthread_t t;
		ok = sp_threads < SPAWN_THREADS_MAX &&
		     pthread_attr_init(&at) == 0;
		if (ok) {
			pthread_attr_setstacksize(&at, SPAWN_STACK);
			pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
			ok = pthread_create(&t, &at, spawner,
					    (void *)(intptr_t)sp_threads) == 0;
			pthread_attr_destroy(&at);
		}
		if (ok)
			sp_threads++;
	}
	if (ok) {
		sp_job = j;
		pthread_cond_signal(&sp_wake);
	}
	pthread_mutex_unlock(&sp_lock);
	return ok;
}

/* The first word on the status pipe of a handed-over job: the child's pid,
 * or minus the errno of a failed vfork. Waits for it. */
static int await_pid(int fd)
{
	for (;;) {
		int v;
		ssize_t n = read(fd, &v, sizeof v);
		if (n == (ssize_t)sizeof v)
			return v;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			poll(&p, 1, -1);
		} else if (n >= 0 || errno != EINTR)
			return n < 0 ? -errno : -EIO;
	}
}

int child_spawn(const char *path, char *const argv[], char *const envp[],
		struct child *c)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	int st[2] = { -1, -1 };
	int rc = 0;
	sigset_t all, old;
	struct spawn_job job;
	void *mem = NULL;

	if (make_pipe(in) < 0 || make_pipe(out) < 0 || make_pipe(err) < 0 ||
	    make_pipe(st) < 0) {
		rc = errno;
		goto close_all;
	}
	if (!(mem = pack(path, argv, envp, &job.a))) {
		rc = ENOMEM;
		goto close_all;
	}
	job.fd[0] = in[0];
	job.fd[1] = out[1];
	job.fd[2] = err[1];
	job.status_fd = st[1];
	/* No handler of ours may run in the child (it would write to the
	 * parent's self-pipe); the child unblocks after resetting them. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid_t pid;
	if (hand_over(&job)) {
		pid = await_pid(st[0]);
		if (pid <= 0) {
			errno = pid < 0 ? -pid : EIO;
			pid = -1;
		}
	} else {
		pid = fork();
		if (pid == 0)
			exec_child(path, argv, envp, job.fd, st[1]);
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

	/* The child has its own copies of these by now. */
	close(in[0]);
	close(out[1]);
	close(err[1]);
	close(st[1]);
	c->pid = pid;
	c->in = in[1];
	c->out = out[0];
	c->err = err[0];
	c->exec_fd = st[0];
	c->mem = mem;
	return 0;

close_all:
	free(mem);
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
