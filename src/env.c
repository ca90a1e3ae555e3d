#include "env.h"

#include <string.h>
#include <strings.h>

void env_init(struct env *e, char *buf, size_t cap, char **vars, size_t max)
{
	e->buf = buf;
	e->cap = cap;
	e->used = 0;
	e->vars = vars;
	e->max = max;
	e->n = 0;
	e->overflow = false;
}

static char clean(char c)
{
	return c == '\r' || c == '\n' || c == '\0' ? ' ' : c;
}

/* Appends value to the last string packed, whose NUL is at e->used - 1. */
static bool append_last(struct env *e, const char *value, size_t len)
{
	if (e->cap - e->used < len)
		return false;
	char *p = e->buf + e->used - 1;
	for (size_t i = 0; i < len; i++)
		*p++ = clean(value[i]);
	*p = '\0';
	e->used += len;
	return true;
}

static char *start_var(struct env *e, const char *name, size_t name_len)
{
	if (e->n + 1 >= e->max || e->cap - e->used < name_len + 2) {
		e->overflow = true;
		return NULL;
	}
	char *p = e->buf + e->used;
	memcpy(p, name, name_len);
	p[name_len] = '=';
	p[name_len + 1] = '\0';
	e->used += name_len + 2;
	e->vars[e->n++] = p;
	return p;
}

static void drop_last(struct env *e)
{
	e->n--;
	e->used = (size_t)(e->vars[e->n] - e->buf);
	e->overflow = true;
}

void env_add(struct env *e, const char *name, const char *value, size_t len)
{
	if (!start_var(e, name, strlen(name)))
		return;
	if (!append_last(e, value, len))
		drop_last(e);
}

void env_add_header(struct env *e, const char *name, size_t name_len,
		    const char *value, size_t value_len)
{
	char var[256];
	if (name_len == 0 || name_len + 5 > sizeof var)
		return;
	memcpy(var, "HTTP_", 5);
	for (size_t i = 0; i < name_len; i++) {
		char c = name[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (c == '-')
			c = '_';
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return;
		var[5 + i] = c;
	}
	size_t vlen = name_len + 5;

	/* A repeat of an earlier header: join, moving the strings packed
	 * after it along so that the buffer stays one run of strings. */
	for (size_t i = 0; i < e->n; i++) {
		if (strncmp(e->vars[i], var, vlen) != 0 || e->vars[i][vlen] != '=')
			continue;
		size_t need = 2 + value_len;
		if (e->cap - e->used < need) {
			e->overflow = true;
			return;
		}
		char *nul = e->vars[i] + strlen(e->vars[i]);
		size_t pos = (size_t)(nul - e->buf);
		memmove(nul + need, nul, e->used - pos);
		for (size_t j = i + 1; j < e->n; j++)
			e->vars[j] += need;
		nul[0] = ',';
		nul[1] = ' ';
		for (size_t k = 0; k < value_len; k++)
			nul[2 + k] = clean(value[k]);
		e->used += need;
		return;
	}
	if (!start_var(e, var, vlen))
		return;
	if (!append_last(e, value, value_len))
		drop_last(e);
}

bool env_has(const struct env *e, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < e->n; i++) {
		if (strncmp(e->vars[i], name, n) == 0 && e->vars[i][n] == '=')
			return true;
	}
	return false;
}

static void add_str(struct env *e, const char *name, const char *value)
{
	env_add(e, name, value, strlen(value));
}

static void add_uint(struct env *e, const char *name, unsigned long v)
{
	char num[24];
	size_t i = sizeof num;
	do {
		num[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	env_add(e, name, num + i, sizeof num - i);
}

static bool same_name(const struct http_header *a, const struct http_header *b)
{
	return a->name_len == b->name_len &&
	       strncasecmp(a->name, b->name, a->name_len) == 0;
}

/* HTTP_* for each header name once, its repeats joined in order. */
static void add_headers(struct env *e, const struct http_header *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = same_name(&h[j], &h[i]);
		/* "Proxy" would become HTTP_PROXY, which many programs take
		 * as their proxy setting (httpoxy, CVE-2016-5385). */
		if (seen || (h[i].name_len == 5 &&
			     strncasecmp(h[i].name, "proxy", 5) == 0))
			continue;
		for (size_t j = i; j < n; j++) {
			if (same_name(&h[j], &h[i]))
				env_add_header(e, h[j].name, h[j].name_len,
					       h[j].value, h[j].value_len);
		}
	}
}

/* A TCP port number: 1 to 5 digits, at most 65535. */
static bool is_port(const char *p, size_t len)
{
	unsigned long v = 0;
	if (!p || len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	return v <= 65535;
}

/* Nothing of the HTTP layer fills these for a WebSocket, but a script may
 * read them unchecked (set -u, os.environ[...]). A CGI request (--cgidir)
 * has its CONTENT_* only when it has a body. */
static void add_empty(struct env *e, const struct env_request *rq)
{
	static const char *const empty[] = { "AUTH_TYPE", "CONTENT_LENGTH",
		"CONTENT_TYPE", "REMOTE_IDENT", "REMOTE_USER" };
	for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
		if (!env_has(e, empty[i]) &&
		    !(rq->plain_http && strncmp(empty[i], "CONTENT_", 8) == 0))
			env_add(e, empty[i], "", 0);
	}
}

static void add_passed(struct env *e, const struct env_request *rq)
{
	for (size_t i = 0; i < rq->npass; i++) {
		const char *name = rq->pass_names[i];
		if (rq->pass_values[i] && !env_is_cgi_name(name) &&
		    !env_has(e, name))
			add_str(e, name, rq->pass_values[i]);
	}
}

void env_build(struct env *e, const struct env_request *rq)
{
	add_str(e, "PATH", rq->path);
	add_str(e, "GATEWAY_INTERFACE", "CGI/1.1");
	add_str(e, "SERVER_SOFTWARE", rq->software);
	add_str(e, "SERVER_PROTOCOL", "HTTP/1.1");
	if (rq->method)
		env_add(e, "REQUEST_METHOD", rq->method, rq->method_len);
	else
		add_str(e, "REQUEST_METHOD", "GET");
	env_add(e, "SERVER_NAME", rq->server_name, rq->server_name_len);
	/* The port the client asked for: behind a proxy or a port
	 * mapping, not the one we listen on. */
	if (rq->forwarded && is_port(rq->fwd_port, rq->fwd_port_len))
		env_add(e, "SERVER_PORT", rq->fwd_port, rq->fwd_port_len);
	else if (rq->unix_socket && !rq->forwarded)
		add_str(e, "SERVER_PORT", "0");
	else if (rq->server_port)
		env_add(e, "SERVER_PORT", rq->server_port, rq->server_port_len);
	else
		add_str(e, "SERVER_PORT", rq->tls == 1 ? "443" : "80");
	if (rq->route_only) {
		env_add(e, "SCRIPT_NAME", rq->script, rq->script_len);
		add_empty(e, rq);
		add_passed(e, rq);
		return;
	}
	env_add(e, "REQUEST_URI", rq->target, rq->target_len);
	env_add(e, "SCRIPT_NAME", rq->script, rq->script_len);
	env_add(e, "PATH_INFO", rq->path_info, rq->path_info_len);
	/* No document root to map PATH_INFO onto: websocketd's value, the
	 * whole decoded path. */
	env_add(e, "PATH_TRANSLATED", rq->decoded, rq->decoded_len);
	env_add(e, "QUERY_STRING", rq->query ? rq->query : "", rq->query_len);
	/* Only when known (a proxy said so): HTTPS absent means plain. */
	if (rq->tls == 1)
		add_str(e, "HTTPS", "on");
	if (rq->tls >= 0)
		add_str(e, "REQUEST_SCHEME", rq->tls ? "https" : "http");
	if (rq->protocol)
		add_str(e, "WEBSOCKET_PROTOCOL", rq->protocol);
	add_str(e, "REMOTE_ADDR", rq->remote_addr);
	add_str(e, "REMOTE_HOST", rq->remote_host);
	add_uint(e, "REMOTE_PORT", (unsigned long)rq->remote_port);
	add_empty(e, rq);
	add_str(e, "UNIQUE_ID", rq->unique_id);
	add_headers(e, rq->headers, rq->num_headers);
	add_passed(e, rq);
}

bool env_is_cgi_name(const char *name)
{
	static const char *const cgi[] = {
		"AUTH_TYPE", "CONTENT_LENGTH", "CONTENT_TYPE",
		"GATEWAY_INTERFACE", "HTTPS", "PATH_INFO", "PATH_TRANSLATED",
		"QUERY_STRING", "REMOTE_ADDR", "REMOTE_HOST", "REMOTE_IDENT",
		"REMOTE_PORT", "REMOTE_USER", "REQUEST_METHOD",
		"REQUEST_SCHEME", "REQUEST_URI", "SCRIPT_NAME", "SERVER_NAME",
		"SERVER_PORT", "SERVER_PROTOCOL", "SERVER_SOFTWARE",
		"UNIQUE_ID", "WEBSOCKET_PROTOCOL",
	};
	if (strncmp(name, "HTTP_", 5) == 0)
		return strcmp(name, "HTTP_PROXY") != 0;
	for (size_t i = 0; i < sizeof cgi / sizeof cgi[0]; i++) {
		if (strcmp(name, cgi[i]) == 0)
			return true;
	}
	return false;
}

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long env_decode_path(const char *in, size_t len, char *out)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c == '%') {
			int hi = i + 2 < len ? hex(in[i + 1]) : -1;
			int lo = hi >= 0 ? hex(in[i + 2]) : -1;
			if (lo < 0 || (hi == 0 && lo == 0))
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		out[n++] = c;
	}
	return (long)n;
}

char **env_finish(struct env *e)
{
	e->vars[e->n] = NULL;
	return e->vars;
}
