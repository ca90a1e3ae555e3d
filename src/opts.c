#include "opts.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PORTAL_VERSION
#define PORTAL_VERSION "dev"
#endif

#define DEFAULT_PORT 8080
#define DEFAULT_MAX_MESSAGE (1024 * 1024)
#define MAX_ARGS 256

const char opts_usage[] =
	"usage: portal-gw [OPTIONS] /PATH=COMMAND [/PATH=COMMAND ...]\n"
	"       portal-gw [OPTIONS] PROGRAM [ARGS ...]\n"
	"\n"
	"Serves WebSocket clients: each client gets its own COMMAND; every text\n"
	"message becomes a line on its stdin, every line it prints becomes a\n"
	"text message, its stderr is logged, and its exit status closes the\n"
	"connection (0: 1000, otherwise 1011). COMMAND is split like a shell\n"
	"would but never run by one. /PATH also serves /PATH/anything.\n"
	"\n"
	"options:\n"
	"  --port N            TCP port (default $PORT, else 8080; 0: any free port)\n"
	"  --address ADDR      listen on this IPv4 or IPv6 address (repeatable;\n"
	"                      default: every interface)\n"
	"  --closems MS        extra time a child gets to exit after its client\n"
	"                      leaves, before SIGTERM and again before SIGKILL\n"
	"                      (default 0; the base grace is 100 ms, then 500 ms)\n"
	"  --max-message N     largest client message in bytes (default 1048576)\n"
	"  --loglevel LEVEL    debug, trace, access, info, error or fatal\n"
	"                      (default access)\n"
	"  --help              show this text\n"
	"  --version           show the version\n"
	"\n"
	"Flags may also be written -flag, --flag=value or -flag=value.\n"
	"See man portal-gw for the details.\n";

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
			char **argv, int argc)
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
	if (!r->program) {
		fprintf(stderr, "portal-gw: %s: cannot run %s: %s\n", r->path,
			argv[0], strerror(errno));
		return OPTS_FAIL;
	}
	return OPTS_OK;
}

/* "/PATH=COMMAND". */
static int parse_resource(struct options *o, const char *arg)
{
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
		rc = add_resource(o, arg, plen, argv, n);
	}
	free(words);
	return rc;
}

static bool parse_uint(const char *s, unsigned long long max,
		       unsigned long long *out)
{
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

enum flag_id {
	F_PORT,
	F_ADDRESS,
	F_CLOSEMS,
	F_MAXMSG,
	F_LOGLEVEL,
	F_HELP,
	F_VERSION,
};

static const struct {
	const char *name;
	enum flag_id id;
	bool takes_value;
} flags[] = {
	{ "port", F_PORT, true },	  { "address", F_ADDRESS, true },
	{ "closems", F_CLOSEMS, true },	  { "max-message", F_MAXMSG, true },
	{ "loglevel", F_LOGLEVEL, true }, { "help", F_HELP, false },
	{ "h", F_HELP, false },		  { "version", F_VERSION, false },
};

static int apply_flag(struct options *o, enum flag_id id, const char *flag,
		      const char *v)
{
	unsigned long long n;
	char what[80];
	snprintf(what, sizeof what, "%s", flag);
	switch (id) {
	case F_PORT:
		if (!parse_uint(v, 65535, &n))
			goto bad;
		o->port = (int)n;
		return OPTS_OK;
	case F_ADDRESS:
		if (o->naddresses == OPTS_MAX_ADDRESSES) {
			usage_error("too many --address flags (at most 16)", "");
			return OPTS_USAGE;
		}
		o->addresses[o->naddresses++] = v;
		return OPTS_OK;
	case F_CLOSEMS:
		if (!parse_uint(v, 3600 * 1000, &n))
			goto bad;
		o->closems = (unsigned)n;
		return OPTS_OK;
	case F_MAXMSG:
		if (!parse_uint(v, UINT64_MAX, &n) || n == 0)
			goto bad;
		o->max_message = n;
		return OPTS_OK;
	case F_LOGLEVEL:
		if (!log_level_parse(v, &o->loglevel))
			goto bad;
		return OPTS_OK;
	case F_HELP:
		fputs(opts_usage, stdout);
		return OPTS_EXIT;
	case F_VERSION:
		printf("portal-gw %s\n", PORTAL_VERSION);
		return OPTS_EXIT;
	}
bad:
	fprintf(stderr, "portal-gw: invalid value '%s' for %s (see portal-gw --help)\n",
		v, what);
	return OPTS_USAGE;
}

/* Handles argv[*i], a flag; may consume the next argument as its value. */
static int parse_flag(struct options *o, int argc, char **argv, int *i)
{
	const char *arg = argv[*i];
	const char *name = arg + (arg[1] == '-' ? 2 : 1);
	const char *eq = strchr(name, '=');
	size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
	for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++) {
		if (strlen(flags[k].name) != nlen ||
		    strncmp(flags[k].name, name, nlen) != 0)
			continue;
		char flag[64];
		snprintf(flag, sizeof flag, "--%s", flags[k].name);
		const char *v = NULL;
		if (flags[k].takes_value) {
			if (eq) {
				v = eq + 1;
			} else if (*i + 1 < argc) {
				v = argv[++*i];
			} else {
				usage_error("flag %s needs a value", flag);
				return OPTS_USAGE;
			}
		} else if (eq) {
			usage_error("flag %s takes no value", flag);
			return OPTS_USAGE;
		}
		return apply_flag(o, flags[k].id, flag, v);
	}
	usage_error("unknown flag '%s'", arg);
	return OPTS_USAGE;
}

static bool is_resource(const char *arg)
{
	return arg[0] == '/' && strchr(arg, '=') != NULL;
}

int opts_parse(int argc, char **argv, struct options *o)
{
	memset(o, 0, sizeof *o);
	o->port = -1;
	o->loglevel = LV_ACCESS;
	o->max_message = DEFAULT_MAX_MESSAGE;

	int i = 1, rc;
	bool flags_done = false;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (!flags_done && strcmp(a, "--") == 0) {
			flags_done = true;
		} else if (!flags_done && a[0] == '-' && a[1]) {
			if ((rc = parse_flag(o, argc, argv, &i)) != OPTS_OK)
				return rc;
		} else if (is_resource(a)) {
			if ((rc = parse_resource(o, a)) != OPTS_OK)
				return rc;
		} else if (o->nresources > 0) {
			usage_error("'%s' is not a /PATH=COMMAND resource", a);
			return OPTS_USAGE;
		} else {
			/* websocketd form: PROGRAM [ARGS...] at every path;
			 * everything after PROGRAM is its own. */
			if ((rc = add_resource(o, "/", 1, argv + i, argc - i)) != OPTS_OK)
				return rc;
			break;
		}
	}
	if (o->nresources == 0) {
		usage_error("%sno resource to serve: give /PATH=COMMAND or PROGRAM",
			    "");
		return OPTS_USAGE;
	}
	if (o->port < 0) {
		const char *env = getenv("PORT");
		unsigned long long n;
		if (env && *env) {
			if (!parse_uint(env, 65535, &n)) {
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
	memset(o, 0, sizeof *o);
}
