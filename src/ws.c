/* RFC 6455 frame codec. The decoder is a byte-resumable state machine over
 * the frame layout of section 5.2:
 *
 *   WS_S_HEAD -> [WS_S_LENGTH] -> [WS_S_MASKKEY] -> WS_S_PAYLOAD -> WS_S_HEAD
 *
 * with WS_S_DONE as the sink after a Close or an error. Every check runs as
 * soon as the byte that decides it arrives, so a bad frame is rejected
 * before the rest of it is read. */
#include "ws.h"

#include <string.h>

/* Every way a peer can break the protocol, and what we answer. The close
 * codes live in this table and nowhere else. */
enum ws_err {
	E_RSV,
	E_OPCODE,
	E_CTL_FRAGMENTED,
	E_CTL_TOO_LONG,
	E_UNMASKED,
	E_MASKED,
	E_NO_MESSAGE,
	E_IN_MESSAGE,
	E_LENGTH_NOT_MINIMAL,
	E_LENGTH_TOP_BIT,
	E_CLOSE_SHORT,
	E_CLOSE_CODE,
	E_TEXT_REFUSED,
	E_BINARY_REFUSED,
	E_UTF8,
	E_CLOSE_UTF8,
	E_TOO_BIG,
};

static const struct {
	unsigned code;
	const char *reason;
} errors[] = {
	[E_RSV] = {WS_PROTOCOL_ERROR, "reserved bits set"},
	[E_OPCODE] = {WS_PROTOCOL_ERROR, "reserved opcode"},
	[E_CTL_FRAGMENTED] = {WS_PROTOCOL_ERROR, "fragmented control frame"},
	[E_CTL_TOO_LONG] = {WS_PROTOCOL_ERROR, "control frame too long"},
	[E_UNMASKED] = {WS_PROTOCOL_ERROR, "unmasked frame"},
	[E_MASKED] = {WS_PROTOCOL_ERROR, "masked frame"},
	[E_NO_MESSAGE] = {WS_PROTOCOL_ERROR, "continuation without message"},
	[E_IN_MESSAGE] = {WS_PROTOCOL_ERROR, "new message inside message"},
	[E_LENGTH_NOT_MINIMAL] = {WS_PROTOCOL_ERROR, "non-minimal length"},
	[E_LENGTH_TOP_BIT] = {WS_PROTOCOL_ERROR, "length over 2^63"},
	[E_CLOSE_SHORT] = {WS_PROTOCOL_ERROR, "close payload of 1 byte"},
	[E_CLOSE_CODE] = {WS_PROTOCOL_ERROR, "invalid close code"},
	[E_TEXT_REFUSED] = {WS_UNSUPPORTED_DATA, "text messages not supported"},
	[E_BINARY_REFUSED] = {WS_UNSUPPORTED_DATA,
			      "binary messages not supported"},
	[E_UTF8] = {WS_INVALID_DATA, "invalid UTF-8"},
	[E_CLOSE_UTF8] = {WS_INVALID_DATA, "invalid UTF-8 in close reason"},
	[E_TOO_BIG] = {WS_TOO_BIG, "message too big"},
};

/* The step functions below return true when they have filled *ev, which
 * ends the current ws_decode call. */

static bool fail(struct ws_decoder *d, struct ws_event *ev, enum ws_err e)
{
	d->state = WS_S_DONE;
	ev->type = WS_EV_ERROR;
	ev->code = errors[e].code;
	ev->reason = errors[e].reason;
	return true;
}

/* RFC 6455 5.5: control frames have opcodes with the high bit set. */
static bool is_control(unsigned opcode)
{
	return (opcode & 0x8) != 0;
}

void ws_decoder_init(struct ws_decoder *d, enum ws_role role)
{
	memset(d, 0, sizeof *d);
	d->role = role;
	d->state = WS_S_HEAD;
	d->text_ok = true;
	d->binary_ok = true;
}

/* 7.4.1-7.4.2: 0-999 are unused. Of 1000-2999, kept for the protocol, only
 * 1000-1003 and 1007-1014 (the RFC and the IANA registry) may be sent: 1004
 * is reserved and 1005, 1006 and 1015 are for local use. 3000-4999 belong to
 * libraries and applications. */
bool ws_close_code_valid(unsigned code)
{
	return (code >= 1000 && code <= 1003) ||
	       (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/* First header byte: FIN, RSV1-3, opcode. Opens a message on a TEXT or
 * BINARY frame, so max_message and UTF-8 state start from zero. */
static bool head_byte0(struct ws_decoder *d, uint8_t b, struct ws_event *ev)
{
	unsigned op = b & 0x0fu;

	/* 5.2: RSV bits must be 0 unless an extension defines them, and we
	 * negotiate none. */
	if (b & 0x70)
		return fail(d, ev, E_RSV);
	d->fin = (b & 0x80) != 0;
	d->opcode = op;
	if (is_control(op)) {
		if (op != WS_CLOSE && op != WS_PING && op != WS_PONG)
			return fail(d, ev, E_OPCODE);
		if (!d->fin) /* 5.5: control frames are never fragmented */
			return fail(d, ev, E_CTL_FRAGMENTED);
		return false;
	}
	switch (op) {
	case WS_CONT:
		if (d->msg_opcode == 0)
			return fail(d, ev, E_NO_MESSAGE);
		return false;
	case WS_TEXT:
	case WS_BINARY:
		/* 5.4: only control frames may interleave with fragments. */
		if (d->msg_opcode != 0)
			return fail(d, ev, E_IN_MESSAGE);
		if (op == WS_TEXT && !d->text_ok)
			return fail(d, ev, E_TEXT_REFUSED);
		if (op == WS_BINARY && !d->binary_ok)
			return fail(d, ev, E_BINARY_REFUSED);
		d->msg_opcode = op;
		d->msg_len = 0;
		d->msg_started = false;
		utf8_init(&d->utf8);
		return false;
	default:
		return fail(d, ev, E_OPCODE);
	}
}

static bool payload_begin(struct ws_decoder *d, struct ws_event *ev);

/* The frame's payload length is known (d->remaining). */
static bool length_done(struct ws_decoder *d, struct ws_event *ev)
{
	if (!is_control(d->opcode)) {
		if (d->max_message &&
		    d->remaining > d->max_message - d->msg_len)
			return fail(d, ev, E_TOO_BIG);
		d->msg_len += d->remaining;
	}
	if (!d->masked)
		return payload_begin(d, ev);
	d->state = WS_S_MASKKEY;
	d->have = 0;
	d->need = 4;
	return false;
}

/* Second header byte: MASK and the 7-bit length. */
static bool head_byte1(struct ws_decoder *d, uint8_t b, struct ws_event *ev)
{
	unsigned len7 = b & 0x7fu;

	/* 5.1: a client masks every frame, a server none. */
	d->masked = (b & 0x80) != 0;
	if (d->role == WS_SERVER && !d->masked)
		return fail(d, ev, E_UNMASKED);
	if (d->role == WS_CLIENT && d->masked)
		return fail(d, ev, E_MASKED);
	if (is_control(d->opcode) && len7 > WS_MAX_CONTROL)
		return fail(d, ev, E_CTL_TOO_LONG);
	if (len7 >= 126) {
		d->state = WS_S_LENGTH;
		d->have = 0;
		d->need = len7 == 126 ? 2 : 8;
		return false;
	}
	d->remaining = len7;
	return length_done(d, ev);
}

/* The extended length is in d->head[0..d->need). */
static bool ext_length(struct ws_decoder *d, struct ws_event *ev)
{
	uint64_t v = 0;

	for (size_t i = 0; i < d->need; i++)
		v = v << 8 | d->head[i];
	/* 5.2: "the most significant bit MUST be 0", and "the minimal number
	 * of bytes MUST be used to encode the length". */
	if (v >> 63)
		return fail(d, ev, E_LENGTH_TOP_BIT);
	if (v < (d->need == 2 ? 126u : 0x10000u))
		return fail(d, ev, E_LENGTH_NOT_MINIMAL);
	d->remaining = v;
	return length_done(d, ev);
}

/* 5.5.1: an optional 2-byte code, then an optional UTF-8 reason. */
static bool close_frame(struct ws_decoder *d, struct ws_event *ev)
{
	struct utf8 u;

	if (d->ctl_len == 1)
		return fail(d, ev, E_CLOSE_SHORT);
	ev->data = d->ctl;
	if (d->ctl_len >= 2) {
		unsigned code = (unsigned)d->ctl[0] << 8 | d->ctl[1];
		if (!ws_close_code_valid(code))
			return fail(d, ev, E_CLOSE_CODE);
		utf8_init(&u);
		if (utf8_feed(&u, d->ctl + 2, d->ctl_len - 2) != UTF8_OK ||
		    !utf8_complete(&u))
			return fail(d, ev, E_CLOSE_UTF8);
		ev->code = code;
		ev->data = d->ctl + 2;
		ev->len = d->ctl_len - 2;
	}
	ev->type = WS_EV_CLOSE;
	d->state = WS_S_DONE;
	return true;
}

/* A control frame's payload is complete in d->ctl. */
static bool control_done(struct ws_decoder *d, struct ws_event *ev)
{
	d->state = WS_S_HEAD;
	d->have = 0;
	if (d->opcode == WS_CLOSE)
		return close_frame(d, ev);
	ev->type = d->opcode == WS_PING ? WS_EV_PING : WS_EV_PONG;
	ev->data = d->ctl;
	ev->len = d->ctl_len;
	return true;
}

/* p[0..n) is the next (unmasked) piece of the current data frame, which
 * d->remaining already excludes. */
static bool data_chunk(struct ws_decoder *d, const uint8_t *p, size_t n,
		       struct ws_event *ev)
{
	bool text = d->msg_opcode == WS_TEXT;
	bool frame_end = d->remaining == 0;
	bool last = frame_end && d->fin;

	/* 8.1: invalid UTF-8 fails the connection. Checking each chunk as it
	 * arrives fails it at the first bad byte, not at the message's end. */
	if (text && utf8_feed(&d->utf8, p, n) != UTF8_OK)
		return fail(d, ev, E_UTF8);
	if (last && text && !utf8_complete(&d->utf8))
		return fail(d, ev, E_UTF8);
	if (frame_end) {
		d->state = WS_S_HEAD;
		d->have = 0;
	}
	if (n == 0 && !last)
		return false; /* an empty non-final frame says nothing */
	ev->type = WS_EV_DATA;
	ev->opcode = d->msg_opcode;
	ev->first = !d->msg_started;
	ev->last = last;
	ev->data = p;
	ev->len = n;
	d->msg_started = true;
	if (last)
		d->msg_opcode = 0;
	return true;
}

/* The header is complete; an empty payload completes the frame at once.
 * The 0-byte DATA view of an empty final frame points at d->ctl: any
 * non-null pointer will do, and callers may pass it to memcpy. */
static bool payload_begin(struct ws_decoder *d, struct ws_event *ev)
{
	d->state = WS_S_PAYLOAD;
	d->mask_pos = 0;
	d->ctl_len = 0;
	if (d->remaining > 0)
		return false;
	if (is_control(d->opcode))
		return control_done(d, ev);
	return data_chunk(d, d->ctl, 0, ev);
}

/* Takes payload bytes from buf[*pos..len), at least one. */
static bool payload(struct ws_decoder *d, uint8_t *buf, size_t len, size_t *pos,
		    struct ws_event *ev)
{
	size_t n = len - *pos;
	uint8_t *p = buf + *pos;

	if (d->remaining < n)
		n = (size_t)d->remaining;
	*pos += n;
	d->remaining -= n;
	if (is_control(d->opcode)) {
		/* Collected whole (at most 125 bytes) so that a Ping split
		 * across reads still yields one event. */
		memcpy(d->ctl + d->ctl_len, p, n);
		if (d->masked)
			ws_mask(d->ctl + d->ctl_len, n, d->mask, d->ctl_len);
		d->ctl_len += n;
		return d->remaining == 0 && control_done(d, ev);
	}
	if (d->masked) {
		ws_mask(p, n, d->mask, d->mask_pos);
		d->mask_pos = (d->mask_pos + n) & 3;
	}
	return data_chunk(d, p, n, ev);
}

size_t ws_decode(struct ws_decoder *d, uint8_t *buf, size_t len,
		 struct ws_event *ev)
{
	size_t pos = 0;
	bool done = false;

	memset(ev, 0, sizeof *ev);
	while (pos < len && !done) {
		switch (d->state) {
		case WS_S_HEAD:
			if (d->have++ == 0)
				done = head_byte0(d, buf[pos++], ev);
			else
				done = head_byte1(d, buf[pos++], ev);
			break;
		case WS_S_LENGTH:
			d->head[d->have++] = buf[pos++];
			if (d->have == d->need)
				done = ext_length(d, ev);
			break;
		case WS_S_MASKKEY:
			d->mask[d->have++] = buf[pos++];
			if (d->have == d->need)
				done = payload_begin(d, ev);
			break;
		case WS_S_PAYLOAD:
			done = payload(d, buf, len, &pos, ev);
			break;
		case WS_S_DONE:
			pos = len;
			break;
		}
	}
	return pos;
}

size_t ws_encode_header(uint8_t *out, unsigned opcode, bool fin, uint64_t len,
			const uint8_t *mask)
{
	size_t n = 2;

	out[0] = (uint8_t)((fin ? 0x80u : 0) | (opcode & 0x0fu));
	if (len < 126) {
		out[1] = (uint8_t)len;
	} else if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		n = 4;
	} else {
		out[1] = 127;
		for (int i = 0; i < 8; i++)
			out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
		n = 10;
	}
	if (mask) {
		out[1] |= 0x80;
		memcpy(out + n, mask, 4);
		n += 4;
	}
	return n;
}

/* 5.3: byte i of the payload is XORed with key[i % 4]. An 8-byte run of the
 * key lined up with offset lets the bulk go a word at a time; memcpy keeps
 * the loads and stores free of alignment assumptions. */
void ws_mask(uint8_t *p, size_t n, const uint8_t key[4], uint64_t offset)
{
	uint8_t k[8];
	uint64_t kw, w;
	size_t i;

	for (i = 0; i < 8; i++)
		k[i] = key[(offset + i) & 3];
	memcpy(&kw, k, sizeof kw);
	for (i = 0; n - i >= 32; i += 32) {
		uint64_t v[4];
		memcpy(v, p + i, sizeof v);
		v[0] ^= kw;
		v[1] ^= kw;
		v[2] ^= kw;
		v[3] ^= kw;
		memcpy(p + i, v, sizeof v);
	}
	for (; n - i >= 8; i += 8) {
		memcpy(&w, p + i, sizeof w);
		w ^= kw;
		memcpy(p + i, &w, sizeof w);
	}
	for (; i < n; i++)
		p[i] ^= k[i & 3];
}

size_t ws_close_payload(uint8_t *out, unsigned code, const char *reason,
			size_t reason_len)
{
	const uint8_t *r = (const uint8_t *)reason;
	size_t n = reason_len;

	if (code == 0)
		return 0;
	out[0] = (uint8_t)(code >> 8);
	out[1] = (uint8_t)code;
	if (n > WS_MAX_CLOSE_REASON) {
		/* Back off over continuation bytes (10xxxxxx) so the cut
		 * falls before a lead byte, not inside a character. */
		n = WS_MAX_CLOSE_REASON;
		while (n > 0 && (r[n] & 0xc0) == 0x80)
			n--;
	}
	if (n)
		memcpy(out + 2, r, n);
	return 2 + n;
}
