/* The one-to-one binding: one connection, one child, today's default.
 *
 *   client messages -> lines (or --binary bytes, --framed "T "/"B " lines)
 *                   -> the proc's stdin queue -> the child's stdin
 *   the child's stdout -> lines -> text messages -> the conn's queue
 *   the child's stderr -> lines -> the log (or the client: --stderr)
 *
 * Each direction is bounded: the conn reads nothing while the stdin queue
 * is at its mark (room), and the child's stdout is not read while the
 * conn's queue is at its own (writable). The child's exit status decides
 * the Close, sent after its last line. The two ends end independently:
 * the binding is freed with the conn, which waits (busy) until the child
 * is reaped and its stdout drained. The only file, with shared.c, that
 * knows both a conn and a proc.
 */
#include "bind_one.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "buf.h"
#include "conn.h"
#include "errlines.h"
#include "framed.h"
#include "log.h"
#include "proc.h"
#include "program.h"
#include "route.h"
#include "server.h"
#include "utf8.h"
#include "ws.h"

#define LINE_CHUNK 65536   /* a longer partial line goes out as a fragment */
#define END_WAIT_MS 1500   /* for the child's last output (+3 closems) */

struct bind_one {
	struct conn *c;
	const struct conn_limits *lim; /* the server's, read only */
	unsigned long long id;         /* c's, for the log */
	struct proc *proc;
	char *program;      /* waiting for the exec: what is exec'd, for the log */
	bool out_done;      /* its stdout has ended (or never will start) */
	bool reaped;        /* ... it has exited, with status */
	int status;
	struct buf line;
	struct errlines err;
	bool frag_open;     /* a stdout line is going out in fragments */
	unsigned frag_type; /* --framed: WS_TEXT or WS_BINARY of that line */
	bool warned_frame;
	uint8_t b64_carry[3]; /* --framed: bytes of a binary message to the */
	size_t b64_n;         /* child that await a group of three */
	bool warned_utf8;
	bool draining;      /* stderr is being drained: no flush meanwhile */
};

static void finish_output(struct bind_one *b);

/* --- client messages -> child stdin ----------------------------------- */

/* Held back by the proc until the message is whole (proc_commit). */
static void to_child(struct bind_one *b, const uint8_t *p, size_t n)
{
	if (conn_is_open(b->c) && !proc_write(b->proc, p, n))
		conn_fail(b->c, "out of memory for the child's stdin");
}

/* --framed: a chunk of a client message as (part of) a "T " or "B " line. */
static void to_child_framed(struct bind_one *b, const struct conn_data *d)
{
	uint8_t out[4096];
	const uint8_t *p = d->p;
	size_t n = d->n;
	if (d->first) {
		to_child(b, (const uint8_t *)(d->opcode == WS_TEXT ? "T " : "B "), 2);
		b->b64_n = 0;
	}
	if (d->opcode == WS_TEXT) {
		while (n > 0) {
			size_t k = n < sizeof out / 2 ? n : sizeof out / 2;
			to_child(b, out, framed_escape(p, k, out));
			p += k;
			n -= k;
		}
	} else {
		if (b->b64_n > 0) {
			while (b->b64_n < 3 && n > 0) {
				b->b64_carry[b->b64_n++] = *p++;
				n--;
			}
			if (b->b64_n == 3) {
				to_child(b, out, base64_encode(b->b64_carry, 3,
							       (char *)out));
				b->b64_n = 0;
			}
		}
		while (n >= 3) {
			size_t k = n / 3 * 3;
			if (k > sizeof out / 4 * 3)
				k = sizeof out / 4 * 3;
			to_child(b, out, base64_encode(p, k, (char *)out));
			p += k;
			n -= k;
		}
		for (; n > 0; n--)
			b->b64_carry[b->b64_n++] = *p++;
		if (d->last && b->b64_n > 0) {
			to_child(b, out, base64_encode(b->b64_carry, b->b64_n,
						       (char *)out));
			b->b64_n = 0;
		}
	}
	if (d->last)
		to_child(b, (const uint8_t *)"\n", 1);
}

/* A piece of a client message for the child's stdin, held back until the
 * message is whole. */
static void on_data(void *owner, struct conn *c, const struct conn_data *d)
{
	(void)c;
	struct bind_one *b = owner;
	if (b->lim->mode == MODE_FRAMED)
		to_child_framed(b, d);
	else
		to_child(b, d->p, d->n);
	if (!d->last)
		return;
	/* --binary too ends a text message with a newline, as websocketd:
	 * a browser sending strings to a line-reading child. */
	enum msg_mode m = b->lim->mode;
	if (m == MODE_LINES || (m == MODE_BINARY && d->opcode == WS_TEXT))
		to_child(b, (const uint8_t *)"\n", 1);
	proc_commit(b->proc);
}

static bool on_room(void *owner, const struct conn *c)
{
	(void)c;
	const struct bind_one *b = owner;
	return proc_queued(b->proc) < PROC_STDIN_HIGH;
}

/* Whichever way the conn stopped handing over (stdin queue full, the
 * session's end), what it committed is written now: nothing else asks the
 * pipe for room. */
static void on_fed(void *owner, struct conn *c)
{
	(void)c;
	struct bind_one *b = owner;
	proc_flush(b->proc);
}

static void on_stdin_room(void *owner)
{
	struct bind_one *b = owner;
	conn_resume(b->c);
}

/* --- child output -> messages ------------------------------------------ */

/* Sends p[0..n) as one frame of the current stdout message, of type op
 * (WS_TEXT or WS_BINARY) when it starts one; text that is not valid UTF-8
 * becomes U+FFFD, so that no invalid text frame is ever sent. */
static void send_data(struct bind_one *b, unsigned op, const uint8_t *p,
		      size_t n, bool fin)
{
	static uint8_t scrubbed[UTF8_SCRUB_MAX(LINE_CHUNK + PROC_READ_MAX)];
	struct conn *c = b->c;
	if (op == WS_TEXT && utf8_valid_prefix(p, n) != n) {
		size_t replaced;
		n = utf8_scrub(p, n, scrubbed, &replaced);
		p = scrubbed;
		if (!b->warned_utf8) {
			log_msg(LV_INFO, "#%llu child wrote invalid UTF-8; "
				"sent as U+FFFD", b->id);
			b->warned_utf8 = true;
		}
	}
	if (conn_console(c) && op == WS_TEXT && !b->frag_open) {
		/* The console's tag goes first, as a fragment of its own. */
		if (!conn_send(c, WS_TEXT, false, (const uint8_t *)"o", 1)) {
			conn_fail(c, "out of memory for a message");
			return;
		}
		b->frag_open = true;
	}
	if (!conn_send_data(c, b->frag_open ? WS_CONT : op, fin, p, n)) {
		conn_fail(c, "out of memory for a message");
		return;
	}
	b->frag_open = !fin;
}

/* --framed: p[0..n) is (part of) one "T ..." or "B ..." line. Returns the
 * bytes consumed; the rest waits for more input. */
static size_t send_framed(struct bind_one *b, const uint8_t *p, size_t n,
			  bool fin)
{
	static uint8_t dec[LINE_CHUNK + PROC_READ_MAX];
	size_t used = 0, k;
	if (!b->frag_open) {
		if (n >= 2 && (p[0] == 'T' || p[0] == 'B') && p[1] == ' ') {
			b->frag_type = p[0] == 'B' ? WS_BINARY : WS_TEXT;
			used = 2;
		} else if (n == 0) {
			return 0; /* an empty line is no message */
		} else {
			b->frag_type = WS_TEXT;
			if (!b->warned_frame) {
				log_msg(LV_INFO, "#%llu child wrote a line without "
					"'T ' or 'B '; sent as text", b->id);
				b->warned_frame = true;
			}
		}
	}
	p += used;
	n -= used;
	if (b->frag_type == WS_TEXT) {
		size_t limit = fin ? n : n - utf8_partial_tail(p, n);
		size_t m = framed_unescape(p, limit, fin, dec, &k);
		send_data(b, WS_TEXT, dec, m, fin);
	} else {
		k = fin ? n : n / 4 * 4;
		long m = base64_decode((const char *)p, k, dec, sizeof dec);
		if (m < 0) {
			if (!b->warned_frame) {
				log_msg(LV_INFO, "#%llu child wrote invalid base64; "
					"part of a binary message dropped", b->id);
				b->warned_frame = true;
			}
			m = 0;
		}
		send_data(b, WS_BINARY, dec, (size_t)m, fin);
	}
	return used + k;
}

/* Sends a complete line (fin) or a piece of a long one; returns the bytes
 * of p consumed. */
static size_t send_line(struct bind_one *b, const uint8_t *p, size_t n,
			bool fin)
{
	if (b->lim->mode == MODE_FRAMED)
		return send_framed(b, p, n, fin);
	send_data(b, WS_TEXT, p, n, fin);
	return n;
}

/* Turns complete lines in b->line into messages; a partial line longer
 * than LINE_CHUNK goes out as a fragment (not one exactly that long: it
 * is most often a whole line whose "\n" is in the next read, and would
 * leave an empty final fragment). At eof the rest is the last line, sent
 * even without its "\n". */
static void emit_lines(struct bind_one *b, bool eof)
{
	for (;;) {
		uint8_t *p = buf_data(&b->line);
		size_t len = b->line.len;
		uint8_t *nl = len ? memchr(p, '\n', len) : NULL;
		if (!nl)
			break;
		size_t n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (conn_can_send(b->c))
			send_line(b, p, n, true);
		b->frag_open = false;
		buf_consume(&b->line, (size_t)(nl - p) + 1);
	}
	size_t len = b->line.len;
	if (eof) {
		if (conn_can_send(b->c) && (len > 0 || b->frag_open))
			send_line(b, buf_data(&b->line), len, true);
		b->frag_open = false;
		buf_free(&b->line);
	} else if (len > LINE_CHUNK) {
		const uint8_t *p = buf_data(&b->line);
		/* Keep back a '\r' that may start "\r\n", and a character
		 * that has not fully arrived. */
		size_t keep = p[len - 1] == '\r' ? 1 : utf8_partial_tail(p, len);
		size_t used = len - keep;
		if (conn_can_send(b->c))
			used = send_line(b, p, len - keep, false);
		b->frag_open = true;
		buf_consume(&b->line, used);
	}
}

static void on_out(void *owner, const uint8_t *p, size_t n)
{
	struct bind_one *b = owner;
	struct conn *c = b->c;
	if (b->lim->mode == MODE_BINARY) {
		/* Each read is one binary message, as websocketd's --binary. */
		if (conn_can_send(c) &&
		    !conn_send_data(c, WS_BINARY, true, p, n))
			conn_fail(c, "out of memory for a message");
	} else {
		if (buf_append(&b->line, p, n) < 0) {
			conn_fail(c, "out of memory for the child's output");
			return;
		}
		emit_lines(b, false);
		if (b->line.len == 0)
			buf_free(&b->line);
	}
	conn_flush(c);
}

/* The child's stdout has ended: its last line goes out even without a
 * "\n", and the session moves on to its end. */
static void on_out_eof(void *owner)
{
	struct bind_one *b = owner;
	emit_lines(b, true);
	b->out_done = true;
	finish_output(b);
}

/* --- child stderr -> log ---------------------------------------------- */

/* One line of the child's stderr, per --stderr. It is sent as a text
 * message only between messages of stdout: inside a long stdout line that
 * is going out in fragments, it is logged instead. The console gets every
 * line, tagged 'e', and the log what --stderr says. */
static void stderr_line(void *arg, const uint8_t *p, size_t n)
{
	struct bind_one *b = arg;
	struct conn *c = b->c;
	enum stderr_mode m = b->lim->err_mode;
	bool sent = false;
	if ((m == STDERR_SEND || m == STDERR_BOTH || conn_console(c)) &&
	    conn_can_send(c) && !b->frag_open) {
		if (conn_console(c) &&
		    !conn_send(c, WS_TEXT, false, (const uint8_t *)"e", 1)) {
			conn_fail(c, "out of memory for a message");
			return;
		}
		if (conn_console(c))
			b->frag_open = true;
		send_data(b, WS_TEXT, p, n, true);
		sent = true;
	}
	if (m == STDERR_LOG || m == STDERR_BOTH || (m == STDERR_SEND && !sent))
		log_stderr(b->id, p, n);
}

/* Stderr bytes (n == 0: its end) to lines, logged or sent (--stderr). */
static void on_err(void *owner, const uint8_t *p, size_t n)
{
	struct bind_one *b = owner;
	if (n == 0) {
		errlines_end(&b->err, stderr_line, b);
		return;
	}
	if (errlines_feed(&b->err, p, n, stderr_line, b) < 0) {
		conn_fail(b->c, "out of memory for the child's stderr");
		return;
	}
	if (!b->draining && conn_queued(b->c) > 0)
		conn_flush(b->c);
}

/* What the child's stderr still holds (a bounded number of reads, without
 * blocking) is logged or sent, then it is closed. */
static void drain_stderr(struct bind_one *b)
{
	bool was = b->draining;
	b->draining = true;
	proc_drain_err(b->proc);
	b->draining = was;
}

/* --- the exec, the exit ------------------------------------------------ */

/* The exec's outcome: the queued 101 goes out and the session opens, or
 * the request gets its 500/503 and the failed child is left to be reaped. */
static void on_exec_done(void *owner, int err)
{
	struct bind_one *b = owner;
	char *program = b->program;
	b->program = NULL; /* the exec is no longer waited for */
	if (err) {
		char why[PROGRAM_WHY_MAX];
		program_explain(program, err, why, sizeof why);
		log_msg(LV_ERROR, "#%llu cannot start %s: %s", b->id, program,
			why);
		free(program);
		b->out_done = true; /* the proc has closed the pipes */
		conn_refuse_start(b->c, err, why);
		return;
	}
	free(program);
	conn_open(b->c, proc_pid(b->proc));
	conn_resume(b->c);
}

/* Once the child's stdout has ended and the child is reaped: the Close
 * that says how it ended, after what its stderr still holds (--stderr=send
 * lines go before the Close). Harmless to call before. */
static void finish_output(struct bind_one *b)
{
	if (!b->out_done || !b->reaped)
		return;
	drain_stderr(b);
	conn_end_exit(b->c, proc_pid(b->proc), b->status);
}

static void on_exited(void *owner, int status)
{
	struct bind_one *b = owner;
	b->status = status;
	b->reaped = true;
	finish_output(b);
}

static const struct proc_ops one_proc_ops = {
	.exec_done = on_exec_done,
	.out = on_out,
	.out_eof = on_out_eof,
	.err = on_err,
	.stdin_room = on_stdin_room,
	.exited = on_exited,
};

/* --- the conn's end ------------------------------------------------------ */

static void on_writable(void *owner, struct conn *c, bool room)
{
	(void)c;
	struct bind_one *b = owner;
	proc_pause_out(b->proc, !room);
	/* Logged or dropped stderr is always read; sent stderr waits for
	 * room like stdout. */
	enum stderr_mode m = b->lim->err_mode;
	bool sent = m == STDERR_SEND || m == STDERR_BOTH;
	proc_pause_err(b->proc, !room && sent);
}

/* The client is done (its Close, a protocol error, its socket's end, or
 * before its 101): the child is ended, and an open session's Close waits
 * for the child's last output (finish_output), so that no line it wrote
 * for messages already received is lost. A child that takes too long is
 * not waited for beyond END_WAIT_MS. */
static void on_gone(void *owner, struct conn *c, unsigned code)
{
	(void)code;
	struct bind_one *b = owner;
	if (b->program) {
		/* Its 101 is no longer waiting for the exec. */
		free(b->program);
		b->program = NULL;
		proc_abandon_exec(b->proc);
	}
	proc_stop(b->proc);
	conn_linger(c, END_WAIT_MS + 3u * b->lim->closems);
	finish_output(b);
}

static void on_stop(void *owner, struct conn *c, bool now)
{
	(void)c;
	struct bind_one *b = owner;
	if (now && b->program)
		log_msg(LV_ERROR, "#%llu %s: exec not done in time", b->id,
			b->program);
	if (now)
		proc_kill(b->proc);
	else
		proc_stop(b->proc);
}

static bool on_busy(void *owner, const struct conn *c)
{
	(void)c;
	const struct bind_one *b = owner;
	return !b->out_done || !b->reaped;
}

static void on_finish(void *owner, struct conn *c)
{
	struct bind_one *b = owner;
	b->draining = true; /* no socket to flush to */
	proc_finish(b->proc);
	conn_note_exit(c, proc_pid(b->proc), b->status);
}

static void on_free(void *owner, struct conn *c)
{
	(void)c;
	struct bind_one *b = owner;
	proc_free(b->proc);
	free(b->program);
	buf_free(&b->line);
	errlines_free(&b->err);
	free(b);
}

static const struct conn_ops one_conn_ops = {
	.data = on_data,
	.room = on_room,
	.fed = on_fed,
	.writable = on_writable,
	.gone = on_gone,
	.stop = on_stop,
	.busy = on_busy,
	.finish = on_finish,
	.free = on_free,
};

int bind_one_start(struct server *srv, struct conn *c, const struct route *r,
		   char *const envp[])
{
	struct bind_one *b = calloc(1, sizeof *b);
	if (!b)
		return ENOMEM;
	b->c = c;
	b->lim = &srv->climits;
	b->id = (unsigned long long)conn_id(c);
	b->program = strdup(r->program);
	if (!b->program) {
		free(b);
		return ENOMEM;
	}
	/* The pipes are read only once the exec is known to have worked
	 * (on_exec_done): output the child writes before the 101 has left
	 * waits in its pipe. */
	char tag[24];
	snprintf(tag, sizeof tag, "#%llu", b->id);
	struct proc_limits lim = {.closems = b->lim->closems};
	int err = proc_start(srv, &lim, tag, r->program, r->argv, envp,
			     &one_proc_ops, b, &b->proc);
	if (err && !b->proc) {
		free(b->program);
		free(b);
		return err;
	}
	if (err) {
		/* Started, killed, to be reaped: c waits for it (busy). */
		free(b->program);
		b->program = NULL;
		b->out_done = true;
	}
	conn_bind(c, &one_conn_ops, b);
	return err;
}
