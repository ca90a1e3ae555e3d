/* The hub protocol (--hub, man portal-gw "SHARED ROUTES"): the lines a hub
 * program prints, parsed, and the lines it reads, formatted.
 *
 * In (the program's stdin), each line ending in "\n":
 *   +ID ADDR URI      a client joined
 *   =ID Name value    one of its --hub-header headers, right after +ID
 *   ID TEXT           a text message from ID, one such line per line of it
 *   -ID CODE          ID is gone, with the close code it sent
 * Out (the program's stdout):
 *   ID TEXT           a message to client ID
 *   * TEXT            a message to every client of the route
 *   -ID [CODE [TEXT]] close ID with CODE (default 1000) and reason TEXT
 *
 * An ID is a session id: decimal, 1 to 18446744073709551615, no sign, no
 * leading zero. Exactly one space follows ID or "*"; TEXT is the rest of
 * the line and may be empty. Pure: no syscalls, no allocation. */
#ifndef PORTAL_HUB_H
#define PORTAL_HUB_H

#include <stddef.h>
#include <stdint.h>

#define HUB_REASON_MAX 123 /* a Close frame's reason (RFC 6455 5.5.1) */
#define HUB_ID_DIGITS 20   /* of UINT64_MAX */

enum hub_kind {
	HUB_TO_ONE,  /* "ID TEXT" */
	HUB_TO_ALL,  /* "* TEXT" */
	HUB_CLOSE,   /* "-ID [CODE [TEXT]]" */
	HUB_INVALID, /* anything else: log it with its cause, skip it */
};

/* One parsed output line. text is a view into the line (not terminated). */
struct hub_cmd {
	enum hub_kind kind;
	uint64_t id;        /* HUB_TO_ONE, HUB_CLOSE */
	uint16_t code;      /* HUB_CLOSE: 1000 or 3000..4999 */
	const char *text;   /* HUB_TO_ONE, HUB_TO_ALL: the message, may be
			     * empty; HUB_CLOSE: the reason (UTF-8, at most
			     * HUB_REASON_MAX bytes) or NULL */
	size_t text_len;
	const char *error;  /* HUB_INVALID: a short cause, a literal */
};

/* Parses line[0..len), one line the hub program printed, without its "\n"
 * (a "\r" before it is dropped here, as in the default mode). Fills *cmd,
 * which it zeroes first; never reads past line[len - 1]. A close code
 * outside 1000 and 3000..4999, or a reason that is not UTF-8, makes the
 * line HUB_INVALID; a longer reason is cut at a character boundary. A
 * message's TEXT is not checked here: the caller sends it as it sends any
 * line (invalid UTF-8 repaired, or decoded from the --framed form). */
void hub_parse(const char *line, size_t len, struct hub_cmd *cmd);

/* The formatters below write one or more whole lines, each ending in "\n",
 * to out[0..cap) and return their length. When that is more than cap they
 * write nothing: call with cap 0 to learn the size. */

/* "+ID ADDR URI\n". ADDR and URI are written as given except that a byte
 * that would break the line or its fields (space, control, DEL, and bytes
 * from 0x80) becomes %XX; a request target as the gateway accepts it has
 * none. */
size_t hub_fmt_join(char *out, size_t cap, uint64_t id, const char *addr,
		    size_t addr_len, const char *uri, size_t uri_len);

/* "=ID Name value\n": name as on --hub-header, value as sent; a CR or LF
 * in either (a parsed header has none) becomes a space. */
size_t hub_fmt_header(char *out, size_t cap, uint64_t id, const char *name,
		      size_t name_len, const char *value, size_t value_len);

/* "ID TEXT\n" for each line of the message msg[0..len): "a\nb" gives
 * "ID a\nID b\n", an empty message "ID \n", "a\n" "ID a\nID \n" (as the
 * default mode writes "a\n\n", two lines). */
size_t hub_fmt_message(char *out, size_t cap, uint64_t id, const char *msg,
		       size_t len);

/* "-ID CODE\n". */
size_t hub_fmt_leave(char *out, size_t cap, uint64_t id, uint16_t code);

#endif
