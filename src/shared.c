/* A shared route's program and its clients (shared.h). One struct shared
 * per route that has had a client; each start of its program is a struct
 * shared_run, which outlives its route's interest in it: a run that is
 * ended (linger, SIGTERM) or has exited is retired (run->sh NULL), drops
 * what it still prints, and frees itself once its child is reaped.
 *
 *   clients' messages -> whole lines (hub: "ID " each) -> program's stdin
 *   program's stdout -> lines -> a frame each, built once -> every member
 *
 * Pacing: stdout is read while at least one member's queue is below its
 * high-water mark (or there is no member: output then only feeds the
 * history), so a uniformly slow audience slows the program, and a single
 * slow client is cut at --maxqueue without the others noticing. Inbound:
 * while the stdin queue is over PROC_STDIN_HIGH no member reads; when it
 * has room, members are resumed in turn from where the last turn ended.
 * The broadcast and hub specifics are each in a section of their own. */
#include "shared.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "base64.h"
#include "buf.h"
#include "child.h"
#include "conn.h"
#include "framed.h"
#include "hist.h"
#include "http.h"
#include "hub.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "opts.h"
#include "outq.h"
#include "proc.h"
#include "program.h"
#include "route.h"
#include "server.h"
#include "utf8.h"
#include "ws.h"

#define QUICK_EXIT_MS 1000     /* a run shorter than this is a quick exit */
#define QUICK_EXITS 3          /* in a row: the back-off starts */
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 30000
#define STEADY_RUN_MS 10000    /* a run this long resets the back-off */
#define LINE_MAX_BYTES 1048576 /* a longer line goes out in pieces */
#define TAG_MAX 300
#define SHARED_OUT_HIGH 65536  /* a member's queue's high-water mark */

struct member {
	struct conn *c;
	char *join; /* hub: its "+ID" and "=ID" lines, until it opens */
};

struct members {
	struct member *m;
	size_t n, cap;
};

struct shared_run {
	struct shared *sh;      /* NULL once retired */
	struct server *srv;
	struct shared_run *prev, *next; /* srv->runs */
	struct proc *proc;
	char tag[TAG_MAX];      /* "broadcast /chat" */
	bool running;           /* the exec has worked */
	bool out_done, reaped, done;
	bool paused;            /* stdout not read: every member is full */
	int status;
	uint64_t started;
	struct buf line, errline;
	struct loop_timer free_timer;
};

struct shared {
	struct shared *next;    /* srv->shared */
	struct server *srv;
	enum route_kind kind;
	const char *path;       /* the resource's, as on the command line */
	size_t path_len;
	const char *program;
	char *const *argv;
	char tag[TAG_MAX];
	struct shared_run *run; /* the program now, or NULL */
	struct members mem;     /* its clients, in the order they joined */
	struct members wait;    /* clients waiting for its exec */
	size_t rr;              /* the next member's turn on stdin */
	struct loop_timer linger;
	struct loop_timer pump_timer;
	bool pumping;
	unsigned quick;         /* quick exits in a row */
	uint64_t backoff_ms, backoff_until;
	struct hist hist;       /* broadcast --history: frames */
	void **hslot;
	uint64_t starts, slow;
};

static const struct conn_ops binding_ops;
static const struct proc_ops run_ops;

static uint64_t now(const struct shared *sh)
{
	return loop_now(sh->srv->loop);
}

static const struct options *opts(const struct shared *sh)
{
	return sh->srv->opts;
}

static bool framed(const struct shared *sh)
{
	return opts(sh)->mode == MODE_FRAMED;
}

/* --- members ------------------------------------------------------------ */

static int members_add(struct members *ms, struct conn *c, char *join)
{
	if (ms->n == ms->cap) {
		size_t cap = ms->cap ? 2 * ms->cap : 8;
		struct member *m = realloc(ms->m, cap * sizeof *m);
		if (!m)
			return -1;
		ms->m = m;
		ms->cap = cap;
	}
	ms->m[ms->n++] = (struct member){c, join};
	return 0;
}

/* Removes c; returns false when it is not there. */
static bool members_del(struct members *ms, struct conn *c)
{
	for (size_t i = 0; i < ms->n; i++) {
		if (ms->m[i].c != c)
			continue;
		free(ms->m[i].join);
		memmove(ms->m + i, ms->m + i + 1, (ms->n - i - 1) * sizeof *ms->m);
		ms->n--;
		if (ms->n == 0) {
			free(ms->m);
			*ms = (struct members){0};
		}
		return true;
	}
	return false;
}

static struct conn *member_by_id(const struct shared *sh, uint64_t id)
{
	for (size_t i = 0; i < sh->mem.n; i++) {
		if (conn_id(sh->mem.m[i].c) == id)
			return sh->mem.m[i].c;
	}
	return NULL;
}

/* --- the program's stdin -------------------------------------------------- */

/* Writes the pieces as one whole line group: never mixed with another
 * client's, since nothing else is written in between. */
static void to_program(struct shared *sh, const void *a, size_t an,
		       const void *b, size_t bn)
{
	struct shared_run *run = sh->run;
	if (!run || !run->proc)
		return;
	if (!proc_write(run->proc, a, an) ||
	    (bn && !proc_write(run->proc, b, bn)))
		log_msg(LV_ERROR, "%s: out of memory for the program's stdin; "
			"its stdin is closed", sh->tag);
	proc_commit(run->proc);
	proc_flush(run->proc);
}

/* The --framed form of a message, "T text" or "B base64" (without "\n"),
 * malloc'd; NULL when out of memory. */
static char *framed_form(unsigned opcode, const uint8_t *p, size_t n,
			 size_t *len)
{
	size_t cap = 2 + (opcode == WS_TEXT ? 2 * n : (n + 2) / 3 * 4);
	char *s = malloc(cap + 1);
	if (!s)
		return NULL;
	s[0] = opcode == WS_TEXT ? 'T' : 'B';
	s[1] = ' ';
	*len = 2 + (opcode == WS_TEXT
			    ? framed_escape(p, n, (uint8_t *)s + 2)
			    : base64_encode(p, n, s + 2));
	return s;
}

/* --- the program's stdout --------------------------------------------------- */

/* What one line printed sends: a text message (invalid UTF-8 as U+FFFD),
 * or with --framed the message its "T "/"B " form stands for. Returns
 * the frame, or NULL (no message, or out of memory: logged); its payload
 * is copied to *tmp[0..*plen) (free it), for a console client's copy. */
static struct frame *line_frame(struct shared *sh, const char *line, size_t n,
				uint8_t **tmp, size_t *plen)
{
	const uint8_t *p = (const uint8_t *)line;
	unsigned op = WS_TEXT;
	*tmp = NULL;
	if (framed(sh) && n >= 2 && (p[0] == 'T' || p[0] == 'B') && p[1] == ' ') {
		op = p[0] == 'B' ? WS_BINARY : WS_TEXT;
		*tmp = malloc(n);
		if (!*tmp)
			goto oom;
		long m;
		if (op == WS_TEXT) {
			size_t used;
			m = (long)framed_unescape(p + 2, n - 2, true, *tmp, &used);
		} else {
			m = base64_decode(line + 2, n - 2, *tmp, n);
		}
		if (m < 0) {
			log_msg(LV_INFO, "%s: invalid base64 in '%.*s'; skipped",
				sh->tag, n > 80 ? 80 : (int)n, line);
			return NULL;
		}
		p = *tmp;
		n = (size_t)m;
	} else if (framed(sh) && n == 0) {
		return NULL; /* an empty line is no message */
	}
	if (op == WS_TEXT && utf8_valid_prefix(p, n) != n) {
		uint8_t *s = malloc(UTF8_SCRUB_MAX(n));
		if (!s)
			goto oom;
		size_t replaced;
		n = utf8_scrub(p, n, s, &replaced);
		free(*tmp);
		*tmp = s;
		p = s;
	}
	struct frame *f = frame_new(op, true, p, n);
	if (!f)
		goto oom;
	if (!*tmp) {
		/* The payload stays reachable for a console client's copy. */
		*tmp = malloc(n ? n : 1);
		if (!*tmp) {
			frame_unref(f);
			goto oom;
		}
		memcpy(*tmp, p, n);
	}
	*plen = n;
	return f;
oom:
	log_msg(LV_ERROR, "%s: out of memory for a message; a line is lost",
		sh->tag);
	return NULL;
}

/* The queue length below which a member can take another line: half of
 * --maxqueue (at most the socket queue's usual mark), so that a line
 * pushed to a member below it leaves its queue within --maxqueue. */
static size_t high_mark(const struct shared *sh)
{
	size_t half = opts(sh)->max_queue / 2;
	return half < SHARED_OUT_HIGH ? half : SHARED_OUT_HIGH;
}

static bool below_mark(const struct shared *sh, const struct conn *c)
{
	return conn_queued(c) < high_mark(sh);
}

/* Whether a line may be sent now: some open member is below its mark, or
 * there is none (the line then only feeds the history). A member whose
 * Close is on its way (cut, or leaving) takes no more lines: it counts
 * for nothing. */
static bool any_room(const struct shared *sh)
{
	bool open = false;
	for (size_t i = 0; i < sh->mem.n; i++) {
		const struct conn *c = sh->mem.m[i].c;
		if (!conn_is_open(c))
			continue;
		if (below_mark(sh, c))
			return true;
		open = true;
	}
	return !open;
}

/* Sends f (payload p[0..n)) to c; counts a client cut as too slow. */
static void send_one(struct shared *sh, struct conn *c, struct frame *f,
		     const uint8_t *p, size_t n)
{
	if (conn_send_frame(c, f, p, n, opts(sh)->max_queue) == 1)
		sh->slow++;
}

/* To every member: backwards, since one cut may leave the list. Returns
 * any_room afterwards, found on the way. */
static bool send_all(struct shared *sh, struct frame *f, const uint8_t *p,
		     size_t n)
{
	bool room = false, open = false;
	for (size_t i = sh->mem.n; i-- > 0;) {
		if (i >= sh->mem.n)
			continue;
		struct conn *c = sh->mem.m[i].c;
		send_one(sh, c, f, p, n);
		if (conn_is_open(c)) {
			open = true;
			room = room || below_mark(sh, c);
		}
	}
	return room || !open;
}

/* A broadcast line: to every member, and to the history. */
static bool broadcast_line(struct shared *sh, const char *line, size_t n)
{
	uint8_t *tmp;
	size_t plen;
	struct frame *f = line_frame(sh, line, n, &tmp, &plen);
	if (!f)
		return any_room(sh);
	bool room = send_all(sh, f, tmp, plen);
	if (sh->hist.cap)
		hist_push(&sh->hist, frame_ref(f));
	frame_unref(f);
	free(tmp);
	return room;
}

/* --- hub: its lines out ------------------------------------------------------- */

static void hub_line(struct shared *sh, const char *line, size_t n)
{
	struct hub_cmd cmd;
	hub_parse(line, n, &cmd);
	if (cmd.kind == HUB_INVALID) {
		log_msg(LV_INFO, "%s: protocol error: %.*s (%s)", sh->tag,
			n > 200 ? 200 : (int)n, line, cmd.error);
		return;
	}
	struct conn *c = NULL;
	if (cmd.kind != HUB_TO_ALL && !(c = member_by_id(sh, cmd.id))) {
		log_msg(LV_DEBUG, "%s: no client %llu; skipped: %.*s", sh->tag,
			(unsigned long long)cmd.id, n > 200 ? 200 : (int)n, line);
		return;
	}
	if (cmd.kind == HUB_CLOSE) {
		char reason[HUB_REASON_MAX + 1];
		memcpy(reason, cmd.text ? cmd.text : "", cmd.text_len);
		reason[cmd.text_len] = '\0';
		conn_end(c, cmd.code, cmd.text ? reason : NULL);
		return;
	}
	uint8_t *tmp;
	size_t plen;
	struct frame *f = line_frame(sh, cmd.text, cmd.text_len, &tmp, &plen);
	if (!f)
		return;
	if (c)
		send_one(sh, c, f, tmp, plen);
	else
		send_all(sh, f, tmp, plen);
	frame_unref(f);
	free(tmp);
}

/* Sends one line; returns whether another may follow (any_room). */
static bool emit(struct shared *sh, const char *line, size_t n)
{
	if (n > 0 && line[n - 1] == '\r')
		n--;
	if (sh->kind == ROUTE_BROADCAST)
		return broadcast_line(sh, line, n);
	hub_line(sh, line, n);
	return any_room(sh);
}

static void flush_members(struct shared *sh)
{
	for (size_t i = sh->mem.n; i-- > 0;) {
		if (i < sh->mem.n)
			conn_flush(sh->mem.m[i].c);
	}
}

/* Sends the complete lines of b while a member has room (all of them at
 * eof, and then the rest as a last line). Returns whether there was room
 * to the end. */
static bool emit_lines(struct shared *sh, struct buf *b, bool eof)
{
	struct shared_run *run = sh->run;
	bool room = true;
	while (room || eof) {
		char *p = (char *)buf_data(b);
		char *nl = b->len ? memchr(p, '\n', b->len) : NULL;
		if (!nl)
			break;
		room = emit(sh, p, (size_t)(nl - p));
		buf_consume(b, (size_t)(nl - p) + 1);
		if (sh->run != run)
			return false;
	}
	if ((room && b->len > LINE_MAX_BYTES) || (eof && b->len > 0)) {
		/* Cut at a character boundary; the rest is a line of its own. */
		const uint8_t *p = buf_data(b);
		size_t n = eof ? b->len : b->len - utf8_partial_tail(p, b->len);
		room = emit(sh, (const char *)p, n);
		buf_consume(b, n);
	}
	if (b->len == 0)
		buf_free(b);
	return room;
}

static bool line_waiting(const struct buf *b)
{
	return b->len && (memchr(buf_data(b), '\n', b->len) ||
			  b->len > LINE_MAX_BYTES);
}

static void set_paused(struct shared_run *run, bool paused)
{
	if (run->paused != paused) {
		run->paused = paused;
		proc_pause_out(run->proc, paused);
	}
}

/* Sends what the program printed while a member has room, and reads more
 * of its stdout only then: every member full, the program waits (it
 * blocks on stdout) and its lines wait in run->line. Never nested. */
static void pump(struct shared *sh)
{
	struct shared_run *run = sh->run;
	if (!run || sh->pumping)
		return;
	sh->pumping = true;
	for (;;) {
		emit_lines(sh, &run->line, false);
		if (sh->run != run)
			break;
		flush_members(sh);
		if (sh->run != run)
			break;
		bool room = any_room(sh);
		if (!room || !line_waiting(&run->line)) {
			set_paused(run, !room);
			break;
		}
	}
	sh->pumping = false;
}

static void on_pump_timer(struct loop *l, struct loop_timer *t)
{
	(void)l;
	pump(LOOP_TIMER_OWNER(t, struct shared, pump_timer));
}

/* Pumps once the calls on the stack have returned. */
static void pump_soon(struct shared *sh)
{
	if (!sh->pump_timer.slot)
		loop_timer_start(sh->srv->loop, &sh->pump_timer, 0,
				 on_pump_timer);
}

static void run_out(void *owner, const uint8_t *p, size_t n)
{
	struct shared_run *run = owner;
	struct shared *sh = run->sh;
	if (!sh)
		return; /* retired: nobody listens */
	if (buf_append(&run->line, p, n) < 0) {
		log_msg(LV_ERROR, "%s: out of memory for the program's output",
			sh->tag);
		return;
	}
	pump(sh);
}

/* --- the program's stderr ------------------------------------------------------ */

static void run_err(void *owner, const uint8_t *p, size_t n)
{
	struct shared_run *run = owner;
	struct buf *b = &run->errline;
	if (n && buf_append(b, p, n) < 0)
		return;
	for (;;) {
		char *s = (char *)buf_data(b);
		char *nl = b->len ? memchr(s, '\n', b->len) : NULL;
		size_t k = nl ? (size_t)(nl - s) : b->len;
		if (!nl && n && k < 4096)
			break;
		if (!nl && k == 0)
			break;
		size_t show = k > 0 && s[k - 1] == '\r' ? k - 1 : k;
		log_msg(LV_INFO, "%s: %.*s", run->tag, (int)show, s);
		buf_consume(b, nl ? k + 1 : k);
	}
	if (b->len == 0)
		buf_free(b);
}

/* --- runs: start, exit, retirement ------------------------------------------------ */

static void on_free_timer(struct loop *l, struct loop_timer *t)
{
	(void)l;
	struct shared_run *run = LOOP_TIMER_OWNER(t, struct shared_run,
						  free_timer);
	struct server *srv = run->srv;
	if (run->prev)
		run->prev->next = run->next;
	else
		srv->runs = run->next;
	if (run->next)
		run->next->prev = run->prev;
	proc_free(run->proc);
	buf_free(&run->line);
	buf_free(&run->errline);
	free(run);
}

/* The route no longer wants run: its stdin gets EOF (then the escalation
 * of any child's end); what it still prints is dropped. */
static void retire(struct shared *sh)
{
	struct shared_run *run = sh->run;
	if (!run)
		return;
	loop_timer_stop(sh->srv->loop, &sh->linger);
	sh->run = NULL;
	run->sh = NULL;
	log_msg(LV_DEBUG, "%s: the program is ended", sh->tag);
	set_paused(run, false);
	proc_stop(run->proc);
}

/* Counts a quick exit, and starts the back-off after QUICK_EXITS. */
static void note_exit(struct shared *sh, const struct shared_run *run)
{
	uint64_t lasted = now(sh) - run->started;
	if (lasted >= QUICK_EXIT_MS) {
		sh->quick = 0;
		if (lasted >= STEADY_RUN_MS)
			sh->backoff_ms = 0;
		return;
	}
	if (++sh->quick < QUICK_EXITS)
		return;
	sh->backoff_ms = sh->backoff_ms ? 2 * sh->backoff_ms : BACKOFF_FIRST_MS;
	if (sh->backoff_ms > BACKOFF_MAX_MS)
		sh->backoff_ms = BACKOFF_MAX_MS;
	sh->backoff_until = now(sh) + sh->backoff_ms;
	log_msg(LV_ERROR, "%s: %u quick exits in a row; not started again for "
		"%llu ms", sh->tag, sh->quick,
		(unsigned long long)sh->backoff_ms);
}

/* The program has exited and its stdout has ended: each member gets the
 * Close its status maps to, after every line it printed. */
static void run_end(struct shared_run *run)
{
	if (!run->out_done || !run->reaped || run->done)
		return;
	run->done = true;
	struct shared *sh = run->sh;
	if (sh) {
		sh->run = NULL;
		run->sh = NULL;
		if (run->running)
			note_exit(sh, run);
		struct members mem = sh->mem;
		sh->mem = (struct members){0};
		for (size_t i = 0; i < mem.n; i++)
			conn_bind(mem.m[i].c, NULL, NULL);
		pid_t pid = proc_pid(run->proc);
		for (size_t i = 0; i < mem.n; i++) {
			conn_end_exit(mem.m[i].c, pid, run->status);
			conn_flush(mem.m[i].c);
			free(mem.m[i].join);
		}
		free(mem.m);
	}
	proc_finish(run->proc);
	loop_timer_start(run->srv->loop, &run->free_timer, 0, on_free_timer);
}

static void run_out_eof(void *owner)
{
	struct shared_run *run = owner;
	struct shared *sh = run->sh;
	if (sh) {
		emit_lines(sh, &run->line, true);
		if (sh->run == run)
			flush_members(sh);
	}
	buf_free(&run->line);
	run->out_done = true;
	run_end(run);
}

static void run_exited(void *owner, int status)
{
	struct shared_run *run = owner;
	run->status = status;
	run->reaped = true;
	char sig[32];
	if (WIFEXITED(status))
		log_msg(LV_INFO, "%s: program %ld exited with status %d",
			run->tag, (long)proc_pid(run->proc),
			WEXITSTATUS(status));
	else
		log_msg(LV_INFO, "%s: program %ld killed by signal %s",
			run->tag, (long)proc_pid(run->proc),
			child_signal_name(WTERMSIG(status), sig, sizeof sig));
	run_end(run);
}

/* Members in turn, from where the last turn ended, while stdin has room. */
static void run_stdin_room(void *owner)
{
	struct shared_run *run = owner;
	struct shared *sh = run->sh;
	if (!sh)
		return;
	size_t n = sh->mem.n;
	for (size_t k = 0; k < n && sh->run == run && sh->mem.n; k++) {
		if (proc_queued(run->proc) >= PROC_STDIN_HIGH)
			break;
		size_t i = (sh->rr + 1) % sh->mem.n;
		if (k == 0)
			i = sh->rr % sh->mem.n;
		sh->rr = i;
		conn_resume(sh->mem.m[i].c);
	}
	if (sh->run == run && sh->mem.n)
		sh->rr = (sh->rr + 1) % sh->mem.n;
}

static void member_open(struct shared *sh, struct conn *c, char *join);

static void run_exec_done(void *owner, int err)
{
	struct shared_run *run = owner;
	struct shared *sh = run->sh;
	if (!sh)
		return;
	if (err) {
		char why[PROGRAM_WHY_MAX];
		program_explain(sh->program, err, why, sizeof why);
		log_msg(LV_ERROR, "%s: cannot start %s: %s", sh->tag,
			sh->program, why);
		run->out_done = true; /* the proc has closed the pipes */
		sh->run = NULL;
		run->sh = NULL;
		note_exit(sh, run);
		while (sh->wait.n) {
			struct conn *c = sh->wait.m[0].c;
			members_del(&sh->wait, c);
			conn_bind(c, NULL, NULL);
			conn_refuse_start(c, err, why);
		}
		return;
	}
	run->running = true;
	log_msg(LV_INFO, "%s: started %s, child %ld", sh->tag, sh->program,
		(long)proc_pid(run->proc));
	while (sh->wait.n && sh->run == run) {
		struct conn *c = sh->wait.m[0].c;
		char *join = sh->wait.m[0].join;
		sh->wait.m[0].join = NULL;
		members_del(&sh->wait, c);
		member_open(sh, c, join);
	}
}

static const struct proc_ops run_ops = {
	.exec_done = run_exec_done,
	.out = run_out,
	.out_eof = run_out_eof,
	.err = run_err,
	.stdin_room = run_stdin_room,
	.exited = run_exited,
};

/* Starts the route's program; 0 or an errno. */
static int run_start(struct shared *sh, char *const envp[])
{
	struct server *srv = sh->srv;
	struct shared_run *run = calloc(1, sizeof *run);
	if (!run)
		return ENOMEM;
	run->srv = srv;
	run->sh = sh;
	run->started = now(sh);
	memcpy(run->tag, sh->tag, sizeof run->tag);
	struct proc_limits lim = {.closems = opts(sh)->closems};
	int err = proc_start(srv, &lim, sh->tag, sh->program, sh->argv, envp,
			     &run_ops, run, &run->proc);
	if (!run->proc) {
		free(run);
		return err;
	}
	run->next = srv->runs;
	if (run->next)
		run->next->prev = run;
	srv->runs = run;
	if (err) {
		/* Started, killed, to be reaped. */
		run->sh = NULL;
		run->out_done = true;
		return err;
	}
	sh->run = run;
	sh->starts++;
	hist_clear(&sh->hist);
	return 0;
}

/* --- clients ---------------------------------------------------------------------- */

/* c's 101 goes out; it becomes a member: a hub reads its "+ID" lines, a
 * broadcast client gets the history; then what it sent meanwhile. */
static void member_open(struct shared *sh, struct conn *c, char *join)
{
	if (members_add(&sh->mem, c, NULL) < 0) {
		free(join);
		conn_bind(c, NULL, NULL);
		conn_refuse_start(c, ENOMEM, "out of memory");
		return;
	}
	conn_open(c, 0);
	if (join) {
		to_program(sh, join, strlen(join), NULL, 0);
		free(join);
	}
	for (size_t i = 0; i < hist_len(&sh->hist); i++) {
		struct frame *f = hist_get(&sh->hist, i);
		size_t n;
		const uint8_t *p = frame_payload(f, &n);
		send_one(sh, c, f, p, n);
	}
	conn_resume(c);
}

static void on_message(void *owner, struct conn *c, unsigned opcode,
		       const uint8_t *p, size_t n)
{
	struct shared *sh = owner;
	if (!sh->run)
		return;
	if (sh->kind == ROUTE_BROADCAST && !framed(sh)) {
		to_program(sh, p, n, "\n", 1);
		return;
	}
	size_t len = n;
	char *form = NULL;
	if (framed(sh)) {
		form = framed_form(opcode, p, n, &len);
		if (!form)
			goto oom;
		p = (const uint8_t *)form;
	}
	if (sh->kind == ROUTE_BROADCAST) {
		to_program(sh, p, len, "\n", 1);
		free(form);
		return;
	}
	/* Hub: "ID TEXT" for each line (the framed form has one). */
	size_t need = hub_fmt_message(NULL, 0, conn_id(c), (const char *)p,
				      len);
	char *line = malloc(need);
	if (!line) {
		free(form);
		goto oom;
	}
	hub_fmt_message(line, need, conn_id(c), (const char *)p, len);
	to_program(sh, line, need, NULL, 0);
	free(line);
	free(form);
	return;
oom:
	log_msg(LV_ERROR, "%s: out of memory; a message from #%llu is lost",
		sh->tag, (unsigned long long)conn_id(c));
}

static bool on_room(void *owner, const struct conn *c)
{
	(void)c;
	struct shared *sh = owner;
	return !sh->run || proc_queued(sh->run->proc) < PROC_STDIN_HIGH;
}

static void on_writable(void *owner, struct conn *c, bool room)
{
	struct shared *sh = owner;
	if (room && sh->run && sh->run->paused && below_mark(sh, c))
		pump_soon(sh);
}

static void on_linger(struct loop *l, struct loop_timer *t)
{
	(void)l;
	struct shared *sh = LOOP_TIMER_OWNER(t, struct shared, linger);
	if (sh->mem.n == 0 && sh->wait.n == 0)
		retire(sh);
}

/* The route has no client left: the program ends after --linger. */
static void check_empty(struct shared *sh)
{
	if (sh->mem.n || sh->wait.n || !sh->run)
		return;
	pump_soon(sh); /* its output now only feeds the history */
	int ms = opts(sh)->linger_ms;
	if (sh->srv->draining || ms == 0)
		retire(sh);
	else if (ms > 0)
		loop_timer_start(sh->srv->loop, &sh->linger, (uint64_t)ms,
				 on_linger);
}

static void on_gone(void *owner, struct conn *c, unsigned code)
{
	struct shared *sh = owner;
	conn_bind(c, NULL, NULL); /* its last call */
	if (members_del(&sh->mem, c)) {
		if (sh->kind == ROUTE_HUB) {
			char line[HUB_ID_DIGITS + 16];
			size_t n = hub_fmt_leave(line, sizeof line, conn_id(c),
						 (uint16_t)code);
			to_program(sh, line, n, NULL, 0);
		}
	} else {
		members_del(&sh->wait, c);
	}
	check_empty(sh);
}

static const struct conn_ops binding_ops = {
	.message = on_message,
	.room = on_room,
	.writable = on_writable,
	.gone = on_gone,
};

/* --- the registry ------------------------------------------------------------------- */

static struct shared *find(const struct server *srv, const struct route *r)
{
	for (struct shared *sh = srv->shared; sh; sh = sh->next) {
		if (sh->path_len == r->script_len &&
		    memcmp(sh->path, r->script, r->script_len) == 0)
			return sh;
	}
	return NULL;
}

static void release_frame(void *item)
{
	frame_unref(item);
}

static struct shared *find_or_make(struct server *srv, const struct route *r)
{
	struct shared *sh = find(srv, r);
	if (sh)
		return sh;
	sh = calloc(1, sizeof *sh);
	unsigned cap = r->kind == ROUTE_BROADCAST ? srv->opts->history : 0;
	void **slot = cap ? calloc(cap, sizeof *slot) : NULL;
	if (!sh || (cap && !slot)) {
		free(sh);
		free(slot);
		return NULL;
	}
	sh->srv = srv;
	sh->kind = r->kind;
	sh->path = r->script;
	sh->path_len = r->script_len;
	sh->program = r->program;
	sh->argv = r->argv;
	snprintf(sh->tag, sizeof sh->tag, "%s %.*s",
		 r->kind == ROUTE_HUB ? "hub" : "broadcast",
		 (int)r->script_len, r->script);
	sh->hslot = slot;
	hist_init(&sh->hist, slot, cap, release_frame);
	sh->next = srv->shared;
	srv->shared = sh;
	return sh;
}

int shared_admit(struct server *srv, const struct route *r,
		 struct shared_refusal *no)
{
	const struct options *o = srv->opts;
	struct shared *sh = find(srv, r);
	memset(no, 0, sizeof *no);
	if (!sh)
		return 0;
	if (o->maxclients && sh->mem.n + sh->wait.n >= o->maxclients) {
		no->status = 503;
		no->why = "route full";
		no->more = "Retry-After: 1\r\n";
		metrics_refused(&srv->metrics, METRICS_REFUSED_ROUTE_FULL);
		return 1;
	}
	uint64_t t = loop_now(srv->loop);
	if (!sh->run && t < sh->backoff_until) {
		static char why[64];
		snprintf(why, sizeof why, "restarting after %u quick exits",
			 sh->quick);
		no->status = 503;
		no->why = why;
		snprintf(no->more_buf, sizeof no->more_buf,
			 "Retry-After: %llu\r\n",
			 (unsigned long long)(sh->backoff_until - t + 999) / 1000);
		no->more = no->more_buf;
		return 1;
	}
	return 0;
}

char *shared_hub_lines(const struct server *srv, uint64_t id,
		       const char *addr, const struct http_request *req)
{
	const struct options *o = srv->opts;
	size_t alen = strlen(addr);
	size_t need = hub_fmt_join(NULL, 0, id, addr, alen, req->target,
				   req->target_len);
	const struct http_header *h[OPTS_MAX_LIST];
	for (size_t i = 0; i < o->hub_headers.n; i++) {
		const char *name = o->hub_headers.item[i];
		h[i] = http_header_find(req, name);
		if (h[i])
			need += hub_fmt_header(NULL, 0, id, name, strlen(name),
					       h[i]->value, h[i]->value_len);
	}
	char *s = malloc(need + 1);
	if (!s)
		return NULL;
	size_t k = hub_fmt_join(s, need, id, addr, alen, req->target,
				req->target_len);
	for (size_t i = 0; i < o->hub_headers.n; i++) {
		const char *name = o->hub_headers.item[i];
		if (h[i])
			k += hub_fmt_header(s + k, need - k, id, name,
					    strlen(name), h[i]->value,
					    h[i]->value_len);
	}
	s[k] = '\0';
	return s;
}

void shared_join(struct server *srv, struct conn *c,
		 const struct shared_joiner *j)
{
	struct shared *sh = find_or_make(srv, j->route);
	char *join = j->join;
	if (!sh) {
		free(join);
		conn_refuse_start(c, ENOMEM, "out of memory");
		return;
	}
	loop_timer_stop(srv->loop, &sh->linger);
	if (sh->run && sh->run->running) {
		conn_bind(c, &binding_ops, sh);
		member_open(sh, c, join);
		return;
	}
	if (!sh->run) {
		int err = run_start(sh, j->envp);
		if (err) {
			free(join);
			log_msg(LV_ERROR, "%s: cannot start %s: %s", sh->tag,
				sh->program, strerror(err));
			conn_refuse_start(c, err, strerror(err));
			return;
		}
	}
	if (members_add(&sh->wait, c, join) < 0) {
		free(join);
		conn_refuse_start(c, ENOMEM, "out of memory");
		check_empty(sh);
		return;
	}
	conn_bind(c, &binding_ops, sh);
}

void shared_drain(struct server *srv)
{
	for (struct shared *sh = srv->shared; sh; sh = sh->next)
		check_empty(sh);
}

void shared_abort(struct server *srv)
{
	for (struct shared_run *run = srv->runs; run; run = run->next)
		proc_kill(run->proc);
}

bool shared_busy(const struct server *srv)
{
	return srv->runs != NULL;
}

void shared_free_all(struct server *srv)
{
	while (srv->runs) {
		struct shared_run *run = srv->runs;
		loop_timer_stop(srv->loop, &run->free_timer);
		on_free_timer(srv->loop, &run->free_timer);
	}
	while (srv->shared) {
		struct shared *sh = srv->shared;
		srv->shared = sh->next;
		loop_timer_stop(srv->loop, &sh->linger);
		loop_timer_stop(srv->loop, &sh->pump_timer);
		hist_clear(&sh->hist);
		free(sh->hslot);
		for (size_t i = 0; i < sh->mem.n; i++)
			free(sh->mem.m[i].join);
		for (size_t i = 0; i < sh->wait.n; i++)
			free(sh->wait.m[i].join);
		free(sh->mem.m);
		free(sh->wait.m);
		free(sh);
	}
}

/* --- metrics --------------------------------------------------------------------------- */

struct text {
	char *p;
	size_t cap, len;
	bool overflow;
};

static void put(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = t->overflow ? 0 : t->cap - t->len;
	int k = vsnprintf(t->p + t->len, room, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= room)
		t->overflow = true;
	else
		t->len += (size_t)k;
}

size_t shared_metrics(const struct server *srv, char *out, size_t cap)
{
	static const struct {
		const char *name, *type, *help;
	} m[] = {
		{"route_clients", "gauge", "Clients of each shared route now."},
		{"shared_starts_total", "counter",
		 "Times each shared route's program was started."},
		{"slow_clients_total", "counter",
		 "Clients closed with 1008 for falling behind --maxqueue."},
	};
	const struct options *o = srv->opts;
	struct text t = {out, cap, 0, false};
	if (o->nshared == 0)
		return 0;
	for (size_t k = 0; k < sizeof m / sizeof m[0]; k++) {
		put(&t, "# HELP portal_gw_%s %s\n# TYPE portal_gw_%s %s\n",
		    m[k].name, m[k].help, m[k].name, m[k].type);
		for (size_t i = 0; i < o->nresources; i++) {
			const struct resource *res = &o->resources[i];
			if (res->kind == ROUTE_ONE)
				continue;
			struct route r = {.script = res->path,
					  .script_len = res->path_len};
			const struct shared *sh = find(srv, &r);
			uint64_t v = !sh ? 0 : k == 0 ? sh->mem.n
					   : k == 1 ? sh->starts : sh->slow;
			put(&t, "portal_gw_%s{route=\"", m[k].name);
			for (const char *p = res->path; *p; p++)
				put(&t, "%s%c", *p == '"' || *p == '\\' ? "\\" : "",
				    *p);
			put(&t, "\"} %llu\n", (unsigned long long)v);
		}
	}
	return t.overflow ? 0 : t.len;
}
