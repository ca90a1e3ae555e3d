/* RFC 6455 frame codec: a resumable decoder that enforces the protocol and an
 * encoder. Pure: it never touches a descriptor, allocates nothing and keeps
 * no clock; payloads are unmasked in the caller's buffer. */
#ifndef PORTAL_WS_H
#define PORTAL_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "utf8.h"

enum ws_opcode {
	WS_CONT = 0x0,
	WS_TEXT = 0x1,
	WS_BINARY = 0x2,
	WS_CLOSE = 0x8,
	WS_PING = 0x9,
	WS_PONG = 0xA,
};

/* Close codes (RFC 6455 section 7.4.1). 1005, 1006 and 1015 are never sent. */
enum ws_close_code {
	WS_NORMAL = 1000,
	WS_GOING_AWAY = 1001,
	WS_PROTOCOL_ERROR = 1002,
	WS_UNSUPPORTED_DATA = 1003,
	WS_NO_STATUS = 1005,
	WS_INVALID_DATA = 1007,
	WS_POLICY = 1008,
	WS_TOO_BIG = 1009,
	WS_INTERNAL_ERROR = 1011,
};

#define WS_MAX_HEADER 14       /* 2 + 8 (length) + 4 (mask) */
#define WS_MAX_CONTROL 125     /* RFC 6455 5.5 */
#define WS_MAX_CLOSE_REASON 123

enum ws_role {
	WS_SERVER, /* frames must arrive masked (RFC 6455 5.1) */
	WS_CLIENT, /* frames must arrive unmasked */
};

enum ws_state {
	WS_S_HEAD,    /* reading the 2 fixed header bytes */
	WS_S_LENGTH,  /* reading the 16- or 64-bit extended length */
	WS_S_MASKKEY, /* reading the 4-byte masking key */
	WS_S_PAYLOAD, /* payload bytes remain in the current frame */
	WS_S_DONE,    /* a Close frame or an error was returned; input ignored */
};

struct ws_decoder {
	/* Settings: set after ws_decoder_init, before the first ws_decode. */
	enum ws_role role;
	uint64_t max_message; /* payload bytes per message; 0 = no limit */
	bool text_ok;         /* false: a text message is error 1003 */
	bool binary_ok;       /* false: a binary message is error 1003 */

	/* Private state. */
	enum ws_state state;
	uint8_t head[8];
	size_t have, need; /* bytes of the current header field read/needed */
	unsigned opcode;
	bool fin, masked;
	uint8_t mask[4];
	size_t mask_pos;
	uint64_t remaining; /* payload bytes left in the current frame */
	unsigned msg_opcode; /* WS_TEXT/WS_BINARY while a message is open, else 0 */
	uint64_t msg_len;
	bool msg_started; /* a WS_EV_DATA was already returned for this message */
	struct utf8 utf8;
	uint8_t ctl[WS_MAX_CONTROL]; /* control frame payload being collected */
	size_t ctl_len;
};

enum ws_event_type {
	WS_EV_NONE,  /* all input consumed, need more bytes */
	WS_EV_DATA,  /* a chunk of a text or binary message */
	WS_EV_PING,  /* answer with a Pong carrying data/len */
	WS_EV_PONG,
	WS_EV_CLOSE, /* peer's Close; the decoder is done */
	WS_EV_ERROR, /* protocol violation; send Close(code); decoder is done */
};

struct ws_event {
	enum ws_event_type type;
	unsigned opcode;     /* DATA: WS_TEXT or WS_BINARY, the message's type */
	bool first;          /* DATA: first chunk of its message */
	bool last;           /* DATA: the message ends with this chunk */
	const uint8_t *data; /* DATA: view into the caller's buffer (unmasked);
				PING/PONG: view into the decoder; CLOSE: reason */
	size_t len;
	unsigned code;      /* CLOSE: status received, 0 if none;
			       ERROR: the close code to send */
	const char *reason; /* ERROR: static text for the Close frame and log */
};

/* Initialises d for role with no message limit and both types allowed. */
void ws_decoder_init(struct ws_decoder *d, enum ws_role role);

/* Decodes from buf[0..len), unmasking payload bytes in place. Stops at the
 * first event. Returns the number of bytes consumed and fills *ev (zeroed
 * first); ev->type is WS_EV_NONE when all len bytes were consumed without
 * completing an event. Call again with the unconsumed rest while it is
 * non-empty or the returned event was not NONE. A DATA event carries at most
 * the payload present in buf, so a caller limits how much it takes by
 * limiting len. Every rule of RFC 6455 section 5 that a receiver can check
 * is enforced; a violation returns WS_EV_ERROR with the close code from the
 * table below, after which the decoder consumes and ignores all input.
 *   1002: RSV bits set, reserved opcode, masked/unmasked against the role,
 *         control frame fragmented or over 125 bytes, continuation without a
 *         message, data frame inside a message, non-minimal or >2^63 length,
 *         Close payload of 1 byte or with an invalid code;
 *   1003: a message type the settings refuse;
 *   1007: invalid UTF-8 in a text message (as soon as it is seen) or in a
 *         Close reason;
 *   1009: a message longer than max_message (as soon as a header says so). */
size_t ws_decode(struct ws_decoder *d, uint8_t *buf, size_t len,
		 struct ws_event *ev);

/* True when code may appear in a received Close frame: 1000-1003,
 * 1007-1014 (RFC 6455 7.4.1 and the IANA registry) and 3000-4999. */
bool ws_close_code_valid(unsigned code);

/* Writes a frame header for a payload of len bytes to out (room for
 * WS_MAX_HEADER). mask is the 4-byte key, or NULL for an unmasked (server)
 * frame. Returns the header length (2..14). */
size_t ws_encode_header(uint8_t *out, unsigned opcode, bool fin, uint64_t len,
			const uint8_t *mask);

/* XORs p[0..n) with key, starting at byte offset of the payload. */
void ws_mask(uint8_t *p, size_t n, const uint8_t key[4], uint64_t offset);

/* Writes a Close payload (code, then reason cut to at most 123 bytes at a
 * character boundary) to out (room for WS_MAX_CONTROL). code 0 writes an
 * empty payload. Returns its length. */
size_t ws_close_payload(uint8_t *out, unsigned code, const char *reason,
			size_t reason_len);

#endif
