/* The load client's wire: outgoing messages generated and masked in
 * buffer-sized chunks as the socket takes them, control frames queued for
 * the next message boundary, and incoming frames parsed and checked
 * against the expected echo as they arrive (see load.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "load.h"

uint64_t wire_rand64(void)
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
				uint64_t k = wire_rand64();
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
	uint64_t k = wire_rand64();
	unsigned char *p = c->ctl;

	p[0] = (unsigned char)(0x80 | op);
	p[1] = (unsigned char)(0x80 | n);
	memcpy(p + 2, &k, 4);
	memcpy(p + 6, pl, n);
	mask(p + 6, n, p + 2, 0);
	c->ctl_len = 6 + n;
}

void tx_close(struct conn *c)
{
	static const unsigned char normal[2] = {0x03, 0xe8}; /* 1000 */

	tx_control(c, 8, normal, 2);
	c->close_sent = true;
	c->st = C_CLOSING;
}

/* Sends until EAGAIN or nothing is left; the caller must not touch c when
 * it returns -1 (the connection is gone). */
int tx_flush(struct conn *c)
{
	for (;;) {
		ssize_t n;

		if (c->opos == c->olen)
			tx_fill(c);
		if (c->opos == c->olen) {
			conn_want_out(c, false);
			return 0;
		}
		n = write(c->fd, c->obuf + c->opos, c->olen - c->opos);
		if (n < 0) {
			if (errno == EAGAIN) {
				conn_want_out(c, true);
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

/* Consumes n payload bytes of the current message. */
static int rx_data(struct conn *c, const unsigned char *p, size_t n)
{
	if (o->mode == M_FANOUT)
		return fan_data(c, p, n);
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
int rx_frames(struct conn *c)
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
				conn_on_message(c);
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
				conn_on_message(c);
			}
		}
	}
	c->ilen = (size_t)(end - p);
	memmove(c->ibuf, p, c->ilen);
	return 0;
corrupt:
	conn_fail(c, o->mode == M_FANOUT
			 ? "message is not one line of wsbench produce"
			 : "echo lost, reordered or corrupted");
	return -1;
}
