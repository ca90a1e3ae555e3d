/* --cgidir: runs DIR/PATH for a plain HTTP request to /PATH.
 *
 *   socket -> in -> (the body, Content-Length bytes) -> tochild -> stdin
 *   stdout -> head (until cgi_parse has it) -> our head, then the body,
 *             chunked (HTTP/1.1) or as is -> out -> socket
 *
 * The connection's plain answer by a child: this file owns the script's
 * proc (the one file of the connection's that knows a child, as a
 * binding does), logs its stderr, reads its stdout and answers. Both queues are bounded as for a session: stdout is read
 * only while out is below OUT_HIGH, the socket only while tochild is below
 * PROC_STDIN_HIGH. The answer ends with "Connection: close".
 */
#include "cgireq.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgi.h"
#include "child.h"
#include "env.h"
#include "errlines.h"
#include "handshake.h"
#include "http.h"
#include "log.h"
#include "proc.h"
#include "route.h"
#include "server.h"
#include "conn_int.h"
#include "static.h"

#define HEAD_MAX 16384  /* the script's head; more is a 502 */
#define HEAD_LINES 100  /* header lines passed on */

struct cgireq {
	struct buf head;   /* the script's output until its head has ended */
	uint64_t body_in;  /* request body bytes still to pass to stdin */
	uint64_t body_out; /* has_length: body bytes the head announced */
	bool has_length;
	bool head_sent;
	bool no_body;      /* HEAD, 204, 304: the head only */
	bool chunked;
	bool head_req;     /* the request is HEAD */
	bool http11;       /* ... HTTP/1.1 or later: a body may be chunked */
	bool warned_long;  /* the body outgrew its Content-Length */
	struct proc *proc; /* the script, or NULL: none started */
	bool out_done;     /* its stdout has ended (or never will start) */
	bool reaped;       /* ... it has exited, with status */
	int status;
	struct errlines err; /* its stderr, to be logged by lines */
};


static void log_id(struct conn *c, enum log_level level, const char *what)
{
	log_msg(level, "#%llu %s: %s", (unsigned long long)c->id, c->path, what);
}

/* Ends the request with an error answer of our own (text/plain), as
 * plain.c and upgrade.c answer; a script still running is ended. */
static void fail(struct conn *c, int status, const char *why,
		 const char *more)
{
	struct server *srv = c->srv;
	const char *extra = srv->extra_http ? srv->extra_http : "";
	char body[160];
	int bl = snprintf(body, sizeof body, "%d %s: %s\n", status,
			  cgi_reason(status), why);
	if (bl < 0 || (size_t)bl >= sizeof body)
		bl = (int)sizeof body - 1;
	bool head_only = c->cgi && c->cgi->head_req;
	size_t cap = 256 + strlen(extra) + (more ? strlen(more) : 0) + (size_t)bl;
	char *h = (char *)outq_reserve(&c->out, cap);
	if (h) {
		int k = snprintf(h, cap, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; "
				 "charset=utf-8\r\nContent-Length: %d\r\n"
				 "Connection: close\r\n%s%s\r\n%s",
				 status, cgi_reason(status), bl, more ? more : "",
				 extra, head_only ? "" : body);
		outq_commit(&c->out, (size_t)k);
	}
	conn_answered(c, status, why);
	metrics_plain(&srv->metrics, status);
	buf_free(&c->in);
	if (c->cgi)
		buf_free(&c->cgi->head);
	cgireq_stop(c, false);
	c->ss = SS_CLOSING;
	loop_timer_start(srv->loop, &c->sock_timer, CLOSE_WAIT_MS, on_sock_timer);
	flush_out(c);
}

/* --- which script ----------------------------------------------------- */

/* rel (from static_path) under root names a script: 0 with its real path
 * in file; 403 for a regular file that may not be executed; 404 when there
 * is none (missing, a directory, a symlink out of root or to a dot name). */
static int find_script(const char *root, const char *rel, char file[PATH_MAX])
{
	char full[PATH_MAX];
	size_t rl = strlen(rel);
	if (rl == 0 || rel[rl - 1] == '/')
		return 404;
	int k = snprintf(full, sizeof full, "%s/%s", root, rel);
	if (k < 0 || (size_t)k >= sizeof full || !realpath(full, file))
		return 404;
	size_t n = strcmp(root, "/") == 0 ? 0 : strlen(root);
	if (strncmp(file, root, n) != 0 || file[n] != '/' ||
	    strstr(file + n, "/."))
		return 404;
	struct stat st;
	if (stat(file, &st) < 0 || !S_ISREG(st.st_mode))
		return 404;
	return access(file, X_OK) == 0 ? 0 : 403;
}

/* --- starting it -------------------------------------------------------- */

/* The request's Content-Length: 0 if absent; false if it is malformed or
 * repeated with another value. */
static bool body_length(const struct http_request *req, uint64_t *len)
{
	*len = 0;
	bool seen = false;
	for (size_t i = 0; i < req->num_headers; i++) {
		const struct http_header *h = &req->headers[i];
		if (h->name_len != 14 ||
		    strncasecmp(h->name, "content-length", 14) != 0)
			continue;
		uint64_t x = 0;
		bool ok = h->value_len > 0 && h->value_len <= 18;
		for (size_t j = 0; j < h->value_len && ok; j++) {
			ok = h->value[j] >= '0' && h->value[j] <= '9';
			x = x * 10 + (uint64_t)(h->value[j] - '0');
		}
		if (!ok || (seen && x != *len))
			return false;
		*len = x;
		seen = true;
	}
	return true;
}

static void on_cgi_exec(void *owner, int err)
{
	struct conn *c = owner;
	if (!err)
		return;
	/* The child exits 127 by itself and is reaped as usual. */
	c->cgi->out_done = true; /* the proc has closed the pipes */
	log_msg(LV_ERROR, "#%llu cannot start %s: %s", (unsigned long long)c->id,
		c->path, strerror(err));
	if (c->ss == SS_CGI)
		fail(c, 500, "cannot start script", NULL);
}

static void on_cgi_out(void *owner, const uint8_t *p, size_t n);
static void on_cgi_out_eof(void *owner);
static void on_cgi_err(void *owner, const uint8_t *p, size_t n);
static void on_cgi_stdin_room(void *owner);
static void on_cgi_exited(void *owner, int status);

static const struct proc_ops cgi_proc_ops = {
	.exec_done = on_cgi_exec,
	.out = on_cgi_out,
	.out_eof = on_cgi_out_eof,
	.err = on_cgi_err,
	.stdin_room = on_cgi_stdin_room,
	.exited = on_cgi_exited,
};

/* Starts file for req with the CGI environment. Returns 0 or an errno. */
static int spawn(struct conn *c, const struct http_request *req,
		 const char *file, uint64_t length)
{
	const char *path = req->target;
	const char *q = memchr(path, '?', req->target_len);
	size_t plen = q ? (size_t)(q - path) : req->target_len;
	const struct http_header *host = http_header_find(req, "host");
	struct hs_info hs = {
		.path = path, .path_len = plen,
		.query = q ? q + 1 : NULL,
		.query_len = q ? req->target_len - plen - 1 : 0,
		.host = host ? host->value : "",
		.host_len = host ? host->value_len : 0,
	};
	/* SCRIPT_NAME is the whole path: a script is found by its full
	 * path, so there is never a PATH_INFO. static_path has accepted the
	 * path, so it decodes. */
	char decoded[PATH_MAX];
	long dlen = plen < sizeof decoded ? env_decode_path(path, plen, decoded) : -1;
	if (dlen < 0)
		return EINVAL;
	struct route r = {.program = file, .script = decoded,
			  .script_len = (size_t)dlen, .path_info = "",
			  .path_info_len = 0};

	static char envbuf[32768];
	char *vars[200];
	struct env e;
	env_init(&e, envbuf, sizeof envbuf, vars, sizeof vars / sizeof vars[0]);
	/* Added first, so that --passenv cannot shadow them (build_env adds
	 * passed variables only where no such name is set). */
	char num[24];
	int k = snprintf(num, sizeof num, "%llu", (unsigned long long)length);
	if (length > 0)
		env_add(&e, "CONTENT_LENGTH", num, (size_t)k);
	const struct http_header *type = http_header_find(req, "content-type");
	if (type)
		env_add(&e, "CONTENT_TYPE", type->value, type->value_len);
	env_add(&e, "SCRIPT_FILENAME", file, strlen(file));
	build_env(c, req, &hs, decoded, (size_t)dlen, &r, NULL, &e);
	if (e.overflow)
		log_id(c, LV_INFO, "environment too large; some headers left out");

	char *argv[] = {(char *)file, NULL};
	char tag[24];
	snprintf(tag, sizeof tag, "#%llu", (unsigned long long)c->id);
	struct proc_limits lim = { .closems = c->lim->closems };
	int err = proc_start(c->srv, &lim, tag, file, argv, env_finish(&e),
			     &cgi_proc_ops, c, &c->cgi->proc);
	if (err && c->cgi->proc)
		c->cgi->out_done = true; /* started, killed, to be reaped */
	return err;
}

bool cgireq_request(struct conn *c, const struct http_request *req,
		    size_t head_len)
{
	const struct conn_http_limits *o = &c->lim->http;
	const char *q = memchr(req->target, '?', req->target_len);
	size_t len = q ? (size_t)(q - req->target) : req->target_len;
	char rel[PATH_MAX], file[PATH_MAX];
	if (static_path(req->target, len, rel, sizeof rel) < 0)
		return false;
	int st = find_script(o->cgidir, rel, file);
	if (st == 404)
		return false;
	c->cgi = calloc(1, sizeof *c->cgi);
	if (!c->cgi) {
		fail(c, 503, "out of memory", "Retry-After: 1\r\n");
		return true;
	}
	c->cgi->head_req = req->method_len == 4 &&
			   memcmp(req->method, "HEAD", 4) == 0;
	c->cgi->http11 = req->version_major > 1 ||
			 (req->version_major == 1 && req->version_minor >= 1);
	if (st == 403) {
		fail(c, 403, "script is not executable", NULL);
		return true;
	}
	uint64_t length;
	if (http_header_find(req, "transfer-encoding")) {
		fail(c, 411, "a CGI request body needs a Content-Length", NULL);
		return true;
	}
	if (!body_length(req, &length)) {
		fail(c, 400, "bad Content-Length", NULL);
		return true;
	}
	if (c->srv->draining) {
		fail(c, 503, "shutting down", NULL);
		return true;
	}
	if (o->maxforks && c->srv->nchildren >= o->maxforks) {
		fail(c, 503, "--maxforks reached", "Retry-After: 1\r\n");
		return true;
	}
	c->cgi->body_in = length;
	int err = spawn(c, req, file, length);
	if (err) {
		log_msg(LV_ERROR, "#%llu cannot start %s: %s",
			(unsigned long long)c->id, file, strerror(err));
		bool busy = err == EAGAIN || err == EMFILE || err == ENFILE ||
			    err == ENOMEM;
		fail(c, busy ? 503 : 500, "cannot start script",
		     busy ? "Retry-After: 1\r\n" : NULL);
		return true;
	}
	log_msg(LV_DEBUG, "#%llu %s: CGI script %s, child %ld",
		(unsigned long long)c->id, c->path, file,
		(long)proc_pid(c->cgi->proc));
	buf_consume(&c->in, head_len); /* the body follows */
	c->ss = SS_CGI;
	/* A script may take its time; the client's leaving ends it. */
	loop_timer_stop(c->srv->loop, &c->sock_timer);
	cgireq_input(c);
	return true;
}

/* --- the request body -------------------------------------------------- */

void cgireq_input(struct conn *c)
{
	struct cgireq *q = c->cgi;
	while (c->in.len > 0) {
		size_t take = c->in.len;
		if (take > q->body_in)
			take = (size_t)q->body_in;
		if (take == 0) {
			/* Bytes after the body: nothing reads them, as the
			 * connection ends with this answer. */
			buf_free(&c->in);
			break;
		}
		size_t queued = proc_queued(c->cgi->proc);
		if (queued >= PROC_STDIN_HIGH)
			break; /* resumed when the script reads */
		if (take > PROC_STDIN_HIGH - queued)
			take = PROC_STDIN_HIGH - queued;
		/* Dropped once the script has closed its stdin. */
		proc_write(c->cgi->proc, buf_data(&c->in), take);
		proc_commit(c->cgi->proc);
		buf_consume(&c->in, take);
		q->body_in -= take;
	}
	proc_flush(c->cgi->proc);
	if (q->body_in == 0 && proc_queued(c->cgi->proc) == 0)
		proc_close_in(c->cgi->proc); /* the body's end is the script's EOF */
}

bool cgireq_wants_input(const struct conn *c)
{
	return c->cgi->body_in > 0 && c->in.len < READ_CHUNK &&
	       proc_queued(c->cgi->proc) < PROC_STDIN_HIGH;
}

/* --- the answer -------------------------------------------------------- */

static bool queue(struct conn *c, const void *p, size_t n)
{
	if (outq_append(&c->out, p, n) == 0)
		return true;
	log_id(c, LV_ERROR, "out of memory; answer cut short");
	conn_abort(c);
	return false;
}

/* A part of the script's body. */
static void send_body(struct conn *c, const uint8_t *p, size_t n)
{
	struct cgireq *q = c->cgi;
	if (q->no_body || n == 0)
		return;
	if (q->has_length) {
		if (n > q->body_out) {
			if (!q->warned_long)
				log_id(c, LV_INFO, "script wrote more than its "
				       "Content-Length; the rest is dropped");
			q->warned_long = true;
			n = (size_t)q->body_out;
		}
		q->body_out -= n;
		if (n == 0)
			return;
	}
	if (q->chunked) {
		char size[24];
		int k = snprintf(size, sizeof size, "%zx\r\n", n);
		if (!queue(c, size, (size_t)k) || !queue(c, p, n))
			return;
		queue(c, "\r\n", 2);
	} else {
		queue(c, p, n);
	}
}

/* The script's head h is complete: our head goes out. */
static void send_head(struct conn *c, const struct cgi_head *h)
{
	struct cgireq *q = c->cgi;
	const char *extra = c->srv->extra_http ? c->srv->extra_http : "";
	q->no_body = q->head_req || h->status == 204 || h->status == 304;
	q->has_length = h->has_length;
	q->body_out = h->length;
	/* HTTP/1.0 clients read to the connection's end instead. */
	q->chunked = !q->no_body && !h->has_length && q->http11;
	size_t cap = 256 + strlen(extra) +
		     (h->reason ? h->reason_len : 0);
	for (size_t i = 0; i < h->num_headers; i++)
		cap += h->headers[i].name_len + h->headers[i].value_len + 4;
	char *o = (char *)outq_reserve(&c->out, cap);
	if (!o) {
		log_id(c, LV_ERROR, "out of memory");
		conn_abort(c);
		return;
	}
	const char *rs = h->reason ? h->reason : cgi_reason(h->status);
	int rl = h->reason ? (int)h->reason_len : (int)strlen(rs);
	size_t k = (size_t)snprintf(o, cap, "HTTP/1.1 %d %.*s\r\n", h->status,
				    rl, rs);
	for (size_t i = 0; i < h->num_headers; i++) {
		const struct http_header *x = &h->headers[i];
		k += (size_t)snprintf(o + k, cap - k, "%.*s: %.*s\r\n",
				      (int)x->name_len, x->name,
				      (int)x->value_len, x->value);
	}
	if (h->has_length && h->status != 204 && h->status != 304)
		k += (size_t)snprintf(o + k, cap - k, "Content-Length: %llu\r\n",
				      (unsigned long long)h->length);
	else if (q->chunked)
		k += (size_t)snprintf(o + k, cap - k,
				      "Transfer-Encoding: chunked\r\n");
	k += (size_t)snprintf(o + k, cap - k, "Connection: close\r\n%s\r\n",
			      extra);
	outq_commit(&c->out, k);
	q->head_sent = true;
	conn_answered(c, h->status, "CGI");
	metrics_plain(&c->srv->metrics, h->status);
	if (h->ignored)
		log_id(c, LV_INFO, "script's head had lines that are not "
		       "'Name: value'; left out");
}

/* New bytes in the head buffer: sends our head once the script's is
 * complete, with the body bytes that came after it. */
static void take_head(struct conn *c)
{
	struct cgireq *q = c->cgi;
	struct http_header hs[HEAD_LINES];
	struct cgi_head h;
	int n = cgi_parse((const char *)buf_data(&q->head), q->head.len, &h, hs,
			  HEAD_LINES);
	if (n == CGI_INCOMPLETE && q->head.len <= HEAD_MAX)
		return;
	if (n < 0) {
		char why[96];
		snprintf(why, sizeof why, "script's answer is not CGI: %s",
			 n == CGI_INVALID ? h.error
			 : n == CGI_TOO_MANY_HEADERS ? "too many header lines"
						     : "head too large");
		fail(c, 502, why, NULL);
		return;
	}
	send_head(c, &h);
	if (c->fd < 0)
		return;
	send_body(c, buf_data(&q->head) + n, q->head.len - (size_t)n);
	buf_free(&q->head);
}

static void end_answer(struct conn *c);

/* Once the script's stdout has ended and it is reaped: what its stderr
 * still holds is logged, and the answer ends. */
static void finish(struct conn *c)
{
	struct cgireq *q = c->cgi;
	if (!q->out_done || !q->reaped)
		return;
	proc_drain_err(q->proc);
	end_answer(c);
	conn_maybe_done(c);
}

/* The script is done: its end (end_answer) once reaped. */
static void on_cgi_out_eof(void *owner)
{
	struct conn *c = owner;
	c->cgi->out_done = true;
	finish(c);
	cgireq_stop(c, false); /* in case it lives on without its stdout */
}

static void on_cgi_exited(void *owner, int status)
{
	struct conn *c = owner;
	c->cgi->status = status;
	c->cgi->reaped = true;
	finish(c);
}

static void on_cgi_stdin_room(void *owner)
{
	struct conn *c = owner;
	process_input(c);
	update_interest(c);
}

/* One line of its stderr, to the log as a session child's is, unless
 * --stderr drops it (there is no client to send it to). */
static void cgi_err_line(void *arg, const uint8_t *p, size_t n)
{
	struct conn *c = arg;
	if (c->lim->err_mode != STDERR_IGNORE)
		log_stderr(c->id, p, n);
}

/* Its stderr, by lines (errlines.h); n == 0: its end. */
static void on_cgi_err(void *owner, const uint8_t *p, size_t n)
{
	struct conn *c = owner;
	if (n == 0) {
		errlines_end(&c->cgi->err, cgi_err_line, c);
	} else if (errlines_feed(&c->cgi->err, p, n, cgi_err_line, c) < 0) {
		cgireq_stop(c, false);
		log_id(c, LV_ERROR, "out of memory for the script's stderr");
	}
}

static void on_cgi_out(void *owner, const uint8_t *chunk, size_t n)
{
	struct conn *c = owner;
	struct cgireq *q = c->cgi;
	if (c->ss != SS_CGI || c->fd < 0)
		return; /* answered already, or nobody to answer: dropped */
	if (q->head_sent) {
		send_body(c, chunk, (size_t)n);
	} else {
		if (buf_append(&q->head, chunk, (size_t)n) < 0) {
			fail(c, 503, "out of memory", "Retry-After: 1\r\n");
			return;
		}
		take_head(c);
	}
	if (c->fd >= 0)
		flush_out(c);
}

/* The script is reaped and its stdout has ended: the answer ends (502 if
 * the script never sent a usable head). */
static void end_answer(struct conn *c)
{
	struct cgireq *q = c->cgi;
	char why[64], sig[32];
	int st = c->cgi->status;
	bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	if (WIFEXITED(st))
		snprintf(why, sizeof why, "exit status %d", WEXITSTATUS(st));
	else
		snprintf(why, sizeof why, "killed by %s",
			 child_signal_name(WTERMSIG(st), sig, sizeof sig));
	/* A failed exec (a bad #! line) has been told as such (proc_reaped
	 * reads its status pipe before it reports the exit). */
	if (c->ss != SS_CGI)
		return;
	if (!q->head_sent) {
		char text[160];
		snprintf(text, sizeof text, "script %s (%s)",
			 q->head.len ? "ended inside its CGI head"
				     : "wrote no CGI head", why);
		fail(c, 502, text, NULL);
		return;
	}
	if (!ok)
		log_msg(LV_INFO, "#%llu %s: script ended with %s",
			(unsigned long long)c->id, c->path, why);
	if (q->has_length && q->body_out > 0 && !q->no_body)
		log_id(c, LV_INFO, "script wrote less than its Content-Length; "
		       "the answer is cut short");
	/* A script that was killed may not have finished its body: the last
	 * chunk is left out, which tells the client so. */
	if (q->chunked && !WIFSIGNALED(st) && !queue(c, "0\r\n\r\n", 5))
		return;
	c->ss = SS_CLOSING;
	loop_timer_start(c->srv->loop, &c->sock_timer, CLOSE_WAIT_MS,
			 on_sock_timer);
	flush_out(c);
}

void cgireq_stop(struct conn *c, bool now)
{
	if (c->cgi && c->cgi->proc && now)
		proc_kill(c->cgi->proc);
	else if (c->cgi && c->cgi->proc)
		proc_stop(c->cgi->proc);
}

void cgireq_writable(struct conn *c, bool room)
{
	if (!c->cgi->proc)
		return;
	proc_pause_out(c->cgi->proc, !room);
	enum stderr_mode m = c->lim->err_mode;
	proc_pause_err(c->cgi->proc,
		       !room && (m == STDERR_SEND || m == STDERR_BOTH));
}

bool cgireq_busy(const struct conn *c)
{
	const struct cgireq *q = c->cgi;
	return q->proc && (!q->out_done || !q->reaped);
}

void cgireq_finish(struct conn *c)
{
	struct cgireq *q = c->cgi;
	if (!q->proc)
		return;
	proc_finish(q->proc);
	conn_note_exit(c, proc_pid(q->proc), q->status);
}

void cgireq_free(struct conn *c)
{
	if (!c->cgi)
		return;
	proc_free(c->cgi->proc);
	errlines_free(&c->cgi->err);
	buf_free(&c->cgi->head);
	free(c->cgi);
	c->cgi = NULL;
}
