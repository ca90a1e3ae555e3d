/* A shared route's program and its clients (shared.h): the registry, the
 * members, the program's lifecycle and the clients' side. One struct
 * shared per route that has had a client; each start of its program is a
 * struct shared_run, which outlives its route's interest in it: a run that
 * is ended (linger, SIGTERM) or has exited is retired (run->sh NULL), drops
 * what it still prints, and frees itself once its child is reaped.
 *
 *   clients' messages -> whole lines (hub: "ID " each) -> program's stdin
 *   program's stdout -> lines -> a frame each, built once -> every member
 *
 * The output and its pacing are shared_out.c's, the hub protocol's lines
 * shared_hub.c's. Inbound: while the stdin queue is over PROC_STDIN_HIGH
 * no member reads; when it has room, members are resumed in turn from
 * where the last turn ended. */
#include "shared.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "base64.h"
#include "child.h"
#include "conn.h"
#include "framed.h"
#include "log.h"
#include "metrics.h"
#include "outq.h"
#include "proc.h"
#include "program.h"
#include "shared_int.h"
#include "ws.h"

#define QUICK_EXIT_MS 1000     /* a run shorter than this is a quick exit */
#define QUICK_EXITS 3          /* in a row: the back-off starts */
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 30000
#define STEADY_RUN_MS 10000    /* a run this long resets the back-off */

static const struct conn_ops binding_ops;
static const struct proc_ops run_ops;

static uint64_t now(const struct shared *sh)
{
	return loop_now(sh->srv->loop);
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

struct conn *shared_member(const struct shared *sh, uint64_t id)
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
void shared_to_program(struct shared *sh, const void *a, size_t an,
		       const void *b, size_t bn)
{
	struct shared_run *run = sh->run;
	if (!run || !run->proc)
		return;
	if (!proc_write(run->proc, a, an) ||
	    (bn && !proc_write(run->proc, b, bn))) {
		log_msg(LV_ERROR, "%s: out of memory for the program's stdin; "
			"its stdin is closed", sh->tag);
		shared_fail_members(sh, "out of memory for the program's stdin");
		return;
	}
	proc_commit(run->proc);
	proc_flush(run->proc);
}

void shared_fail_members(struct shared *sh, const char *why)
{
	/* Backwards, as a member may leave the list on the way. */
	for (size_t i = sh->mem.n; i-- > 0;) {
		if (i < sh->mem.n)
			conn_fail(sh->mem.m[i].c, why);
	}
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
	errlines_free(&run->err);
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
	shared_set_paused(run, false);
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
		shared_emit_lines(sh, &run->line, true);
		if (sh->run == run)
			shared_flush_members(sh);
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
	.out = shared_run_out,
	.out_eof = run_out_eof,
	.err = shared_run_err,
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
	struct proc_limits lim = {.closems = shared_opts(sh)->closems};
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
		shared_to_program(sh, join, strlen(join), NULL, 0);
		free(join);
	}
	for (size_t i = 0; i < hist_len(&sh->hist); i++) {
		shared_send_one(sh, c, hist_get(&sh->hist, i));
	}
	conn_resume(c);
}

static void on_message(void *owner, struct conn *c, unsigned opcode,
		       const uint8_t *p, size_t n)
{
	struct shared *sh = owner;
	if (!sh->run)
		return;
	if (sh->kind == ROUTE_BROADCAST && !shared_framed(sh)) {
		shared_to_program(sh, p, n, "\n", 1);
		return;
	}
	size_t len = n;
	char *form = NULL;
	if (shared_framed(sh)) {
		form = framed_form(opcode, p, n, &len);
		if (!form) {
			conn_fail(c, "out of memory for a message to the program");
			return;
		}
		p = (const uint8_t *)form;
	}
	if (sh->kind == ROUTE_BROADCAST)
		shared_to_program(sh, p, len, "\n", 1);
	else if (!shared_hub_message(sh, c, p, len))
		conn_fail(c, "out of memory for a message to the program");
	free(form);
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
	if (room && sh->run && sh->run->paused && shared_below_mark(sh, c))
		shared_pump_soon(sh);
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
	shared_pump_soon(sh); /* its output now only feeds the history */
	int ms = shared_opts(sh)->linger_ms;
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
		if (sh->kind == ROUTE_HUB)
			shared_hub_leave(sh, c, code);
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
		snprintf(no->why_buf, sizeof no->why_buf,
			 "restarting after %u quick exits", sh->quick);
		no->status = 503;
		no->why = no->why_buf;
		snprintf(no->more_buf, sizeof no->more_buf,
			 "Retry-After: %llu\r\n",
			 (unsigned long long)(sh->backoff_until - t + 999) / 1000);
		no->more = no->more_buf;
		return 1;
	}
	return 0;
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
