/* --devconsole: one self-contained HTML page that connects to the path it
 * was served from and shows the session; the console's subprotocol; and a
 * small table of refused handshakes that the page asks about when its
 * WebSocket fails (a browser does not show the page the HTTP status). */
#ifndef PORTAL_DEVCONSOLE_H
#define PORTAL_DEVCONSOLE_H

#include <stddef.h>
#include <stdint.h>

extern const char devconsole_page[];
extern const size_t devconsole_page_len;

/* The subprotocol the page offers. Chosen only under --devconsole and only
 * when the client offers it; the session then sends each text message of
 * the child with a one-byte tag first: 'o' a stdout line, 'e' a stderr
 * line. Binary messages go as they are. */
#define DEVCONSOLE_PROTOCOL "portal-gw.console"

/* The request header that asks, on a plain GET, why this client's last
 * handshake to the same path was refused: "X-Portal-Console: why". */
#define DEVCONSOLE_HEADER "x-portal-console"

#define DEVCONSOLE_REFUSALS 16    /* remembered, the oldest forgotten */
#define DEVCONSOLE_KEEP_MS 60000  /* a refusal is told for this long */
#define DEVCONSOLE_ADDR_MAX 64    /* >= NET_ADDR_TEXT's host part */
#define DEVCONSOLE_PATH_MAX 256
#define DEVCONSOLE_REASON_MAX 240
#define DEVCONSOLE_JSON_MAX (32 + 6 * DEVCONSOLE_REASON_MAX)

struct devconsole_refusal {
	char addr[DEVCONSOLE_ADDR_MAX];  /* the client's address, no port */
	char path[DEVCONSOLE_PATH_MAX];  /* the request path, no query */
	char reason[DEVCONSOLE_REASON_MAX];
	int status;                      /* 0: an empty slot */
	uint64_t at_ms;                  /* the loop's clock */
};

struct devconsole_refusals {
	struct devconsole_refusal r[DEVCONSOLE_REFUSALS];
	size_t next; /* the slot written next */
};

/* Notes that addr's handshake to path was refused with status and reason
 * (each cut to fit) at now_ms. Pure. */
void devconsole_refused(struct devconsole_refusals *t, const char *addr,
			const char *path, int status, const char *reason,
			uint64_t now_ms);

/* The newest refusal of addr's handshake to path noted no longer than
 * DEVCONSOLE_KEEP_MS before now_ms, or NULL. Pure. */
const struct devconsole_refusal *
devconsole_find(const struct devconsole_refusals *t, const char *addr,
		const char *path, uint64_t now_ms);

/* Writes {"status":N,"reason":"..."} and a newline for r (NULL:
 * {"status":0,"reason":""}) into out[0..DEVCONSOLE_JSON_MAX), the reason
 * escaped as a JSON string; returns its length. Pure. */
size_t devconsole_json(const struct devconsole_refusal *r,
		       char out[DEVCONSOLE_JSON_MAX]);

/* GET / under --devconsole (when / is no resource): a page listing
 * paths[0..n) as links to their consoles. Writes at most cap bytes with
 * a NUL (a path that does not fit is left out, and the count of those
 * said); returns the length without the NUL. Names are HTML-escaped,
 * links percent-encoded.
 * Pure. */
#define DEVCONSOLE_INDEX_MAX 65536
size_t devconsole_index(const char *const *paths, size_t n, char *out,
			size_t cap);

#endif
