/* The load client's connections: one slot's life from connect() through
 * the handshake and its Sec-WebSocket-Accept check to the last echo or
 * Close, with the counting of messages, round trips and sessions. */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "load.h"

#define WS_GUID	  "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

static size_t n_idle;

static bool counting(void)
{
	return phase == P_MEASURE;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->st == C_OPEN || c->st == C_CLOSING)
		n_open--;
	c->st = C_FREE;
}

void conn_fail(struct conn *c, const char *why)
{
	fail(res, "%s", why);
	if (c->pending) {
		c->pending = false;
		n_pending--;
	}
	conn_close(c);
	n_failed++;
}

void conn_want_out(struct conn *c, bool on)
{
	struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0u),
				 .data.ptr = c};

	if (c->want_out == on)
		return;
	c->want_out = on;
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void on_open(struct conn *c)
{
	c->st = C_OPEN;
	n_open++;
	switch (o->mode) {
	case M_CHURN:
	case M_IDLE:
		c->tx_queued = 1;
		break;
	case M_FANOUT:
		fan_open(c);
		return;
	default:
		c->tx_queued = (uint64_t)o->inflight;
	}
	if (phase == P_SETUP && o->mode != M_CHURN && o->mode != M_IDLE &&
	    n_open == nconns) {
		phase = P_WARM;
		t_measure = now() + o->warmup;
	}
}

static void record_latency(double us)
{
	if (res->nlat == res->lat_cap)
		return;
	res->lat[res->nlat++] = (float)us;
}

void conn_on_message(struct conn *c)
{
	double t;
	uint64_t seq;

	if (o->mode == M_FANOUT) {
		fan_message(c);
		return;
	}
	t = now();
	seq = c->rx_seq++;
	if (counting()) {
		res->msgs++;
		res->bytes += o->size;
		if (o->mode != M_CHURN)
			record_latency(
			    (t - c->t_sent[seq % (uint64_t)o->inflight]) * 1e6);
	}
	switch (o->mode) {
	case M_CHURN:
		tx_close(c);
		break;
	case M_IDLE:
		if (c->pending) {
			c->pending = false;
			n_pending--;
			n_idle++;
		}
		break;
	default:
		if (phase != P_DONE)
			c->tx_queued++;
	}
}

/* Checks the 101 response; returns 1 when done, 0 for more, -1 failed. */
static int handshake(struct conn *c)
{
	unsigned char *end = memmem(c->ibuf, c->ilen, "\r\n\r\n", 4);
	const char *line, *eol;
	bool accept_ok = false, upgrade_ok = false;
	size_t head;

	if (!end) {
		if (c->ilen < bufsize)
			return 0;
		conn_fail(c, "response head too large");
		return -1;
	}
	head = (size_t)(end - c->ibuf) + 4;
	if (c->ilen < 12 || memcmp(c->ibuf, "HTTP/1.1 101", 12) != 0) {
		char why[80];

		eol = memchr(c->ibuf, '\r', c->ilen);
		snprintf(why, sizeof why, "handshake refused: %.*s",
			 (int)(eol - (char *)c->ibuf), (char *)c->ibuf);
		conn_fail(c, why);
		return -1;
	}
	for (line = (char *)c->ibuf; line < (char *)end; line = eol + 2) {
		const char *v;
		size_t vlen;

		eol = memmem(line, (size_t)((char *)end + 2 - line), "\r\n", 2);
		v = memchr(line, ':', (size_t)(eol - line));
		if (!v)
			continue;
		for (v++; *v == ' ' || *v == '\t'; v++)
			;
		vlen = (size_t)(eol - v);
		while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
		if (strncasecmp(line, "Sec-WebSocket-Accept:", 21) == 0)
			accept_ok = vlen == strlen(c->accept) &&
				    memcmp(v, c->accept, vlen) == 0;
		else if (strncasecmp(line, "Upgrade:", 8) == 0)
			upgrade_ok =
			    vlen == 9 && strncasecmp(v, "websocket", 9) == 0;
	}
	if (!accept_ok || !upgrade_ok) {
		conn_fail(c, accept_ok ? "101 without Upgrade: websocket"
				       : "wrong Sec-WebSocket-Accept");
		return -1;
	}
	c->ilen -= head;
	memmove(c->ibuf, c->ibuf + head, c->ilen);
	on_open(c);
	return 1;
}

static void session_done(struct conn *c)
{
	double t = now();

	if (counting()) {
		res->sessions++;
		record_latency((t - c->t_begin) * 1e6);
	}
	conn_close(c);
}

static void conn_read(struct conn *c)
{
	ssize_t n = read(c->fd, c->ibuf + c->ilen, bufsize - c->ilen);

	if (n == 0) {
		if (c->st == C_CLOSING && c->close_got)
			session_done(c);
		else
			conn_fail(c, "server closed the connection");
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_fail(c, strerror(errno));
		return;
	}
	last_progress = now();
	if (o->mode == M_FANOUT)
		fan_rx_ns = fan_now_ns();
	c->ilen += (size_t)n;
	if (c->st == C_HANDSHAKE && handshake(c) <= 0)
		return;
	if (rx_frames(c) < 0)
		return;
	tx_flush(c);
}

static void conn_connected(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof err;
	unsigned char key[16];
	char k64[BASE64_ENCODED_LEN(16) + 1];
	uint8_t digest[SHA1_LEN];
	struct sha1 s;
	uint64_t r1 = wire_rand64(), r2 = wire_rand64();

	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		conn_fail(c, strerror(err));
		return;
	}
	if (o->raw) {
		on_open(c);
		tx_flush(c);
		return;
	}
	memcpy(key, &r1, 8);
	memcpy(key + 8, &r2, 8);
	k64[base64_encode(key, 16, k64)] = '\0';
	sha1_init(&s);
	sha1_update(&s, k64, strlen(k64));
	sha1_update(&s, WS_GUID, strlen(WS_GUID));
	sha1_final(&s, digest);
	c->accept[base64_encode(digest, SHA1_LEN, c->accept)] = '\0';
	c->olen = (size_t)snprintf(
	    (char *)c->obuf, bufsize,
	    "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n",
	    o->path, o->host, o->port, k64);
	c->opos = 0;
	c->st = C_HANDSHAKE;
	tx_flush(c);
}

void conn_start(struct conn *c)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
	int one = 1;

	c->opos = c->olen = c->ilen = c->ctl_len = 0;
	c->tx_queued = c->tx_seq = c->rx_seq = c->rx_left = 0;
	c->tx_left = c->tx_off = c->rx_off = 0;
	c->in_payload = c->in_msg = c->close_sent = c->close_got = false;
	c->t_begin = now();
	if (o->mode == M_IDLE || o->mode == M_FANOUT) {
		c->pending = true;
		n_pending++;
	}
	c->fd = socket(addr.ss_family,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		conn_fail(c, strerror(errno));
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (o->mode == M_FANOUT)
		fan_socket(c);
	c->st = C_CONNECTING;
	c->want_out = true;
	if (connect(c->fd, (struct sockaddr *)&addr, addrlen) < 0 &&
	    errno != EINPROGRESS) {
		conn_fail(c, strerror(errno));
		return;
	}
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		conn_fail(c, strerror(errno));
}

void conn_event(struct conn *c, uint32_t ev)
{
	if (c->st == C_FREE)
		return;
	if (c->st == C_CONNECTING) {
		conn_connected(c);
		return;
	}
	if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))
		conn_read(c);
	if (c->st != C_FREE && (ev & EPOLLOUT))
		tx_flush(c);
}
