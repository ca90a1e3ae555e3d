/* A child and its pipes (proc.h). Its state is this file's alone:
 *
 *   PS_RUNNING -> PS_EOF_SENT -> PS_INT_SENT -> PS_TERM_SENT -> PS_KILL_SENT
 *        \____________\_____________\______________\_____________\-> PS_REAPED
 *
 * child_timer drives the escalation while the child runs, and after it
 * is reaped, the end of a stdout that something it started still holds.
 */
#include "proc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "child.h"
#include "log.h"
#include "loop.h"
#include "server.h"

#define READ_CHUNK PROC_READ_MAX /* one read from a pipe */
#define ERR_DRAIN_READS 4  /* of READ_CHUNK, from a dead child's stderr */
#define EOF_GRACE_MS 100   /* after stdin EOF, before SIGINT (+closems) */
#define INT_GRACE_MS 200   /* after SIGINT, before SIGTERM (+closems) */
#define KILL_GRACE_MS 300  /* after SIGTERM, before SIGKILL (+closems) */

enum proc_state {
	PS_RUNNING,
	PS_EOF_SENT,  /* stdin closed (or closing); SIGINT when the timer fires */
	PS_INT_SENT,  /* SIGTERM when the timer fires */
	PS_TERM_SENT, /* SIGKILL when the timer fires */
	PS_KILL_SENT,
	PS_REAPED,
};

struct proc {
	struct server *srv;
	struct loop *loop;
	const struct proc_ops *ops;
	void *owner;
	struct proc_limits lim;
	char tag[32];
	enum proc_state ps;
	pid_t pid;
	int in, out, err, exec_fd;
	void *spawn_mem;   /* struct child's mem: freed once reaped */
	bool exec_known;   /* the pipes may be read */
	bool out_paused, err_paused;
	bool in_full;      /* the stdin pipe took less than offered */
	struct buf tochild;
	size_t partial;    /* bytes at the end of tochild held back */
	uint64_t out_read; /* when stdout last gave bytes */
	struct loop_timer timer;
	bool suspect;      /* on srv->suspects */
	struct proc *sus_prev, *sus_next;
};

static void on_timer(struct loop *l, struct loop_timer *t);

/* --- descriptors -------------------------------------------------------- */

static void close_fd(struct proc *p, int *fd)
{
	if (*fd < 0)
		return;
	loop_del(p->loop, *fd);
	close(*fd);
	*fd = -1;
}

static void set_interest(struct proc *p)
{
	if (p->in >= 0)
		loop_set(p->loop, p->in,
			 p->tochild.len > p->partial ? LOOP_WRITE : 0);
	if (!p->exec_known)
		return;
	if (p->out >= 0)
		loop_set(p->loop, p->out, p->out_paused ? 0 : LOOP_READ);
	if (p->err >= 0)
		loop_set(p->loop, p->err, p->err_paused ? 0 : LOOP_READ);
}

void proc_close_in(struct proc *p)
{
	close_fd(p, &p->in);
	buf_free(&p->tochild);
	p->partial = 0;
}

/* --- reaping by pid ----------------------------------------------------- */

static void suspect_del(struct proc *p)
{
	if (!p->suspect)
		return;
	if (p->sus_prev)
		p->sus_prev->sus_next = p->sus_next;
	else
		p->srv->suspects = p->sus_next;
	if (p->sus_next)
		p->sus_next->sus_prev = p->sus_prev;
	p->sus_prev = p->sus_next = NULL;
	p->suspect = false;
}

static bool try_reap(struct proc *p)
{
	int st;
	pid_t r;
	do
		r = waitpid(p->pid, &st, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r != p->pid)
		return false;
	proc_reaped(p, st);
	return true;
}

/* The child has most likely exited: reaped by pid now if it has, else at
 * the next SIGCHLD. */
static void suspect(struct proc *p)
{
	if (p->suspect || p->ps == PS_REAPED || try_reap(p))
		return;
	p->suspect = true;
	p->sus_prev = NULL;
	p->sus_next = p->srv->suspects;
	if (p->sus_next)
		p->sus_next->sus_prev = p;
	p->srv->suspects = p;
}

void proc_reap_suspects(struct server *srv)
{
	struct proc *p, *next;
	for (p = srv->suspects; p; p = next) {
		next = p->sus_next;
		try_reap(p);
	}
}

static void check_exec(struct proc *p);

void proc_reaped(struct proc *p, int status)
{
	/* A failed exec is told as such, whichever of its status pipe and
	 * the exit the loop saw first. */
	check_exec(p);
	suspect_del(p);
	server_child_del(p->srv, p->pid);
	p->ps = PS_REAPED;
	proc_close_in(p);
	loop_timer_stop(p->loop, &p->timer);
	if (p->out >= 0)
		loop_timer_start(p->loop, &p->timer,
				 EOF_GRACE_MS + p->lim.closems, on_timer);
	p->ops->exited(p->owner, status);
}

/* --- the exec ------------------------------------------------------------ */

static void forget_exec(struct proc *p)
{
	close_fd(p, &p->exec_fd);
	p->exec_known = true;
	set_interest(p);
}

static void check_exec(struct proc *p)
{
	if (p->exec_fd < 0)
		return;
	int err = child_exec_result(p->exec_fd);
	if (err == EINPROGRESS)
		return;
	forget_exec(p);
	free(p->spawn_mem); /* the child is done with it */
	p->spawn_mem = NULL;
	if (!err) {
		p->ops->exec_done(p->owner, 0);
		return;
	}
	if (p->ps == PS_RUNNING)
		p->ps = PS_KILL_SENT; /* it exits 127 by itself */
	proc_close_in(p);
	close_fd(p, &p->out);
	close_fd(p, &p->err);
	p->ops->exec_done(p->owner, err);
	suspect(p);
}

static void on_exec(struct loop *l, int fd, unsigned ev, void *arg)
{
	(void)l;
	(void)fd;
	(void)ev;
	check_exec(arg);
}

void proc_abandon_exec(struct proc *p)
{
	if (p->exec_fd >= 0)
		forget_exec(p);
}

/* --- stdin ---------------------------------------------------------------- */

/* Writes what is queued. A short write or EAGAIN means the pipe is full:
 * no more attempts until it is writable again (in_full), rather than one
 * failing write per message meanwhile. */
static void flush_in(struct proc *p)
{
	while (p->in >= 0 && p->tochild.len > p->partial && !p->in_full) {
		size_t want = p->tochild.len - p->partial;
		ssize_t n = write(p->in, buf_data(&p->tochild), want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			p->in_full = true;
			break;
		}
		if (n <= 0) {
			log_msg(LV_DEBUG, "%s child's stdin: %s", p->tag,
				strerror(errno));
			proc_close_in(p);
			break;
		}
		buf_consume(&p->tochild, (size_t)n);
		p->in_full = (size_t)n < want;
	}
	if (p->in >= 0 && p->tochild.len == 0 && p->ps != PS_RUNNING)
		proc_close_in(p);
	if (p->in >= 0)
		loop_set(p->loop, p->in,
			 p->tochild.len > p->partial ? LOOP_WRITE : 0);
}

static void on_in(struct loop *l, int fd, unsigned ev, void *arg)
{
	(void)l;
	(void)fd;
	(void)ev;
	struct proc *p = arg;
	p->in_full = false;
	flush_in(p);
	p->ops->stdin_room(p->owner);
}

bool proc_write(struct proc *p, const uint8_t *b, size_t n)
{
	if (p->in < 0 || p->ps != PS_RUNNING)
		return true; /* nobody reads any more */
	if (buf_append(&p->tochild, b, n) < 0) {
		log_msg(LV_ERROR, "%s out of memory", p->tag);
		proc_close_in(p);
		return false;
	}
	p->partial += n;
	return true;
}

void proc_commit(struct proc *p)
{
	p->partial = 0;
}

void proc_flush(struct proc *p)
{
	flush_in(p);
}

size_t proc_queued(const struct proc *p)
{
	return p->tochild.len - p->partial;
}

/* --- stdout and stderr ---------------------------------------------------- */

static void end_out(struct proc *p)
{
	if (p->out < 0)
		return;
	close_fd(p, &p->out);
	p->ops->out_eof(p->owner);
	suspect(p); /* stdout ends when a child exits */
}

static void on_out(struct loop *l, int fd, unsigned ev, void *arg)
{
	(void)fd;
	(void)ev;
	static uint8_t chunk[READ_CHUNK];
	struct proc *p = arg;
	ssize_t n = read(p->out, chunk, sizeof chunk);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		end_out(p);
		return;
	}
	p->out_read = loop_now(l);
	p->ops->out(p->owner, chunk, (size_t)n);
}

static void end_err(struct proc *p)
{
	close_fd(p, &p->err);
	p->ops->err(p->owner, NULL, 0);
}

static void on_err(struct loop *l, int fd, unsigned ev, void *arg)
{
	(void)l;
	(void)fd;
	(void)ev;
	/* The same budget per wake-up as stdout, so that a flood of stderr
	 * neither waits behind stdout nor takes more than its share. */
	static uint8_t chunk[READ_CHUNK];
	struct proc *p = arg;
	ssize_t n = read(p->err, chunk, sizeof chunk);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		end_err(p);
		return;
	}
	p->ops->err(p->owner, chunk, (size_t)n);
}

void proc_drain_err(struct proc *p)
{
	static uint8_t chunk[READ_CHUNK];
	for (int i = 0; i < ERR_DRAIN_READS && p->err >= 0; i++) {
		ssize_t n = read(p->err, chunk, sizeof chunk);
		if (n <= 0)
			break;
		p->ops->err(p->owner, chunk, (size_t)n);
	}
	if (p->err >= 0)
		end_err(p);
}

void proc_pause_out(struct proc *p, bool paused)
{
	p->out_paused = paused;
	if (p->exec_known && p->out >= 0)
		loop_set(p->loop, p->out, paused ? 0 : LOOP_READ);
}

void proc_pause_err(struct proc *p, bool paused)
{
	p->err_paused = paused;
	if (p->exec_known && p->err >= 0)
		loop_set(p->loop, p->err, paused ? 0 : LOOP_READ);
}

/* --- the end ---------------------------------------------------------------- */

static void signal_group(struct proc *p, int sig, enum proc_state next,
			 unsigned wait_ms)
{
	char name[32];
	log_msg(sig == SIGKILL ? LV_INFO : LV_DEBUG,
		"%s child %ld %s; %s", p->tag, (long)p->pid,
		sig == SIGKILL ? "ignored SIGTERM" : "still running",
		child_signal_name(sig, name, sizeof name));
	child_kill_group(p->pid, sig);
	p->ps = next;
	if (wait_ms)
		loop_timer_start(p->loop, &p->timer, wait_ms + p->lim.closems,
				 on_timer);
}

/* The child is gone but something it started still holds its stdout.
 * While output still flows (or waits on a slow reader) it is passed on;
 * once the pipe has been quiet for the grace period, the group is ended
 * and so is the output. */
static void end_orphaned_out(struct proc *p)
{
	int queued = 0;
	unsigned grace = EOF_GRACE_MS + p->lim.closems;
	if (p->out >= 0 &&
	    (loop_now(p->loop) - p->out_read < grace || p->out_paused ||
	     (ioctl(p->out, FIONREAD, &queued) == 0 && queued > 0))) {
		loop_timer_start(p->loop, &p->timer, grace, on_timer);
		return;
	}
	child_kill_group(p->pid, SIGTERM);
	end_out(p);
}

static void on_timer(struct loop *l, struct loop_timer *t)
{
	(void)l;
	struct proc *p = LOOP_TIMER_OWNER(t, struct proc, timer);
	switch (p->ps) {
	case PS_EOF_SENT:
		/* SIGINT first, as websocketd: a Python child cleans up on
		 * it (KeyboardInterrupt, finally), but dies at once on
		 * SIGTERM. */
		signal_group(p, SIGINT, PS_INT_SENT, INT_GRACE_MS);
		break;
	case PS_INT_SENT:
		signal_group(p, SIGTERM, PS_TERM_SENT, KILL_GRACE_MS);
		break;
	case PS_TERM_SENT:
		signal_group(p, SIGKILL, PS_KILL_SENT, 0);
		break;
	case PS_REAPED:
		end_orphaned_out(p);
		break;
	default:
		break;
	}
}

void proc_stop(struct proc *p)
{
	if (p->ps != PS_RUNNING)
		return;
	p->ps = PS_EOF_SENT;
	/* A message cut short by its sender's end is not delivered. */
	p->tochild.len -= p->partial;
	p->partial = 0;
	if (p->tochild.len == 0)
		buf_free(&p->tochild);
	flush_in(p);
	loop_timer_start(p->loop, &p->timer, EOF_GRACE_MS + p->lim.closems,
			 on_timer);
}

void proc_kill(struct proc *p)
{
	if (p->ps == PS_REAPED)
		return;
	child_kill_group(p->pid, SIGKILL);
	p->ps = PS_KILL_SENT;
}

void proc_finish(struct proc *p)
{
	proc_close_in(p);
	proc_drain_err(p);
	/* Whatever the child left running in its group goes with it, also
	 * what ignores SIGTERM (and SIGINT, as a shell's background jobs
	 * do, which outlive a leader that SIGINT ended). */
	if (p->ps == PS_REAPED)
		server_end_group(p->srv, p->pid, KILL_GRACE_MS + p->lim.closems);
	loop_timer_stop(p->loop, &p->timer);
}

/* --- start and free ---------------------------------------------------------- */

/* Puts the new child's descriptors on the loop; 0 or an errno. */
static int watch(struct proc *p)
{
	struct loop *l = p->loop;
	if (loop_add(l, p->in, 0, on_in, p) < 0 ||
	    loop_add(l, p->out, 0, on_out, p) < 0 ||
	    loop_add(l, p->err, 0, on_err, p) < 0 ||
	    loop_add(l, p->exec_fd, LOOP_READ, on_exec, p) < 0)
		return errno;
	return 0;
}

int proc_start(struct server *srv, const struct proc_limits *lim,
	       const char *tag, const char *path, char *const argv[],
	       char *const envp[], const struct proc_ops *ops, void *owner,
	       struct proc **pp)
{
	*pp = NULL;
	struct proc *p = calloc(1, sizeof *p);
	if (!p)
		return ENOMEM;
	struct child ch;
	int err = child_spawn(path, argv, envp, &ch);
	if (err) {
		free(p);
		return err;
	}
	p->srv = srv;
	p->loop = srv->loop;
	p->ops = ops;
	p->owner = owner;
	p->lim = *lim;
	snprintf(p->tag, sizeof p->tag, "%s", tag);
	p->pid = ch.pid;
	p->in = ch.in;
	p->out = ch.out;
	p->err = ch.err;
	p->exec_fd = ch.exec_fd;
	p->spawn_mem = ch.mem;
	p->ps = PS_RUNNING;
	*pp = p;
	if (server_child_add(srv, p->pid, p) < 0) {
		/* It could never be told apart from an orphan when reaped. */
		log_msg(LV_ERROR, "%s out of memory", p->tag);
		child_kill_group(p->pid, SIGKILL);
	}
	err = watch(p);
	if (err) {
		/* Whichever were added go with their descriptors. */
		proc_kill(p);
		proc_close_in(p);
		close_fd(p, &p->out);
		close_fd(p, &p->err);
		close_fd(p, &p->exec_fd);
		suspect(p);
	}
	return err;
}

void proc_free(struct proc *p)
{
	if (!p)
		return;
	suspect_del(p);
	if (p->ps != PS_REAPED)
		server_child_del(p->srv, p->pid);
	loop_timer_stop(p->loop, &p->timer);
	proc_close_in(p);
	close_fd(p, &p->out);
	close_fd(p, &p->err);
	close_fd(p, &p->exec_fd);
	free(p->spawn_mem); /* reaped, or left as an orphan */
	free(p);
}

pid_t proc_pid(const struct proc *p)
{
	return p->pid;
}
