/* Child processes: spawn with three pipes in a new process group, signal the
 * group. Protocol-blind. */
#ifndef PORTAL_CHILD_H
#define PORTAL_CHILD_H

#include <stddef.h>
#include <sys/types.h>

struct child {
	pid_t pid; /* also the process group id */
	int in;    /* write end of the child's stdin */
	int out;   /* read end of its stdout */
	int err;   /* read end of its stderr */
};

/* Starts path with argv and envp (NULL-terminated) in a process group of its
 * own, with stdin, stdout and stderr on pipes whose parent ends are stored in
 * *c, non-blocking and close-on-exec; the child's ends are blocking and the
 * child inherits no other descriptor, an empty signal mask and default
 * dispositions. Uses posix_spawn, which on glibc and musl is a
 * clone(CLONE_VM|CLONE_VFORK) and reports exec failures.
 * Returns 0, or an errno value (ENOENT, EACCES, ENOEXEC, EMFILE, EAGAIN...)
 * with nothing left open. */
int child_spawn(const char *path, char *const argv[], char *const envp[],
		struct child *c);

/* Sends sig to the whole process group of pid. Returns 0, or -1 with errno
 * (ESRCH when no process of the group is left). */
int child_kill_group(pid_t pid, int sig);

/* Text for a signal number, e.g. "SIGTERM"; "signal N" for unknown ones,
 * written to buf. */
const char *child_signal_name(int sig, char *buf, size_t len);

#endif
