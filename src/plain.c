/* Plain HTTP requests: --health, --metrics, --cgidir (cgireq.c),
 * --staticdir and --devconsole.
 *
 * Checked in that order for a request without Upgrade; the first that
 * claims the path answers. Every answer is HTTP/1.1 with Content-Length.
 * The connection stays open after it (SS_ANSWERING, then SS_HANDSHAKE for
 * the next request, which may be a WebSocket upgrade) when the client asks
 * for that (HTTP/1.1 without "Connection: close", HTTP/1.0 with
 * "Connection: keep-alive"), the request has no body, the answer is not a
 * 5xx and the server is not draining; otherwise the answer says
 * "Connection: close" and the connection ends as after an HTTP error
 * (SS_CLOSING). An idle kept connection is closed after --handshake-timeout,
 * as a first request would be answered 408. A file body is not read into
 * memory: c->body_fd stays open and plain_refill queues it BODY_CHUNK bytes
 * at a time as the socket drains. */
#include "plain.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgireq.h"
#include "conn.h"
#include "devconsole.h"
#include "handshake.h"
#include "log.h"
#include "net.h"
#include "range.h"
#include "route.h"
#include "server.h"
#include "shared.h"
#include "conn_int.h"
#include "static.h"

#define BODY_CHUNK 65536 /* one read of a file body; OUT_HIGH of socket queue */

#define TEXT_PLAIN "text/plain; charset=utf-8"

/* What to answer. */
struct answer {
	int status;
	const char *type;   /* Content-Type; NULL: no body at all (304) */
	uint64_t length;    /* Content-Length */
	const char *more;   /* header lines, or NULL */
	bool no_store;      /* health, metrics, console: never cached */
	const void *body;   /* length bytes, or NULL when fd is streamed */
	int fd;             /* the body, or -1 */
	const char *why;    /* for the access log */
};

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 301:
		return "Moved Permanently";
	case 206:
		return "Partial Content";
	case 304:
		return "Not Modified";
	case 416:
		return "Range Not Satisfiable";
	default:
		return hs_reason(status);
	}
}

/* Queues the answer (only its head for HEAD) and logs it; then either
 * keeps the connection for the next request (c->keep_head) or ends it once
 * the answer has been sent, as http_error_extra does. Takes over a->fd. */
static void answer(struct conn *c, bool head_only, const struct answer *a)
{
	struct server *srv = c->srv;
	bool keep = c->keep_head > 0 && a->status < 500 && !srv->draining;
	const char *extra = srv->extra_http ? srv->extra_http : "";
	const char *more = a->more ? a->more : "";
	size_t cap = 512 + strlen(extra) + strlen(more);
	/* cap is enough by construction: 512 covers the status line and
	 * the fixed lines with the longest Content-Type. */
	char *h = (char *)outq_reserve(&c->out, cap);
	keep = keep && h; /* nothing to answer with: end the connection */
	if (h) {
		int k = snprintf(h, cap, "HTTP/1.1 %d %s\r\n", a->status,
			     reason(a->status));
		if (a->type)
			k += snprintf(h + k, cap - (size_t)k,
				      "Content-Type: %s\r\nContent-Length: %llu\r\n",
				      a->type, (unsigned long long)a->length);
		k += snprintf(h + k, cap - (size_t)k,
			      "Connection: %s\r\n%s%s%s\r\n",
			      keep ? "keep-alive" : "close",
			      a->no_store ? "Cache-Control: no-store\r\n" : "",
			      more, extra);
		outq_commit(&c->out, (size_t)k);
	}
	conn_answered(c, a->status, a->why);
	metrics_plain(&srv->metrics, a->status);
	if (keep)
		buf_consume(&c->in, c->keep_head); /* what follows is the next */
	else
		buf_free(&c->in);
	if (h && !head_only && a->body &&
	    outq_append(&c->out, a->body, (size_t)a->length) < 0)
		keep = false; /* the client sees the body cut short */
	if (h && !head_only && a->fd >= 0 && a->length > 0) {
		c->body_fd = a->fd;
		c->body_left = a->length;
	} else if (a->fd >= 0) {
		close(a->fd);
	}
	c->ss = keep ? SS_ANSWERING : SS_CLOSING;
	c->kept_alive = c->kept_alive || keep;
	loop_timer_start(srv->loop, &c->sock_timer, CLOSE_WAIT_MS, on_sock_timer);
	flush_out(c);
}

/* A short text answer: an error, the health state. */
static void answer_text(struct conn *c, bool head_only, int status,
			const char *text, const char *more, bool no_store,
			const char *why)
{
	struct answer a = {status, TEXT_PLAIN, strlen(text), more, no_store,
			   text, -1, why};
	answer(c, head_only, &a);
}

static void answer_metrics(struct conn *c, bool head_only)
{
	static char text[METRICS_TEXT_MAX];
	struct server *srv = c->srv;
	struct metrics_live live = {0};
	for (struct conn *s = srv->clients; s; s = conn_next(s)) {
		if (!s->upgraded)
			continue;
		live.sessions_open++;
		msg_counts_add(&live.n, &s->n);
	}
	live.children = srv->nchildren;
	live.start_s = srv->started_s;
	live.connections = srv->nclients;
	size_t n = metrics_render(&srv->metrics, &live, text, sizeof text);
	if (n)
		n += shared_metrics(srv, text + n, sizeof text - n);
	struct answer a = {200, "text/plain; version=0.0.4; charset=utf-8", n,
			   NULL, true, text, -1, "metrics"};
	answer(c, head_only, &a);
}

/* Which part of f a Range header asks for (RFC 9110 14.2): the whole
 * file without one, with a malformed one, or when If-Range is not the
 * file's Last-Modified exactly (we send no entity tags, so one of those
 * never matches). */
static enum range_result want_range(const struct http_request *req,
				    const struct static_file *f,
				    uint64_t *first, uint64_t *last)
{
	const struct http_header *range = http_header_find(req, "range");
	const struct http_header *ifr = http_header_find(req, "if-range");
	int64_t t;
	*first = *last = 0;
	if (!range || (ifr && !(static_parse_date(ifr->value, ifr->value_len,
						   &t) && t == f->mtime)))
		return RANGE_WHOLE;
	return range_parse(range->value, range->value_len, f->size, first, last);
}

/* Serves an opened file: 304 when If-Modified-Since is at or after its
 * modification time; else 206 with the one byte range asked for, 416 when
 * that range lies past the end, or 200 with the whole body. The body is
 * streamed from the file. */
static void answer_file(struct conn *c, const struct http_request *req,
			bool head_only, struct static_file *f)
{
	char date[STATIC_DATE_LEN + 1], more[192];
	static_format_date(f->mtime > 0 ? f->mtime : 0, date);
	int k = snprintf(more, sizeof more, "Last-Modified: %s\r\n", date);
	const struct http_header *ims = http_header_find(req, "if-modified-since");
	int64_t since;
	if (ims && static_parse_date(ims->value, ims->value_len, &since) &&
	    since >= f->mtime) {
		struct answer a = {304, NULL, 0, more, false, NULL, f->fd,
				   "not modified"};
		answer(c, head_only, &a);
		return;
	}
	uint64_t first, last;
	enum range_result r = want_range(req, f, &first, &last);
	unsigned long long size = f->size, lo = first, hi = last;
	if (r == RANGE_UNSATISFIABLE) {
		snprintf(more + k, sizeof more - (size_t)k,
			 "Content-Range: bytes */%llu\r\n", size);
		close(f->fd);
		answer_text(c, head_only, 416, "416 Range Not Satisfiable\n",
			    more, false, "range not satisfiable");
		return;
	}
	k += snprintf(more + k, sizeof more - (size_t)k,
		      "Accept-Ranges: bytes\r\n");
	char why[96];
	struct answer a = {200, f->type, f->size, more, false, NULL, f->fd, why};
	if (r == RANGE_PART &&
	    lseek(f->fd, (off_t)first, SEEK_SET) != (off_t)first) {
		close(f->fd);
		answer_text(c, head_only, 500, "500 Internal Server Error\n",
			    NULL, false, "cannot read file");
		return;
	}
	if (r == RANGE_PART) {
		snprintf(more + k, sizeof more - (size_t)k,
			 "Content-Range: bytes %llu-%llu/%llu\r\n", lo, hi, size);
		snprintf(why, sizeof why, "file, bytes %llu-%llu of %llu", lo,
			 hi, size);
		a.status = 206;
		a.length = last - first + 1;
	} else {
		snprintf(why, sizeof why, "file, %llu bytes", size);
	}
	answer(c, head_only, &a);
}

/* --staticdir: answers and returns true, or returns false with *why set
 * when there is no file to serve at path[0..len). */
static bool try_static(struct conn *c, const struct http_request *req,
		       bool get, bool head, const char *path, size_t len,
		       const char **why)
{
	char rel[PATH_MAX];
	int k = static_path(path, len, rel, sizeof rel);
	if (k < 0) {
		*why = k == STATIC_HIDDEN ? "not served: a segment starts with '.'"
		       : k == STATIC_LONG ? "not served: path too long"
					  : "not served: bad %-escape in path";
		return false;
	}
	struct static_file f;
	int st = static_open(c->lim->http.staticdir, rel, &f);
	if (st == 404) {
		*why = "no such file";
		return false;
	}
	if (!get && !head) {
		if (st == 0)
			close(f.fd);
		answer_text(c, false, 405, "405 Method Not Allowed\n",
			    "Allow: GET, HEAD\r\n", false, "method not allowed");
		return true;
	}
	if (st == 0) {
		answer_file(c, req, head, &f);
	} else if (st == 301) {
		/* The target as sent, up to '?', is printable ASCII (the
		 * parser saw to it), so it can go into a header as is. */
		char loc[600];
		const char *q = memchr(req->target, '?', req->target_len);
		size_t qlen = q ? req->target_len - (size_t)(q - req->target) : 0;
		int n = snprintf(loc, sizeof loc, "Location: %.*s/%.*s\r\n",
				 (int)len, path, (int)qlen, q ? q : "");
		if (n < 0 || (size_t)n >= sizeof loc) {
			*why = "not served: path too long";
			return false;
		}
		answer_text(c, head, 301, "301 Moved Permanently\n", loc, false,
			    "directory: redirect to its '/' form");
	} else {
		answer_text(c, head, st, st == 503 ? "503 Service Unavailable\n"
						   : "500 Internal Server Error\n",
			    NULL, false, st == 503 ? "cannot open file: out of "
						     "descriptors or memory"
						   : "cannot read file");
	}
	return true;
}

/* The console page and the index need nothing but themselves and a
 * WebSocket to their own origin; the policy keeps them so even if a
 * child's output ever got interpreted as markup. */
static const char console_csp[] =
	"Content-Security-Policy: default-src 'none'; "
	"script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
	"img-src data:; connect-src 'self'\r\n"
	"X-Content-Type-Options: nosniff\r\n";

#define INDEX_DIR_MAX 200 /* --dir entries listed by the index */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* --devconsole, GET / when / is no resource: the resources, and the
 * executables at the top of --dir (at most INDEX_DIR_MAX of them, sorted),
 * as links to their consoles. */
static void answer_index(struct conn *c, bool head_only)
{
	static char page[DEVCONSOLE_INDEX_MAX];
	static char names[INDEX_DIR_MAX][NAME_MAX + 2];
	const struct options *o = c->lim->http.routes;
	const char *paths[OPTS_MAX_LIST + INDEX_DIR_MAX];
	size_t n = 0, nd = 0;
	for (size_t i = 0; i < o->nresources && n < OPTS_MAX_LIST; i++)
		paths[n++] = o->resources[i].path;
	DIR *d = o->dir ? opendir(o->dir) : NULL;
	for (struct dirent *e; d && nd < INDEX_DIR_MAX && (e = readdir(d));) {
		struct stat st;
		if (e->d_name[0] == '.' ||
		    fstatat(dirfd(d), e->d_name, &st, 0) < 0 ||
		    !S_ISREG(st.st_mode) ||
		    faccessat(dirfd(d), e->d_name, X_OK, 0) < 0)
			continue;
		snprintf(names[nd], sizeof names[nd], "/%s", e->d_name);
		paths[n + nd] = names[nd];
		nd++;
	}
	if (d)
		closedir(d);
	qsort(paths + n, nd, sizeof paths[0], cmp_names);
	struct answer a = {200, "text/html; charset=utf-8", 0, console_csp,
			   true, page, -1, "console: index"};
	a.length = devconsole_index(paths, n + nd, page, sizeof page);
	answer(c, head_only, &a);
}

/* --devconsole, a GET with "X-Portal-Console: why": why this client's
 * last handshake to this path was refused, as JSON (devconsole.h). */
static void answer_why(struct conn *c, bool head_only)
{
	static char json[DEVCONSOLE_JSON_MAX];
	char addr[NET_ADDR_TEXT];
	net_addr_host(c->fwd ? &c->fwd->peer : &c->peer, addr, sizeof addr);
	const struct devconsole_refusal *r = devconsole_find(
		&c->srv->refused, addr, c->path, loop_now(c->srv->loop));
	struct answer a = {200, "application/json", 0, console_csp, true, json,
			   -1, "console: why"};
	a.length = devconsole_json(r, json);
	answer(c, head_only, &a);
}

static bool method_is(const struct http_request *req, const char *m)
{
	return req->method_len == strlen(m) &&
	       memcmp(req->method, m, req->method_len) == 0;
}

/* Whether the connection may stay open after the answer to req (RFC 9112
 * 9.3): HTTP/1.1 unless "close", HTTP/1.0 only with "keep-alive". Never
 * after a request with a body, which would be read as the next request. */
static bool keep_alive(const struct http_request *req)
{
	const struct http_header *conn = http_header_find(req, "connection");
	const struct http_header *len = http_header_find(req, "content-length");
	if (http_header_find(req, "transfer-encoding") ||
	    (len && !(len->value_len == 1 && len->value[0] == '0')))
		return false;
	if (conn && http_list_has(conn->value, conn->value_len, "close"))
		return false;
	if (req->version_major == 1 && req->version_minor >= 1)
		return true;
	return conn && http_list_has(conn->value, conn->value_len, "keep-alive");
}

bool plain_request(struct conn *c, const struct http_request *req,
		   size_t head_len)
{
	const struct conn_http_limits *o = &c->lim->http;
	c->keep_head = keep_alive(req) ? head_len : 0;
	if (req->target_len == 0 || req->target[0] != '/')
		return false;
	const char *q = memchr(req->target, '?', req->target_len);
	const char *path = req->target;
	size_t len = q ? (size_t)(q - path) : req->target_len;
	conn_set_path(c, path, len);

	bool get = method_is(req, "GET"), head = method_is(req, "HEAD");
	bool is_health = o->health_path && strlen(o->health_path) == len &&
			 memcmp(o->health_path, path, len) == 0;
	bool is_metrics = o->metrics_path && strlen(o->metrics_path) == len &&
			  memcmp(o->metrics_path, path, len) == 0;
	if ((is_health || is_metrics) && !get && !head) {
		answer_text(c, false, 405, "405 Method Not Allowed\n",
			    "Allow: GET, HEAD\r\n", false, "method not allowed");
		return true;
	}
	if (is_health) {
		if (c->srv->draining)
			answer_text(c, head, 503, "draining\n", NULL, true,
				    "health: draining");
		else
			answer_text(c, head, 200, "ok\n", NULL, true, "health");
		return true;
	}
	if (is_metrics) {
		answer_metrics(c, head);
		return true;
	}
	const struct http_header *ask =
		http_header_find(req, DEVCONSOLE_HEADER);
	if (o->devconsole && (get || head) && ask && ask->value_len == 3 &&
	    strncasecmp(ask->value, "why", 3) == 0) {
		answer_why(c, head);
		return true;
	}
	if (o->cgidir && cgireq_request(c, req, head_len))
		return true;
	const char *why = "no resource at this path";
	if (o->staticdir && try_static(c, req, get, head, path, len, &why))
		return true;
	if (!get && !head && !o->cgidir)
		return false; /* --cgidir: any method may be a script's */
	struct route r;
	if ((get || head) && o->devconsole &&
	    route_find(o->routes, path, len, &r) == 0) {
		struct answer a = {200, "text/html; charset=utf-8",
				   devconsole_page_len, console_csp, true,
				   devconsole_page, -1, "console"};
		answer(c, head, &a);
		return true;
	}
	if ((get || head) && o->devconsole && len == 1) {
		answer_index(c, head);
		return true;
	}
	if (o->staticdir || o->devconsole || o->cgidir) {
		/* Plain GETs are expected, from browsers: a miss is a 404
		 * rather than the WebSocket path's "bad handshake" 400. */
		answer_text(c, head, 404, "404 Not Found\n", NULL, false, why);
		return true;
	}
	return false;
}

bool plain_refill(struct conn *c)
{
	size_t want = c->body_left < BODY_CHUNK ? (size_t)c->body_left
						: BODY_CHUNK;
	uint8_t *p = want ? outq_reserve(&c->out, want) : NULL;
	ssize_t n = -1;
	if (p) {
		do
			n = read(c->body_fd, p, want);
		while (n < 0 && errno == EINTR);
	}
	if (n > 0) {
		outq_commit(&c->out, (size_t)n);
		c->body_left -= (uint64_t)n;
	} else if (want) {
		/* The connection ends short of Content-Length, which tells
		 * the client that the body is incomplete; it is not kept. */
		log_msg(LV_ERROR, "#%llu %s: %s", (unsigned long long)c->id,
			c->path, n == 0 ? "file shrank while being sent"
					: strerror(p ? errno : ENOMEM));
		if (c->ss == SS_ANSWERING)
			c->ss = SS_CLOSING;
	}
	if (n <= 0 || c->body_left == 0) {
		close(c->body_fd);
		c->body_fd = -1;
	}
	return n > 0;
}
