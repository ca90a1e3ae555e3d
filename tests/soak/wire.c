/* soak's client connections: the RFC 6455 client side of each session
 * (masked frames out; the handshake checked and every server frame
 * validated: no mask, no RSV, known opcodes, whole short control frames,
 * minimal lengths, fragments in order, valid UTF-8, legal close codes,
 * nothing after Close), the gateway's pings answered, and the epoll loop
 * with its tick. What a session sends and expects is session.c's. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base64.h"
#include "sha1.h"
#include "soak.h"

#define MAX_FRAME (4u << 20)   /* larger server frames are an error */

/* RFC 3629 validation: no overlong forms, no surrogates, nothing above
 * U+10FFFF. */
static bool utf8_ok(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		size_t k;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1fu;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0fu;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07u;
		} else {
			return false;
		}
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3fu);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

struct conn *conns;
static struct conn *graveyard;
int epfd;
uint64_t connect_errors, server_pings, write_stalls, late_closes;
int64_t loop_lag_max;
static int64_t read_budget; /* bytes left to read in this loop iteration */

struct sess *conn_sess(const struct conn *c)
{
	return &sessions[c->token];
}

void conn_set_events(struct conn *c)
{
	if (c->st == ST_DEAD)
		return;
	uint32_t ev = 0;
	if (!c->paused)
		ev |= EPOLLIN;
	if (c->out.len > 0 || c->st == ST_CONNECTING)
		ev |= EPOLLOUT;
	if (ev == c->events)
		return;
	struct epoll_event e = { .events = ev, .data.ptr = c };
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e) < 0) {
		perror("soak: epoll_ctl");
		exit(2);
	}
	c->events = ev;
}

void conn_end(struct conn *c, bool ok, bool reset)
{
	if (c->st == ST_DEAD)
		return;
	struct sess *s = conn_sess(c);
	s->done = true;
	s->ok = ok;
	if (reset) {
		struct linger lg = { 1, 0 };
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	}
	close(c->fd);
	c->fd = -1;
	c->st = ST_DEAD;
	nactive[c->kind]--;
	struct kstat *k = &kst[c->kind];
	if (ok)
		k->ok++;
	else
		k->failed++;
	k->sent += s->sent;
	k->recv += s->recv;
	k->sent_bytes += s->sent_bytes;
	k->recv_bytes += s->recv_bytes;
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = graveyard;
	graveyard = c;
}

void conn_fail(struct conn *c, const char *fmt, ...)
{
	if (c->st == ST_DEAD)
		return;
	char what[512], full[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	const struct sess *s = conn_sess(c);
	snprintf(full, sizeof full, "%s (sent %u, received %u, %lld ms in)",
		 what, s->sent, s->recv, (long long)(now - c->t0));
	report_note_failure(c->token, full);
	conn_end(c, false, true);
}

void conn_flush(struct conn *c)
{
	while (c->out.len > 0 && c->st != ST_DEAD) {
		ssize_t n = send(c->fd, c->out.p + c->out.off, c->out.len,
				 MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			write_stalls++;
			break;
		}
		if (n < 0 && c->st == ST_WAIT_EOF && c->was_paused &&
		    (errno == EPIPE || errno == ECONNRESET)) {
			/* The gateway waits 2 s for our Close; a client that
			 * stopped reading may have let that pass. */
			late_closes++;
			conn_end(c, true, false);
			return;
		}
		if (n < 0) {
			conn_fail(c, "write: %s", strerror(errno));
			return;
		}
		bb_consume(&c->out, (size_t)n);
	}
	conn_set_events(c);
}

/* Queues one masked frame. */
void wire_put_frame(struct bbuf *b, unsigned op, bool fin, const uint8_t *p,
		      size_t n)
{
	uint8_t *d = bb_reserve(b, n + 14);
	size_t h = 0;
	d[h++] = (uint8_t)((fin ? 0x80u : 0u) | op);
	if (n < 126) {
		d[h++] = (uint8_t)(0x80u | n);
	} else if (n < 65536) {
		d[h++] = 0x80 | 126;
		d[h++] = (uint8_t)(n >> 8);
		d[h++] = (uint8_t)n;
	} else {
		d[h++] = 0x80 | 127;
		for (int i = 7; i >= 0; i--)
			d[h++] = (uint8_t)((uint64_t)n >> (8 * i));
	}
	uint64_t r = rnd();
	uint8_t mk[4] = { (uint8_t)r, (uint8_t)(r >> 8), (uint8_t)(r >> 16),
			  (uint8_t)(r >> 24) };
	memcpy(d + h, mk, 4);
	h += 4;
	for (size_t i = 0; i < n; i++)
		d[h + i] = p[i] ^ mk[i & 3];
	b->len += h + n;
}

void conn_send_close(struct conn *c, uint16_t code)
{
	uint8_t p[2] = { (uint8_t)(code >> 8), (uint8_t)code };
	wire_put_frame(&c->out, 0x8, true, p, 2);
	c->close_sent = true;
	c->my_close = code;
	conn_flush(c);
}

static bool close_code_legal(unsigned code)
{
	if (code >= 3000 && code <= 4999)
		return true;
	return code >= 1000 && code <= 1014 && code != 1004 && code != 1005 &&
	       code != 1006;
}

/* Validates and consumes whole frames from c->in. */
static void parse_frames(struct conn *c)
{
	struct sess *s = conn_sess(c);
	while (c->st == ST_OPEN || c->st == ST_WAIT_EOF) {
		uint8_t *b = c->in.p + c->in.off;
		size_t have = c->in.len;
		if (have < 2)
			return;
		unsigned fin = b[0] & 0x80u, rsv = b[0] & 0x70u, op = b[0] & 0x0fu;
		unsigned masked = b[1] & 0x80u, l7 = b[1] & 0x7fu;
		size_t hl = 2;
		uint64_t len = l7;
		if (rsv || masked) {
			conn_fail(c, "server frame with %s", rsv ? "RSV bits" : "a mask");
			return;
		}
		if (l7 == 126) {
			if (have < 4)
				return;
			len = (uint64_t)b[2] << 8 | b[3];
			hl = 4;
			if (len < 126) {
				conn_fail(c, "non-minimal 16-bit length %" PRIu64, len);
				return;
			}
		} else if (l7 == 127) {
			if (have < 10)
				return;
			len = 0;
			for (int i = 0; i < 8; i++)
				len = len << 8 | b[2 + i];
			hl = 10;
			if (len < 65536 || len >> 63) {
				conn_fail(c, "bad 64-bit length %" PRIu64, len);
				return;
			}
		}
		if (len > MAX_FRAME) {
			conn_fail(c, "frame of %" PRIu64 " bytes", len);
			return;
		}
		if (have < hl + len) {
			bb_reserve(&c->in, (size_t)(hl + len - have));
			return;
		}
		const uint8_t *p = b + hl;
		size_t n = (size_t)len;
		if (c->st == ST_WAIT_EOF) {
			conn_fail(c, "frame (opcode %u) after the server's Close", op);
			return;
		}
		if (op >= 0x8) {
			if (!fin || n > 125) {
				conn_fail(c, "control frame %s", !fin ? "fragmented"
								      : "too long");
				return;
			}
			if (op == 0x8) {
				unsigned code = 0;
				char reason[128] = "";
				if (n == 1) {
					conn_fail(c, "Close with a 1-byte payload");
					return;
				}
				if (n >= 2) {
					code = (unsigned)p[0] << 8 | p[1];
					if (!close_code_legal(code) ||
					    !utf8_ok(p + 2, n - 2)) {
						conn_fail(c, "bad Close %u", code);
						return;
					}
					memcpy(reason, p + 2, n - 2);
					reason[n - 2] = '\0';
				}
				bb_consume(&c->in, hl + n);
				session_on_close(c, code, reason);
				continue;
			} else if (op == 0x9) {
				server_pings++;
				if (!c->close_sent) {
					int unsent = 0;
					ioctl(c->fd, SIOCOUTQ, &unsent);
					c->ping_at = now;
					c->pong_behind = c->out.len + (size_t)unsent;
					wire_put_frame(&c->out, 0xA, true, p, n);
					conn_flush(c);
				}
			} else if (op == 0xA) {
				s->pongs++;
			} else {
				conn_fail(c, "reserved opcode %u", op);
				return;
			}
		} else if (op == 0x1 || op == 0x0) {
			if (op == 0x1 && c->in_msg) {
				conn_fail(c, "new message inside a fragmented one");
				return;
			}
			if (op == 0x0 && !c->in_msg) {
				conn_fail(c, "continuation without a message");
				return;
			}
			if (fin && !c->in_msg) {
				if (!utf8_ok(p, n)) {
					conn_fail(c, "invalid UTF-8 in a text message");
					return;
				}
				session_on_message(c, p, n);
			} else {
				if (c->msg.len + n > MAX_MSG) {
					conn_fail(c, "message over %u bytes", MAX_MSG);
					return;
				}
				bb_append(&c->msg, p, n);
				c->in_msg = !fin;
				if (fin) {
					if (!utf8_ok(c->msg.p + c->msg.off, c->msg.len)) {
						conn_fail(c, "invalid UTF-8 in a "
							  "fragmented message");
						return;
					}
					session_on_message(c, c->msg.p + c->msg.off, c->msg.len);
					bb_free(&c->msg);
				}
			}
		} else {
			conn_fail(c, "%s opcode %u", op == 2 ? "binary" : "reserved",
				  op);
			return;
		}
		if (c->st == ST_DEAD)
			return;
		bb_consume(&c->in, hl + n);
	}
}

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* "Name: value" in the response head h, case-insensitive name. */
static bool header_value(const char *h, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	for (const char *line = strstr(h, "\r\n"); line && line[2];
	     line = strstr(line + 2, "\r\n")) {
		const char *l = line + 2;
		if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
			const char *v = l + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			const char *e = strstr(v, "\r\n");
			size_t n = e ? (size_t)(e - v) : strlen(v);
			while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
				n--;
			if (n >= cap)
				n = cap - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return true;
		}
	}
	return false;
}

static void on_handshake(struct conn *c)
{
	uint8_t *b = c->in.p + c->in.off;
	size_t n = c->in.len;
	uint8_t *end = memmem(b, n, "\r\n\r\n", 4);
	if (!end) {
		if (n > 4096)
			conn_fail(c, "response head over 4 KiB");
		return;
	}
	size_t hlen = (size_t)(end - b) + 4;
	char head[4100], v[256];
	if (hlen > 4096) {
		conn_fail(c, "response head over 4 KiB");
		return;
	}
	memcpy(head, b, hlen);
	head[hlen] = '\0';
	if (strncmp(head, "HTTP/1.1 101 ", 13) != 0) {
		char *eol = strstr(head, "\r\n");
		if (eol)
			*eol = '\0';
		conn_fail(c, "handshake answered \"%s\"", head);
		return;
	}
	uint8_t digest[SHA1_LEN];
	struct sha1 sh;
	sha1_init(&sh);
	sha1_update(&sh, c->key, strlen(c->key));
	sha1_update(&sh, ws_guid, sizeof ws_guid - 1);
	sha1_final(&sh, digest);
	char accept[BASE64_ENCODED_LEN(SHA1_LEN) + 1];
	accept[base64_encode(digest, SHA1_LEN, accept)] = '\0';
	if (!header_value(head, "Upgrade", v, sizeof v) ||
	    strcasecmp(v, "websocket") != 0) {
		conn_fail(c, "101 without Upgrade: websocket");
		return;
	}
	if (!header_value(head, "Connection", v, sizeof v) ||
	    !strcasestr(v, "upgrade")) {
		conn_fail(c, "101 without Connection: Upgrade");
		return;
	}
	if (!header_value(head, "Sec-WebSocket-Accept", v, sizeof v) ||
	    strcmp(v, accept) != 0) {
		conn_fail(c, "Sec-WebSocket-Accept \"%s\", want \"%s\"", v, accept);
		return;
	}
	bb_consume(&c->in, hlen);
	c->st = ST_OPEN;
	conn_sess(c)->got101 = true;
	if (c->kind == K_PROBE && nprobe_hs < sizeof probe_hs / sizeof probe_hs[0])
		probe_hs[nprobe_hs++] = (uint64_t)(now - c->t0);
	if (c->kind == K_VANISH && c->variant == V_AFTER_101) {
		session_vanish(c);
		return;
	}
	session_step(c);
	if (c->st == ST_OPEN)
		parse_frames(c);
}

static void on_readable(struct conn *c)
{
	for (int i = 0; i < 2 && !c->paused && read_budget > 0; i++) {
		if (c->st != ST_HANDSHAKE && c->st != ST_OPEN && c->st != ST_WAIT_EOF)
			return;
		uint8_t *p = bb_reserve(&c->in, 65536);
		ssize_t n = recv(c->fd, p, 65536, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			if (n == 0 && c->st == ST_WAIT_EOF) {
				conn_end(c, true, false);
				return;
			}
			if (n < 0 && errno == ECONNRESET && c->st == ST_WAIT_EOF &&
			    c->was_paused) {
				late_closes++;
				conn_end(c, true, false);
				return;
			}
			static const char *const stname[] = {
				"connecting", "handshake", "open", "closing", "dead"
			};
			char ping[120] = "";
			if (c->ping_at)
				snprintf(ping, sizeof ping, "; the gateway's last ping "
					 "came %lld ms ago, our pong behind %zu bytes "
					 "of ours", (long long)(now - c->ping_at),
					 c->pong_behind);
			conn_fail(c, "%s while %s, no Close from the gateway%s",
				  n == 0 ? "EOF" : strerror(errno), stname[c->st],
				  ping);
			return;
		}
		c->in.len += (size_t)n;
		read_budget -= n;
		if (c->st == ST_HANDSHAKE)
			on_handshake(c);
		else
			parse_frames(c);
	}
}

static void send_request(struct conn *c)
{
	uint8_t raw[16];
	uint64_t a = rnd(), b = rnd();
	memcpy(raw, &a, 8);
	memcpy(raw + 8, &b, 8);
	c->key[base64_encode(raw, 16, c->key)] = '\0';
	char req[512];
	int n = snprintf(req, sizeof req,
			 "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
			 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
			 "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
			 "User-Agent: portal-gw-soak\r\n\r\n",
			 c->path, (unsigned)ntohs(gw_addr.sin_port), c->key);
	if (c->kind == K_VANISH && c->variant == V_HANDSHAKE) {
		bb_append(&c->out, req, rnd_in(1, (uint32_t)n - 1));
		if (send(c->fd, c->out.p, c->out.len, MSG_NOSIGNAL) < 0 &&
		    errno != EAGAIN) {
			conn_fail(c, "write: %s", strerror(errno));
			return;
		}
		conn_end(c, true, rnd() % 2);
		return;
	}
	bb_append(&c->out, req, (size_t)n);
	c->st = ST_HANDSHAKE;
	conn_flush(c);
}

static void on_event(struct conn *c, uint32_t ev)
{
	if (c->st == ST_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof err;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			connect_errors++;
			conn_fail(c, "connect: %s", strerror(err));
			return;
		}
		if (!(ev & EPOLLOUT))
			return;
		send_request(c);
		return;
	}
	if (ev & (EPOLLHUP | EPOLLERR))
		c->paused = false; /* nothing to wait for: see what happened */
	if (ev & EPOLLOUT)
		conn_flush(c);
	if (c->st != ST_DEAD && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		on_readable(c);
	if (c->st == ST_OPEN)
		session_step(c);
	if (c->st != ST_DEAD)
		conn_set_events(c);
}

void wire_tick(void)
{
	struct conn *c, *next;
	for (c = conns; c; c = next) {
		next = c->next;
		if (now >= c->deadline) {
			conn_fail(c, "deadline: still %s",
				  c->st == ST_CONNECTING ? "connecting"
				  : c->st == ST_HANDSHAKE ? "waiting for the 101"
				  : c->st == ST_WAIT_EOF  ? "waiting for EOF"
				  : c->close_sent	 ? "waiting for Close"
							 : "open");
			continue;
		}
		if (c->kind == K_PROBE && c->echo_ms == 0 &&
		    now - c->t0 > probe_deadline_ms) {
			conn_fail(c, "probe: no echo within %u ms",
				  probe_deadline_ms);
			continue;
		}
		if (c->st == ST_OPEN)
			session_step(c);
	}
	while (graveyard) {
		c = graveyard;
		graveyard = c->next;
		bb_free(&c->in);
		bb_free(&c->out);
		bb_free(&c->msg);
		free(c);
	}
}

void wire_run_events(int timeout)
{
	struct epoll_event ev[256];
	int64_t before = clock_ms();
	if (now && before - now > loop_lag_max)
		loop_lag_max = before - now; /* our own work since the last wait */
	read_budget = 8 << 20; /* bounds how long one iteration checks lines */
	int n = epoll_wait(epfd, ev, 256, timeout);
	if (n < 0 && errno != EINTR) {
		perror("soak: epoll_wait");
		exit(2);
	}
	now = clock_ms();
	for (int i = 0; i < n; i++) {
		struct conn *c = ev[i].data.ptr;
		if (c->st != ST_DEAD)
			on_event(c, ev[i].events);
	}
}
