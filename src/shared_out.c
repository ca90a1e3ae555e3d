/* A shared route's program's output (shared_int.h): each line it prints
 * is framed once and the frame pushed to every member's queue (a hub's
 * lines are addressed by shared_hub.c), then each member is written to.
 * Pacing: a line is sent while at least one open member's queue is below
 * half of --maxqueue (at most SHARED_OUT_HIGH), or there is no member (the
 * line then only feeds the history); else the lines wait and stdout is not
 * read, so a uniformly slow audience slows the program, and a single slow
 * client is cut at --maxqueue without the others noticing. Stderr goes to
 * the log, tagged with the route. */
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "conn.h"
#include "framed.h"
#include "log.h"
#include "outq.h"
#include "proc.h"
#include "shared_int.h"
#include "utf8.h"
#include "ws.h"

/* What one line printed sends: a text message (invalid UTF-8 as U+FFFD),
 * or with --framed the message its "T "/"B " form stands for. Returns
 * the frame, or NULL (no message, or out of memory: logged); its payload
 * is copied to *tmp[0..*plen) (free it), for a console client's copy. */
struct frame *shared_line_frame(struct shared *sh, const char *line, size_t n,
				bool *oom)
{
	const uint8_t *p = (const uint8_t *)line;
	unsigned op = WS_TEXT;
	uint8_t *tmp = NULL; /* p decoded or scrubbed, until framed */
	*oom = false;
	if (shared_framed(sh) && n >= 2 && (p[0] == 'T' || p[0] == 'B') && p[1] == ' ') {
		op = p[0] == 'B' ? WS_BINARY : WS_TEXT;
		tmp = malloc(n);
		if (!tmp)
			goto oom;
		long m;
		if (op == WS_TEXT) {
			size_t used;
			m = (long)framed_unescape(p + 2, n - 2, true, tmp, &used);
		} else {
			m = base64_decode(line + 2, n - 2, tmp, n);
		}
		if (m < 0) {
			log_msg(LV_INFO, "%s: invalid base64 in '%.*s'; skipped",
				sh->tag, n > 80 ? 80 : (int)n, line);
			free(tmp);
			return NULL;
		}
		p = tmp;
		n = (size_t)m;
	} else if (shared_framed(sh) && n == 0) {
		return NULL; /* an empty line is no message */
	}
	if (op == WS_TEXT && utf8_valid_prefix(p, n) != n) {
		uint8_t *s = malloc(UTF8_SCRUB_MAX(n));
		if (!s)
			goto oom;
		size_t replaced;
		n = utf8_scrub(p, n, s, &replaced);
		free(tmp);
		tmp = s;
		p = s;
	}
	struct frame *f = frame_new(op, true, p, n);
	if (f) {
		free(tmp);
		return f;
	}
oom:
	log_msg(LV_ERROR, "%s: out of memory for a message", sh->tag);
	free(tmp);
	*oom = true;
	return NULL;
}

/* The queue length below which a member can take another line: half of
 * --maxqueue (at most the socket queue's usual mark), so that a line
 * pushed to a member below it leaves its queue within --maxqueue. */
static size_t high_mark(const struct shared *sh)
{
	size_t half = shared_opts(sh)->max_queue / 2;
	return half < SHARED_OUT_HIGH ? half : SHARED_OUT_HIGH;
}

bool shared_below_mark(const struct shared *sh, const struct conn *c)
{
	return conn_queued(c) < high_mark(sh);
}

/* Whether a line may be sent now: some open member is below its mark, or
 * there is none (the line then only feeds the history). A member whose
 * Close is on its way (cut, or leaving) takes no more lines: it counts
 * for nothing. */
bool shared_any_room(const struct shared *sh)
{
	bool open = false;
	for (size_t i = 0; i < sh->mem.n; i++) {
		const struct conn *c = sh->mem.m[i].c;
		if (!conn_is_open(c))
			continue;
		if (shared_below_mark(sh, c))
			return true;
		open = true;
	}
	return !open;
}

/* Sends f (payload p[0..n)) to c; counts a client cut as too slow. */
void shared_send_one(struct shared *sh, struct conn *c, struct frame *f)
{
	if (conn_send_frame(c, f, shared_opts(sh)->max_queue) == 1)
		sh->slow++;
}

/* To every member: backwards, since one cut may leave the list. Returns
 * shared_any_room afterwards, found on the way. */
bool shared_send_all(struct shared *sh, struct frame *f)
{
	bool room = false, open = false;
	for (size_t i = sh->mem.n; i-- > 0;) {
		if (i >= sh->mem.n)
			continue;
		struct conn *c = sh->mem.m[i].c;
		shared_send_one(sh, c, f);
		if (conn_is_open(c)) {
			open = true;
			room = room || shared_below_mark(sh, c);
		}
	}
	return room || !open;
}

/* A broadcast line: to every member, and to the history. */
static bool broadcast_line(struct shared *sh, const char *line, size_t n)
{
	bool oom;
	struct frame *f = shared_line_frame(sh, line, n, &oom);
	if (!f) {
		if (oom)
			shared_fail_members(sh, "out of memory for a message");
		return shared_any_room(sh);
	}
	bool room = shared_send_all(sh, f);
	if (sh->hist.cap)
		hist_push(&sh->hist, frame_ref(f));
	frame_unref(f);
	return room;
}

/* Sends one line; returns whether another may follow (shared_any_room). */
static bool emit(struct shared *sh, const char *line, size_t n)
{
	if (sh->kind == ROUTE_BROADCAST)
		return broadcast_line(sh, line, n);
	shared_hub_out(sh, line, n);
	return shared_any_room(sh);
}

void shared_flush_members(struct shared *sh)
{
	for (size_t i = sh->mem.n; i-- > 0;) {
		if (i < sh->mem.n)
			conn_flush(sh->mem.m[i].c);
	}
}

/* The longest message a line makes: a longer line goes out in pieces of
 * this many bytes (cut at character boundaries), so that a piece fits in
 * the queue of a client that keeps up. */
static size_t line_piece(const struct shared *sh)
{
	size_t half = shared_opts(sh)->max_queue / 2;
	return half > LINE_MAX_BYTES ? LINE_MAX_BYTES
	       : half < LINE_MIN_PIECE ? LINE_MIN_PIECE : half;
}

/* Sends the complete lines of b while a member has room (all of them at
 * eof, and then the rest as a last line). Returns whether there was room
 * to the end. */
bool shared_emit_lines(struct shared *sh, struct buf *b, bool eof)
{
	struct shared_run *run = sh->run;
	size_t piece = line_piece(sh);
	bool room = true;
	while (room || eof) {
		char *p = (char *)buf_data(b);
		size_t look = b->len < piece + 2 ? b->len : piece + 2;
		char *nl = look ? memchr(p, '\n', look) : NULL;
		size_t n, used;
		if (nl) {
			used = (size_t)(nl - p) + 1;
			n = used - 1;
			if (n > 0 && p[n - 1] == '\r')
				n--; /* "\r\n" ends a line too */
		}
		if (!nl || n > piece) {
			if (b->len <= piece)
				break; /* the line's end has not arrived */
			/* Cut at a character boundary; the rest goes on as a
			 * line of its own. */
			n = used = piece - utf8_partial_tail((uint8_t *)p, piece);
		}
		room = emit(sh, p, n);
		buf_consume(b, used);
		if (sh->run != run)
			return false;
	}
	if (eof && b->len > 0)
		room = emit(sh, (const char *)buf_data(b), b->len);
	if (b->len == 0)
		buf_free(b);
	return room;
}

static bool line_waiting(const struct shared *sh, const struct buf *b)
{
	return b->len && (memchr(buf_data(b), '\n', b->len) ||
			  b->len > line_piece(sh));
}

void shared_set_paused(struct shared_run *run, bool paused)
{
	if (run->paused != paused) {
		run->paused = paused;
		proc_pause_out(run->proc, paused);
	}
}

/* Sends what the program printed while a member has room, and reads more
 * of its stdout only then: every member full, the program waits (it
 * blocks on stdout) and its lines wait in run->line. Never nested. */
void shared_pump(struct shared *sh)
{
	struct shared_run *run = sh->run;
	if (!run || sh->pumping)
		return;
	sh->pumping = true;
	for (;;) {
		shared_emit_lines(sh, &run->line, false);
		if (sh->run != run)
			break;
		shared_flush_members(sh);
		if (sh->run != run)
			break;
		bool room = shared_any_room(sh);
		if (!room || !line_waiting(sh, &run->line)) {
			shared_set_paused(run, !room);
			break;
		}
	}
	sh->pumping = false;
}

static void on_pump_timer(struct loop *l, struct loop_timer *t)
{
	(void)l;
	shared_pump(LOOP_TIMER_OWNER(t, struct shared, pump_timer));
}

/* Pumps once the calls on the stack have returned. */
void shared_pump_soon(struct shared *sh)
{
	if (!sh->pump_timer.slot)
		loop_timer_start(sh->srv->loop, &sh->pump_timer, 0,
				 on_pump_timer);
}

void shared_run_out(void *owner, const uint8_t *p, size_t n)
{
	struct shared_run *run = owner;
	struct shared *sh = run->sh;
	if (!sh)
		return; /* retired: nobody listens */
	if (buf_append(&run->line, p, n) < 0) {
		log_msg(LV_ERROR, "%s: out of memory for the program's output",
			sh->tag);
		shared_fail_members(sh, "out of memory for the program's output");
		return;
	}
	shared_pump(sh);
}

/* --- the program's stderr ------------------------------------------------------ */

/* One line of the program's stderr, to the log under the route's tag. */
static void run_err_line(void *arg, const uint8_t *p, size_t n)
{
	struct shared_run *run = arg;
	log_msg(LV_INFO, "%s: %.*s", run->tag, (int)n, (const char *)p);
}

/* Its stderr, by lines (errlines.h); n == 0: its end. */
void shared_run_err(void *owner, const uint8_t *p, size_t n)
{
	struct shared_run *run = owner;
	if (n == 0)
		errlines_end(&run->err, run_err_line, run);
	else if (errlines_feed(&run->err, p, n, run_err_line, run) < 0)
		log_msg(LV_ERROR, "%s: out of memory for the program's stderr",
			run->tag);
}

