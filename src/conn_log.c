/* The connection's record of its request, for the log: the access line
 * (one per request, answered or not) and, for a session, its metrics. The
 * request's path, method and answer are noted as they become known;
 * conn.c calls conn_log_next when a kept-alive answer has gone out and
 * conn_log_end when the connection is done. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "child.h"
#include "conn_int.h"
#include "log.h"
#include "metrics.h"
#include "net.h"
#include "server.h"

/* The access line: one per request, answered or not, once the connection
 * has ended (or a kept-alive answer has gone out), so that it counts what
 * was actually sent. */
static void access_line(struct conn *c)
{
	char addr[NET_ADDR_TEXT], sig[32];
	const struct sockaddr_storage *peer = c->fwd ? &c->fwd->peer : &c->peer;
	net_addr_host(peer, addr, sizeof addr);
	int port = net_addr_port(peer);
	bool child = c->exited;
	struct log_access a = {
		.id = c->id,
		.addr = addr,
		/* A Unix socket peer (--unix) has no port. */
		.port = peer->ss_family == AF_UNIX || port == 0 ? -1 : port,
		.forwarded = c->fwd ? c->fwd->addr : NULL,
		.method = c->method[0] ? c->method : NULL,
		.path = c->path[0] ? c->path : NULL,
		.status = c->http_status,
		.reason = c->reason || c->http_status
				  ? c->reason
				  : "connection ended before an answer",
		.origin = c->origin,
		.bytes_sent = c->written - c->sent_base,
		.duration_ms = loop_now(c->srv->loop) - c->started,
		.pid = (long)c->pid,
		.session = c->upgraded,
		.msgs_in = c->n.msgs_in,
		.bytes_in = c->n.bytes_in,
		.msgs_out = c->n.msgs_out,
		.bytes_out = c->n.bytes_out,
		.close_code = c->close_code,
		.exit_code = -1,
	};
	if (child && WIFEXITED(c->status))
		a.exit_code = WEXITSTATUS(c->status);
	else if (child)
		a.signal = child_signal_name(WTERMSIG(c->status), sig,
					     sizeof sig);
	log_access(&a);
}

void conn_set_path(struct conn *c, const char *p, size_t len)
{
	if (len > sizeof c->path - 1)
		len = sizeof c->path - 1;
	if (len)
		memcpy(c->path, p, len);
	c->path[len] = '\0';
}

void conn_answered(struct conn *c, int status, const char *why)
{
	c->http_status = (uint16_t)status;
	free(c->reason);
	c->reason = why ? strdup(why) : NULL; /* none if out of memory */
}

void conn_log_next(struct conn *c)
{
	access_line(c);
	conn_set_path(c, NULL, 0);
	c->method[0] = '\0';
	c->http_status = 0;
	free(c->reason);
	c->reason = NULL;
	free(c->origin);
	c->origin = NULL;
	c->started = loop_now(c->srv->loop);
	c->sent_base = c->written;
}

void conn_log_end(struct conn *c)
{
	struct server *srv = c->srv;
	if (c->http_status || c->method[0])
		access_line(c);
	if (c->upgraded) {
		metrics_session_end(&srv->metrics, c->close_code,
				    c->exited ? &c->status : NULL,
				    &c->n,
				    loop_now(srv->loop) - c->opened);
	}
}
