#include "route.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "opts.h"
#include "program.h"

/* path is "/NAME" or "/NAME/rest", decoded. Each segment names an entry of
 * the directory reached so far: a sub-directory goes on to the next
 * segment, an executable file is the program and the rest is PATH_INFO.
 * No segment is empty or starts with '.' (so neither "." nor ".." can
 * leave dir); symlinks are followed wherever they lead, as websocketd
 * does: whoever can put one in dir can put the program there too. */
static bool dir_find(const char *dir, const char *path, size_t len,
		     struct route *r)
{
	char *file = r->dir_program;
	size_t flen = strlen(dir), at = 0;
	if (flen >= PATH_MAX)
		return false;
	memcpy(file, dir, flen);
	while (at < len && path[at] == '/') {
		const char *name = path + at + 1;
		const char *slash = memchr(name, '/', len - at - 1);
		size_t nlen = slash ? (size_t)(slash - name) : len - at - 1;
		if (nlen == 0 || name[0] == '.' || flen + 1 + nlen >= PATH_MAX)
			return false;
		file[flen++] = '/';
		memcpy(file + flen, name, nlen);
		flen += nlen;
		file[flen] = '\0';
		at += 1 + nlen;
		struct stat st;
		if (stat(file, &st) < 0)
			return false;
		if (S_ISDIR(st.st_mode))
			continue;
		if (!S_ISREG(st.st_mode))
			return false;
		bool ok = access(file, X_OK) == 0;
		program_dir_note(file, ok); /* logs once why it cannot run */
		if (!ok)
			return false;
		r->program = file;
		r->dir_argv[0] = file;
		r->dir_argv[1] = NULL;
		r->argv = r->dir_argv;
		r->script = path;
		r->script_len = at;
		r->path_info = path + at;
		r->path_info_len = len - at;
		return true;
	}
	return false;
}

int route_find(const struct options *o, const char *path, size_t len,
	       struct route *r)
{
	memset(r, 0, sizeof *r);
	const struct resource *best = NULL, *root = NULL;
	for (size_t i = 0; i < o->nresources; i++) {
		const struct resource *res = &o->resources[i];
		if (res->path_len == 1) {
			root = res;
			continue;
		}
		bool match = len >= res->path_len &&
			     memcmp(path, res->path, res->path_len) == 0 &&
			     (len == res->path_len || path[res->path_len] == '/');
		if (match && (!best || res->path_len > best->path_len))
			best = res;
	}
	if (best) {
		r->kind = best->kind;
		r->program = best->program;
		r->argv = best->argv;
		r->script = best->path;
		r->script_len = best->path_len;
		r->path_info = path + best->path_len;
		r->path_info_len = len - best->path_len;
		return 0;
	}
	if (o->dir && len > 1 && path[0] == '/' && dir_find(o->dir, path, len, r))
		return 0;
	if (root) {
		r->kind = root->kind;
		r->program = root->program;
		r->argv = root->argv;
		/* As websocketd: the program is at "/", all the path is
		 * PATH_INFO. */
		r->script = "/";
		r->script_len = 1;
		r->path_info = path;
		r->path_info_len = len;
		return 0;
	}
	return 404;
}

struct hostport {
	const char *host;
	size_t host_len;
	const char *port; /* NULL when absent */
	size_t port_len;
};

/* Splits "host", "host:port", "[v6]" or "[v6]:port". */
static bool split_hostport(const char *s, size_t n, struct hostport *hp)
{
	memset(hp, 0, sizeof *hp);
	const char *colon = NULL;
	if (n > 0 && s[0] == '[') {
		const char *end = memchr(s, ']', n);
		if (!end)
			return false;
		hp->host = s;
		hp->host_len = (size_t)(end - s) + 1;
		if (hp->host_len < n) {
			if (s[hp->host_len] != ':')
				return false;
			colon = s + hp->host_len;
		}
	} else {
		colon = memchr(s, ':', n);
		hp->host = s;
		hp->host_len = colon ? (size_t)(colon - s) : n;
	}
	if (colon) {
		hp->port = colon + 1;
		hp->port_len = n - (size_t)(colon + 1 - s);
		if (hp->port_len == 0)
			return false;
		for (size_t i = 0; i < hp->port_len; i++) {
			if (hp->port[i] < '0' || hp->port[i] > '9')
				return false;
		}
	}
	return hp->host_len > 0;
}

size_t route_host_name_len(const char *host, size_t len)
{
	struct hostport hp;
	return split_hostport(host, len, &hp) ? hp.host_len : len;
}

static bool eq_nocase(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && strncasecmp(a, b, an) == 0;
}

static bool eq(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && memcmp(a, b, an) == 0;
}

_Bool route_origin_ok(const struct opts_list *allowed, _Bool same,
		      const char *origin, size_t olen, const char *host,
		      size_t hlen)
{
	if (!same && allowed->n == 0)
		return true;
	if (!origin)
		return true;
	const char *sep = NULL;
	for (size_t i = 0; i + 3 <= olen; i++) {
		if (memcmp(origin + i, "://", 3) == 0) {
			sep = origin + i;
			break;
		}
	}
	if (!sep || sep == origin)
		return false; /* includes "null" */
	const char *scheme = origin;
	size_t slen = (size_t)(sep - origin);
	struct hostport o;
	const char *rest = sep + 3;
	size_t rlen = olen - slen - 3;
	if (rlen > 0 && rest[rlen - 1] == '/')
		rlen--;
	if (!split_hostport(rest, rlen, &o))
		return false;
	bool tls = eq_nocase(scheme, slen, "https", 5) ||
		   eq_nocase(scheme, slen, "wss", 3);
	const char *oport = o.port ? o.port : tls ? "443" : "80";
	size_t oport_len = o.port ? o.port_len : strlen(oport);

	if (same) {
		struct hostport h;
		if (!host || !split_hostport(host, hlen, &h) ||
		    !eq_nocase(h.host, h.host_len, o.host, o.host_len))
			return false;
		/* A Host without a port (as behind a TLS proxy) takes the
		 * origin's default one. */
		if (h.port && !eq(h.port, h.port_len, oport, oport_len))
			return false;
	}
	if (allowed->n == 0)
		return true;
	for (size_t i = 0; i < allowed->n; i++) {
		const char *a = allowed->item[i];
		size_t alen = strlen(a);
		const char *asep = strstr(a, "://");
		if (asep) {
			if (!eq_nocase(a, (size_t)(asep - a), scheme, slen))
				continue;
			alen -= (size_t)(asep + 3 - a);
			a = asep + 3;
		}
		struct hostport ah;
		if (!split_hostport(a, alen, &ah) ||
		    !eq_nocase(ah.host, ah.host_len, o.host, o.host_len))
			continue;
		if (!ah.port || eq(ah.port, ah.port_len, oport, oport_len))
			return true;
	}
	return false;
}
