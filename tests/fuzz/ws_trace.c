#include "ws_trace.h"

#include "utf8.h"

void ws_log_message(struct fuzz_bytes *log, unsigned opcode, const uint8_t *p,
		    size_t n)
{
	uint8_t tag[2] = {'M', (uint8_t)opcode};

	fuzz_put(log, tag, sizeof tag);
	fuzz_put_u64(log, n);
	fuzz_put(log, p, n);
}

void ws_log_control(struct fuzz_bytes *log, enum ws_event_type type,
		    unsigned code, const uint8_t *p, size_t n, uint64_t offset)
{
	uint8_t tag[2] = {'C', (uint8_t)type};

	fuzz_put(log, tag, sizeof tag);
	fuzz_put_u64(log, code);
	fuzz_put_u64(log, n);
	fuzz_put(log, p, n);
	fuzz_put_u64(log, offset);
}

void ws_trace_free(struct ws_trace *t)
{
	fuzz_bytes_free(&t->log);
	fuzz_bytes_free(&t->msg);
}

static bool valid_text(const uint8_t *p, size_t n)
{
	struct utf8 u;
	utf8_init(&u);
	return utf8_feed(&u, p, n) == UTF8_OK && utf8_complete(&u);
}

/* --- the decoder under test ---------------------------------------------- */

struct run {
	const struct ws_settings *s;
	struct ws_decoder d;
	struct ws_trace *t;
	struct utf8 text; /* the open text message so far */
	bool done;	  /* CLOSE or ERROR returned */
};

/* Checks one call: ws_decode(&r->d, buf, len, ev) returned n, at stream
 * offset base + n. */
static void check_event(struct run *r, const uint8_t *buf, size_t len, size_t n,
			const struct ws_event *ev, uint64_t base)
{
	struct ws_trace *t = r->t;
	const uint8_t *dec = (const uint8_t *)&r->d;
	uint64_t at = base + n;

	FUZZ_CHECK(n <= len);
	if (ev->type == WS_EV_NONE) {
		FUZZ_CHECK(n == len);
		/* *ev is zeroed first. */
		FUZZ_CHECK(ev->data == NULL && ev->len == 0 && ev->code == 0 &&
			   ev->reason == NULL && !ev->first && !ev->last);
		return;
	}
	/* Events are caused by bytes, and none follow the end. */
	FUZZ_CHECK(n >= 1);
	FUZZ_CHECK(!r->done);
	switch (ev->type) {
	case WS_EV_DATA:
		FUZZ_CHECK(ev->opcode == WS_TEXT || ev->opcode == WS_BINARY);
		FUZZ_CHECK(ev->opcode == WS_TEXT ? r->s->text_ok
						 : r->s->binary_ok);
		FUZZ_CHECK(ev->data != NULL);
		if (ev->len > 0)
			FUZZ_CHECK(ev->data >= buf &&
				   ev->len <= (size_t)(buf + n - ev->data));
		FUZZ_CHECK(ev->first == (t->msg_opcode == 0));
		if (ev->first) {
			t->msg_opcode = ev->opcode;
			t->msg.len = 0;
			utf8_init(&r->text);
		}
		FUZZ_CHECK(ev->opcode == t->msg_opcode);
		fuzz_put(&t->msg, ev->data, ev->len);
		if (r->s->max_message)
			FUZZ_CHECK(t->msg.len <= r->s->max_message);
		if (ev->opcode == WS_TEXT) {
			FUZZ_CHECK(utf8_feed(&r->text, ev->data, ev->len) ==
				   UTF8_OK);
			if (ev->last)
				FUZZ_CHECK(utf8_complete(&r->text));
		}
		if (ev->last) {
			ws_log_message(&t->log, t->msg_opcode, t->msg.p,
				       t->msg.len);
			t->msg.len = 0;
			t->msg_opcode = 0;
		}
		break;
	case WS_EV_PING:
	case WS_EV_PONG:
	case WS_EV_CLOSE:
		FUZZ_CHECK(ev->len <= WS_MAX_CONTROL);
		FUZZ_CHECK(ev->len == 0 ||
			   (ev->data >= dec &&
			    ev->len <= (size_t)(dec + sizeof r->d - ev->data)));
		if (ev->type == WS_EV_CLOSE) {
			FUZZ_CHECK(ev->len <= WS_MAX_CLOSE_REASON);
			FUZZ_CHECK(ev->code == 0
				       ? ev->len == 0
				       : ws_close_code_valid(ev->code));
			FUZZ_CHECK(valid_text(ev->data, ev->len));
			FUZZ_CHECK(r->d.state == WS_S_DONE);
			r->done = true;
		} else {
			FUZZ_CHECK(ev->code == 0);
		}
		ws_log_control(&t->log, ev->type, ev->code, ev->data, ev->len,
			       at);
		break;
	case WS_EV_ERROR:
		FUZZ_CHECK(ev->code == WS_PROTOCOL_ERROR ||
			   ev->code == WS_UNSUPPORTED_DATA ||
			   ev->code == WS_INVALID_DATA ||
			   ev->code == WS_TOO_BIG);
		FUZZ_CHECK(ev->reason != NULL && ev->reason[0] != '\0');
		if (ev->code == WS_UNSUPPORTED_DATA)
			FUZZ_CHECK(!r->s->text_ok || !r->s->binary_ok);
		if (ev->code == WS_TOO_BIG)
			FUZZ_CHECK(r->s->max_message != 0);
		FUZZ_CHECK(r->d.state == WS_S_DONE);
		t->err_code = ev->code;
		t->err_offset = ev->code == WS_INVALID_DATA ? WS_NO_OFFSET : at;
		r->done = true;
		break;
	default:
		fuzz_fail(__FILE__, __LINE__, "unknown event type");
	}
}

void ws_trace_run(const struct ws_settings *s, const uint8_t *in, size_t n,
		  const struct ws_cut *cut, struct ws_trace *t)
{
	struct run r = {.s = s, .t = t};
	uint32_t seed = cut->seed;
	size_t at = 0;

	ws_decoder_init(&r.d, s->role);
	r.d.max_message = s->max_message;
	r.d.text_ok = s->text_ok;
	r.d.binary_ok = s->binary_ok;
	while (at < n) {
		size_t plen = n - at;
		if (cut->max_piece) {
			size_t k = 1 + fuzz_rand(&seed) % cut->max_piece;
			if (k < plen)
				plen = k;
		}
		uint8_t *piece = fuzz_dup(in + at, plen);
		size_t off = 0;
		bool more = true;
		/* "Call again with the unconsumed rest while it is non-empty
		 * or the returned event was not NONE." */
		while (off < plen || more) {
			struct ws_event ev;
			size_t len = plen - off;
			if (cut->max_call && len > cut->max_call)
				len = cut->max_call;
			memset(&ev, 0x5a, sizeof ev);
			size_t got = ws_decode(&r.d, piece + off, len, &ev);
			if (r.done)
				FUZZ_CHECK(ev.type == WS_EV_NONE && got == len);
			check_event(&r, piece + off, len, got, &ev, at + off);
			if (len == 0)
				FUZZ_CHECK(got == 0 && ev.type == WS_EV_NONE);
			more = ev.type != WS_EV_NONE;
			off += got;
		}
		free(piece);
		at += plen;
	}
	if (r.done)
		FUZZ_CHECK(r.d.state == WS_S_DONE);
}

/* --- the reference ------------------------------------------------------- */

static uint64_t big_endian(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void ref_fail(struct ws_trace *t, unsigned set, uint64_t offset)
{
	t->err_set = set;
	t->err_offset = offset;
}

void ws_trace_ref(const struct ws_settings *s, const uint8_t *in, size_t n,
		  struct ws_trace *t)
{
	uint8_t *p = fuzz_dup(in, n);
	size_t pos = 0;
	uint64_t msg_len = 0;
	struct utf8 text;

	utf8_init(&text);
	while (pos < n) {
		/* Byte 0: FIN, RSV1-3, opcode. */
		uint8_t b0 = p[pos++];
		unsigned op = b0 & 0x0fu, set = 0;
		bool fin = b0 & 0x80, control = op >= 8;
		if (b0 & 0x70)
			set |= WS_SET_1002; /* no extension negotiated */
		if (op != WS_CONT && op != WS_TEXT && op != WS_BINARY &&
		    op != WS_CLOSE && op != WS_PING && op != WS_PONG)
			set |= WS_SET_1002;
		if (control && !fin)
			set |= WS_SET_1002; /* 5.5 */
		if (op == WS_CONT && t->msg_opcode == 0)
			set |= WS_SET_1002; /* 5.4 */
		if ((op == WS_TEXT || op == WS_BINARY) && t->msg_opcode != 0)
			set |= WS_SET_1002;
		if ((op == WS_TEXT && !s->text_ok) ||
		    (op == WS_BINARY && !s->binary_ok))
			set |= WS_SET_1003;
		if (set) {
			ref_fail(t, set, pos);
			break;
		}
		if (op == WS_TEXT || op == WS_BINARY) {
			t->msg_opcode = op;
			t->msg.len = 0;
			msg_len = 0;
			utf8_init(&text);
		}
		if (pos == n)
			break;

		/* Byte 1: MASK, 7-bit length; then the extended length. */
		uint8_t b1 = p[pos++];
		bool masked = b1 & 0x80;
		uint64_t len = b1 & 0x7fu;
		if (masked != (s->role == WS_SERVER))
			set |= WS_SET_1002; /* 5.1 */
		if (control && len > WS_MAX_CONTROL)
			set |= WS_SET_1002; /* 5.5 */
		if (len >= 126) {
			if (set) {
				ref_fail(t, set, pos);
				break;
			}
			size_t k = len == 126 ? 2 : 8;
			if (n - pos < k)
				break;
			len = big_endian(p + pos, k);
			pos += k;
			/* 5.2: minimal encoding, most significant bit 0. */
			if (len < (k == 2 ? 126u : 0x10000u) || len >> 63)
				set |= WS_SET_1002;
		}
		if (!control && s->max_message &&
		    len > s->max_message - msg_len)
			set |= WS_SET_1009;
		if (set) {
			ref_fail(t, set, pos);
			break;
		}
		if (!control)
			msg_len += len;

		uint8_t key[4] = {0, 0, 0, 0};
		if (masked) {
			if (n - pos < 4)
				break;
			memcpy(key, p + pos, 4);
			pos += 4;
		}
		size_t have = n - pos < len ? n - pos : (size_t)len;
		for (size_t i = 0; i < have; i++)
			p[pos + i] ^= key[i % 4];

		if (control) {
			if (have < len)
				break;
			pos += have;
			if (op != WS_CLOSE) {
				ws_log_control(&t->log,
					       op == WS_PING ? WS_EV_PING
							     : WS_EV_PONG,
					       0, p + pos - have, have, pos);
				continue;
			}
			/* 5.5.1, 7.4. */
			const uint8_t *c = p + pos - have;
			unsigned code =
			    have >= 2 ? (unsigned)c[0] << 8 | c[1] : 0;
			if (have == 1)
				set |= WS_SET_1002;
			if (have >= 2 && !((code >= 1000 && code <= 1003) ||
					   (code >= 1007 && code <= 1014) ||
					   (code >= 3000 && code <= 4999)))
				set |= WS_SET_1002;
			if (have > 2 && !valid_text(c + 2, have - 2))
				set |= WS_SET_1007;
			if (set) {
				ref_fail(t, set, pos);
				break;
			}
			ws_log_control(&t->log, WS_EV_CLOSE, code,
				       c + (have ? 2 : 0), have ? have - 2 : 0,
				       pos);
			break;
		}

		/* A data frame: text must stay valid UTF-8 byte by byte. */
		if (t->msg_opcode == WS_TEXT) {
			struct utf8 whole = text;
			size_t i = have;
			/* Byte by byte only to find where it fails. */
			if (utf8_feed(&whole, p + pos, have) == UTF8_OK)
				text = whole;
			else
				for (i = 0; i < have; i++)
					if (utf8_feed(&text, p + pos + i, 1) !=
					    UTF8_OK)
						break;
			fuzz_put(&t->msg, p + pos, i);
			if (i < have) {
				ref_fail(t, WS_SET_1007, WS_NO_OFFSET);
				break;
			}
		} else {
			fuzz_put(&t->msg, p + pos, have);
		}
		pos += have;
		if (have < len)
			break;
		if (fin) {
			if (t->msg_opcode == WS_TEXT && !utf8_complete(&text)) {
				ref_fail(t, WS_SET_1007, WS_NO_OFFSET);
				break;
			}
			ws_log_message(&t->log, t->msg_opcode, t->msg.p,
				       t->msg.len);
			t->msg.len = 0;
			t->msg_opcode = 0;
		}
	}
	free(p);
}

/* --- comparisons --------------------------------------------------------- */

static bool is_prefix(const struct fuzz_bytes *a, const struct fuzz_bytes *b)
{
	return a->len <= b->len &&
	       (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static void same_log(const struct ws_trace *a, const struct ws_trace *b)
{
	FUZZ_CHECK(a->log.len == b->log.len);
	FUZZ_CHECK(a->log.len == 0 ||
		   memcmp(a->log.p, b->log.p, a->log.len) == 0);
}

/* The open message: the same bytes, except that after invalid UTF-8 each
 * side may have taken a different part of the chunk that held it. */
static void same_msg(const struct ws_trace *a, const struct ws_trace *b,
		     bool utf8_error)
{
	if (utf8_error) {
		FUZZ_CHECK(is_prefix(&a->msg, &b->msg) ||
			   is_prefix(&b->msg, &a->msg));
		return;
	}
	/* The decoder names a message's type with its first data, so an
	 * opened message of no bytes yet has no type to compare. */
	FUZZ_CHECK(a->msg.len == b->msg.len);
	if (a->msg.len > 0)
		FUZZ_CHECK(a->msg_opcode == b->msg_opcode);
	FUZZ_CHECK(is_prefix(&a->msg, &b->msg));
}

void ws_trace_same(const struct ws_trace *a, const struct ws_trace *b)
{
	same_log(a, b);
	FUZZ_CHECK(a->err_code == b->err_code);
	FUZZ_CHECK(a->err_offset == b->err_offset);
	same_msg(a, b, a->err_code == WS_INVALID_DATA);
}

static unsigned set_bit(unsigned code)
{
	switch (code) {
	case WS_PROTOCOL_ERROR:
		return WS_SET_1002;
	case WS_UNSUPPORTED_DATA:
		return WS_SET_1003;
	case WS_INVALID_DATA:
		return WS_SET_1007;
	case WS_TOO_BIG:
		return WS_SET_1009;
	default:
		return 0;
	}
}

void ws_trace_like_ref(const struct ws_trace *t, const struct ws_trace *ref)
{
	same_log(t, ref);
	FUZZ_CHECK((t->err_code != 0) == (ref->err_set != 0));
	if (!t->err_code) {
		same_msg(t, ref, false);
		return;
	}
	FUZZ_CHECK(set_bit(t->err_code) & ref->err_set);
	if (t->err_code != WS_INVALID_DATA)
		FUZZ_CHECK(t->err_offset == ref->err_offset);
	same_msg(t, ref, t->err_code == WS_INVALID_DATA);
}
