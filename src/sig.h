/* Signals as loop events through a self-pipe. */
#ifndef PORTAL_SIG_H
#define PORTAL_SIG_H

/* Ignores SIGPIPE and routes SIGCHLD, SIGTERM, SIGINT and SIGHUP to a
 * non-blocking, close-on-exec pipe. Returns its read end, or -1 with errno. */
int sig_init(void);

/* Reads the pending signals from the pipe's read end fd. Returns a bit set
 * with bit (1u << signo) for each signal that arrived; 0 when none. */
unsigned long sig_take(int fd);

#endif
