/* A client session. Two directions, each with a bounded queue:
 *
 *   socket -> in -> ws_decode -> proc's stdin queue -> child's stdin
 *   child's stdout -> line -> text frames -> out -> socket
 *
 * A queue at its high-water mark turns reading off upstream, so a slow
 * client makes the child block on stdout and a slow child stops reads from
 * the socket; nothing is ever dropped while both ends are alive.
 *
 * The socket side and the child side end independently: the session is
 * freed once the socket is closed, the child reaped and its stdout drained.
 * The child is a struct proc (proc.c): the session owns it and hears from
 * it only through its proc_ops. The child's output (stdout lines to frames,
 * stderr to the log) is in output.c, the request head up to the 101 in
 * upgrade.c.
 */
#include "client.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#if defined(__linux__) && !defined(SIOCOUTQ)
/* linux/sockios.h has the same value; musl-gcc has no kernel headers. */
#define SIOCOUTQ TIOCOUTQ
#endif
#include <sys/wait.h>
#include <unistd.h>

#include "cgireq.h"
#include "child.h"
#include "framed.h"
#include "base64.h"
#include "log.h"
#include "net.h"
#include "plain.h"
#include "proc.h"
#include "server.h"
#include "session.h"
#include "utf8.h"


static void on_socket(struct loop *l, int fd, unsigned ev, void *arg);
static void maybe_done(struct client *c);
static void access_line(struct client *c);

/* --- socket output --------------------------------------------------- */

void flush_out(struct client *c)
{
	if (c->ss == SS_SPAWNING)
		return; /* the 101 waits for the exec */
	while (c->out.len > 0 || (c->body_fd >= 0 && plain_refill(c))) {
		size_t queued = c->out.len;
		ssize_t n = outq_write(&c->out, c->fd);
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			char why[96];
			snprintf(why, sizeof why, "socket write: %s",
				 strerror(errno));
			client_close(c, LV_DEBUG, why);
			return;
		}
		/* A short write means the socket's buffer is full (or the
		 * queue held more pieces than one writev takes: the socket
		 * is then writable at once). */
		bool full = (size_t)n < queued;
		c->written += (uint64_t)n;
		if (full)
			break;
	}
	if (c->ss == SS_ANSWERING && c->out.len == 0 && c->body_fd < 0) {
		/* Keep-alive: the answer is out, and so is its access line;
		 * the next request starts afresh and has as long as a first
		 * one. */
		access_line(c);
		c->ss = SS_HANDSHAKE;
		client_set_path(c, NULL, 0);
		c->method[0] = '\0';
		c->http_status = 0;
		free(c->reason);
		c->reason = NULL;
		free(c->origin);
		c->origin = NULL;
		c->started = loop_now(c->srv->loop);
		c->sent_base = c->written;
		loop_timer_start(c->srv->loop, &c->sock_timer,
				 c->lim->handshake_ms, on_sock_timer);
	}
	if (c->out.len == 0 && !c->close_flushed &&
	    (c->ss == SS_CLOSE_SENT || c->ss == SS_CLOSING)) {
		/* The peer's time to answer runs from when our Close has
		 * actually left, not from when it was queued. */
		c->close_flushed = true;
		loop_timer_start(c->srv->loop, &c->sock_timer, CLOSE_WAIT_MS,
				 on_sock_timer);
	}
	if (c->out.len == 0 && c->ss == SS_CLOSING) {
		/* Everything is out: half-close and wait for the peer's FIN
		 * so that no unread byte turns our last frame into a reset. */
		shutdown(c->fd, SHUT_WR);
		if (c->peer_eof) {
			client_close(c, LV_DEBUG, "closed after the client's FIN");
			return;
		}
	}
	update_interest(c);
}

/* Sends a frame of DIRECT_MIN bytes or more that has nothing queued before
 * it with one writev from where its payload lies, instead of copying it
 * into out first; what the socket does not take is queued. A failed
 * writev queues it all: flush_out meets the error and ends the session. */
#define DIRECT_MIN 16384

static bool send_frame_direct(struct client *c, unsigned opcode, bool fin,
			      const uint8_t *p, size_t n)
{
	uint8_t h[WS_MAX_HEADER];
	size_t hl = ws_encode_header(h, opcode, fin, n, NULL);
	struct iovec iov[2] = { { h, hl }, { (void *)(uintptr_t)p, n } };
	ssize_t w;
	do
		w = writev(c->fd, iov, 2);
	while (w < 0 && errno == EINTR);
	size_t done = w > 0 ? (size_t)w : 0;
	c->written += done;
	if (done < hl) {
		if (outq_append(&c->out, h + done, hl - done) < 0)
			return false;
		done = 0;
	} else {
		done -= hl;
	}
	return done == n || outq_append(&c->out, p + done, n - done) == 0;
}

bool queue_frame(struct client *c, unsigned opcode, bool fin,
			const uint8_t *p, size_t n)
{
	if (n >= DIRECT_MIN && c->out.len == 0 && c->fd >= 0 &&
	    c->body_fd < 0 && c->ss != SS_SPAWNING)
		return send_frame_direct(c, opcode, fin, p, n);
	uint8_t *dst = outq_reserve(&c->out, WS_MAX_HEADER + n);
	if (!dst)
		return false;
	size_t h = ws_encode_header(dst, opcode, fin, n, NULL);
	if (n)
		memcpy(dst + h, p, n);
	outq_commit(&c->out, h + n);
	return true;
}

/* Queues Close(code, reason) and moves to next; our last frame. */
static void send_close(struct client *c, unsigned code, const char *reason,
		       enum sock_state next)
{
	uint8_t payload[WS_MAX_CONTROL];
	size_t n = ws_close_payload(payload, code, reason,
				    reason ? strlen(reason) : 0);
	c->close_code = code;
	if (reason) {
		free(c->reason);
		c->reason = strdup(reason); /* none if out of memory */
	}
	loop_timer_stop(c->srv->loop, &c->ping_timer);
	if (!queue_frame(c, WS_CLOSE, true, payload, n)) {
		client_close(c, LV_ERROR, "out of memory for the Close");
		return;
	}
	c->ss = next;
	c->written_mark = c->written;
	loop_timer_start(c->srv->loop, &c->sock_timer, CLOSE_WAIT_MS,
			 on_sock_timer);
	flush_out(c);
}

void client_fail(struct client *c, const char *why)
{
	if (c->fd < 0)
		return;
	log_msg(LV_ERROR, "#%llu %s; the session ends with 1011",
		(unsigned long long)c->id, why);
	client_child_stop(c);
	if (c->ss == SS_OPEN)
		send_close(c, WS_INTERNAL_ERROR, why, SS_CLOSE_SENT);
	else if (c->ss == SS_ENDING)
		send_close(c, WS_INTERNAL_ERROR, why, SS_CLOSING);
	else
		client_close(c, LV_ERROR, why);
}

/* --- client messages -> child stdin ----------------------------------- */

void client_proc_stdin_room(void *owner)
{
	struct client *c = owner;
	process_input(c);
	update_interest(c);
}

/* Held back by the proc until the message is whole (proc_commit). */
static void to_child(struct client *c, const uint8_t *p, size_t n)
{
	if (c->ss == SS_OPEN && !proc_write(c->proc, p, n))
		client_fail(c, "out of memory for the child's stdin");
}

/* Bytes queued for the child, not counting a message still arriving. */
static size_t child_queued(const struct client *c)
{
	return c->proc ? proc_queued(c->proc) : 0;
}

/* Whether the next message may go to the child (or the binding) now. */
static bool may_feed(const struct client *c)
{
	if (c->bops)
		return c->bops->room(c->bowner, c);
	return child_queued(c) < PROC_STDIN_HIGH;
}

/* Ends c's binding: gone(code) is its last call. */
static void unbind(struct client *c, unsigned code)
{
	const struct client_binding_ops *ops = c->bops;
	if (!ops)
		return;
	c->bops = NULL;
	buf_free(&c->msg);
	ops->gone(c->bowner, c, code);
}

/* A shared route's session: the message is gathered and handed over
 * whole, so that it is never mixed with another client's. */
static void data_to_binding(struct client *c, const struct ws_event *ev)
{
	if (buf_append(&c->msg, ev->data, ev->len) < 0) {
		client_fail(c, "out of memory for a message");
		return;
	}
	c->n.bytes_in += ev->len;
	if (!ev->last)
		return;
	c->n.msgs_in++;
	c->bops->message(c->bowner, c, ev->opcode, buf_data(&c->msg),
			 c->msg.len);
	buf_free(&c->msg);
}

/* --framed: a chunk of a client message as (part of) a "T " or "B " line. */
static void to_child_framed(struct client *c, const struct ws_event *ev)
{
	uint8_t out[4096];
	const uint8_t *p = ev->data;
	size_t n = ev->len;
	if (ev->first) {
		to_child(c, (const uint8_t *)(ev->opcode == WS_TEXT ? "T " : "B "), 2);
		c->b64_n = 0;
	}
	if (ev->opcode == WS_TEXT) {
		while (n > 0) {
			size_t k = n < sizeof out / 2 ? n : sizeof out / 2;
			to_child(c, out, framed_escape(p, k, out));
			p += k;
			n -= k;
		}
	} else {
		if (c->b64_n > 0) {
			while (c->b64_n < 3 && n > 0) {
				c->b64_carry[c->b64_n++] = *p++;
				n--;
			}
			if (c->b64_n == 3) {
				to_child(c, out, base64_encode(c->b64_carry, 3,
							       (char *)out));
				c->b64_n = 0;
			}
		}
		while (n >= 3) {
			size_t k = n / 3 * 3;
			if (k > sizeof out / 4 * 3)
				k = sizeof out / 4 * 3;
			to_child(c, out, base64_encode(p, k, (char *)out));
			p += k;
			n -= k;
		}
		for (; n > 0; n--)
			c->b64_carry[c->b64_n++] = *p++;
		if (ev->last && c->b64_n > 0) {
			to_child(c, out, base64_encode(c->b64_carry, c->b64_n,
						       (char *)out));
			c->b64_n = 0;
		}
	}
	if (ev->last)
		to_child(c, (const uint8_t *)"\n", 1);
}

/* The client is done (its Close, or a protocol error that fails the
 * connection): read nothing more, end the child, and send Close(code) once
 * the child's last output is out (finish_output), so that no line it wrote
 * for messages already received is lost. A child that takes too long is
 * not waited for beyond END_WAIT_MS. */
static void end_session(struct client *c, unsigned code, const char *reason)
{
	unsigned closems = c->lim->closems;
	if (!c->proc) {
		/* No child of its own (a shared route's): nothing to wait for. */
		buf_free(&c->in);
		send_close(c, code, reason, SS_CLOSING);
		return;
	}
	c->end_code = code;
	c->end_reason = reason;
	c->ss = SS_ENDING;
	loop_timer_stop(c->srv->loop, &c->ping_timer);
	loop_timer_start(c->srv->loop, &c->sock_timer,
			 END_WAIT_MS + 3ull * closems, on_sock_timer);
	client_child_stop(c);
	update_interest(c);
	finish_output(c);
}

/* A piece of a client message for the child's stdin, held back until the
 * message is whole. */
static void data_to_child(struct client *c, const struct ws_event *ev)
{
	if (c->bops) {
		data_to_binding(c, ev);
		return;
	}
	if (c->lim->mode == MODE_FRAMED)
		to_child_framed(c, ev);
	else
		to_child(c, ev->data, ev->len);
	c->n.bytes_in += ev->len;
	if (!ev->last)
		return;
	/* --binary too ends a text message with a newline, as websocketd:
	 * a browser sending strings to a line-reading child. */
	enum msg_mode m = c->lim->mode;
	if (m == MODE_LINES || (m == MODE_BINARY && ev->opcode == WS_TEXT))
		to_child(c, (const uint8_t *)"\n", 1);
	c->n.msgs_in++;
	proc_commit(c->proc);
}

/* Decodes queued socket bytes while the child's queue has room. */
static void decode_input(struct client *c)
{
	while (c->in.len > 0 && c->fd >= 0) {
		if (c->ss != SS_OPEN && c->ss != SS_CLOSE_SENT) {
			buf_free(&c->in);
			return;
		}
		if (c->ss == SS_OPEN && !may_feed(c))
			return; /* resumed when the child drains its stdin */
		struct ws_event ev;
		size_t used = ws_decode(&c->dec, buf_data(&c->in), c->in.len, &ev);
		bool open = c->ss == SS_OPEN;
		switch (ev.type) {
		case WS_EV_NONE:
			break;
		case WS_EV_DATA:
			if (open)
				data_to_child(c, &ev);
			break;
		case WS_EV_PING:
			if (open && !queue_frame(c, WS_PONG, true, ev.data,
						 ev.len))
				client_fail(c, "out of memory for a pong");
			break;
		case WS_EV_PONG:
			/* Any pong proves the client alive (RFC 6455 5.5.3
			 * lets it answer only the latest ping). */
			if (c->ping_outstanding) {
				c->ping_outstanding = false;
				loop_timer_start(c->srv->loop, &c->ping_timer,
						 c->lim->ping_ms,
						 on_ping_timer);
			}
			break;
		case WS_EV_CLOSE:
			log_msg(LV_DEBUG, "#%llu client sent Close %u",
				(unsigned long long)c->id, ev.code);
			unbind(c, ev.code ? ev.code : WS_NO_STATUS);
			if (open) {
				/* Echo a valid code; an empty Close gets an
				 * empty one (1005 is never sent). */
				end_session(c, ev.code, NULL);
			} else {
				c->ss = SS_CLOSING;
				flush_out(c);
			}
			client_child_stop(c);
			break;
		case WS_EV_ERROR:
			log_msg(LV_INFO, "#%llu protocol error: %s (%u)",
				(unsigned long long)c->id, ev.reason, ev.code);
			unbind(c, 1006);
			if (open)
				end_session(c, ev.code, ev.reason);
			else
				c->ss = SS_CLOSING;
			client_child_stop(c);
			break;
		}
		if (c->fd < 0 || c->ss == SS_ENDING) {
			if (c->fd >= 0)
				buf_free(&c->in); /* nothing after it is read */
			return;
		}
		if (c->fd < 0)
			return;
		buf_consume(&c->in, used);
		if (ev.type == WS_EV_NONE)
			break;
	}
}

void process_input(struct client *c)
{
	if (c->ss == SS_CGI) {
		cgireq_input(c);
		return;
	}
	decode_input(c);
	/* Whichever way decoding stopped (stdin queue full, the session's
	 * end), what it committed is written now: nothing else asks the
	 * pipe for room. */
	if (c->proc)
		proc_flush(c->proc);
}

/* --- socket input ----------------------------------------------------- */

/* Answers the request heads in c->in one after another, as long as each is
 * answered at once and the connection stays open (keep-alive, pipelined
 * requests); stops at a partial head or an answer that waits for the
 * socket. */
static void read_requests(struct client *c)
{
	size_t before;
	do {
		before = c->in.len;
		upgrade_request(c);
	} while (c->fd >= 0 && c->ss == SS_HANDSHAKE && c->in.len > 0 &&
		 c->in.len < before);
}

static void on_socket(struct loop *l, int fd, unsigned ev, void *arg)
{
	(void)l;
	(void)fd;
	struct client *c = arg;
	if (ev & LOOP_WRITE) {
		flush_out(c);
		if (c->fd < 0)
			return;
		if (c->ss == SS_HANDSHAKE && c->in.len > 0) {
			/* A keep-alive answer has gone out with requests
			 * behind it; reading more waits for the next round. */
			read_requests(c);
			if (c->fd >= 0)
				flush_out(c);
			return;
		}
	}
	if ((ev & LOOP_HUP) && !(ev & LOOP_READ) &&
	    (c->ss == SS_OPEN || c->ss == SS_CGI)) {
		client_close(c, c->ss == SS_OPEN ? LV_INFO : LV_DEBUG,
			     "client went away without Close");
		return;
	}
	if ((ev & LOOP_HUP) && c->lookup) {
		client_close(c, LV_DEBUG, "client went away during its lookup");
		return;
	}
	if (!(ev & LOOP_READ) || c->ss == SS_ANSWERING)
		return;
	size_t want = c->ss == SS_HANDSHAKE ? c->lim->max_head - c->in.len : READ_CHUNK;
	uint8_t *p = buf_reserve(&c->in, want);
	if (!p)
		return;
	ssize_t n = read(c->fd, p, want);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		if (c->in.len == 0)
			buf_free(&c->in);
		return;
	}
	if (n == 0 && c->ss == SS_CLOSING && (c->out.len > 0 || c->body_fd >= 0)) {
		/* A client may half-close after its request (nc -N, some
		 * scripts): it still gets the rest of a plain answer. */
		c->peer_eof = true;
		update_interest(c);
		return;
	}
	if (n <= 0) {
		client_close(c, c->ss == SS_OPEN ? LV_INFO : LV_DEBUG,
			     c->ss == SS_OPEN ? "client went away without Close"
					      : "client closed the connection");
		return;
	}
	if (c->ss == SS_CLOSING) {
		buf_free(&c->in); /* only waiting for FIN now */
		return;
	}
	buf_commit(&c->in, (size_t)n);
	c->last_read = loop_now(c->srv->loop);
	/* A head ends with a line feed, so it can only have ended in these
	 * bytes if they hold one: parsing it again after each byte of a
	 * client that sends one at a time would cost time quadratic in
	 * --max-head. The first bytes are parsed whatever they are, so that
	 * a request that is not HTTP (TLS to a plain port) gets its 400 now. */
	if (c->ss == SS_HANDSHAKE) {
		if (c->in.len == (size_t)n || memchr(p, '\n', (size_t)n) ||
		    c->in.len >= c->lim->max_head)
			read_requests(c);
	} else {
		process_input(c);
	}
	if (c->fd >= 0)
		flush_out(c);
}

void update_interest(struct client *c)
{
	struct loop *l = c->srv->loop;
	if (c->ss == SS_SPAWNING) {
		/* Nothing moves until the exec is known: client bytes stay in
		 * the socket, the child's output in its pipes. */
		loop_set(l, c->fd, 0);
		return;
	}
	if (c->lookup) {
		/* Nothing is read until the client's name is known, but a
		 * client that hangs up meanwhile ends its session then. */
		loop_set(l, c->fd, LOOP_HUP);
		return;
	}
	if (c->fd >= 0) {
		unsigned m = 0;
		bool room = c->out.len < OUT_HIGH && c->in.len < READ_CHUNK;
		if (c->ss == SS_HANDSHAKE || c->ss == SS_CLOSING ||
		    c->ss == SS_CLOSE_SENT ||
		    (c->ss == SS_OPEN && room && may_feed(c)) ||
		    (c->ss == SS_CGI && cgireq_wants_input(c)))
			m |= LOOP_READ;
		if (c->out.len > 0)
			m |= LOOP_WRITE;
		if (c->peer_eof)
			m &= ~LOOP_READ;
		/* Not reading because the child is slow: still notice a
		 * client that hangs up, rather than keep its session. Asked
		 * for while reading too, so that pausing reads only narrows
		 * the interest, which the loop does without a system call. */
		if (c->ss == SS_OPEN || c->ss == SS_CGI)
			m |= LOOP_HUP;
		loop_set(l, c->fd, m);
	}
	if (c->bops && c->fd >= 0 && c->out.len < OUT_HIGH)
		c->bops->drained(c->bowner, c);
	if (!c->proc)
		return;
	bool room = c->fd < 0 || c->out.len < OUT_HIGH;
	proc_pause_out(c->proc, !room);
	/* Logged or dropped stderr is always read; sent stderr waits for
	 * room like stdout. */
	enum stderr_mode m = c->lim->err_mode;
	bool sent = m == STDERR_SEND || m == STDERR_BOTH;
	proc_pause_err(c->proc, !room && sent);
}

/* --- ending ----------------------------------------------------------- */

/* Server pings: a ping every ping_ms; a session whose client neither
 * answers within pong_ms nor is merely held up by our own backpressure is
 * treated as gone. */
void on_ping_timer(struct loop *l, struct loop_timer *t)
{
	struct client *c = LOOP_TIMER_OWNER(t, struct client, ping_timer);
	const struct client_limits *lim = c->lim;
	if (c->ss != SS_OPEN)
		return;
	bool heard = loop_now(l) - c->last_read < lim->pong_ms;
	bool paused = !(loop_mask(l, c->fd) & LOOP_READ);
	if (c->ping_outstanding && !heard && !paused) {
		char why[64];
		snprintf(why, sizeof why, "no pong within %u ms; client gone",
			 lim->pong_ms);
		client_close(c, LV_INFO, why);
		return;
	}
	if (!c->ping_outstanding) {
		char payload[24];
		int k = snprintf(payload, sizeof payload, "%llu",
				 (unsigned long long)loop_now(l));
		if (!queue_frame(c, WS_PING, true, (const uint8_t *)payload,
				 (size_t)k)) {
			client_fail(c, "out of memory for a ping");
			return;
		}
		c->ping_outstanding = true;
		flush_out(c);
		if (c->fd < 0)
			return;
	}
	loop_timer_start(l, t, lim->pong_ms, on_ping_timer);
}

void on_sock_timer(struct loop *l, struct loop_timer *t)
{
	struct client *c = LOOP_TIMER_OWNER(t, struct client, sock_timer);
	if (c->ss == SS_HANDSHAKE && c->kept_alive && c->in.len == 0) {
		client_close(c, LV_DEBUG, "idle keep-alive connection closed");
		return;
	}
	if (c->ss == SS_HANDSHAKE) {
		http_error(c, 408, "request head not received in time");
		return;
	}
	if (c->ss == SS_SPAWNING) {
		log_msg(LV_ERROR, "#%llu %s: exec not done in time",
			(unsigned long long)c->id,
			c->program ? c->program : "shared program");
		upgrade_abandon(c);
		if (c->proc)
			proc_kill(c->proc);
		http_error_extra(c, 503, "cannot start program",
				 "Retry-After: 1\r\n");
		return;
	}
	if (c->ss == SS_ENDING) {
		log_msg(LV_DEBUG, "#%llu child's output not done in time",
			(unsigned long long)c->id);
		send_close(c, c->end_code, c->end_reason, SS_CLOSING);
		return;
	}
	/* Progress is what we wrote plus what the kernel has since sent of
	 * it: a slow client still taking our last frames is waited for. */
	int unsent = 0;
#ifdef SIOCOUTQ
	if (ioctl(c->fd, SIOCOUTQ, &unsent) < 0)
		unsent = 0;
#endif
	uint64_t taken = c->written - (uint64_t)unsent;
	if ((c->ss == SS_CLOSE_SENT || c->ss == SS_CLOSING ||
	     c->ss == SS_ANSWERING) &&
	    (c->out.len > 0 || unsent > 0) && taken != c->written_mark) {
		c->written_mark = taken;
		loop_timer_start(l, t, CLOSE_WAIT_MS, on_sock_timer);
		return;
	}
	if (c->ss == SS_CLOSE_SENT && c->out.len == 0) {
		/* No Close from the client in time: half-close, and close
		 * only after its FIN (or another wait), reading what it
		 * sends meanwhile, so that no unread byte turns our close
		 * into a reset that destroys what it has not read yet. */
		log_msg(LV_DEBUG, "#%llu no Close from the client in time",
			(unsigned long long)c->id);
		c->ss = SS_CLOSING;
		shutdown(c->fd, SHUT_WR);
		loop_timer_start(l, t, CLOSE_WAIT_MS, on_sock_timer);
		update_interest(c);
		return;
	}
	client_close(c, LV_DEBUG, "socket timer: connection closed");
}

void client_close(struct client *c, enum log_level lv, const char *why)
{
	if (c->fd < 0)
		return;
	log_msg(lv, "#%llu %s", (unsigned long long)c->id, why);
	unbind(c, 1006);
	upgrade_abandon(c);
	loop_timer_stop(c->srv->loop, &c->sock_timer);
	loop_timer_stop(c->srv->loop, &c->ping_timer);
	loop_del(c->srv->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	c->ss = SS_GONE;
	buf_free(&c->in);
	outq_free(&c->out);
	client_child_stop(c);
	update_interest(c);
	maybe_done(c);
}

/* The Close that says how the child ended (c->status): 1000 for exit
 * status 0, else 1011 naming the status or the signal. */
static void send_exit_close(struct client *c)
{
	char reason[64], sig[32];
	int st = c->status;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		send_close(c, WS_NORMAL, NULL, SS_CLOSE_SENT);
		return;
	}
	if (WIFEXITED(st))
		snprintf(reason, sizeof reason, "exit status %d",
			 WEXITSTATUS(st));
	else
		snprintf(reason, sizeof reason, "killed by signal %s",
			 child_signal_name(WTERMSIG(st), sig, sizeof sig));
	send_close(c, WS_INTERNAL_ERROR, reason, SS_CLOSE_SENT);
}

void finish_output(struct client *c)
{
	if (!c->proc || !c->out_done || !c->reaped)
		return;
	client_drain_stderr(c); /* --stderr=send lines go before the Close */
	if (c->ss == SS_ENDING) {
		send_close(c, c->end_code, c->end_reason, SS_CLOSING);
	} else if (c->ss == SS_OPEN) {
		send_exit_close(c);
	} else if (c->ss == SS_CGI) {
		cgireq_end(c);
	}
	maybe_done(c);
}

void client_child_stop(struct client *c)
{
	if (c->proc)
		proc_stop(c->proc);
}

void client_proc_exited(void *owner, int status)
{
	struct client *c = owner;
	c->status = status;
	c->reaped = true;
	finish_output(c);
}

/* The access line: one per request, answered or not, once the connection
 * has ended (or a kept-alive answer has gone out), so that it counts what
 * was actually sent. */
static void access_line(struct client *c)
{
	char addr[NET_ADDR_TEXT], sig[32];
	const struct sockaddr_storage *peer = c->fwd ? &c->fwd->peer : &c->peer;
	net_addr_host(peer, addr, sizeof addr);
	int port = net_addr_port(peer);
	bool child = c->proc != NULL || c->shared_pid > 0;
	struct log_access a = {
		.id = c->id,
		.addr = addr,
		/* A Unix socket peer (--unix) has no port. */
		.port = peer->ss_family == AF_UNIX || port == 0 ? -1 : port,
		.forwarded = c->fwd ? c->fwd->addr : NULL,
		.method = c->method[0] ? c->method : NULL,
		.path = c->path[0] ? c->path : NULL,
		.status = c->http_status,
		.reason = c->reason || c->http_status
				  ? c->reason
				  : "connection ended before an answer",
		.origin = c->origin,
		.bytes_sent = c->written - c->sent_base,
		.duration_ms = loop_now(c->srv->loop) - c->started,
		.pid = c->proc ? (long)proc_pid(c->proc) : (long)c->shared_pid,
		.session = c->upgraded,
		.msgs_in = c->n.msgs_in,
		.bytes_in = c->n.bytes_in,
		.msgs_out = c->n.msgs_out,
		.bytes_out = c->n.bytes_out,
		.close_code = c->close_code,
		.exit_code = -1,
	};
	if (child && WIFEXITED(c->status))
		a.exit_code = WEXITSTATUS(c->status);
	else if (child)
		a.signal = child_signal_name(WTERMSIG(c->status), sig,
					     sizeof sig);
	log_access(&a);
}

static void maybe_done(struct client *c)
{
	if (c->done || c->fd >= 0 ||
	    (c->proc && (!c->out_done || !c->reaped)))
		return;
	c->done = true; /* callers up the stack may call again */
	struct server *srv = c->srv;
	if (c->proc) {
		c->draining = true; /* no socket to flush to */
		proc_finish(c->proc);
	}
	loop_timer_stop(srv->loop, &c->sock_timer);
	if (c->http_status || c->method[0])
		access_line(c);
	if (c->upgraded) {
		metrics_session_end(&srv->metrics, c->close_code,
				    c->proc || c->shared_pid ? &c->status : NULL,
				    &c->n,
				    loop_now(srv->loop) - c->opened);
	}
	if (c->body_fd >= 0)
		close(c->body_fd);

	if (c->prev)
		c->prev->next = c->next;
	else
		srv->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->nclients--;
	c->prev = NULL;
	c->next = srv->graveyard;
	srv->graveyard = c;
}

/* --- the server's side ------------------------------------------------ */

void client_limits_init(struct client_limits *l, const struct options *o)
{
	*l = (struct client_limits){
		.handshake_ms = o->handshake_ms,
		.ping_ms = o->ping_ms,
		.pong_ms = o->pong_ms,
		.closems = o->closems,
		.max_head = o->max_head,
		.max_message = o->max_message,
		.mode = o->mode,
		.err_mode = o->err_mode,
	};
}

struct client *client_start(struct server *srv, int fd,
			    const struct sockaddr_storage *peer, int local_port)
{
	struct client *c = calloc(1, sizeof *c);
	if (!c) {
		close(fd);
		return NULL;
	}
	c->srv = srv;
	c->lim = &srv->climits;
	c->id = ++srv->next_id;
	c->started = loop_now(srv->loop);
	c->fd = fd;
	c->peer = *peer;
	c->local_port = local_port;
	c->body_fd = -1;
	ws_decoder_init(&c->dec, WS_SERVER);
	c->dec.max_message = srv->climits.max_message;
	c->dec.binary_ok = srv->climits.mode != MODE_LINES;
	if (loop_add(srv->loop, fd, LOOP_READ, on_socket, c) < 0) {
		close(fd);
		free(c);
		return NULL;
	}
	c->next = srv->clients;
	if (c->next)
		c->next->prev = c;
	srv->clients = c;
	srv->nclients++;
	loop_timer_start(srv->loop, &c->sock_timer, srv->climits.handshake_ms,
			 on_sock_timer);
	return c;
}

void client_refuse(struct client *c, int status, const char *why,
		   const char *more)
{
	http_error_extra(c, status, why, more);
}

void client_go_away(struct client *c)
{
	if (c->ss == SS_HANDSHAKE) {
		client_close(c, LV_DEBUG, "shutting down");
	} else if (c->ss == SS_ANSWERING) {
		c->ss = SS_CLOSING; /* the answer goes out, then the FIN */
	} else if (c->ss == SS_SPAWNING) {
		upgrade_abandon(c);
		http_error(c, 503, "shutting down");
	} else if (c->ss == SS_OPEN)
		send_close(c, WS_GOING_AWAY, "server shutting down", SS_CLOSE_SENT);
	client_child_stop(c);
}

void client_abort(struct client *c)
{
	if (c->proc)
		proc_kill(c->proc);
	client_close(c, LV_DEBUG, "aborted");
}

void client_set_path(struct client *c, const char *p, size_t len)
{
	if (len > sizeof c->path - 1)
		len = sizeof c->path - 1;
	if (len)
		memcpy(c->path, p, len);
	c->path[len] = '\0';
}

void client_answered(struct client *c, int status, const char *why)
{
	c->http_status = (uint16_t)status;
	free(c->reason);
	c->reason = why ? strdup(why) : NULL; /* none if out of memory */
}

bool client_upgrading(const struct client *c)
{
	return c->ss == SS_HANDSHAKE || c->ss == SS_SPAWNING;
}

struct client *client_next(const struct client *c)
{
	return c->next;
}

void client_free(struct client *c)
{
	proc_free(c->proc);
	cgireq_free(c);
	free(c->remote_host);
	free(c->program);
	free(c->origin);
	free(c->reason);
	free(c->fwd);
	buf_free(&c->in);
	outq_free(&c->out);
	buf_free(&c->line);
	buf_free(&c->errline);
	buf_free(&c->msg);
	free(c);
}

/* --- bindings (client.h) ------------------------------------------------ */

void client_bind(struct client *c, const struct client_binding_ops *ops,
		 void *owner)
{
	c->bops = ops;
	c->bowner = owner;
}

uint64_t client_id(const struct client *c)
{
	return c->id;
}

bool client_is_open(const struct client *c)
{
	return c->ss == SS_OPEN;
}

bool client_has_room(const struct client *c)
{
	return c->out.len < OUT_HIGH;
}

size_t client_queued(const struct client *c)
{
	return c->out.len;
}

/* A --devconsole client's copy: its output is tagged 'o'. */
static int send_console_copy(struct client *c, const uint8_t *p, size_t n,
			     size_t limit)
{
	if (c->out.len + n > limit)
		return 1;
	if (!queue_frame(c, WS_TEXT, false, (const uint8_t *)"o", 1) ||
	    !queue_frame(c, WS_CONT, true, p, n))
		return -1;
	return 0;
}

int client_send_frame(struct client *c, struct frame *f, const uint8_t *p,
		      size_t n, size_t limit)
{
	if (c->ss != SS_OPEN)
		return 0;
	int r = c->console ? send_console_copy(c, p, n, limit)
			   : outq_push_frame(&c->out, f, limit);
	if (r == 1 && c->fd >= 0) {
		/* Full: what the socket takes now makes room, if it can. */
		flush_out(c);
		if (c->ss != SS_OPEN)
			return 0;
		r = c->console ? send_console_copy(c, p, n, limit)
			       : outq_push_frame(&c->out, f, limit);
	}
	if (r < 0) {
		client_fail(c, "out of memory for a message");
		return -1;
	}
	if (r == 0) {
		c->n.msgs_out++;
		c->n.bytes_out += n;
		return 0;
	}
	char why[64];
	snprintf(why, sizeof why, "too slow: %zu queued", c->out.len);
	log_msg(LV_INFO, "#%llu %s; closed with 1008", (unsigned long long)c->id,
		why);
	send_close(c, WS_POLICY, why, SS_CLOSE_SENT);
	/* It gets its Close as it reads what was queued before it. */
	if (c->fd >= 0)
		loop_timer_start(c->srv->loop, &c->sock_timer, SLOW_CLOSE_MS,
				 on_sock_timer);
	return 1;
}

void client_flush(struct client *c)
{
	if (c->fd >= 0)
		flush_out(c);
}

void client_resume(struct client *c)
{
	if (c->fd < 0)
		return;
	process_input(c);
	if (c->fd >= 0)
		flush_out(c);
}

void client_end(struct client *c, unsigned code, const char *reason)
{
	if (c->ss == SS_OPEN)
		send_close(c, code, reason, SS_CLOSE_SENT);
}

void client_end_exit(struct client *c, pid_t pid, int status)
{
	if (c->ss != SS_OPEN)
		return;
	c->shared_pid = pid;
	c->status = status;
	send_exit_close(c);
}
