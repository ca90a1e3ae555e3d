/* A session's child output: stdout lines become messages to the client
 * (text, or --framed's "T "/"B " lines), stderr lines go to the log or to
 * the client (--stderr). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "framed.h"
#include "log.h"
#include "proc.h"
#include "server.h"
#include "session.h"
#include "utf8.h"

/* --- child output -> text messages ------------------------------------ */

/* Sends p[0..n) as one frame of the current stdout message, of type op
 * (WS_TEXT or WS_BINARY) when it starts one; text that is not valid UTF-8
 * becomes U+FFFD, so that no invalid text frame is ever sent. */
static void send_data(struct client *c, unsigned op, const uint8_t *p, size_t n,
		      bool fin)
{
	static uint8_t scrubbed[UTF8_SCRUB_MAX(LINE_CHUNK + PROC_READ_MAX)];
	if (op == WS_TEXT && utf8_valid_prefix(p, n) != n) {
		size_t replaced;
		n = utf8_scrub(p, n, scrubbed, &replaced);
		p = scrubbed;
		if (!c->warned_utf8) {
			log_msg(LV_INFO, "#%llu child wrote invalid UTF-8; "
				"sent as U+FFFD", (unsigned long long)c->id);
			c->warned_utf8 = true;
		}
	}
	if (c->console && op == WS_TEXT && !c->frag_open) {
		/* The console's tag goes first, as a fragment of its own. */
		if (!queue_frame(c, WS_TEXT, false, (const uint8_t *)"o", 1)) {
			client_fail(c, "out of memory for a message");
			return;
		}
		c->frag_open = true;
	}
	if (!queue_frame(c, c->frag_open ? WS_CONT : op, fin, p, n)) {
		client_fail(c, "out of memory for a message");
		return;
	}
	c->frag_open = !fin;
	c->n.bytes_out += n;
	if (fin)
		c->n.msgs_out++;
}

static void send_text(struct client *c, const uint8_t *p, size_t n, bool fin)
{
	send_data(c, WS_TEXT, p, n, fin);
}

/* --framed: p[0..n) is (part of) one "T ..." or "B ..." line. Returns the
 * bytes consumed; the rest waits for more input. */
static size_t send_framed(struct client *c, const uint8_t *p, size_t n, bool fin)
{
	static uint8_t dec[LINE_CHUNK + PROC_READ_MAX];
	size_t used = 0, k;
	if (!c->frag_open) {
		if (n >= 2 && (p[0] == 'T' || p[0] == 'B') && p[1] == ' ') {
			c->frag_type = p[0] == 'B' ? WS_BINARY : WS_TEXT;
			used = 2;
		} else if (n == 0) {
			return 0; /* an empty line is no message */
		} else {
			c->frag_type = WS_TEXT;
			if (!c->warned_frame) {
				log_msg(LV_INFO, "#%llu child wrote a line without "
					"'T ' or 'B '; sent as text",
					(unsigned long long)c->id);
				c->warned_frame = true;
			}
		}
	}
	p += used;
	n -= used;
	if (c->frag_type == WS_TEXT) {
		size_t limit = fin ? n : n - utf8_partial_tail(p, n);
		size_t m = framed_unescape(p, limit, fin, dec, &k);
		send_data(c, WS_TEXT, dec, m, fin);
	} else {
		k = fin ? n : n / 4 * 4;
		long m = base64_decode((const char *)p, k, dec, sizeof dec);
		if (m < 0) {
			if (!c->warned_frame) {
				log_msg(LV_INFO, "#%llu child wrote invalid base64; "
					"part of a binary message dropped",
					(unsigned long long)c->id);
				c->warned_frame = true;
			}
			m = 0;
		}
		send_data(c, WS_BINARY, dec, (size_t)m, fin);
	}
	return used + k;
}

/* Sends a complete line (fin) or a piece of a long one; returns the bytes
 * of p consumed. */
static size_t send_line(struct client *c, const uint8_t *p, size_t n, bool fin)
{
	if (c->lim->mode == MODE_FRAMED)
		return send_framed(c, p, n, fin);
	send_text(c, p, n, fin);
	return n;
}

static bool can_send(const struct client *c)
{
	return c->ss == SS_OPEN || c->ss == SS_ENDING;
}

/* Turns complete lines in c->line into messages; a partial line longer
 * than LINE_CHUNK goes out as a fragment (not one exactly that long: it
 * is most often a whole line whose "\n" is in the next read, and would
 * leave an empty final fragment). At eof the rest is the last
 * line, sent even without its "\n". */
static void emit_lines(struct client *c, bool eof)
{
	for (;;) {
		uint8_t *p = buf_data(&c->line);
		size_t len = c->line.len;
		uint8_t *nl = len ? memchr(p, '\n', len) : NULL;
		if (!nl)
			break;
		size_t n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (can_send(c))
			send_line(c, p, n, true);
		c->frag_open = false;
		buf_consume(&c->line, (size_t)(nl - p) + 1);
	}
	size_t len = c->line.len;
	if (eof) {
		if (can_send(c) && (len > 0 || c->frag_open))
			send_line(c, buf_data(&c->line), len, true);
		c->frag_open = false;
		buf_free(&c->line);
	} else if (len > LINE_CHUNK) {
		const uint8_t *p = buf_data(&c->line);
		/* Keep back a '\r' that may start "\r\n", and a character
		 * that has not fully arrived. */
		size_t keep = p[len - 1] == '\r' ? 1 : utf8_partial_tail(p, len);
		size_t used = len - keep;
		if (can_send(c))
			used = send_line(c, p, len - keep, false);
		c->frag_open = true;
		buf_consume(&c->line, used);
	}
}

void client_proc_out_eof(void *owner)
{
	struct client *c = owner;
	emit_lines(c, true);
	c->out_done = true;
	finish_output(c);
}

void client_proc_out(void *owner, const uint8_t *p, size_t n)
{
	struct client *c = owner;
	if (c->lim->mode == MODE_BINARY) {
		/* Each read is one binary message, as websocketd's --binary. */
		if (can_send(c) && !queue_frame(c, WS_BINARY, true, p, n)) {
			client_fail(c, "out of memory for a message");
		} else if (can_send(c)) {
			c->n.msgs_out++;
			c->n.bytes_out += n;
		}
	} else {
		if (buf_append(&c->line, p, n) < 0) {
			client_fail(c, "out of memory for the child's output");
			return;
		}
		emit_lines(c, false);
		if (c->line.len == 0)
			buf_free(&c->line);
	}
	if (c->fd >= 0)
		flush_out(c);
	else
		update_interest(c);
}

/* --- child stderr -> log ---------------------------------------------- */

/* One line of the child's stderr, per --stderr. It is sent as a text
 * message only between messages of stdout: inside a long stdout line that
 * is going out in fragments, it is logged instead. The console gets every
 * line, tagged 'e', and the log what --stderr says. */
static void stderr_line(struct client *c, const uint8_t *p, size_t n)
{
	enum stderr_mode m = c->lim->err_mode;
	bool sent = false;
	if ((m == STDERR_SEND || m == STDERR_BOTH || c->console) &&
	    can_send(c) && !c->frag_open) {
		if (c->console &&
		    !queue_frame(c, WS_TEXT, false, (const uint8_t *)"e", 1)) {
			client_fail(c, "out of memory for a message");
			return;
		}
		if (c->console)
			c->frag_open = true;
		send_text(c, p, n, true);
		sent = true;
	}
	if (m == STDERR_LOG || m == STDERR_BOTH || (m == STDERR_SEND && !sent))
		log_stderr(c->id, p, n);
}

static void log_err_lines(struct client *c, bool eof)
{
	for (;;) {
		uint8_t *p = buf_data(&c->errline);
		size_t len = c->errline.len;
		uint8_t *nl = len ? memchr(p, '\n', len) : NULL;
		size_t n;
		if (nl)
			n = (size_t)(nl - p);
		else if (len >= ERR_LINE_MAX || (eof && len > 0))
			n = len;
		else
			break;
		size_t show = n > 0 && p[n - 1] == '\r' ? n - 1 : n;
		stderr_line(c, p, show);
		buf_consume(&c->errline, nl ? n + 1 : n);
	}
}

void client_drain_stderr(struct client *c)
{
	bool was = c->draining;
	c->draining = true;
	proc_drain_err(c->proc);
	c->draining = was;
}

void client_proc_err(void *owner, const uint8_t *p, size_t n)
{
	struct client *c = owner;
	if (n == 0) {
		log_err_lines(c, true);
		buf_free(&c->errline);
		return;
	}
	if (buf_append(&c->errline, p, n) < 0) {
		client_fail(c, "out of memory for the child's stderr");
		return;
	}
	log_err_lines(c, false);
	if (!c->draining && c->fd >= 0 && c->out.len > 0)
		flush_out(c);
}
