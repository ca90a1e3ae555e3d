/* Plain HTTP requests (no WebSocket upgrade): --health, --metrics,
 * --staticdir and --devconsole. */
#ifndef PORTAL_PLAIN_H
#define PORTAL_PLAIN_H

#include <stdbool.h>

#include "http.h"

struct conn;

/* req, the first head_len bytes of c->in, asks for no upgrade. Answers it
 * and returns true if one of the plain HTTP features serves it (then c->ss
 * is SS_ANSWERING or SS_HANDSHAKE with the head consumed when the
 * connection stays open, SS_CLOSING when not); returns false, having
 * answered nothing, to let the WebSocket handshake answer it (with an
 * error). */
bool plain_request(struct conn *c, const struct http_request *req,
		   size_t head_len);

/* c->out has been sent and c->body_fd is open: queues the next part of a
 * file body. Returns true if it queued bytes. */
bool plain_refill(struct conn *c);

#endif
