/* --cgidir: a plain HTTP request answered by a CGI/1.1 script (RFC 3875),
 * as websocketd's --cgidir (Go's net/http/cgi) does it. */
#ifndef PORTAL_CGIREQ_H
#define PORTAL_CGIREQ_H

#include <stdbool.h>
#include <stddef.h>

struct conn;
struct http_request;

/* req, the head_len bytes of c->in, asks for no upgrade. When its path names a
 * regular file under --cgidir, answers it and returns true: by starting
 * the script (then c->ss is SS_CGI), or with an error (403 for a file that
 * is not executable, 411 for a chunked body, 503 when busy...). Returns
 * false, having done nothing, when the path names nothing to run there (no
 * such file, a directory, a dot segment), so that --staticdir or a 404 may
 * answer it. */
bool cgireq_request(struct conn *c, const struct http_request *req,
		    size_t head_len);

/* SS_CGI: passes the request body in c->in on to the script's stdin (as
 * much as its queue takes) and closes the stdin once the body is done. */
void cgireq_input(struct conn *c);

/* SS_CGI: whether to read the socket: while the body is still to come and
 * the queues it goes through have room. */
bool cgireq_wants_input(const struct conn *c);

/* c is ending: its script (if any) is ended; now: SIGKILL at once. */
void cgireq_stop(struct conn *c, bool now);
/* c->cgi set: the socket queue has room (or the socket is closed), or
 * not: the script's stdout is read accordingly. */
void cgireq_writable(struct conn *c, bool room);
/* c->cgi set: its script has not yet been reaped with its stdout ended. */
bool cgireq_busy(const struct conn *c);
/* c->cgi set, its socket closed and the script done: the script's last
 * stderr is logged, its group ended, its status noted for the log. */
void cgireq_finish(struct conn *c);

/* Frees c's CGI state, if any. */
void cgireq_free(struct conn *c);

#endif
