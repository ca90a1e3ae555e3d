/* The hub protocol's side of a hub route's binding (shared_int.h; the
 * lines themselves are hub.c's): a client's "+ID", "=ID", "ID TEXT" and
 * "-ID" lines for the program, and the program's lines out. */
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "http.h"
#include "hub.h"
#include "log.h"
#include "outq.h"
#include "shared.h"
#include "shared_int.h"

void shared_hub_out(struct shared *sh, const char *line, size_t n)
{
	struct hub_cmd cmd;
	hub_parse(line, n, &cmd);
	if (cmd.kind == HUB_INVALID) {
		log_msg(LV_INFO, "%s: protocol error: %.*s (%s)", sh->tag,
			n > 200 ? 200 : (int)n, line, cmd.error);
		return;
	}
	struct conn *c = NULL;
	if (cmd.kind != HUB_TO_ALL && !(c = shared_member(sh, cmd.id))) {
		log_msg(LV_DEBUG, "%s: no client %llu; skipped: %.*s", sh->tag,
			(unsigned long long)cmd.id, n > 200 ? 200 : (int)n, line);
		return;
	}
	if (cmd.kind == HUB_CLOSE) {
		char reason[HUB_REASON_MAX + 1];
		memcpy(reason, cmd.text ? cmd.text : "", cmd.text_len);
		reason[cmd.text_len] = '\0';
		conn_end(c, cmd.code, cmd.text ? reason : NULL);
		return;
	}
	bool oom;
	struct frame *f = shared_line_frame(sh, cmd.text, cmd.text_len, &oom);
	if (!f) {
		if (oom && c)
			conn_fail(c, "out of memory for a message");
		else if (oom)
			shared_fail_members(sh, "out of memory for a message");
		return;
	}
	if (c)
		shared_send_one(sh, c, f);
	else
		shared_send_all(sh, f);
	frame_unref(f);
}


char *shared_hub_lines(const struct server *srv, uint64_t id,
		       const char *addr, const struct http_request *req)
{
	const struct options *o = srv->opts;
	size_t alen = strlen(addr);
	size_t need = hub_fmt_join(NULL, 0, id, addr, alen, req->target,
				   req->target_len);
	const struct http_header *h[OPTS_MAX_LIST];
	for (size_t i = 0; i < o->hub_headers.n; i++) {
		const char *name = o->hub_headers.item[i];
		h[i] = http_header_find(req, name);
		if (h[i])
			need += hub_fmt_header(NULL, 0, id, name, strlen(name),
					       h[i]->value, h[i]->value_len);
	}
	char *s = malloc(need + 1);
	if (!s)
		return NULL;
	size_t k = hub_fmt_join(s, need, id, addr, alen, req->target,
				req->target_len);
	for (size_t i = 0; i < o->hub_headers.n; i++) {
		const char *name = o->hub_headers.item[i];
		if (h[i])
			k += hub_fmt_header(s + k, need - k, id, name,
					    strlen(name), h[i]->value,
					    h[i]->value_len);
	}
	s[k] = '\0';
	return s;
}

bool shared_hub_message(struct shared *sh, const struct conn *c,
			const uint8_t *p, size_t n)
{
	/* One "ID TEXT" line per line of it (the framed form has one). */
	size_t need = hub_fmt_message(NULL, 0, conn_id(c), (const char *)p, n);
	char *line = malloc(need);
	if (!line)
		return false;
	hub_fmt_message(line, need, conn_id(c), (const char *)p, n);
	shared_to_program(sh, line, need, NULL, 0);
	free(line);
	return true;
}

void shared_hub_leave(struct shared *sh, const struct conn *c,
		      unsigned code)
{
	char line[HUB_ID_DIGITS + 16];
	size_t n = hub_fmt_leave(line, sizeof line, conn_id(c),
				 (uint16_t)code);
	shared_to_program(sh, line, n, NULL, 0);
}
