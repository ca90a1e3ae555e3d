/* Fuzz target for the encoder side of src/ws.h against its decoder: the
 * input describes a valid conversation (messages of every length class cut
 * into fragments, pings between fragments, a close with a reason), which is
 * encoded with ws_encode_header, ws_mask and ws_close_payload; decoding the
 * stream, fed in random pieces, must give back exactly what was put in.
 *
 * Input: 4 bytes of settings, then one op byte per event (plus the bytes it
 * takes; past the end of the input a generator seeded from it takes over).
 *   byte 0: bit 0 client role (frames unmasked), bit 1 max_message set to
 *           the longest message, bit 2 set to one less (expect 1009)
 *   byte 1: seed of the piece sizes and masking keys
 *   byte 2: largest piece - 1
 *   byte 3: call limit
 *   op: bits 0-2 kind (0, 1, 6 text, 2, 7 binary, 3 ping, 4 pong, 5 close),
 *       bits 3-4 fragments - 1, bit 5 pings between fragments, bits 6-7
 *       length class (<16, <256, 100..355, 1000..2920 or 65500..65755). */
#include <stdbool.h>

#include "fuzz.h"
#include "utf8.h"
#include "ws_trace.h"

/* Generation stops beyond this (one more message may take it to ~100 KiB):
 * longer streams would only slow the search down. */
#define MAX_STREAM (32 * 1024)

struct gen {
	const uint8_t *p;
	size_t n, i;
	uint32_t rng;
	bool masked;
	struct fuzz_bytes stream;
	struct fuzz_bytes want; /* the expected log */
	size_t longest;		/* the longest message */
};

static uint8_t next(struct gen *g)
{
	return g->i < g->n ? g->p[g->i++] : (uint8_t)fuzz_rand(&g->rng);
}

/* Appends one frame and checks the encoder's header on the way. */
static void frame(struct gen *g, unsigned opcode, bool fin, const uint8_t *p,
		  size_t n)
{
	uint8_t h[WS_MAX_HEADER], key[4];

	for (int i = 0; i < 4; i++)
		key[i] = (uint8_t)fuzz_rand(&g->rng);
	size_t hl = ws_encode_header(h, opcode, fin, n, g->masked ? key : NULL);
	size_t want = (n < 126	     ? 2u
		       : n <= 0xffff ? 4u
				     : 10u) +
		      (g->masked ? 4u : 0u);
	FUZZ_CHECK(hl == want);
	FUZZ_CHECK(h[0] == ((fin ? 0x80 : 0) | opcode));
	FUZZ_CHECK(((h[1] & 0x80) != 0) == g->masked);
	fuzz_put(&g->stream, h, hl);
	size_t at = g->stream.len;
	fuzz_put(&g->stream, p, n);
	if (!g->masked)
		return;

	/* Masking in two parts, the second from its offset, is masking
	 * whole; masking twice restores the payload. */
	uint8_t *whole = g->stream.p + at;
	uint8_t *parts = fuzz_dup(p, n);
	size_t cut = n ? fuzz_rand(&g->rng) % (n + 1) : 0;
	ws_mask(whole, n, key, 0);
	ws_mask(parts, cut, key, 0);
	ws_mask(parts + cut, n - cut, key, cut);
	FUZZ_CHECK(n == 0 || memcmp(whole, parts, n) == 0);
	ws_mask(parts, n, key, 0);
	FUZZ_CHECK(n == 0 || memcmp(parts, p, n) == 0);
	free(parts);
}

static void control(struct gen *g, unsigned opcode, size_t n)
{
	uint8_t p[WS_MAX_CONTROL];

	for (size_t i = 0; i < n; i++)
		p[i] = next(g);
	frame(g, opcode, true, p, n);
	ws_log_control(&g->want, opcode == WS_PING ? WS_EV_PING : WS_EV_PONG, 0,
		       p, n, g->stream.len);
}

static size_t length(struct gen *g, uint8_t op)
{
	uint8_t b;

	switch (op >> 6) {
	case 0:
		return next(g) % 16u;
	case 1:
		return next(g);
	case 2:
		return 100 + (size_t)next(g);
	default:
		/* Around 64 KiB only now and then: those are slow. */
		b = next(g);
		return b >= 0xf0 ? 65500 + (size_t)next(g)
				 : 1000 + (size_t)b * 8;
	}
}

static void message(struct gen *g, uint8_t op, unsigned opcode)
{
	size_t n = length(g, op);
	uint8_t *raw = malloc(n ? n : 1);
	uint8_t *p = malloc(n ? UTF8_SCRUB_MAX(n) : 1);
	size_t cuts[4];
	size_t nfrag = 1 + (op >> 3 & 3u);

	if (!raw || !p)
		abort();
	for (size_t i = 0; i < n; i++)
		raw[i] = n <= 64 ? next(g) : (uint8_t)fuzz_rand(&g->rng);
	if (opcode == WS_TEXT) {
		n = utf8_scrub(raw, n, p, NULL); /* now valid text */
	} else if (n) {
		memcpy(p, raw, n);
	}
	free(raw);
	if (n > g->longest)
		g->longest = n;

	/* Fragment boundaries anywhere, inside a character too. */
	for (size_t i = 0; i + 1 < nfrag; i++)
		cuts[i] = fuzz_rand(&g->rng) % (n + 1);
	cuts[nfrag - 1] = n;
	for (size_t i = 0; i < nfrag; i++)
		for (size_t j = i + 1; j < nfrag; j++)
			if (cuts[j] < cuts[i]) {
				size_t t = cuts[i];
				cuts[i] = cuts[j];
				cuts[j] = t;
			}
	size_t from = 0;
	for (size_t i = 0; i < nfrag; i++) {
		bool fin = i + 1 == nfrag;
		frame(g, i == 0 ? opcode : WS_CONT, fin, p + from,
		      cuts[i] - from);
		from = cuts[i];
		if (!fin && (op & 0x20))
			control(g, WS_PING, next(g) % 8u);
	}
	ws_log_message(&g->want, opcode, p, n);
	free(p);
}

static void close_frame(struct gen *g)
{
	static const unsigned codes[] = {1000, 1001, 1002, 1003, 1007, 1008,
					 1009, 1010, 1011, 1012, 1013, 1014,
					 3000, 3999, 4000, 4999};
	uint8_t c = next(g);
	unsigned code = 0; /* no payload at all */

	if (c >= 128)
		code = 3000 + (unsigned)c * 7; /* 3896..4785 */
	else if (c >= 16)
		code = codes[c % 16];
	uint8_t raw[200], reason[3 * sizeof raw], out[WS_MAX_CONTROL];
	size_t rn = next(g) % sizeof raw;

	for (size_t i = 0; i < rn; i++)
		raw[i] = (uint8_t)fuzz_rand(&g->rng);
	rn = utf8_scrub(raw, rn, reason, NULL);
	FUZZ_CHECK(ws_close_code_valid(code) || code == 0);

	/* The reason is cut to 123 bytes at a character boundary. */
	size_t n = ws_close_payload(out, code, (const char *)reason, rn);
	if (code == 0) {
		FUZZ_CHECK(n == 0);
	} else {
		FUZZ_CHECK(n >= 2 && n <= WS_MAX_CONTROL);
		FUZZ_CHECK(((unsigned)out[0] << 8 | out[1]) == code);
		size_t kept = n - 2;
		FUZZ_CHECK(kept <= WS_MAX_CLOSE_REASON && kept <= rn);
		FUZZ_CHECK(kept == rn || kept + 3 >= WS_MAX_CLOSE_REASON);
		FUZZ_CHECK(kept == 0 || memcmp(out + 2, reason, kept) == 0);
		FUZZ_CHECK(utf8_valid_prefix(out + 2, kept) == kept);
	}
	frame(g, WS_CLOSE, true, out, n);
	ws_log_control(&g->want, WS_EV_CLOSE, code, out + (n ? 2 : 0),
		       n ? n - 2 : 0, g->stream.len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	const size_t calls[4] = {0, 5, 64, 1000};
	struct gen g = {
	    .p = data + 4,
	    .n = size - 4,
	    .rng = data[1],
	    .masked = !(data[0] & 1),
	};

	while (g.i < g.n && g.stream.len < MAX_STREAM) {
		uint8_t op = next(&g);
		unsigned kind = op & 7u;
		if (kind == 3 || kind == 4) {
			control(&g, kind == 3 ? WS_PING : WS_PONG,
				next(&g) % (WS_MAX_CONTROL + 1u));
		} else if (kind == 5) {
			close_frame(&g);
			break;
		} else {
			message(&g, op,
				kind == 2 || kind == 7 ? WS_BINARY : WS_TEXT);
		}
	}

	struct ws_settings s = {
	    .role = g.masked ? WS_SERVER : WS_CLIENT,
	    .text_ok = true,
	    .binary_ok = true,
	};
	/* (max_message 0 would mean no limit.) */
	bool too_big = (data[0] & 4) && g.longest > 1;
	if (too_big)
		s.max_message = g.longest - 1;
	else if (data[0] & 2)
		s.max_message = g.longest ? g.longest : 1;
	struct ws_cut cut = {data[1], (size_t)data[2] + 1, calls[data[3] & 3]};
	struct ws_trace t = {0}, ref = {0};

	ws_trace_run(&s, g.stream.p, g.stream.len, &cut, &t);
	ws_trace_ref(&s, g.stream.p, g.stream.len, &ref);
	ws_trace_like_ref(&t, &ref);
	if (too_big) {
		/* Everything before the longest message (or the first of
		 * that length), then 1009. */
		FUZZ_CHECK(t.err_code == WS_TOO_BIG);
		FUZZ_CHECK(t.log.len < g.want.len);
		FUZZ_CHECK(t.log.len == 0 ||
			   memcmp(t.log.p, g.want.p, t.log.len) == 0);
	} else {
		FUZZ_CHECK(t.err_code == 0);
		FUZZ_CHECK(t.msg_opcode == 0 && t.msg.len == 0);
		FUZZ_CHECK(t.log.len == g.want.len);
		FUZZ_CHECK(t.log.len == 0 ||
			   memcmp(t.log.p, g.want.p, t.log.len) == 0);
	}
	ws_trace_free(&t);
	ws_trace_free(&ref);
	fuzz_bytes_free(&g.stream);
	fuzz_bytes_free(&g.want);
	return 0;
}
