/* A child process with its three pipes, known to nobody but its owner:
 * spawn, the exec's outcome, a bounded stdin queue, stdout and stderr as
 * they come, the end (stdin EOF, then SIGINT, SIGTERM and SIGKILL to its
 * process group while it does not exit) and reaping. It knows no socket
 * and no protocol: it reports upward through struct proc_ops only, so a
 * proc may have one connection as its owner, many, or none. */
#ifndef PORTAL_PROC_H
#define PORTAL_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct proc;
struct server;

#define PROC_STDIN_HIGH 65536 /* stdin queue high-water mark */
#define PROC_READ_MAX 65536   /* most bytes one out or err call passes */

/* What a proc needs of the command line, filled once by its owner. */
struct proc_limits {
	unsigned closems; /* --closems: added to each step of the end */
};

/* Calls to the owner. Each may call down into the proc (proc_write,
 * proc_stop...) but must not free it; none is made from within a call
 * down except where the function's comment says so. */
struct proc_ops {
	/* The exec's outcome: 0, the program runs (only now are its stdout
	 * and stderr read); else the errno of the failed start: the pipes
	 * are closed, no out/out_eof/err follows, exited does once the
	 * child (which exits 127) is reaped. */
	void (*exec_done)(void *owner, int err);
	/* n > 0 bytes the child wrote on stdout (p valid for the call). */
	void (*out)(void *owner, const uint8_t *p, size_t n);
	/* Its stdout has ended (closed by it, or ended by the proc once the
	 * child was reaped and the pipe went quiet). */
	void (*out_eof)(void *owner);
	/* Bytes from its stderr; n == 0: stderr has ended (nothing more). */
	void (*err)(void *owner, const uint8_t *p, size_t n);
	/* The stdin pipe was writable: what was queued has been written as
	 * far as the pipe takes; the queue may take more. */
	void (*stdin_room)(void *owner);
	/* The child has exited with wait status (reaped). Last call but
	 * out/out_eof/err for what it left in its pipes. */
	void (*exited)(void *owner, int status);
};

/* Starts path with argv and envp (NULL-terminated) through child_spawn,
 * in its own process group. tag (copied, cut to fit) names it in the log,
 * e.g. "#12". Its pipes are read only after exec_done(owner, 0).
 * Returns 0 with *pp set; or an errno: with *pp NULL when no child was
 * started, or with *pp set when one was but could not be watched (it is
 * killed, and exited follows when it is reaped). */
int proc_start(struct server *srv, const struct proc_limits *lim,
	       const char *tag, const char *path, char *const argv[],
	       char *const envp[], const struct proc_ops *ops, void *owner,
	       struct proc **pp);

/* Appends n bytes for the child's stdin, held back until proc_commit (a
 * message that has not fully arrived is never written in part). Bytes for
 * a child whose stdin is closed are dropped (true: nobody reads them).
 * Returns false when out of memory: the stdin is then closed (logged). */
bool proc_write(struct proc *p, const uint8_t *b, size_t n);
/* What proc_write held back may be written now (a message is whole). */
void proc_commit(struct proc *p);
/* Writes what is queued and committed, as far as the pipe takes: once
 * after a batch of messages rather than once each. */
void proc_flush(struct proc *p);
/* Bytes queued for stdin and not held back; the owner stops feeding at
 * PROC_STDIN_HIGH and resumes on stdin_room. */
size_t proc_queued(const struct proc *p);
/* Closes stdin now; whatever is still queued is dropped (CGI: the body
 * has been written, the script gets its EOF). */
void proc_close_in(struct proc *p);

/* Stops (true) or resumes reading stdout / stderr (backpressure). */
void proc_pause_out(struct proc *p, bool paused);
void proc_pause_err(struct proc *p, bool paused);

/* Ends the child: what is held back is dropped, stdin gets EOF after what
 * is queued, then SIGINT, SIGTERM and SIGKILL to its process group while
 * it does not exit (EOF_GRACE, INT_GRACE, KILL_GRACE ms apart, each plus
 * closems). Harmless when it is ending or gone. */
void proc_stop(struct proc *p);
/* SIGKILL to its group now, no escalation. */
void proc_kill(struct proc *p);
/* The owner no longer waits for the exec's outcome: no exec_done comes;
 * the pipes are read as a running child's. */
void proc_abandon_exec(struct proc *p);
/* Reads what stderr still holds (a bounded number of reads, without
 * blocking), passes it to err, and closes it (err with n == 0). May call
 * err from within. */
void proc_drain_err(struct proc *p);
/* The owner is done with it: stdin closed, stderr drained (err is called
 * from within), and once reaped, what is left of its process group is
 * ended (server_end_group). */
void proc_finish(struct proc *p);
/* Frees it; no callback afterwards. A child not yet reaped is forgotten
 * (reaped as an orphan). */
void proc_free(struct proc *p);

pid_t proc_pid(const struct proc *p);

/* For the server: p's child was reaped with status. */
void proc_reaped(struct proc *p, int status);
/* For the server at SIGCHLD: reaps by pid the children likely to have
 * exited (stdout ended, exec failed): one cheap waitpid each. */
void proc_reap_suspects(struct server *srv);

#endif
