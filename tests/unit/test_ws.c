/* ws: the RFC 6455 frame decoder, encoder and masking.
 *
 * Each decoder case is a byte stream and the events it must produce. The
 * stream is fed whole, one byte at a time, and cut in two at every offset
 * (for streams over SPLIT_ALL bytes: within 64 bytes of either end, where
 * the headers are, and at 15 points between); every feeding must
 * give the same reassembled log. Every piece is placed against a guard page,
 * so reading past the bytes handed to ws_decode crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ws.h"

#define S(s)	  s, sizeof(s) - 1
#define MIB	  ((size_t)1 << 20)
#define SCRATCH	  (MIB + 4096)
#define SPLIT_ALL 4096
#define MAXE	  16

static uint8_t *scratch_end; /* guarded: the byte after it is unmapped */

/* --- streams --------------------------------------------------------- */

struct stream {
	uint8_t *p;
	size_t len, cap;
	bool masked;   /* frames from a client */
	uint32_t seed; /* for the masking keys */
};

static struct stream stream_new(bool masked)
{
	return (struct stream){.masked = masked, .seed = 0x2545f491u};
}

static void put(struct stream *s, const void *p, size_t n)
{
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2;
		s->p = realloc(s->p, s->cap);
		if (!s->p)
			abort();
	}
	if (n)
		memcpy(s->p + s->len, p, n);
	s->len += n;
}

/* Appends a frame built by the encoder under test, masked with a fresh key
 * when the stream is masked. */
static void frame(struct stream *s, unsigned opcode, bool fin, const void *p,
		  size_t n)
{
	uint8_t h[WS_MAX_HEADER], key[4];

	for (int i = 0; i < 4; i++) {
		s->seed = s->seed * 1103515245u + 12345u;
		key[i] = (uint8_t)(s->seed >> 16);
	}
	put(s, h, ws_encode_header(h, opcode, fin, n, s->masked ? key : NULL));
	size_t at = s->len;
	put(s, p, n);
	if (s->masked)
		ws_mask(s->p + at, n, key, 0);
}

/* A Close frame with a 2-byte code and a reason. */
static void close_frame(struct stream *s, unsigned code, const void *reason,
			size_t n)
{
	uint8_t p[WS_MAX_CONTROL + 8];

	p[0] = (uint8_t)(code >> 8);
	p[1] = (uint8_t)code;
	if (n)
		memcpy(p + 2, reason, n);
	frame(s, WS_CLOSE, true, p, 2 + n);
}

/* n bytes of text: a cycle of 1- to 4-byte characters, padded with ASCII
 * so it ends on a character boundary. */
static uint8_t *text_pattern(size_t n)
{
	static const char *const chars[] = {
	    "h", "\xc3\xa9", "l", "\xe2\x82\xac", " ", "\xf0\x9d\x84\x9e", "o"};
	uint8_t *p = malloc(n ? n : 1);
	size_t i = 0, c = 0;

	if (!p)
		abort();
	for (;;) {
		size_t k = strlen(chars[c]);
		if (i + k > n)
			break;
		memcpy(p + i, chars[c], k);
		i += k;
		c = (c + 1) % (sizeof chars / sizeof chars[0]);
	}
	memset(p + i, 'x', n - i);
	return p;
}

/* n bytes of every value, invalid UTF-8 included. */
static uint8_t *binary_pattern(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	if (!p)
		abort();
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 131 + 7);
	return p;
}

/* --- event logs ------------------------------------------------------ */

enum { L_MSG = 1, L_PING, L_PONG, L_CLOSE, L_ERROR };

struct entry {
	int type;
	unsigned opcode; /* L_MSG */
	unsigned code;	 /* L_CLOSE, L_ERROR */
	uint8_t *data;	 /* L_MSG: the whole message; PING/PONG; CLOSE reason */
	size_t len;
	const char *reason; /* L_ERROR; NULL in a wanted log: any */
};

/* A message is logged when its last chunk arrives; one cut short by an
 * error is dropped, since how much of it was delivered depends on where the
 * input was split. */
struct log {
	struct entry e[MAXE];
	size_t n;
	uint8_t *msg;
	size_t msg_len, msg_cap;
	unsigned msg_op;
	bool open, ended;
	size_t err_at;	    /* stream offset just after the ERROR's bytes */
	size_t data_events; /* DATA events and their largest length */
	size_t max_chunk;
	int bad; /* broken invariants */
	const char *why;
};

static void log_free(struct log *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].data);
	free(l->msg);
	memset(l, 0, sizeof *l);
}

static void push(struct log *l, int type, unsigned op, unsigned code,
		 const void *p, size_t n, const char *reason)
{
	if (l->n == MAXE)
		abort();
	struct entry *e = &l->e[l->n++];
	e->type = type;
	e->opcode = op;
	e->code = code;
	e->data = malloc(n ? n : 1);
	if (!e->data)
		abort();
	if (n)
		memcpy(e->data, p, n);
	e->len = n;
	e->reason = reason;
}

static void want_msg(struct log *l, unsigned op, const void *p, size_t n)
{
	push(l, L_MSG, op, 0, p, n, NULL);
}

static void want_ctl(struct log *l, int type, const void *p, size_t n)
{
	push(l, type, 0, 0, p, n, NULL);
}

static void want_close(struct log *l, unsigned code, const void *p, size_t n)
{
	push(l, L_CLOSE, 0, code, p, n, NULL);
}

/* err_at 0: any position. */
static void want_error(struct log *l, unsigned code, const char *reason,
		       size_t err_at)
{
	push(l, L_ERROR, 0, code, NULL, 0, reason);
	l->err_at = err_at;
}

static void violation(struct log *l, const char *why)
{
	if (!l->bad++)
		l->why = why;
}

/* Records ev, returned by a call that consumed piece[from..to). */
static void log_event(struct log *l, const struct ws_event *ev,
		      const uint8_t *from, const uint8_t *to, size_t at)
{
	if (ev->type != WS_EV_NONE && l->ended) {
		violation(l, "event after Close or error");
		return;
	}
	switch (ev->type) {
	case WS_EV_NONE:
		return;
	case WS_EV_DATA:
		if (ev->len && (ev->data < from || ev->data + ev->len > to))
			violation(l, "DATA outside the bytes just consumed");
		if (ev->opcode != WS_TEXT && ev->opcode != WS_BINARY)
			violation(l, "DATA opcode");
		if (ev->first == l->open)
			violation(l, "DATA first flag");
		if (!ev->first && ev->opcode != l->msg_op)
			violation(l, "DATA opcode changed inside a message");
		if (!ev->data)
			violation(l, "DATA null view");
		l->data_events++;
		if (ev->len > l->max_chunk)
			l->max_chunk = ev->len;
		l->open = true;
		l->msg_op = ev->opcode;
		if (l->msg_len + ev->len > l->msg_cap) {
			l->msg_cap = (l->msg_len + ev->len) * 2;
			l->msg = realloc(l->msg, l->msg_cap);
			if (!l->msg)
				abort();
		}
		if (ev->len)
			memcpy(l->msg + l->msg_len, ev->data, ev->len);
		l->msg_len += ev->len;
		if (ev->last) {
			push(l, L_MSG, l->msg_op, 0, l->msg, l->msg_len, NULL);
			l->open = false;
			l->msg_len = 0;
		}
		return;
	case WS_EV_PING:
	case WS_EV_PONG:
		if (ev->len > WS_MAX_CONTROL || !ev->data)
			violation(l, "control payload");
		push(l, ev->type == WS_EV_PING ? L_PING : L_PONG, 0, 0,
		     ev->data, ev->len, NULL);
		return;
	case WS_EV_CLOSE:
		if (ev->len > WS_MAX_CLOSE_REASON || !ev->data)
			violation(l, "close reason");
		push(l, L_CLOSE, 0, ev->code, ev->data, ev->len, NULL);
		l->ended = true;
		return;
	case WS_EV_ERROR:
		if (!ev->reason || !*ev->reason ||
		    strlen(ev->reason) > WS_MAX_CLOSE_REASON)
			violation(l, "error reason");
		push(l, L_ERROR, 0, ev->code, NULL, 0, ev->reason);
		l->err_at = at;
		l->open = false;
		l->msg_len = 0;
		l->ended = true;
		return;
	}
	violation(l, "unknown event");
}

static bool log_equal(const struct log *got, const struct log *want,
		      bool exact_err_at, const char *name, const char *mode)
{
	const char *why = NULL;

	if (got->bad)
		why = got->why;
	else if (got->n != want->n)
		why = "number of events";
	for (size_t i = 0; !why && i < got->n; i++) {
		const struct entry *g = &got->e[i], *w = &want->e[i];
		if (g->type != w->type || g->opcode != w->opcode ||
		    g->code != w->code)
			why = "event type, opcode or code";
		else if (g->len != w->len || memcmp(g->data, w->data, g->len))
			why = "payload";
		else if (w->reason && strcmp(g->reason, w->reason) != 0)
			why = "error reason";
	}
	if (!why && exact_err_at && want->err_at && got->err_at != want->err_at)
		why = "error position";
	if (why)
		fprintf(stderr, "    %s, %s: %s\n", name, mode, why);
	return why == NULL;
}

/* --- feeding --------------------------------------------------------- */

struct cfg {
	enum ws_role role;
	uint64_t max_message;
	bool text_ok, binary_ok;
};

static const struct cfg server = {WS_SERVER, 0, true, true};
static const struct cfg client = {WS_CLIENT, 0, true, true};

/* Feeds s[0..n) as a piece of first bytes (none if 0), then pieces of step
 * bytes, calling ws_decode as its contract says until each piece is used
 * up. */
static void run(const uint8_t *s, size_t n, const struct cfg *cfg, size_t first,
		size_t step, struct log *l)
{
	struct ws_decoder d;

	memset(l, 0, sizeof *l);
	ws_decoder_init(&d, cfg->role);
	d.max_message = cfg->max_message;
	d.text_ok = cfg->text_ok;
	d.binary_ok = cfg->binary_ok;
	for (size_t a = 0, b; a < n; a = b) {
		b = a == 0 && first ? first : a + step;
		if (b > n)
			b = n;
		size_t m = b - a, off = 0;
		uint8_t *q = scratch_end - m;
		memcpy(q, s + a, m);
		for (;;) {
			struct ws_event ev;
			size_t used = ws_decode(&d, q + off, m - off, &ev);
			if (used > m - off) {
				violation(l, "consumed more than given");
				return;
			}
			if (ev.type == WS_EV_NONE && used != m - off)
				violation(l, "NONE before the input ran out");
			log_event(l, &ev, q + off, q + off + used,
				  a + off + used);
			off += used;
			if ((ev.type == WS_EV_CLOSE ||
			     ev.type == WS_EV_ERROR) &&
			    d.state != WS_S_DONE)
				violation(l, "not done after Close or error");
			if (ev.type == WS_EV_NONE)
				break;
		}
	}
}

/* Runs every feeding of s and compares each log with want. */
static bool verify(const char *name, const struct stream *s,
		   const struct cfg *cfg, const struct log *want)
{
	struct log got;
	bool ok;

	if (s->len > SCRATCH)
		abort();
	run(s->p, s->len, cfg, 0, s->len, &got);
	ok = log_equal(&got, want, false, name, "whole");
	log_free(&got);
	run(s->p, s->len, cfg, 0, 1, &got);
	ok &= log_equal(&got, want, true, name, "byte at a time");
	log_free(&got);
	for (size_t c = 1; c < s->len; c++) {
		if (s->len > SPLIT_ALL && c >= 64 && s->len - c >= 64 &&
		    c % (s->len / 16) != 0)
			continue;
		run(s->p, s->len, cfg, c, s->len, &got);
		char mode[48];
		snprintf(mode, sizeof mode, "split at %zu", c);
		bool same = log_equal(&got, want, false, name, mode);
		log_free(&got);
		if (!same) {
			ok = false;
			break;
		}
	}
	return ok;
}

static void expect(const char *name, struct stream *s, const struct cfg *cfg,
		   struct log *want)
{
	check_at(verify(name, s, cfg, want), __FILE__, __LINE__, name);
	free(s->p);
	log_free(want);
}

/* --- decoder cases --------------------------------------------------- */

static void test_lengths(void)
{
	static const size_t lens[] = {0, 1, 125, 126, 127, 65535, 65536, MIB};

	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		for (int text = 0; text < 2; text++) {
			for (int masked = 0; masked < 2; masked++) {
				size_t n = lens[i];
				unsigned op = text ? WS_TEXT : WS_BINARY;
				uint8_t *p =
				    text ? text_pattern(n) : binary_pattern(n);
				struct stream s = stream_new(masked);
				struct log w = {0};
				char name[64];
				frame(&s, op, true, p, n);
				frame(&s, WS_TEXT, true, S("next"));
				want_msg(&w, op, p, n);
				want_msg(&w, WS_TEXT, S("next"));
				snprintf(name, sizeof name, "%s %s of %zu",
					 masked ? "masked" : "unmasked",
					 text ? "text" : "binary", n);
				expect(name, &s, masked ? &server : &client,
				       &w);
				free(p);
			}
		}
	}
}

/* A 1 MiB frame read 4 KiB at a time is delivered as it arrives. */
static void test_streaming(void)
{
	uint8_t *p = binary_pattern(MIB);
	struct stream s = stream_new(true);
	struct log l;

	frame(&s, WS_BINARY, true, p, MIB);
	run(s.p, s.len, &server, 0, 4096, &l);
	CHECK_INT(l.bad, 0);
	CHECK_INT(l.data_events, (s.len + 4095) / 4096);
	CHECK(l.max_chunk <= 4096);
	CHECK_INT(l.n, 1);
	if (l.n == 1)
		CHECK_MEM(l.e[0].data, l.e[0].len, p, MIB);
	log_free(&l);

	/* An empty message is one DATA event with first and last set. */
	free(s.p);
	s = stream_new(true);
	frame(&s, WS_TEXT, false, NULL, 0);
	frame(&s, WS_CONT, true, NULL, 0);
	run(s.p, s.len, &server, 0, s.len, &l);
	CHECK_INT(l.data_events, 1);
	CHECK_INT(l.n, 1);
	log_free(&l);
	free(s.p);
	free(p);
}

static void test_fragments(void)
{
	struct stream s = stream_new(true);
	struct log w = {0};

	frame(&s, WS_TEXT, false, S("Hel"));
	frame(&s, WS_CONT, false, S("lo, "));
	frame(&s, WS_CONT, true, S("w\xc3\xb6rld"));
	want_msg(&w, WS_TEXT, S("Hello, w\xc3\xb6rld"));
	expect("fragmented text", &s, &server, &w);

	s = stream_new(true);
	frame(&s, WS_BINARY, false, S("\x00\xff"));
	frame(&s, WS_CONT, false, NULL, 0);
	frame(&s, WS_CONT, false, S("\x80"));
	frame(&s, WS_CONT, true, NULL, 0);
	frame(&s, WS_BINARY, true, S("\xc0"));
	want_msg(&w, WS_BINARY, S("\x00\xff\x80"));
	want_msg(&w, WS_BINARY, S("\xc0"));
	expect("fragmented binary, empty fragments", &s, &server, &w);

	s = stream_new(false);
	frame(&s, WS_TEXT, false, S("\xe2\x82"));
	frame(&s, WS_CONT, true, S("\xac"));
	want_msg(&w, WS_TEXT, S("\xe2\x82\xac"));
	expect("character split across fragments", &s, &client, &w);

	s = stream_new(true);
	frame(&s, WS_TEXT, true, NULL, 0);
	frame(&s, WS_TEXT, false, NULL, 0);
	frame(&s, WS_CONT, false, NULL, 0);
	frame(&s, WS_CONT, true, NULL, 0);
	frame(&s, WS_BINARY, true, NULL, 0);
	want_msg(&w, WS_TEXT, NULL, 0);
	want_msg(&w, WS_TEXT, NULL, 0);
	want_msg(&w, WS_BINARY, NULL, 0);
	expect("empty messages", &s, &server, &w);

	/* RFC 6455 5.4: control frames may be injected between fragments;
	 * the UTF-8 state survives them. */
	s = stream_new(true);
	frame(&s, WS_TEXT, false, S("ab"));
	frame(&s, WS_PING, true, S("p"));
	frame(&s, WS_CONT, false, S("\xe2"));
	frame(&s, WS_PONG, true, NULL, 0);
	frame(&s, WS_CONT, true, S("\x82\xac"));
	frame(&s, WS_PING, true, S("q"));
	want_ctl(&w, L_PING, S("p"));
	want_ctl(&w, L_PONG, NULL, 0);
	want_msg(&w, WS_TEXT, S("ab\xe2\x82\xac"));
	want_ctl(&w, L_PING, S("q"));
	expect("ping and pong between fragments", &s, &server, &w);

	s = stream_new(true);
	frame(&s, WS_TEXT, false, S("ab"));
	close_frame(&s, 1000, S("bye"));
	frame(&s, WS_CONT, true, S("cd"));
	want_close(&w, 1000, S("bye"));
	expect("close between fragments", &s, &server, &w);
}

static void test_control(void)
{
	uint8_t *p = binary_pattern(126);
	struct stream s = stream_new(true);
	struct log w = {0};

	frame(&s, WS_PING, true, NULL, 0);
	frame(&s, WS_PING, true, p, 125);
	frame(&s, WS_PONG, true, S("unsolicited"));
	frame(&s, WS_PONG, true, p, 125);
	want_ctl(&w, L_PING, NULL, 0);
	want_ctl(&w, L_PING, p, 125);
	want_ctl(&w, L_PONG, S("unsolicited"));
	want_ctl(&w, L_PONG, p, 125);
	expect("pings and pongs of 0 and 125 bytes", &s, &server, &w);

	static const unsigned ops[] = {WS_PING, WS_PONG, WS_CLOSE};
	for (size_t i = 0; i < 3; i++) {
		s = stream_new(true);
		frame(&s, WS_TEXT, true, S("ok"));
		frame(&s, ops[i], true, p, 126);
		want_msg(&w, WS_TEXT, S("ok"));
		want_error(&w, 1002, "control frame too long", 8 + 2);
		expect("control frame of 126 bytes", &s, &server, &w);

		s = stream_new(true);
		put(&s, S("\x81\x83k3y!abc"));
		put(&s, (uint8_t[]){(uint8_t)(0x80 | ops[i]), 0xff}, 2);
		put(&s, S("\0\0\0\0\0\0\0\001k3y!\001"));
		want_msg(&w, WS_TEXT, S("\x0a\x51\x1a"));
		want_error(&w, 1002, "control frame too long", 9 + 2);
		expect("control frame with a 64-bit length", &s, &server, &w);

		s = stream_new(true);
		frame(&s, ops[i], false, NULL, 0);
		want_error(&w, 1002, "fragmented control frame", 1);
		expect("fragmented control frame", &s, &server, &w);
	}

	s = stream_new(true);
	frame(&s, WS_CLOSE, true, NULL, 0);
	want_close(&w, 0, NULL, 0);
	expect("empty close", &s, &server, &w);

	s = stream_new(true);
	frame(&s, WS_CLOSE, true, S("\x03"));
	want_error(&w, 1002, "close payload of 1 byte", 7);
	expect("close payload of 1 byte", &s, &server, &w);

	s = stream_new(false);
	close_frame(&s, 1000, S("bye"));
	want_close(&w, 1000, S("bye"));
	expect("close with a reason", &s, &client, &w);

	uint8_t *r = text_pattern(123);
	s = stream_new(true);
	close_frame(&s, 4999, r, 123);
	want_close(&w, 4999, r, 123);
	expect("close with a 123-byte reason", &s, &server, &w);
	free(r);

	s = stream_new(true);
	close_frame(&s, 3000, S("ok\xff"));
	want_error(&w, 1007, "invalid UTF-8 in close reason", 6 + 5);
	expect("close reason invalid UTF-8", &s, &server, &w);

	s = stream_new(true);
	close_frame(&s, 1001, S("\xe2\x82"));
	want_error(&w, 1007, "invalid UTF-8 in close reason", 6 + 4);
	expect("close reason cut in a character", &s, &server, &w);

	s = stream_new(true);
	close_frame(&s, 1000, NULL, 0);
	frame(&s, WS_TEXT, true, S("after"));
	frame(&s, WS_PING, true, S("after"));
	put(&s, S("\xff\xff\xff\xff garbage"));
	want_close(&w, 1000, NULL, 0);
	expect("input after close", &s, &server, &w);

	s = stream_new(true);
	frame(&s, WS_TEXT, true, S("x"));
	s.p[0] |= 0x40;
	frame(&s, WS_TEXT, true, S("after"));
	want_error(&w, 1002, "reserved bits set", 1);
	expect("input after an error", &s, &server, &w);
	free(p);
}

/* Close codes 0..5000: the classifier, and the decoder on each. */
static void test_close_codes(void)
{
	int wrong = 0, failed = 0;

	for (unsigned code = 0; code <= 5000; code++) {
		bool valid = (code >= 1000 && code <= 1003) ||
			     (code >= 1007 && code <= 1014) ||
			     (code >= 3000 && code <= 4999);
		if (ws_close_code_valid(code) != valid)
			wrong++;
		struct stream s = stream_new(true);
		struct log w = {0};
		char name[32];
		close_frame(&s, code, S("r"));
		if (valid)
			want_close(&w, code, S("r"));
		else
			want_error(&w, 1002, "invalid close code", 6 + 3);
		snprintf(name, sizeof name, "close code %u", code);
		failed += !verify(name, &s, &server, &w);
		free(s.p);
		log_free(&w);
	}
	CHECK_INT(wrong, 0);
	CHECK_INT(failed, 0);
	CHECK(!ws_close_code_valid(1004) && !ws_close_code_valid(1005) &&
	      !ws_close_code_valid(1006) && !ws_close_code_valid(1015) &&
	      !ws_close_code_valid(2999) && !ws_close_code_valid(5000));
	CHECK(ws_close_code_valid(1000) && ws_close_code_valid(1014) &&
	      ws_close_code_valid(3000) && ws_close_code_valid(4999));
}

static void test_violations(void)
{
	struct stream s;
	struct log w = {0};
	char name[64];

	for (unsigned rsv = 0x10; rsv <= 0x40; rsv <<= 1) {
		static const unsigned ops[] = {WS_TEXT, WS_BINARY, WS_CONT,
					       WS_PING, WS_CLOSE};
		for (size_t i = 0; i < 5; i++) {
			s = stream_new(true);
			frame(&s, WS_TEXT, false, S("a"));
			size_t at = s.len;
			frame(&s, ops[i], true, S("b"));
			s.p[at] |= (uint8_t)rsv;
			want_error(&w, 1002, "reserved bits set", at + 1);
			snprintf(name, sizeof name, "RSV 0x%x, opcode %u", rsv,
				 ops[i]);
			expect(name, &s, &server, &w);
		}
	}

	for (unsigned op = 3; op <= 15; op++) {
		if (op == WS_CLOSE || op == WS_PING || op == WS_PONG)
			continue;
		for (int fin = 0; fin < 2; fin++) {
			s = stream_new(true);
			frame(&s, op, fin, S("x"));
			want_error(&w, 1002, "reserved opcode", 1);
			snprintf(name, sizeof name, "opcode %u fin %d", op,
				 fin);
			expect(name, &s, &server, &w);
		}
	}

	s = stream_new(true);
	frame(&s, WS_CONT, true, S("x"));
	want_error(&w, 1002, "continuation without message", 1);
	expect("continuation without a message", &s, &server, &w);

	s = stream_new(true);
	frame(&s, WS_TEXT, false, S("a"));
	frame(&s, WS_CONT, true, S("b"));
	frame(&s, WS_CONT, false, S("c"));
	want_msg(&w, WS_TEXT, S("ab"));
	want_error(&w, 1002, "continuation without message", 14 + 1);
	expect("continuation after a message", &s, &server, &w);

	static const unsigned data_ops[] = {WS_TEXT, WS_BINARY};
	for (size_t i = 0; i < 2; i++) {
		for (size_t j = 0; j < 2; j++) {
			s = stream_new(true);
			frame(&s, data_ops[i], false, S("a"));
			frame(&s, data_ops[j], true, S("b"));
			want_error(&w, 1002, "new message inside message",
				   7 + 1);
			snprintf(name, sizeof name, "opcode %u inside %u",
				 data_ops[j], data_ops[i]);
			expect(name, &s, &server, &w);
		}
	}

	s = stream_new(false);
	frame(&s, WS_TEXT, true, S("x"));
	want_error(&w, 1002, "unmasked frame", 2);
	expect("unmasked frame to a server", &s, &server, &w);

	s = stream_new(true);
	frame(&s, WS_TEXT, true, S("x"));
	want_error(&w, 1002, "masked frame", 2);
	expect("masked frame to a client", &s, &client, &w);

	s = stream_new(true);
	put(&s, S("\x82\xff\x80\0\0\0\0\0\0\0k3y!x"));
	want_error(&w, 1002, "length over 2^63", 10);
	expect("64-bit length with the top bit", &s, &server, &w);

	s = stream_new(false);
	put(&s, S("\x82\x7f\xff\xff\xff\xff\xff\xff\xff\xffx"));
	want_error(&w, 1002, "length over 2^63", 10);
	expect("64-bit length of all ones", &s, &client, &w);

	s = stream_new(true);
	put(&s, S("\x82\xfe\x00\x7dk3y!x"));
	want_error(&w, 1002, "non-minimal length", 4);
	expect("16-bit length of 125", &s, &server, &w);

	s = stream_new(true);
	put(&s, S("\x82\xfe\x00\x00k3y!"));
	want_error(&w, 1002, "non-minimal length", 4);
	expect("16-bit length of 0", &s, &server, &w);

	s = stream_new(true);
	put(&s, S("\x82\xff\0\0\0\0\0\0\xff\xffk3y!x"));
	want_error(&w, 1002, "non-minimal length", 10);
	expect("64-bit length of 65535", &s, &server, &w);

	s = stream_new(false);
	put(&s, S("\x82\x7f\0\0\0\0\0\0\0\x7ex"));
	want_error(&w, 1002, "non-minimal length", 10);
	expect("64-bit length of 126", &s, &client, &w);
}

static void test_limits(void)
{
	struct cfg c = server;
	struct stream s;
	struct log w = {0};
	uint8_t *p = binary_pattern(300);

	c.max_message = 10;
	s = stream_new(true);
	frame(&s, WS_BINARY, true, p, 10);
	frame(&s, WS_BINARY, false, p, 4);
	frame(&s, WS_PING, true, p, 125); /* control frames do not count */
	frame(&s, WS_CONT, true, p, 6);
	size_t at = s.len;
	frame(&s, WS_BINARY, true, p, 11);
	want_msg(&w, WS_BINARY, p, 10);
	want_ctl(&w, L_PING, p, 125);
	uint8_t two[10];
	memcpy(two, p, 4);
	memcpy(two + 4, p, 6);
	want_msg(&w, WS_BINARY, two, 10);
	want_error(&w, 1009, "message too big", at + 2);
	expect("max_message exceeded by one frame", &s, &c, &w);

	s = stream_new(true);
	frame(&s, WS_TEXT, false, S("12345"));
	at = s.len;
	frame(&s, WS_CONT, true, S("678901"));
	want_error(&w, 1009, "message too big", at + 2);
	expect("max_message exceeded across fragments", &s, &c, &w);

	c.max_message = 200;
	s = stream_new(true);
	frame(&s, WS_BINARY, false, p, 100);
	at = s.len;
	frame(&s, WS_CONT, true, p, 150);
	want_error(&w, 1009, "message too big", at + 4);
	expect("max_message exceeded by a 16-bit length", &s, &c, &w);

	c = server;
	c.text_ok = false;
	s = stream_new(true);
	frame(&s, WS_BINARY, true, S("b"));
	frame(&s, WS_PING, true, NULL, 0);
	at = s.len;
	frame(&s, WS_TEXT, false, S("t"));
	want_msg(&w, WS_BINARY, S("b"));
	want_ctl(&w, L_PING, NULL, 0);
	want_error(&w, 1003, "text messages not supported", at + 1);
	expect("text refused", &s, &c, &w);

	c = server;
	c.binary_ok = false;
	s = stream_new(true);
	frame(&s, WS_TEXT, true, S("t"));
	at = s.len;
	frame(&s, WS_BINARY, true, NULL, 0);
	want_msg(&w, WS_TEXT, S("t"));
	want_error(&w, 1003, "binary messages not supported", at + 1);
	expect("binary refused", &s, &c, &w);
	free(p);
}

/* Each error position is the offset just past the first byte that proves
 * the text invalid; a byte-at-a-time feeding must fail exactly there. */
static void test_utf8(void)
{
	struct stream s;
	struct log w = {0};

	s = stream_new(true);
	frame(&s, WS_TEXT, true, S("ab\377cd"));
	want_error(&w, 1007, "invalid UTF-8", 6 + 3);
	expect("invalid UTF-8 in one frame", &s, &server, &w);

	s = stream_new(true);
	frame(&s, WS_BINARY, true, S("ab\377cd"));
	want_msg(&w, WS_BINARY, S("ab\377cd"));
	expect("binary is not UTF-8", &s, &server, &w);

	static const struct {
		const char *a, *b;
		size_t b_at; /* the failing byte's index in b */
	} split[] = {
	    {"ab\xe2\x82", "(rest", 0},
	    {"x", "\xc0\xaf", 0},	 /* C0 never appears */
	    {"x\xe0", "\x9f\x80", 0},	 /* overlong */
	    {"\xed", "\xa0\x80", 0},	 /* surrogate */
	    {"\xf4", "\x90\x80\x80", 0}, /* above U+10FFFF */
	    {"\xf0\x9d\x84", "\x9e!\xf8", 2},
	};
	for (size_t i = 0; i < sizeof split / sizeof split[0]; i++) {
		s = stream_new(true);
		frame(&s, WS_TEXT, false, split[i].a, strlen(split[i].a));
		size_t at = s.len + 6 + split[i].b_at + 1;
		frame(&s, WS_CONT, false, split[i].b, strlen(split[i].b));
		frame(&s, WS_CONT, true, S("end"));
		want_error(&w, 1007, "invalid UTF-8", at);
		expect("invalid UTF-8 across fragments", &s, &server, &w);
	}

	s = stream_new(true);
	frame(&s, WS_TEXT, true, S("ab\xe2\x82"));
	want_error(&w, 1007, "invalid UTF-8", s.len);
	expect("text ends inside a character", &s, &server, &w);

	s = stream_new(true);
	frame(&s, WS_TEXT, false, S("\xe2"));
	frame(&s, WS_CONT, false, S("\x82"));
	frame(&s, WS_CONT, true, NULL, 0);
	want_error(&w, 1007, "invalid UTF-8", s.len);
	expect("text ends inside a character, empty last fragment", &s, &server,
	       &w);
}

/* --- encoder and masking --------------------------------------------- */

static void test_encode_header(void)
{
	static const uint8_t key[4] = {0xa1, 0xb2, 0xc3, 0xd4};
	static const struct {
		unsigned opcode;
		bool fin;
		uint64_t len;
		const char *want;
		size_t want_len;
	} cases[] = {
	    {WS_TEXT, true, 0, S("\x81\x00")},
	    {WS_TEXT, true, 1, S("\x81\x01")},
	    {WS_BINARY, true, 125, S("\x82\x7d")},
	    {WS_BINARY, true, 126, S("\x82\x7e\x00\x7e")},
	    {WS_BINARY, false, 127, S("\x02\x7e\x00\x7f")},
	    {WS_CONT, true, 65535, S("\x80\x7e\xff\xff")},
	    {WS_CONT, false, 65536, S("\x00\x7f\0\0\0\0\0\x01\0\0")},
	    {WS_TEXT, true, UINT64_C(0x123456789a),
	     S("\x81\x7f\0\0\0\x12\x34\x56\x78\x9a")},
	    {WS_BINARY, true, INT64_MAX,
	     S("\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff")},
	    {WS_PING, true, 5, S("\x89\x05")},
	    {WS_PONG, true, 0, S("\x8a\x00")},
	    {WS_CLOSE, true, 2, S("\x88\x02")},
	};
	uint8_t out[WS_MAX_HEADER + 1];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = ws_encode_header(out, cases[i].opcode, cases[i].fin,
					    cases[i].len, NULL);
		CHECK_MEM(out, n, cases[i].want, cases[i].want_len);

		uint8_t want[WS_MAX_HEADER];
		memcpy(want, cases[i].want, cases[i].want_len);
		want[1] |= 0x80;
		memcpy(want + cases[i].want_len, key, 4);
		memset(out, 0x55, sizeof out);
		n = ws_encode_header(out, cases[i].opcode, cases[i].fin,
				     cases[i].len, key);
		CHECK_MEM(out, n, want, cases[i].want_len + 4);
		CHECK_INT(out[n], 0x55); /* nothing written past the header */
	}
}

static void test_mask(void)
{
	static const uint8_t key[4] = {0x12, 0x9c, 0xf0, 0x01};
	uint8_t orig[64], buf[72];
	int bad = 0;

	for (size_t i = 0; i < sizeof orig; i++)
		orig[i] = (uint8_t)(i * 37 + 1);
	for (size_t align = 0; align < 8; align++) {
		for (uint64_t off = 0; off < 9; off++) {
			for (size_t n = 0; n <= sizeof orig; n++) {
				uint8_t *p = buf + align;
				memcpy(p, orig, n);
				ws_mask(p, n, key, off);
				for (size_t i = 0; i < n; i++)
					bad += p[i] !=
					       (orig[i] ^ key[(off + i) % 4]);
				ws_mask(p, n, key, off);
				bad += memcmp(p, orig, n) != 0;
			}
		}
	}
	CHECK_INT(bad, 0);

	/* Masking in pieces equals masking at once. */
	uint8_t a[64], b[64];
	memcpy(a, orig, 64);
	memcpy(b, orig, 64);
	ws_mask(a, 64, key, 0);
	ws_mask(b, 3, key, 0);
	ws_mask(b + 3, 10, key, 3);
	ws_mask(b + 13, 51, key, 13);
	CHECK_MEM(a, 64, b, 64);
	ws_mask(a, 64, key, UINT64_C(0x100000001));
	ws_mask(b, 64, key, 1);
	CHECK_MEM(a, 64, b, 64);
}

static void test_close_payload(void)
{
	uint8_t out[WS_MAX_CONTROL];
	char r[200];
	size_t n;

	CHECK_INT(ws_close_payload(out, 0, "ignored", 7), 0);
	n = ws_close_payload(out, 1000, NULL, 0);
	CHECK_MEM(out, n, "\x03\xe8", 2);
	n = ws_close_payload(out, 1011, "exit 3", 6);
	CHECK_MEM(out, n,
		  "\x03\xf3"
		  "exit 3",
		  8);

	memset(r, 'a', sizeof r);
	n = ws_close_payload(out, 1000, r, 123);
	CHECK_INT(n, 125);
	n = ws_close_payload(out, 1000, r, sizeof r);
	CHECK_INT(n, 125);
	CHECK_MEM(out + 2, n - 2, r, 123);

	/* A character that would straddle byte 123 is dropped whole. */
	static const char *const chars[] = {"\xc3\xa9", "\xe2\x82\xac",
					    "\xf0\x9d\x84\x9e"};
	for (size_t c = 0; c < 3; c++) {
		size_t k = strlen(chars[c]);
		for (size_t lead = 123 - k; lead <= 123; lead++) {
			memset(r, 'a', sizeof r);
			memcpy(r + lead, chars[c], k);
			n = ws_close_payload(out, 4000, r, lead + k + 5);
			if (lead + k <= 123)
				CHECK_INT(n, 2 + 123);
			else
				CHECK_INT(n, 2 + lead);
			CHECK_MEM(out + 2, n - 2, r, n - 2);

			/* and the decoder accepts what it wrote */
			struct stream s = stream_new(true);
			struct log w = {0};
			frame(&s, WS_CLOSE, true, out, n);
			want_close(&w, 4000, out + 2, n - 2);
			expect("truncated close reason", &s, &server, &w);
		}
	}
}

int main(void)
{
	uint8_t *zero = calloc(1, SCRATCH);
	uint8_t *scratch = check_guarded(zero, SCRATCH);
	struct ws_decoder d;

	free(zero);
	scratch_end = scratch + SCRATCH;

	ws_decoder_init(&d, WS_CLIENT);
	CHECK(d.role == WS_CLIENT && d.state == WS_S_HEAD);
	CHECK(d.max_message == 0 && d.text_ok && d.binary_ok);

	test_lengths();
	test_streaming();
	test_fragments();
	test_control();
	test_close_codes();
	test_violations();
	test_limits();
	test_utf8();
	test_encode_header();
	test_mask();
	test_close_payload();
	check_unguard(scratch, SCRATCH);
	return check_report("ws");
}
