/* The load client: many RFC 6455 client connections in one thread on epoll.
 *
 * Every connection streams: outgoing messages are generated and masked in
 * buffer-sized chunks as the socket takes them, incoming frames are checked
 * against the expected echo as they arrive, so a 1 MiB message costs no
 * more memory than a 32-byte one. Each message carries its sequence number
 * (8 hex digits) followed by a fixed letter pattern: an echo that is lost,
 * reordered, cut or corrupted is an error, not a number.
 *
 * With --raw the same engine speaks lines over plain TCP (message + "\n"),
 * for the relay floor in floor.c. */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include "base64.h"
#include "sha1.h"
#include "wsbench.h"

enum cstate { C_FREE, C_CONNECTING, C_HANDSHAKE, C_OPEN, C_CLOSING };
enum phase { P_SETUP, P_WARM, P_MEASURE, P_HOLD, P_DONE };

#define WS_GUID	  "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define HDR_ROOM  14 /* largest client frame header: 2 + 8 + mask */
#define CTL_ROOM  (HDR_ROOM + 125)
#define SEQ_BYTES 8

struct conn {
	int fd;
	enum cstate st;
	bool want_out; /* EPOLLOUT is in the interest set */
	char accept[BASE64_ENCODED_LEN(SHA1_LEN) + 1];
	double t_begin; /* connect() time, for churn session times */

	unsigned char *obuf; /* bytes to send: [opos, olen) */
	size_t opos, olen;
	uint64_t tx_queued; /* messages asked for, not yet started */
	uint64_t tx_seq;    /* sequence number of the next/current message */
	size_t tx_left;	    /* bytes of the current message still to generate */
	size_t tx_off;
	unsigned char tx_key[4];
	unsigned char
	    ctl[CTL_ROOM]; /* a pong or close, sent between messages */
	size_t ctl_len;
	bool close_sent;

	unsigned char *ibuf; /* received, not yet parsed: [0, ilen) */
	size_t ilen;
	bool in_payload; /* inside a data frame's payload */
	bool rx_fin;
	bool in_msg; /* a fragmented message has started */
	uint64_t rx_left;
	size_t rx_off; /* bytes into the current message */
	uint64_t rx_seq;
	bool close_got;
	double *t_sent; /* send times, a ring indexed by seq % inflight */
	bool pending;	/* idle: started, neither echoed nor failed yet */
};

static const struct opts *o;
static struct result *res;
static int ep = -1;
static struct conn *conns;
static size_t nconns, bufsize, msg_total;
static unsigned char *pattern; /* msg_total bytes: letters, "\n" if raw */
static struct sockaddr_storage addr;
static socklen_t addrlen;
static uint64_t rng;
static enum phase phase;
static double t_run, t_measure, t_end, t_hold, last_progress;
static size_t n_open, n_started, n_failed, n_idle, n_pending;

static uint64_t rand64(void)
{
	/* xorshift64*, seeded from getrandom: unpredictable enough for keys
	 * and masks of a load client, and cheap per frame. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

static void mask(unsigned char *p, size_t n, const unsigned char key[4],
		 size_t phase_off)
{
	unsigned char k8[8];
	uint64_t w, m;
	size_t i = 0;

	for (int j = 0; j < 8; j++)
		k8[j] = key[(phase_off + (size_t)j) & 3];
	memcpy(&m, k8, 8);
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		w ^= m;
		memcpy(p + i, &w, 8);
	}
	for (; i < n; i++)
		p[i] ^= key[(phase_off + i) & 3];
}

static unsigned char seq_digit(uint64_t seq, size_t i)
{
	return (unsigned char)"0123456789abcdef"[(seq >> (4 * (7 - i))) & 15];
}

/* Writes bytes [off, off + n) of message seq into dst. */
static void msg_bytes(uint64_t seq, size_t off, unsigned char *dst, size_t n)
{
	memcpy(dst, pattern + off, n);
	if (o->size < SEQ_BYTES)
		return;
	for (size_t i = off; i < off + n && i < SEQ_BYTES; i++)
		dst[i - off] = seq_digit(seq, i);
}

static bool msg_check(uint64_t seq, size_t off, const unsigned char *p,
		      size_t n)
{
	size_t i = off;

	if (o->size >= SEQ_BYTES)
		for (; i < off + n && i < SEQ_BYTES; i++)
			if (p[i - off] != seq_digit(seq, i))
				return false;
	return memcmp(p + (i - off), pattern + i, n - (i - off)) == 0;
}

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

static void conn_fail(struct conn *c, const char *why)
{
	fail(res, "%s", why);
	if (c->pending) {
		c->pending = false;
		n_pending--;
	}
	conn_close(c);
	n_failed++;
}

static void want_out(struct conn *c, bool on)
{
	struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0u),
				 .data.ptr = c};

	if (c->want_out == on)
		return;
	c->want_out = on;
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Appends whatever fits: a pending control frame, then queued messages,
 * generated chunk by chunk. */
static void tx_fill(struct conn *c)
{
	if (c->opos == c->olen)
		c->opos = c->olen = 0;
	else if (c->opos > bufsize / 2) {
		memmove(c->obuf, c->obuf + c->opos, c->olen - c->opos);
		c->olen -= c->opos;
		c->opos = 0;
	}
	for (;;) {
		size_t space = bufsize - c->olen, n;
		unsigned char *p = c->obuf + c->olen;

		if (c->tx_left == 0) {
			if (c->ctl_len) {
				if (space < c->ctl_len)
					return;
				memcpy(p, c->ctl, c->ctl_len);
				c->olen += c->ctl_len;
				c->ctl_len = 0;
				continue;
			}
			if (c->tx_queued == 0 || c->close_sent ||
			    space < HDR_ROOM)
				return;
			c->tx_queued--;
			c->tx_left = msg_total;
			c->tx_off = 0;
			c->t_sent[c->tx_seq % (uint64_t)o->inflight] = now();
			if (!o->raw) {
				uint64_t k = rand64();
				size_t h = 0;

				p[h++] = 0x81; /* FIN, text */
				if (msg_total < 126)
					p[h++] =
					    (unsigned char)(0x80 | msg_total);
				else if (msg_total <= 0xffff) {
					p[h++] = 0x80 | 126;
					p[h++] =
					    (unsigned char)(msg_total >> 8);
					p[h++] = (unsigned char)msg_total;
				} else {
					p[h++] = 0x80 | 127;
					for (int i = 7; i >= 0; i--)
						p[h++] =
						    (unsigned char)((uint64_t)
									msg_total >>
								    (8 * i));
				}
				memcpy(c->tx_key, &k, 4);
				memcpy(p + h, c->tx_key, 4);
				c->olen += h + 4;
			}
			if (msg_total == 0)
				c->tx_seq++;
			continue;
		}
		n = space < c->tx_left ? space : c->tx_left;
		if (n == 0)
			return;
		msg_bytes(c->tx_seq, c->tx_off, p, n);
		if (!o->raw)
			mask(p, n, c->tx_key, c->tx_off);
		c->olen += n;
		c->tx_off += n;
		c->tx_left -= n;
		if (c->tx_left == 0)
			c->tx_seq++;
	}
}

/* Queues a masked control frame (pong or close) to go out at the next
 * message boundary. */
static void tx_control(struct conn *c, int op, const unsigned char *pl,
		       size_t n)
{
	uint64_t k = rand64();
	unsigned char *p = c->ctl;

	p[0] = (unsigned char)(0x80 | op);
	p[1] = (unsigned char)(0x80 | n);
	memcpy(p + 2, &k, 4);
	memcpy(p + 6, pl, n);
	mask(p + 6, n, p + 2, 0);
	c->ctl_len = 6 + n;
}

static void tx_close(struct conn *c)
{
	static const unsigned char normal[2] = {0x03, 0xe8}; /* 1000 */

	tx_control(c, 8, normal, 2);
	c->close_sent = true;
	c->st = C_CLOSING;
}

/* Sends until EAGAIN or nothing is left; the caller must not touch c when
 * it returns -1 (the connection is gone). */
static int tx_flush(struct conn *c)
{
	for (;;) {
		ssize_t n;

		if (c->opos == c->olen)
			tx_fill(c);
		if (c->opos == c->olen) {
			want_out(c, false);
			return 0;
		}
		n = write(c->fd, c->obuf + c->opos, c->olen - c->opos);
		if (n < 0) {
			if (errno == EAGAIN) {
				want_out(c, true);
				return 0;
			}
			if (errno == EINTR)
				continue;
			conn_fail(c, strerror(errno));
			return -1;
		}
		c->opos += (size_t)n;
		last_progress = now();
		if (c->opos == c->olen || c->opos > bufsize / 2)
			tx_fill(c);
	}
}

static void conn_start(struct conn *c);

static void on_open(struct conn *c)
{
	c->st = C_OPEN;
	n_open++;
	switch (o->mode) {
	case M_CHURN:
	case M_IDLE:
		c->tx_queued = 1;
		break;
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

static void on_message(struct conn *c)
{
	double t = now();
	uint64_t seq = c->rx_seq++;

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

/* Consumes n payload bytes of the current message. */
static int rx_data(struct conn *c, const unsigned char *p, size_t n)
{
	if (c->rx_off + n > msg_total)
		return -1;
	if (!msg_check(c->rx_seq, c->rx_off, p, n))
		return -1;
	c->rx_off += n;
	return 0;
}

static int rx_control(struct conn *c, int op, const unsigned char *pl, size_t n)
{
	char why[80];

	switch (op) {
	case 9: /* ping */
		if (!c->close_sent)
			tx_control(c, 10, pl, n);
		return 0;
	case 10:
		return 0;
	case 8:
		c->close_got = true;
		if (c->close_sent)
			return 0;
		snprintf(why, sizeof why, "server sent Close %d %.*s",
			 n >= 2 ? pl[0] << 8 | pl[1] : 1005,
			 n > 2 ? (int)n - 2 : 0, (const char *)pl + 2);
		conn_fail(c, why);
		return -1;
	default:
		conn_fail(c, "bad control opcode");
		return -1;
	}
}

/* Parses every whole frame header and all payload bytes in ibuf. Returns -1
 * when the connection has failed. */
static int rx_frames(struct conn *c)
{
	unsigned char *p = c->ibuf, *end = c->ibuf + c->ilen;

	while (p < end) {
		if (o->raw) {
			size_t n = (size_t)(end - p);

			if (n > msg_total - c->rx_off)
				n = msg_total - c->rx_off;
			if (rx_data(c, p, n) < 0)
				goto corrupt;
			p += n;
			if (c->rx_off == msg_total) {
				c->rx_off = 0;
				on_message(c);
			}
			continue;
		}
		if (!c->in_payload) {
			size_t avail = (size_t)(end - p), h = 2;
			uint64_t len;
			int op;

			if (avail < 2)
				break;
			op = p[0] & 15;
			len = p[1] & 127;
			if ((p[0] & 0x70) || (p[1] & 0x80)) {
				conn_fail(c, "RSV bit or mask from server");
				return -1;
			}
			if (len == 126)
				h = 4;
			else if (len == 127)
				h = 10;
			if (avail < h)
				break;
			if (len == 126)
				len = (uint64_t)p[2] << 8 | p[3];
			else if (len == 127)
				for (int i = 0, j = 2; i < 8; i++, j++)
					len = (i ? len << 8 : 0) | p[j];
			if ((h == 4 && len < 126) ||
			    (h == 10 && len <= 0xffff)) {
				conn_fail(c, "non-minimal frame length");
				return -1;
			}
			if (op >= 8) {
				if (len > 125 || !(p[0] & 0x80)) {
					conn_fail(c, "bad control frame");
					return -1;
				}
				if (avail < h + len)
					break;
				if (rx_control(c, op, p + h, (size_t)len) < 0)
					return -1;
				p += h + len;
				continue;
			}
			if ((op == 0) != c->in_msg || op > 2) {
				conn_fail(c, "bad data frame sequence");
				return -1;
			}
			if (op != 0)
				c->rx_off = 0;
			c->in_msg = !(p[0] & 0x80);
			c->rx_fin = !c->in_msg;
			c->rx_left = len;
			c->in_payload = true;
			p += h;
		}
		{
			size_t n = (size_t)(end - p);

			if (n > c->rx_left)
				n = (size_t)c->rx_left;
			if (rx_data(c, p, n) < 0)
				goto corrupt;
			p += n;
			c->rx_left -= n;
			if (c->rx_left)
				break;
			c->in_payload = false;
			if (c->rx_fin) {
				if (c->rx_off != msg_total)
					goto corrupt;
				on_message(c);
			}
		}
	}
	c->ilen = (size_t)(end - p);
	memmove(c->ibuf, p, c->ilen);
	return 0;
corrupt:
	conn_fail(c, "echo lost, reordered or corrupted");
	return -1;
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
	uint64_t r1 = rand64(), r2 = rand64();

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

static void conn_start(struct conn *c)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
	int one = 1;

	c->opos = c->olen = c->ilen = c->ctl_len = 0;
	c->tx_queued = c->tx_seq = c->rx_seq = c->rx_left = 0;
	c->tx_left = c->tx_off = c->rx_off = 0;
	c->in_payload = c->in_msg = c->close_sent = c->close_got = false;
	c->t_begin = now();
	if (o->mode == M_IDLE) {
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

static void conn_event(struct conn *c, uint32_t ev)
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

static long read_rss(int pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	return kib;
}

/* CPU seconds used so far by process pid, all threads, user + system. */
static double read_cpu(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	size_t n;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (!p || sscanf(p + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%llu %llu",
			 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* read and write syscalls made so far by pid (/proc/PID/io), or -1. */
static long long read_sysc(int pid)
{
	char path[64], line[128];
	long long r = -1, w = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/io", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "syscr:", 6) == 0)
			r = atoll(line + 6);
		else if (strncmp(line, "syscw:", 6) == 0)
			w = atoll(line + 6);
	}
	fclose(f);
	return r < 0 || w < 0 ? -1 : r + w;
}

static void server_sample(int i)
{
	if (o->pid <= 0)
		return;
	res->cpu[i] = read_cpu(o->pid);
	res->sysc[i] = read_sysc(o->pid);
	res->have_srv = i == 1 && res->cpu[0] >= 0 && res->sysc[0] >= 0 &&
			res->cpu[1] >= 0 && res->sysc[1] >= 0;
}

static int resolve(void)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	char port[16];
	int rc;

	snprintf(port, sizeof port, "%d", o->port);
	rc = getaddrinfo(o->host, port, &hints, &ai);
	if (rc != 0) {
		fail(res, "%s: %s", o->host, gai_strerror(rc));
		return -1;
	}
	memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
	addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* Starts connections outside event callbacks, so that no callback sees its
 * connection replaced under it: idle keeps o->parallel handshakes going
 * until all are started, churn restarts every finished slot. */
static void refill(void)
{
	if (o->mode == M_IDLE) {
		while (n_started < nconns && n_pending < (size_t)o->parallel)
			conn_start(&conns[n_started++]);
	} else if (o->mode == M_CHURN && phase != P_DONE) {
		if (n_failed > 100) {
			phase = P_DONE;
			return;
		}
		for (size_t i = 0; i < nconns; i++)
			if (conns[i].st == C_FREE)
				conn_start(&conns[i]);
	}
}

/* Moves the phases along; called after every batch of events. */
static void tick(void)
{
	double t = now();

	if (t - t_run > o->deadline) {
		res->timed_out = true;
		fail(res, "deadline of %.0f s reached", o->deadline);
		phase = P_DONE;
		return;
	}
	if (phase == P_WARM && t >= t_measure) {
		phase = P_MEASURE;
		t_measure = t;
		t_end = t + o->duration;
		server_sample(0);
	} else if (phase == P_MEASURE && t >= t_end &&
		   t - last_progress < 0.25) {
		/* A window that ends while nothing moves runs on until
		 * bytes move again or the stall timeout calls it a stall. */
		phase = P_DONE;
		res->secs = t - t_measure;
		server_sample(1);
		return;
	}
	if (o->mode == M_IDLE) {
		if (phase == P_SETUP && n_started == nconns && n_pending == 0) {
			phase = P_HOLD;
			t_hold = t + o->hold;
		} else if (phase == P_HOLD && t >= t_hold) {
			res->rss_kib = read_rss(o->pid);
			res->held = (int)n_open;
			phase = P_DONE;
		}
		if (phase == P_HOLD)
			return;
	}
	if (o->mode == M_CHURN && phase == P_SETUP) {
		phase = P_WARM;
		t_measure = t + o->warmup;
	}
	if (t - last_progress > o->stall) {
		res->stalled = true;
		res->stall_at = t - t_run;
		if (phase == P_MEASURE && last_progress > t_measure)
			res->secs = last_progress - t_measure;
		phase = P_DONE;
	}
	if (n_failed && o->mode != M_IDLE && o->mode != M_CHURN)
		phase = P_DONE;
}

static int setup(void)
{
	size_t n;

	msg_total = o->size + (o->raw ? 1 : 0);
	pattern = malloc(msg_total + 1);
	if (!pattern)
		return -1;
	for (size_t i = 0; i < msg_total; i++)
		pattern[i] = (unsigned char)('a' + i % 26);
	if (o->raw)
		pattern[o->size] = '\n';
	if (getrandom(&rng, sizeof rng, 0) != sizeof rng || rng == 0)
		rng = (uint64_t)(now() * 1e9) | 1;
	switch (o->mode) {
	case M_CHURN:
		nconns = (size_t)o->parallel;
		break;
	case M_IDLE:
		nconns = (size_t)o->sessions;
		break;
	default:
		nconns = (size_t)o->conns;
	}
	bufsize = o->mode == M_IDLE ? 4096 : o->size >= 4096 ? 262144 : 16384;
	conns = calloc(nconns, sizeof *conns);
	res->lat_cap = 8u << 20;
	res->lat = malloc(res->lat_cap * sizeof *res->lat);
	if (!conns || !res->lat)
		return -1;
	for (n = 0; n < nconns; n++) {
		conns[n].fd = -1;
		conns[n].obuf = malloc(bufsize);
		conns[n].ibuf = malloc(bufsize);
		conns[n].t_sent = calloc((size_t)o->inflight, sizeof(double));
		if (!conns[n].obuf || !conns[n].ibuf || !conns[n].t_sent)
			return -1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	return ep < 0 ? -1 : 0;
}

int load_run(const struct opts *opts, struct result *r)
{
	struct epoll_event evs[256];

	o = opts;
	res = r;
	if (resolve() < 0)
		return -1;
	if (setup() < 0) {
		fail(r, "out of memory or descriptors");
		return -1;
	}
	t_run = last_progress = now();
	phase = P_SETUP;
	if (o->mode == M_IDLE) {
		res->rss_base_kib = read_rss(o->pid);
		if (res->rss_base_kib < 0) {
			fail(r, "cannot read /proc/%d/status", o->pid);
			return -1;
		}
	}
	if (o->mode == M_IDLE)
		refill();
	else
		for (n_started = 0; n_started < nconns; n_started++)
			conn_start(&conns[n_started]);
	while (phase != P_DONE) {
		int n = epoll_wait(ep, evs, 256, o->busy ? 0 : 20);

		for (int i = 0; i < n; i++)
			conn_event(evs[i].data.ptr, evs[i].events);
		refill();
		tick();
	}
	res->errors = n_failed;
	for (size_t i = 0; i < nconns; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	if (n_failed && o->mode != M_IDLE && o->mode != M_CHURN)
		return -1;
	return 0;
}
