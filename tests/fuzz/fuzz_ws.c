/* Fuzz target for the frame decoder of src/ws.h: the input stream is
 * decoded whole, in random pieces with calls of limited length, and one
 * byte at a time; every call must keep the contract (see ws_trace.c), all
 * feedings must decode the same, and that must be what a reference decoder
 * written from RFC 6455 section 5 decodes.
 *
 * Input: 4 bytes of settings, then the stream.
 *   byte 0: bit 0 client role (frames unmasked), bit 1 text refused,
 *           bit 2 binary refused, bits 3-5 max_message, bits 6-7 call limit
 *   byte 1: max_message parameter
 *   byte 2: seed of the piece sizes
 *   byte 3: largest piece - 1 */
#include "fuzz.h"
#include "ws_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	uint8_t b0 = data[0], b1 = data[1];
	const uint64_t limits[8] = {
	    0, b1, 125, 126, 65535, 65536, 1 + (uint64_t)b1 * 64, UINT64_MAX,
	};
	const size_t calls[4] = {0, 1, 2 + b1 % 7u, 16};
	struct ws_settings s = {
	    .role = b0 & 1 ? WS_CLIENT : WS_SERVER,
	    .text_ok = !(b0 & 2),
	    .binary_ok = !(b0 & 4),
	    .max_message = limits[b0 >> 3 & 7],
	};
	const uint8_t *in = data + 4;
	size_t n = size - 4;

	struct ws_cut whole = {0, 0, 0};
	struct ws_cut pieces = {data[2], (size_t)data[3] + 1, calls[b0 >> 6]};
	struct ws_cut bytes = {0, 1, 0};
	struct ws_trace a = {0}, b = {0}, c = {0}, ref = {0};

	ws_trace_run(&s, in, n, &whole, &a);
	ws_trace_run(&s, in, n, &pieces, &b);
	ws_trace_run(&s, in, n, &bytes, &c);
	ws_trace_ref(&s, in, n, &ref);
	ws_trace_same(&a, &b);
	ws_trace_same(&a, &c);
	ws_trace_like_ref(&a, &ref);
	ws_trace_free(&a);
	ws_trace_free(&b);
	ws_trace_free(&c);
	ws_trace_free(&ref);
	return 0;
}
