/* Child processes: spawn with three pipes in a new process group, signal the
 * group; whether exec worked is known through a close-on-exec pipe.
 * Protocol-blind. */
#ifndef PORTAL_CHILD_H
#define PORTAL_CHILD_H

#include <stddef.h>
#include <sys/types.h>

struct child {
	pid_t pid;   /* also the process group id */
	int in;      /* write end of the child's stdin */
	int out;     /* read end of its stdout */
	int err;     /* read end of its stderr */
	int exec_fd; /* read end of the exec status pipe: see child_exec_result */
	void *mem;   /* path, argv, envp as the child reads them; see below */
};

/* Starts path with argv and envp (NULL-terminated) in a process group of its
 * own, with stdin, stdout and stderr on pipes whose parent ends are stored in
 * *c, non-blocking and close-on-exec; the child's ends are blocking and the
 * child inherits no other descriptor, an empty signal mask and default
 * dispositions.
 *
 * It returns as soon as the child exists, without waiting for the exec:
 * a spawner thread vforks it (on Linux, clones it: see child.c and
 * child_init), so that neither the page tables of a fork nor the 0.5-1 ms
 * until the exec (which glibc's posix_spawn would block the caller for)
 * fall on the caller; past a few execs held up at once, it forks. Whether exec worked arrives later on c->exec_fd
 * (non-blocking, close-on-exec; the caller closes it): see
 * child_exec_result. If it failed, the child exits 127 and must still be
 * reaped. c->mem holds the child's copy of path, argv and envp: the caller
 * frees it once the exec's outcome is known or the child is reaped, not
 * before (a vfork'd child reads it from our memory).
 * Returns 0, or an errno value (EMFILE, EAGAIN, ENOMEM...) with nothing
 * left open and no child. */
int child_spawn(const char *path, char *const argv[], char *const envp[],
		struct child *c);

/* On Linux, when nofile (the descriptor limit) is at least 1024, reserves
 * the low descriptors that spawning uses (17, on /dev/null), so that a
 * child need not copy the whole descriptor table; call it before opening
 * anything else. Returns 0, or -1 with errno; without it children are
 * still started, each with a copy of the table. */
int child_init(long nofile);

/* Reads the exec status pipe fd once it is readable. Returns 0 when the exec
 * succeeded (end of file: the child's end closed on exec), EINPROGRESS when
 * nothing is known yet, or the errno of the failed exec (ENOENT, EACCES,
 * ENOEXEC...), which the child also ends on with status 127. */
int child_exec_result(int fd);

/* Raises this process's RLIMIT_NOFILE soft limit to the hard limit (each
 * session holds 4 descriptors); children started afterwards get the
 * original soft limit back. Returns the limit now in force, or -1. */
long child_raise_nofile(void);

/* Sends sig to the whole process group of pid. Returns 0, or -1 with errno
 * (ESRCH when no process of the group is left). */
int child_kill_group(pid_t pid, int sig);

/* Text for a signal number, e.g. "SIGTERM"; "signal N" for unknown ones,
 * written to buf. */
const char *child_signal_name(int sig, char *buf, size_t len);

#endif
