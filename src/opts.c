#include "opts.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "program.h"

#define DEFAULT_PORT 8080
#define MAX_ARGS 256

static void usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "portal-gw: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see portal-gw --help)\n");
}

int opts_split(const char *s, char *out, char **argv, size_t max)
{
	size_t n = 0;
	const char *p = s;
	char *o = out;
	if (max == 0)
		return -2; /* no room even for the terminating NULL */
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		if (n + 1 >= max)
			return -2;
		argv[n++] = o;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
			if (*p == '\'') {
				const char *end = strchr(p + 1, '\'');
				if (!end)
					return -1;
				memcpy(o, p + 1, (size_t)(end - p - 1));
				o += end - p - 1;
				p = end + 1;
			} else if (*p == '"') {
				p++;
				while (*p != '"') {
					if (!*p)
						return -1;
					if (*p == '\\' && p[1] && strchr("\"\\$`\n", p[1]))
						p++;
					*o++ = *p++;
				}
				p++;
			} else if (*p == '\\') {
				if (!p[1])
					return -1;
				*o++ = p[1];
				p += 2;
			} else {
				*o++ = *p++;
			}
		}
		*o++ = '\0';
	}
	argv[n] = NULL;
	return (int)n;
}

/* Finds what argv0 names: a path if it has a '/', else the first match in
 * PATH. Returns a malloc'd path, or NULL with errno set. */
static char *resolve(const char *argv0)
{
	struct stat st;
	if (strchr(argv0, '/')) {
		if (stat(argv0, &st) < 0)
			return NULL;
		if (!S_ISREG(st.st_mode)) {
			errno = EACCES;
			return NULL;
		}
		if (access(argv0, X_OK) < 0)
			return NULL;
		return strdup(argv0);
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	int err = ENOENT;
	while (*path) {
		const char *colon = strchr(path, ':');
		if (!colon)
			colon = path + strlen(path);
		size_t dl = (size_t)(colon - path);
		char buf[PATH_MAX];
		if (dl + strlen(argv0) + 2 <= sizeof buf) {
			memcpy(buf, dl ? path : ".", dl ? dl : 1);
			size_t at = dl ? dl : 1;
			buf[at] = '/';
			strcpy(buf + at + 1, argv0);
			if (stat(buf, &st) == 0 && S_ISREG(st.st_mode)) {
				if (access(buf, X_OK) == 0)
					return strdup(buf);
				err = EACCES;
			}
		}
		path = *colon ? colon + 1 : colon;
	}
	errno = err;
	return NULL;
}

static int add_resource(struct options *o, const char *path, size_t path_len,
			char **argv, int argc, enum route_kind kind)
{
	for (size_t i = 0; i < o->nresources; i++) {
		if (o->resources[i].path_len == path_len &&
		    memcmp(o->resources[i].path, path, path_len) == 0) {
			fprintf(stderr, "portal-gw: resource %.*s given twice "
				"(see portal-gw --help)\n", (int)path_len, path);
			return OPTS_USAGE;
		}
	}
	struct resource *r = realloc(o->resources,
				     (o->nresources + 1) * sizeof *r);
	if (!r)
		abort();
	o->resources = r;
	r = &o->resources[o->nresources++];
	memset(r, 0, sizeof *r);
	r->kind = kind;
	if (kind != ROUTE_ONE)
		o->nshared++;
	r->path = strndup(path, path_len);
	r->path_len = path_len;
	r->argv = calloc((size_t)argc + 1, sizeof *r->argv);
	if (!r->path || !r->argv)
		abort();
	for (int i = 0; i < argc; i++) {
		if (!(r->argv[i] = strdup(argv[i])))
			abort();
	}
	r->program = resolve(argv[0]);
	char why[PROGRAM_WHY_MAX];
	if (!program_usable(argv[0], r->program, errno, why, sizeof why)) {
		log_msg(LV_FATAL, "%s: cannot run %s: %s", r->path, argv[0], why);
		return OPTS_FAIL;
	}
	return OPTS_OK;
}

static bool is_resource(const char *arg)
{
	return arg[0] == '/' && strchr(arg, '=') != NULL;
}

int opts_add_resource(struct options *o, const char *arg, enum route_kind kind)
{
	if (!is_resource(arg)) {
		usage_error("'%s' is not a /PATH=COMMAND resource", arg);
		return OPTS_USAGE;
	}
	const char *eq = strchr(arg, '=');
	size_t plen = (size_t)(eq - arg);
	while (plen > 1 && arg[plen - 1] == '/')
		plen--;
	for (size_t i = 0; i < plen; i++) {
		unsigned char c = (unsigned char)arg[i];
		if (c <= ' ' || c == '?' || c == '#' || c >= 0x7f) {
			usage_error("bad resource path in '%s'", arg);
			return OPTS_USAGE;
		}
	}
	size_t len = strlen(eq + 1);
	char *words = malloc(len + 1);
	char *argv[MAX_ARGS];
	if (!words)
		abort();
	int n = opts_split(eq + 1, words, argv, MAX_ARGS);
	int rc;
	if (n == -1) {
		usage_error("unterminated quote or trailing \\ in '%s'", arg);
		rc = OPTS_USAGE;
	} else if (n == -2) {
		usage_error("too many words in '%s'", arg);
		rc = OPTS_USAGE;
	} else if (n == 0) {
		usage_error("no command in '%s'", arg);
		rc = OPTS_USAGE;
	} else {
		rc = add_resource(o, arg, plen, argv, n, kind);
	}
	free(words);
	return rc;
}

int opts_parse(int argc, char **argv, struct options *o)
{
	memset(o, 0, sizeof *o);
	opts_defaults(o);
	o->port = -1;

	bool seen[OPTS_NFLAGS_MAX] = {false};
	int i = 1, rc;
	bool flags_done = false, program_form = false;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (!flags_done && strcmp(a, "--") == 0) {
			flags_done = true;
		} else if (!flags_done && a[0] == '-' && a[1]) {
			if ((rc = opts_flag_parse(o, argc, argv, &i, seen)) != OPTS_OK)
				return rc;
		} else if (is_resource(a)) {
			if ((rc = opts_add_resource(o, a, ROUTE_ONE)) != OPTS_OK)
				return rc;
		} else if (o->nresources > 0) {
			usage_error("'%s' is not a /PATH=COMMAND resource", a);
			return OPTS_USAGE;
		} else {
			/* websocketd form: PROGRAM [ARGS...] at every path;
			 * everything after PROGRAM is its own. */
			rc = add_resource(o, "/", 1, argv + i, argc - i, ROUTE_ONE);
			if (rc != OPTS_OK)
				return rc;
			program_form = true;
			break;
		}
	}
	if (o->nresources == 0 && !o->dir && !o->staticdir && !o->cgidir) {
		usage_error("%sno resource to serve: give /PATH=COMMAND, PROGRAM, "
			    "--dir, --staticdir or --cgidir", "");
		return OPTS_USAGE;
	}
	if (o->dir && program_form) {
		usage_error("%s--dir serves one program per file; it cannot be "
			    "combined with the PROGRAM form", "");
		return OPTS_USAGE;
	}
	if (o->nshared && o->mode == MODE_BINARY) {
		usage_error("%s--binary cannot be used with --broadcast/--hub: "
			    "messages from many clients would mix in one byte "
			    "stream; use --framed", "");
		return OPTS_USAGE;
	}
	if (o->ping_ms && !o->pong_ms)
		o->pong_ms = o->ping_ms;
	if (o->port < 0) {
		const char *env = getenv("PORT");
		long long n;
		if (env && *env) {
			if (!opts_number(env, &n) || n < 0 || n > 65535) {
				fprintf(stderr, "portal-gw: invalid value '%s' for "
					"$PORT (see portal-gw --help)\n", env);
				return OPTS_USAGE;
			}
			o->port = (int)n;
		} else {
			o->port = DEFAULT_PORT;
		}
	}
	return OPTS_OK;
}

void opts_free(struct options *o)
{
	for (size_t i = 0; i < o->nresources; i++) {
		struct resource *r = &o->resources[i];
		free(r->path);
		free(r->program);
		for (char **a = r->argv; a && *a; a++)
			free(*a);
		free(r->argv);
	}
	free(o->resources);
	free(o->dir);
	free(o->staticdir);
	free(o->cgidir);
	for (size_t i = 0; i < o->owned.n; i++)
		free((char *)o->owned.item[i]);
	memset(o, 0, sizeof *o);
}
