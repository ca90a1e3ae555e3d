/* A connection's first part: the request head, its checks, the program's
 * environment, the 101 answer, and the choice point that hands an admitted
 * connection to the binding its route's kind names (answer). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "devconsole.h"
#include "env.h"
#include "handshake.h"
#include "http.h"
#include "log.h"
#include "lookup.h"
#include "net.h"
#include "bind_one.h"
#include "plain.h"
#include "program.h"
#include "route.h"
#include "server.h"
#include "conn_int.h"
#include "shared.h"

#ifndef PORTAL_VERSION
#define PORTAL_VERSION "dev"
#endif

#define MAX_HEADERS HTTP_MAX_HEADERS

/* --devconsole: notes a refused handshake for the page to ask about,
 * under the socket's peer address (not X-Forwarded-For's: the page's
 * question comes over a socket of its own). */
static void console_refused(struct conn *c, int status, const char *why)
{
	char addr[NET_ADDR_TEXT];
	net_addr_host(c->fwd ? &c->fwd->peer : &c->peer, addr, sizeof addr);
	devconsole_refused(&c->srv->refused, addr, c->path, status, why,
			   loop_now(c->srv->loop));
}

void http_error_extra(struct conn *c, int status, const char *why,
			     const char *more)
{
	char extra[2048], resp[4096];
	const char *h = c->srv->extra_http ? c->srv->extra_http : "";
	int k = snprintf(extra, sizeof extra, "%s%s", more ? more : "", h);
	size_t n = hs_response_error(resp, sizeof resp, status,
				     k > 0 && (size_t)k < sizeof extra ? extra : NULL);
	conn_answered(c, status, why);
	metrics_http_error(&c->srv->metrics, status);
	if (c->lim->http.devconsole && c->ws_request)
		console_refused(c, status, why);
	buf_free(&c->in);
	if (outq_append(&c->out, resp, n) < 0) {
		conn_close(c, LV_ERROR, "out of memory for an answer");
		return;
	}
	c->ss = SS_CLOSING;
	loop_timer_start(c->srv->loop, &c->sock_timer, CLOSE_WAIT_MS,
			 on_sock_timer);
	flush_out(c);
}

void http_error(struct conn *c, int status, const char *why)
{
	http_error_extra(c, status, why, NULL);
}

/* The last element of the last line of header name (a proxy appends to
 * X-Forwarded-For: the rightmost entry is the one our proxy added; an
 * earlier one could come from the client). NULL if there is none. */
static const char *last_element(const struct http_request *req,
				const char *name, size_t *len)
{
	const struct http_header *last = NULL;
	for (size_t i = 0; i < req->num_headers; i++) {
		const struct http_header *h = &req->headers[i];
		if (h->name_len == strlen(name) &&
		    strncasecmp(h->name, name, h->name_len) == 0)
			last = h;
	}
	if (!last)
		return NULL;
	const char *v = last->value, *end = v + last->value_len;
	const char *comma = v;
	for (const char *p = v; p < end; p++) {
		if (*p == ',')
			comma = p + 1;
	}
	while (comma < end && (*comma == ' ' || *comma == '\t'))
		comma++;
	while (end > comma && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*len = (size_t)(end - comma);
	return comma;
}

/* --trust-proxy: the client's address from X-Forwarded-For replaces the
 * peer's (the proxy's) for the rest of the session: the environment and
 * every log line. Its port is unknown: 0. A value that is not an IP
 * literal is ignored (logged), and the peer's address stays. */
static void trust_forwarded_for(struct conn *c,
				const struct http_request *req)
{
	size_t len;
	const char *v = last_element(req, "X-Forwarded-For", &len);
	struct sockaddr_storage a;
	if (v && net_addr_parse(v, len, &a) == 0) {
		char was[NET_ADDR_TEXT];
		net_addr_text(&c->peer, was, sizeof was);
		c->peer = a;
		char now[NET_ADDR_TEXT];
		net_addr_text(&c->peer, now, sizeof now);
		log_msg(LV_DEBUG, "#%llu %s is the client behind proxy %s",
			(unsigned long long)c->id, now, was);
	} else if (v) {
		log_msg(LV_INFO, "#%llu X-Forwarded-For: '%.*s' is not an IP "
			"address; using the peer's", (unsigned long long)c->id,
			len > 64 ? 64 : (int)len, v);
	}
}

/* For the access line: the method, the path (also of a request refused
 * before it is looked at) and, under --trust-proxy, a valid
 * X-Forwarded-For next to the socket's peer. */
static void note_request(struct conn *c, const struct http_request *req)
{
	size_t len = req->method_len < sizeof c->method - 1
			     ? req->method_len : sizeof c->method - 1;
	memcpy(c->method, req->method, len);
	c->method[len] = '\0';
	const char *q = memchr(req->target, '?', req->target_len);
	conn_set_path(c, req->target,
			q ? (size_t)(q - req->target) : req->target_len);
	const char *v = c->lim->http.trust_proxy
				? last_element(req, "X-Forwarded-For", &len)
				: NULL;
	struct sockaddr_storage a;
	if (!v || c->fwd || net_addr_parse(v, len, &a) != 0 ||
	    !(c->fwd = malloc(sizeof *c->fwd)))
		return;
	c->fwd->peer = c->peer;
	net_addr_host(&a, c->fwd->addr, sizeof c->fwd->addr);
}

/* --trust-proxy: 1 when X-Forwarded-Proto says the client came over TLS,
 * else 0. */
static int forwarded_tls(const struct http_request *req)
{
	size_t len;
	const char *v = last_element(req, "X-Forwarded-Proto", &len);
	return v && ((len == 5 && strncasecmp(v, "https", 5) == 0) ||
		     (len == 3 && strncasecmp(v, "wss", 3) == 0)) ? 1 : 0;
}

void build_env(struct conn *c, const struct http_request *req,
	       const struct hs_info *hs, const char *decoded,
	       size_t decoded_len, const struct route *r,
	       const char *protocol, struct env *e)
{
	const struct conn_http_limits *o = &c->lim->http;
	char addr[NET_ADDR_TEXT], uid[48];
	const char *values[OPTS_MAX_LIST];

	int tls = o->trust_proxy ? forwarded_tls(req) : -1;
	net_addr_host(&c->peer, addr, sizeof addr);
	snprintf(uid, sizeof uid, "%llx-%ld-%llu",
		 (unsigned long long)c->srv->started_s, (long)getpid(),
		 (unsigned long long)c->id);
	for (size_t i = 0; i < o->passenv->n; i++)
		values[i] = getenv(o->passenv->item[i]);
	const char *path = getenv("PATH");
	/* --trust-proxy: the host the client addressed, as the proxy says
	 * (X-Forwarded-Host, else Host: what nginx's Host $http_host sends),
	 * and X-Forwarded-Port over the port of either. */
	const char *host = hs->host, *fport = NULL;
	size_t host_len = hs->host_len, len, fport_len = 0;
	const char *v = o->trust_proxy
				? last_element(req, "X-Forwarded-Host", &len)
				: NULL;
	if (v && len > 0) {
		host = v;
		host_len = len;
	}
	if (o->trust_proxy)
		fport = last_element(req, "X-Forwarded-Port", &fport_len);
	size_t hlen = route_host_name_len(host, host_len);
	bool port = hlen < host_len && host[hlen] == ':';
	struct env_request rq = {
		.path = path ? path : "/usr/local/bin:/usr/bin:/bin",
		.software = "portal-gw/" PORTAL_VERSION,
		.method = req->method,
		.method_len = req->method_len,
		.plain_http = c->cgi != NULL,
		.server_name = host,
		.server_name_len = hlen,
		.server_port = port ? host + hlen + 1 : NULL,
		.server_port_len = port ? host_len - hlen - 1 : 0,
		.unix_socket = c->local_port == 0,
		.forwarded = o->trust_proxy,
		.fwd_port = fport,
		.fwd_port_len = fport_len,
		.target = req->target,
		.target_len = req->target_len,
		.decoded = decoded,
		.decoded_len = decoded_len,
		.script = r->script,
		.script_len = r->script_len,
		.path_info = r->path_info,
		.path_info_len = r->path_info_len,
		.query = hs->query,
		.query_len = hs->query_len,
		.tls = tls,
		.protocol = protocol,
		.remote_addr = addr,
		.remote_host = c->remote_host ? c->remote_host : addr,
		.remote_port = net_addr_port(&c->peer),
		.unique_id = uid,
		.headers = req->headers,
		.num_headers = req->num_headers,
		.pass_names = o->passenv->item,
		.pass_values = values,
		.npass = o->passenv->n,
		.route_only = r->kind != ROUTE_ONE,
	};
	env_build(e, &rq);
}

/* Answers a request whose program could not be started (err: from fork or
 * from the exec) with 503 when it may work later, else 500. The console
 * is told the cause as well. */
static void refuse_start(struct conn *c, int err, const char *cause)
{
	bool busy = err == EAGAIN || err == EMFILE || err == ENFILE ||
		    err == ENOMEM;
	if (c->lim->http.devconsole) {
		char why[PROGRAM_WHY_MAX + 32];
		snprintf(why, sizeof why, "cannot start program: %s", cause);
		console_refused(c, busy ? 503 : 500, why);
		c->ws_request = false; /* noted already */
	}
	if (busy)
		http_error_extra(c, 503, "cannot start program",
				 "Retry-After: 1\r\n");
	else
		http_error(c, 500, "cannot start program");
}

/* The one-to-one route: its program started for c alone, with c's
 * environment; the 101 waits for the exec (bind_one.c). */
static int start_one(struct conn *c, const struct http_request *req,
		     const struct hs_info *hs, const char *decoded,
		     size_t decoded_len, const struct route *r,
		     const char *protocol)
{
	char envbuf[32768];
	char *vars[200];
	struct env e;
	env_init(&e, envbuf, sizeof envbuf, vars, sizeof vars / sizeof vars[0]);
	build_env(c, req, hs, decoded, decoded_len, r, protocol, &e);
	if (e.overflow)
		log_msg(LV_INFO, "#%llu environment too large; some headers "
			"left out", (unsigned long long)c->id);
	return bind_one_start(c->srv, c, r, env_finish(&e));
}

void upgrade_abandon(struct conn *c)
{
	if (c->lookup) {
		lookup_cancel(c->lookup);
		c->lookup = NULL;
	}
	if (c->ss != SS_SPAWNING)
		return;
	conn_tell_gone(c, 1006); /* its binding no longer waits for it */
	outq_free(&c->out); /* the 101 */
	c->ss = SS_HANDSHAKE; /* the request is unanswered again */
}

/* Microseconds on the monotonic clock: the handshake histogram wants
 * finer steps than the loop's milliseconds. */
static uint64_t clock_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void conn_refuse_start(struct conn *c, int err, const char *why)
{
	upgrade_abandon(c);
	refuse_start(c, err, why);
}

void conn_open(struct conn *c, pid_t pid)
{
	struct loop *l = c->srv->loop;
	c->ss = SS_OPEN;
	c->upgraded = true;
	conn_answered(c, 101, NULL);
	uint64_t waited = clock_us() - c->head_us;
	metrics_session_open(&c->srv->metrics, waited);
	c->opened = loop_now(l);
	c->last_read = loop_now(l);
	loop_timer_stop(l, &c->sock_timer);
	if (c->lim->ping_ms)
		loop_timer_start(l, &c->ping_timer, c->lim->ping_ms,
				 on_ping_timer);
	char peer[NET_ADDR_TEXT];
	net_addr_text(&c->peer, peer, sizeof peer);
	if (pid > 0)
		log_msg(LV_INFO, "#%llu %s connected to %s, child %ld",
			(unsigned long long)c->id, peer, c->path, (long)pid);
	else
		log_msg(LV_INFO, "#%llu %s connected to %s, a shared route",
			(unsigned long long)c->id, peer, c->path);
}

/* --reverselookup: the client's name is known (or NULL: none, or not in
 * time); the request, still whole in c->in, is answered now. */
static void on_lookup(void *arg, const char *name)
{
	struct conn *c = arg;
	c->lookup = NULL;
	if (name) {
		c->remote_host = strdup(name);
		log_msg(LV_DEBUG, "#%llu client's name: %s",
			(unsigned long long)c->id, name);
	}
	upgrade_request(c);
	if (c->fd >= 0)
		flush_out(c);
}

/* Settles who the client is, once per session: its address from
 * X-Forwarded-For (--trust-proxy), then its name (--reverselookup).
 * Returns true when a lookup has started: the request is answered again
 * from on_lookup, with nothing read from the socket meanwhile. */
static bool identify_peer(struct conn *c, const struct http_request *req)
{
	const struct conn_http_limits *o = &c->lim->http;
	if (c->peer_known)
		return false;
	c->peer_known = true;
	if (o->trust_proxy)
		trust_forwarded_for(c, req);
	/* A Unix socket's peer has no name to look up. */
	if (!o->reverselookup || c->peer.ss_family == AF_UNIX)
		return false;
	c->lookup = lookup_start(c->srv->loop, &c->peer, LOOKUP_MS, on_lookup, c);
	if (!c->lookup) {
		log_msg(LV_INFO, "#%llu no reverse lookup (too many at once, or "
			"out of resources); REMOTE_HOST is the address",
			(unsigned long long)c->id);
		return false;
	}
	log_msg(LV_DEBUG, "#%llu looking up the client's name",
		(unsigned long long)c->id);
	/* The lookup's deadline bounds the wait, not the head's. */
	loop_timer_stop(c->srv->loop, &c->sock_timer);
	update_interest(c);
	return true;
}

/* A shared route's session, its 101 queued: joins the route's program,
 * started for it if need be with the route's environment (none of the
 * client's). What the request says is gathered before its head (n bytes)
 * is consumed. */
static void join_shared(struct conn *c, const struct http_request *req,
			size_t n, const struct hs_info *hs,
			const char *decoded, size_t dlen, const struct route *r)
{
	char envbuf[16384];
	char *vars[100];
	struct env e;
	env_init(&e, envbuf, sizeof envbuf, vars, sizeof vars / sizeof vars[0]);
	build_env(c, req, hs, decoded, dlen, r, NULL, &e);
	struct shared_joiner j = {.route = r, .envp = env_finish(&e)};
	if (r->kind == ROUTE_HUB) {
		char addr[NET_ADDR_TEXT];
		net_addr_host(&c->peer, addr, sizeof addr);
		j.join = shared_hub_lines(c->srv, c->id, addr, req);
		if (!j.join) {
			conn_refuse_start(c, ENOMEM, "out of memory");
			return;
		}
	}
	buf_consume(&c->in, n);
	loop_timer_start(c->srv->loop, &c->sock_timer,
			 c->lim->handshake_ms, on_sock_timer);
	loop_set(c->srv->loop, c->fd, 0);
	shared_join(c->srv, c, &j);
}

/* The head req (n bytes) passed hs_check: route, admission, the
 * binding's start, the 101 queued. decoded[0..dlen): the path,
 * percent-decoded. */
static void answer(struct conn *c, const struct http_request *req, size_t n,
		   const struct hs_info *hs, const char *decoded, size_t dlen)
{
	const struct conn_http_limits *o = &c->lim->http;
	struct route r;
	int status = route_find(o->routes, decoded, dlen, &r);
	if (status) {
		http_error(c, status, "handshake refused");
		return;
	}
	if (!route_origin_ok(o->origins, o->sameorigin, hs->origin, hs->origin_len,
			     hs->host, hs->host_len)) {
		free(c->origin);
		c->origin = hs->origin ? strndup(hs->origin, hs->origin_len) : NULL;
		http_error(c, 403, "origin not allowed");
		return;
	}
	if (c->srv->draining) {
		http_error(c, 503, "shutting down");
		return;
	}
	struct shared_refusal no;
	if (r.kind != ROUTE_ONE && shared_admit(c->srv, &r, &no)) {
		http_error_extra(c, no.status, no.why, no.more);
		return;
	}
	if (r.kind == ROUTE_ONE && o->maxforks &&
	    c->srv->nchildren >= o->maxforks) {
		http_error_extra(c, 503, "--maxforks reached", "Retry-After: 1\r\n");
		return;
	}

	if (identify_peer(c, req))
		return;
	int proto = hs_select_protocol(req, o->protocols->item,
				       o->protocols->n);
	const char *protocol = proto >= 0 ? o->protocols->item[proto] : NULL;
	/* The console's is answered, the child sees --protocol's choice. */
	static const char *const console[] = {DEVCONSOLE_PROTOCOL};
	c->console = o->devconsole && hs_select_protocol(req, console, 1) == 0;
	/* The choice point: the route's kind names the binding that c is
	 * handed to, its program started (or joined) before the 101 goes. */
	int err = r.kind == ROUTE_ONE
			  ? start_one(c, req, hs, decoded, dlen, &r, protocol)
			  : 0;
	if (err) {
		log_msg(LV_ERROR, "#%llu cannot start %s: %s",
			(unsigned long long)c->id, r.program, strerror(err));
		refuse_start(c, err, strerror(err));
		return;
	}

	/* Queued now, sent by conn_open once the binding says go. */
	char resp[4096], extra[4096];
	const char *answered = c->console ? DEVCONSOLE_PROTOCOL : protocol;
	snprintf(extra, sizeof extra, "%s%s%s%s",
		 answered ? "Sec-WebSocket-Protocol: " : "",
		 answered ? answered : "", answered ? "\r\n" : "",
		 c->srv->extra_ws ? c->srv->extra_ws : "");
	size_t len = hs_response_101(resp, sizeof resp, hs->key, hs->key_len,
				     extra);
	c->ss = SS_SPAWNING; /* so that a failure here abandons the exec */
	if (outq_append(&c->out, resp, len) < 0) {
		conn_close(c, LV_ERROR, "out of memory for the 101");
		return;
	}
	if (r.kind != ROUTE_ONE) {
		join_shared(c, req, n, hs, decoded, dlen, &r);
		return;
	}
	buf_consume(&c->in, n);
	loop_timer_start(c->srv->loop, &c->sock_timer, c->lim->handshake_ms,
			 on_sock_timer);
	loop_set(c->srv->loop, c->fd, 0);
}

void upgrade_request(struct conn *c)
{
	if (c->lookup)
		return; /* on_lookup answers it */
	struct http_header headers[MAX_HEADERS];
	struct http_request req;
	int n = http_parse_request((const char *)buf_data(&c->in), c->in.len, &req,
				   headers, MAX_HEADERS);
	if (n == HTTP_INCOMPLETE) {
		if (c->in.len >= c->lim->max_head)
			http_error(c, 431, "request head too large");
		return;
	}
	if (n == HTTP_TOO_MANY_HEADERS) {
		http_error(c, 431, "too many header lines");
		return;
	}
	if (n < 0) {
		http_error(c, 400, "malformed request");
		return;
	}
	note_request(c, &req);
	if (!c->peer_known) /* else answered again after the lookup */
		c->head_us = clock_us();
	bool upgrade = http_header_find(&req, "upgrade") != NULL;
	c->ws_request = upgrade;
	if (!upgrade && plain_request(c, &req, (size_t)n))
		return;
	struct hs_info hs;
	int status = hs_check(&req, &hs);
	/* A GET with nothing of a handshake (a browser's address bar,
	 * curl) is answered 426 on a resource's path, else 404 below; a
	 * handshake with parts missing stays a 400. */
	bool plain_get = status == 400 && !upgrade && hs.path &&
			 !http_header_find(&req, "sec-websocket-key");
	if (status && !plain_get) {
		http_error(c, status, "handshake refused");
		return;
	}
	/* Routes and PATH_INFO see the decoded path (RFC 3875 4.1.5). */
	char *decoded = malloc(hs.path_len + 1);
	if (!decoded) {
		http_error_extra(c, 503, "out of memory", "Retry-After: 1\r\n");
		return;
	}
	long dlen = env_decode_path(hs.path, hs.path_len, decoded);
	struct route r;
	if (dlen < 0)
		http_error(c, 400, "bad percent-encoding in the path");
	else if (!plain_get)
		answer(c, &req, (size_t)n, &hs, decoded, (size_t)dlen);
	else if (route_find(c->lim->http.routes, decoded, (size_t)dlen,
			    &r) == 0)
		/* What a browser or curl user should be told. */
		http_error(c, 426, "a WebSocket resource: upgrade needed");
	else
		http_error(c, 404, "no resource at this path");
	free(decoded);
}
