/* A connection: its socket and what goes over it.
 *
 *   socket -> in -> ws_decode -> the binding (ops->data or ops->message)
 *   the binding's frames (conn_send...) -> out -> socket
 *
 * A queue at its high-water mark turns reading off upstream: the conn
 * reads nothing while its binding has no room (ops->room), and tells the
 * binding whether its own queue has room (ops->writable); nothing is ever
 * dropped while both ends are alive.
 *
 * The conn knows no child: it hears from its binding only through the
 * calls in conn.h, and calls it only through struct conn_ops. It is freed
 * once its socket is closed and its binding no longer needs it (busy).
 * The request head up to the 101 is in upgrade.c, the plain answers in
 * plain.c and cgireq.c, the access line in conn_log.c.
 */
#include "conn.h"

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
#include "log.h"
#include "net.h"
#include "plain.h"
#include "server.h"
#include "conn_int.h"

static void on_socket(struct loop *l, int fd, unsigned ev, void *arg);

/* --- socket output --------------------------------------------------- */

void flush_out(struct conn *c)
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
			conn_close(c, LV_DEBUG, why);
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
		conn_log_next(c);
		c->ss = SS_HANDSHAKE;
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
			conn_close(c, LV_DEBUG, "closed after the client's FIN");
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

static bool send_frame_direct(struct conn *c, unsigned opcode, bool fin,
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

static bool queue_frame(struct conn *c, unsigned opcode, bool fin,
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
static void send_close(struct conn *c, unsigned code, const char *reason,
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
		conn_close(c, LV_ERROR, "out of memory for the Close");
		return;
	}
	c->ss = next;
	c->written_mark = c->written;
	loop_timer_start(c->srv->loop, &c->sock_timer, CLOSE_WAIT_MS,
			 on_sock_timer);
	flush_out(c);
}

/* c is ending: what feeds it (its binding, a CGI script) is to stop. */
static void stop_feeders(struct conn *c, bool now)
{
	if (c->ops && c->ops->stop)
		c->ops->stop(c->owner, c, now);
	if (c->cgi)
		cgireq_stop(c, now);
}

void conn_fail(struct conn *c, const char *why)
{
	if (c->fd < 0)
		return;
	log_msg(LV_ERROR, "#%llu %s; the session ends with 1011",
		(unsigned long long)c->id, why);
	stop_feeders(c, false);
	if (c->ss == SS_OPEN)
		send_close(c, WS_INTERNAL_ERROR, why, SS_CLOSE_SENT);
	else if (c->ss == SS_ENDING)
		send_close(c, WS_INTERNAL_ERROR, why, SS_CLOSING);
	else
		conn_close(c, LV_ERROR, why);
}

/* --- client messages -> the binding ------------------------------------ */

/* Whether the next message may go to the binding now. */
static bool may_feed(const struct conn *c)
{
	return !c->ops || c->ops->room(c->owner, c);
}

void conn_tell_gone(struct conn *c, unsigned code)
{
	if (c->gone_told)
		return;
	c->gone_told = true;
	buf_free(&c->msg);
	if (c->ops)
		c->ops->gone(c->owner, c, code);
}

/* A piece of a client message, to the binding: as it comes, or gathered
 * and handed over whole (ops->message), so that it is never mixed with
 * another client's. */
static void deliver(struct conn *c, const struct ws_event *ev)
{
	c->n.bytes_in += ev->len;
	if (ev->last)
		c->n.msgs_in++;
	if (!c->ops)
		return;
	if (c->ops->data) {
		struct conn_data d = {ev->opcode, ev->first, ev->last,
				      ev->data, ev->len};
		c->ops->data(c->owner, c, &d);
		return;
	}
	if (buf_append(&c->msg, ev->data, ev->len) < 0) {
		conn_fail(c, "out of memory for a message");
		return;
	}
	if (!ev->last)
		return;
	c->ops->message(c->owner, c, ev->opcode, buf_data(&c->msg),
			c->msg.len);
	buf_free(&c->msg);
}

/* The client is done (its Close, or a protocol error that fails the
 * connection): read nothing more; the binding hears gone(told) and may
 * have our Close(code) wait for its last output (conn_linger); else it
 * goes now. */
static void end_session(struct conn *c, unsigned told, unsigned code,
			const char *reason)
{
	c->end_code = code;
	c->end_reason = reason;
	conn_tell_gone(c, told);
	if (c->fd < 0 || c->ss != SS_OPEN)
		return;
	buf_free(&c->in);
	send_close(c, code, reason, SS_CLOSING);
}

void conn_linger(struct conn *c, unsigned ms)
{
	if (c->fd < 0 || c->ss != SS_OPEN)
		return;
	c->ss = SS_ENDING;
	loop_timer_stop(c->srv->loop, &c->ping_timer);
	loop_timer_start(c->srv->loop, &c->sock_timer, ms, on_sock_timer);
	update_interest(c);
}

/* Decodes queued socket bytes while the binding has room. */
static void decode_input(struct conn *c)
{
	while (c->in.len > 0 && c->fd >= 0) {
		if (c->ss != SS_OPEN && c->ss != SS_CLOSE_SENT) {
			buf_free(&c->in);
			return;
		}
		if (c->ss == SS_OPEN && !may_feed(c))
			return; /* resumed by conn_resume */
		struct ws_event ev;
		size_t used = ws_decode(&c->dec, buf_data(&c->in), c->in.len, &ev);
		bool open = c->ss == SS_OPEN;
		switch (ev.type) {
		case WS_EV_NONE:
			break;
		case WS_EV_DATA:
			if (open)
				deliver(c, &ev);
			break;
		case WS_EV_PING:
			if (open && !queue_frame(c, WS_PONG, true, ev.data,
						 ev.len))
				conn_fail(c, "out of memory for a pong");
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
			if (open) {
				/* Echo a valid code; an empty Close gets an
				 * empty one (1005 is never sent). */
				end_session(c, ev.code ? ev.code : WS_NO_STATUS,
					    ev.code, NULL);
			} else {
				conn_tell_gone(c, ev.code ? ev.code
							  : WS_NO_STATUS);
				if (c->fd >= 0) {
					c->ss = SS_CLOSING;
					flush_out(c);
				}
			}
			break;
		case WS_EV_ERROR:
			log_msg(LV_INFO, "#%llu protocol error: %s (%u)",
				(unsigned long long)c->id, ev.reason, ev.code);
			if (open) {
				end_session(c, 1006, ev.code, ev.reason);
			} else {
				conn_tell_gone(c, 1006);
				if (c->fd >= 0)
					c->ss = SS_CLOSING;
			}
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

void process_input(struct conn *c)
{
	if (c->ss == SS_CGI) {
		cgireq_input(c);
		return;
	}
	decode_input(c);
	if (c->ops && c->ops->fed)
		c->ops->fed(c->owner, c);
}

/* --- socket input ----------------------------------------------------- */

/* Answers the request heads in c->in one after another, as long as each is
 * answered at once and the connection stays open (keep-alive, pipelined
 * requests); stops at a partial head or an answer that waits for the
 * socket. */
static void read_requests(struct conn *c)
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
	struct conn *c = arg;
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
		conn_close(c, c->ss == SS_OPEN ? LV_INFO : LV_DEBUG,
			     "client went away without Close");
		return;
	}
	if ((ev & LOOP_HUP) && c->lookup) {
		conn_close(c, LV_DEBUG, "client went away during its lookup");
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
		conn_close(c, c->ss == SS_OPEN ? LV_INFO : LV_DEBUG,
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

void update_interest(struct conn *c)
{
	struct loop *l = c->srv->loop;
	if (c->ss == SS_SPAWNING) {
		/* Nothing moves until the binding says go: client bytes stay
		 * in the socket. */
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
		/* Not reading because the binding is slow: still notice a
		 * client that hangs up, rather than keep its session. Asked
		 * for while reading too, so that pausing reads only narrows
		 * the interest, which the loop does without a system call. */
		if (c->ss == SS_OPEN || c->ss == SS_CGI)
			m |= LOOP_HUP;
		loop_set(l, c->fd, m);
	}
	bool room = c->fd < 0 || c->out.len < OUT_HIGH;
	if (c->ops && c->ops->writable)
		c->ops->writable(c->owner, c, room);
	if (c->cgi)
		cgireq_writable(c, room);
}

/* --- ending ----------------------------------------------------------- */

/* Server pings: a ping every ping_ms; a session whose client neither
 * answers within pong_ms nor is merely held up by our own backpressure is
 * treated as gone. */
void on_ping_timer(struct loop *l, struct loop_timer *t)
{
	struct conn *c = LOOP_TIMER_OWNER(t, struct conn, ping_timer);
	const struct conn_limits *lim = c->lim;
	if (c->ss != SS_OPEN)
		return;
	bool heard = loop_now(l) - c->last_read < lim->pong_ms;
	bool paused = !(loop_mask(l, c->fd) & LOOP_READ);
	if (c->ping_outstanding && !heard && !paused) {
		char why[64];
		snprintf(why, sizeof why, "no pong within %u ms; client gone",
			 lim->pong_ms);
		conn_close(c, LV_INFO, why);
		return;
	}
	if (!c->ping_outstanding) {
		char payload[24];
		int k = snprintf(payload, sizeof payload, "%llu",
				 (unsigned long long)loop_now(l));
		if (!queue_frame(c, WS_PING, true, (const uint8_t *)payload,
				 (size_t)k)) {
			conn_fail(c, "out of memory for a ping");
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
	struct conn *c = LOOP_TIMER_OWNER(t, struct conn, sock_timer);
	if (c->ss == SS_HANDSHAKE && c->kept_alive && c->in.len == 0) {
		conn_close(c, LV_DEBUG, "idle keep-alive connection closed");
		return;
	}
	if (c->ss == SS_HANDSHAKE) {
		http_error(c, 408, "request head not received in time");
		return;
	}
	if (c->ss == SS_SPAWNING) {
		stop_feeders(c, true); /* while still waiting: too long */
		upgrade_abandon(c);
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
	conn_close(c, LV_DEBUG, "socket timer: connection closed");
}

void conn_close(struct conn *c, enum log_level lv, const char *why)
{
	if (c->fd < 0)
		return;
	log_msg(lv, "#%llu %s", (unsigned long long)c->id, why);
	upgrade_abandon(c);
	loop_timer_stop(c->srv->loop, &c->sock_timer);
	loop_timer_stop(c->srv->loop, &c->ping_timer);
	loop_del(c->srv->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	c->ss = SS_GONE;
	buf_free(&c->in);
	outq_free(&c->out);
	conn_tell_gone(c, 1006);
	if (c->cgi)
		cgireq_stop(c, false);
	update_interest(c);
	conn_maybe_done(c);
}

/* The Close that says how the program ended (c->status): 1000 for exit
 * status 0, else 1011 naming the status or the signal. */
static void send_exit_close(struct conn *c)
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

void conn_note_exit(struct conn *c, pid_t pid, int status)
{
	c->pid = pid;
	c->status = status;
	c->exited = true;
}

void conn_end_exit(struct conn *c, pid_t pid, int status)
{
	if (c->ss == SS_ENDING) {
		conn_note_exit(c, pid, status);
		send_close(c, c->end_code, c->end_reason, SS_CLOSING);
	} else if (c->ss == SS_OPEN) {
		conn_note_exit(c, pid, status);
		send_exit_close(c);
	}
	conn_maybe_done(c);
}

void conn_maybe_done(struct conn *c)
{
	if (c->done || c->fd >= 0 ||
	    (c->ops && c->ops->busy && c->ops->busy(c->owner, c)) ||
	    (c->cgi && cgireq_busy(c)))
		return;
	c->done = true; /* callers up the stack may call again */
	struct server *srv = c->srv;
	if (c->ops && c->ops->finish)
		c->ops->finish(c->owner, c);
	if (c->cgi)
		cgireq_finish(c);
	loop_timer_stop(srv->loop, &c->sock_timer);
	conn_log_end(c);
	if (c->body_fd >= 0)
		close(c->body_fd);

	server_conn_done(srv, c);
}

/* --- the server's side ------------------------------------------------ */

void conn_limits_init(struct conn_limits *l, const struct options *o)
{
	*l = (struct conn_limits){
		.handshake_ms = o->handshake_ms,
		.ping_ms = o->ping_ms,
		.pong_ms = o->pong_ms,
		.closems = o->closems,
		.max_head = o->max_head,
		.max_message = o->max_message,
		.mode = o->mode,
		.err_mode = o->err_mode,
		.http = {
			.devconsole = o->devconsole,
			.trust_proxy = o->trust_proxy,
			.reverselookup = o->reverselookup,
			.sameorigin = o->sameorigin,
			.maxforks = o->maxforks,
			.origins = &o->origins,
			.passenv = &o->passenv,
			.protocols = &o->protocols,
			.staticdir = o->staticdir,
			.cgidir = o->cgidir,
			.health_path = o->health_path,
			.metrics_path = o->metrics_path,
			.routes = o,
		},
	};
}

struct conn *conn_start(struct server *srv, int fd,
			    const struct sockaddr_storage *peer, int local_port)
{
	struct conn *c = calloc(1, sizeof *c);
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
	loop_timer_start(srv->loop, &c->sock_timer, srv->climits.handshake_ms,
			 on_sock_timer);
	return c;
}

void conn_refuse(struct conn *c, int status, const char *why,
		   const char *more)
{
	http_error_extra(c, status, why, more);
}

void conn_go_away(struct conn *c)
{
	if (c->ss == SS_HANDSHAKE) {
		conn_close(c, LV_DEBUG, "shutting down");
	} else if (c->ss == SS_ANSWERING) {
		c->ss = SS_CLOSING; /* the answer goes out, then the FIN */
	} else if (c->ss == SS_SPAWNING) {
		upgrade_abandon(c);
		http_error(c, 503, "shutting down");
	} else if (c->ss == SS_OPEN)
		send_close(c, WS_GOING_AWAY, "server shutting down", SS_CLOSE_SENT);
	stop_feeders(c, false);
}

void conn_abort(struct conn *c)
{
	upgrade_abandon(c);
	stop_feeders(c, true);
	conn_close(c, LV_DEBUG, "aborted");
}

bool conn_upgrading(const struct conn *c)
{
	return c->ss == SS_HANDSHAKE || c->ss == SS_SPAWNING;
}

struct conn *conn_next(const struct conn *c)
{
	return c->link.next;
}

struct conn_link *conn_link(struct conn *c)
{
	return &c->link;
}

void conn_free(struct conn *c)
{
	if (c->ops && c->ops->free)
		c->ops->free(c->owner, c);
	cgireq_free(c);
	free(c->remote_host);
	free(c->origin);
	free(c->reason);
	free(c->fwd);
	buf_free(&c->in);
	outq_free(&c->out);
	buf_free(&c->msg);
	free(c);
}

/* --- bindings (conn.h) ------------------------------------------------- */

void conn_bind(struct conn *c, const struct conn_ops *ops, void *owner)
{
	c->ops = ops;
	c->owner = owner;
}

uint64_t conn_id(const struct conn *c)
{
	return c->id;
}

bool conn_is_open(const struct conn *c)
{
	return c->ss == SS_OPEN;
}

bool conn_can_send(const struct conn *c)
{
	return c->ss == SS_OPEN || c->ss == SS_ENDING;
}

bool conn_console(const struct conn *c)
{
	return c->console;
}

bool conn_send(struct conn *c, unsigned opcode, bool fin, const uint8_t *p,
	       size_t n)
{
	return queue_frame(c, opcode, fin, p, n);
}

bool conn_send_data(struct conn *c, unsigned opcode, bool fin,
		    const uint8_t *p, size_t n)
{
	if (!queue_frame(c, opcode, fin, p, n))
		return false;
	c->n.bytes_out += n;
	if (fin)
		c->n.msgs_out++;
	return true;
}

bool conn_has_room(const struct conn *c)
{
	return c->out.len < OUT_HIGH;
}

size_t conn_queued(const struct conn *c)
{
	return c->out.len;
}

/* A --devconsole client's copy: its output is tagged 'o'. */
static int send_console_copy(struct conn *c, const uint8_t *p, size_t n,
			     size_t limit)
{
	if (c->out.len + n > limit)
		return 1;
	if (!queue_frame(c, WS_TEXT, false, (const uint8_t *)"o", 1) ||
	    !queue_frame(c, WS_CONT, true, p, n))
		return -1;
	return 0;
}

int conn_send_frame(struct conn *c, struct frame *f, size_t limit)
{
	if (c->ss != SS_OPEN)
		return 0;
	size_t n;
	const uint8_t *p = frame_payload(f, &n);
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
		conn_fail(c, "out of memory for a message");
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

void conn_flush(struct conn *c)
{
	if (c->fd >= 0)
		flush_out(c);
	else
		update_interest(c);
}

void conn_resume(struct conn *c)
{
	if (c->fd < 0)
		return;
	process_input(c);
	if (c->fd >= 0)
		flush_out(c);
}

void conn_end(struct conn *c, unsigned code, const char *reason)
{
	if (c->ss == SS_OPEN)
		send_close(c, code, reason, SS_CLOSE_SENT);
}
