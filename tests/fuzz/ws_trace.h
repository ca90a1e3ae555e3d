/* Runs the frame decoder over a byte stream cut into pieces, checks the
 * contract of src/ws.h on every call, and records what was decoded in a
 * form that does not depend on the cuts, so that feedings can be compared
 * with each other, with a reference decoder and with what an encoder put
 * in. Shared by fuzz_ws.c and fuzz_wsenc.c. */
#ifndef PORTAL_WS_TRACE_H
#define PORTAL_WS_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "fuzz.h"
#include "ws.h"

struct ws_settings {
	enum ws_role role;
	uint64_t max_message;
	bool text_ok, binary_ok;
};

/* How a stream is fed: pieces of 1..max_piece bytes (0: one piece), each
 * piece in its own block, and at most max_call bytes per call (0: all). */
struct ws_cut {
	uint32_t seed;
	size_t max_piece;
	size_t max_call;
};

#define WS_NO_OFFSET UINT64_MAX

struct ws_trace {
	/* Completed events in order: whole messages, pings, pongs, close.
	 * Each control event carries the stream offset where it completed. */
	struct fuzz_bytes log;
	/* The message still open at the end (or at the error): its bytes so
	 * far and its opcode, 0 if none is open. */
	struct fuzz_bytes msg;
	unsigned msg_opcode;
	/* ERROR: its close code (0: none) and the stream offset after the
	 * byte that decided it. The reference decoder fills err_set instead
	 * of err_code: the codes of every rule that byte breaks. */
	unsigned err_code;
	unsigned err_set;
	uint64_t err_offset;
};

/* Bits of err_set. */
#define WS_SET_1002 1u
#define WS_SET_1003 2u
#define WS_SET_1007 4u
#define WS_SET_1009 8u

/* Feeds in[0..n) to a fresh decoder with settings s, cut as cut says,
 * checking every call; fills *t (which must be zeroed). */
void ws_trace_run(const struct ws_settings *s, const uint8_t *in, size_t n,
		  const struct ws_cut *cut, struct ws_trace *t);

/* The reference: decodes in[0..n) by rereading RFC 6455 section 5 over the
 * whole stream at once. Fills *t (zeroed) with err_set, not err_code. */
void ws_trace_ref(const struct ws_settings *s, const uint8_t *in, size_t n,
		  struct ws_trace *t);

/* Appends the log entries the decoder makes. */
void ws_log_message(struct fuzz_bytes *log, unsigned opcode, const uint8_t *p,
		    size_t n);
void ws_log_control(struct fuzz_bytes *log, enum ws_event_type type,
		    unsigned code, const uint8_t *p, size_t n, uint64_t offset);

/* Two feedings of the same stream decoded the same. */
void ws_trace_same(const struct ws_trace *a, const struct ws_trace *b);

/* A feeding decoded what the reference did. */
void ws_trace_like_ref(const struct ws_trace *t, const struct ws_trace *ref);

void ws_trace_free(struct ws_trace *t);

#endif
