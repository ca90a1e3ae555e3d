#include "opts.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "program.h"

#ifndef PORTAL_VERSION
#define PORTAL_VERSION "dev"
#endif

#define DEFAULT_PORT 8080
#define DEFAULT_MAX_MESSAGE (1024 * 1024)
#define DEFAULT_MAX_HEAD 8192
#define DEFAULT_HANDSHAKE_MS 10000
#define DEFAULT_DRAIN_MS 25000 /* inside Kubernetes' 30 s grace period */
#define MAX_ARGS 256

const char opts_usage[] =
	"usage: portal-gw [OPTIONS] /PATH=COMMAND [/PATH=COMMAND ...]\n"
	"       portal-gw [OPTIONS] --dir DIR [/PATH=COMMAND ...]\n"
	"       portal-gw [OPTIONS] PROGRAM [ARGS ...]\n"
	"\n"
	"Serves WebSocket clients: each client gets its own COMMAND; every text\n"
	"message becomes a line on its stdin, every line it prints becomes a\n"
	"text message, its stderr is logged, and its exit status closes the\n"
	"connection (0: 1000, otherwise 1011). COMMAND is split like a shell\n"
	"would but never run by one. /PATH also serves /PATH/anything.\n"
	"\n"
	"listening:\n"
	"  --port N              TCP port (default $PORT, else 8080; 0: any free)\n"
	"  --address ADDR        IPv4 or IPv6 address (repeatable; default: all)\n"
	"  --maxforks N          at most N children at once; 503 beyond (0: no limit)\n"
	"  --origin LIST         allowed Origins: host, host:port, scheme://host[:port]\n"
	"  --sameorigin          Origin must match Host\n"
	"  --header 'N: V'       add a header to every response (repeatable)\n"
	"  --header-ws 'N: V'    ... to 101 responses only\n"
	"  --header-http 'N: V'  ... to other HTTP responses only\n"
	"  --unix PATH           listen on a Unix socket (repeatable; then TCP only\n"
	"                        with --port or --address)\n"
	"  --trust-proxy         take REMOTE_ADDR and HTTPS from X-Forwarded-For and\n"
	"                        X-Forwarded-Proto (only behind a proxy you run)\n"
	"  --protocol LIST       subprotocols to accept (comma list); the client's\n"
	"                        first offered one in LIST is chosen\n"
	"plain HTTP:\n"
	"  --devconsole          a plain GET to a resource serves a test page\n"
	"  --staticdir DIR       serve the files of DIR to plain GETs\n"
	"  --health PATH         200 while serving, 503 while shutting down\n"
	"  --metrics PATH        Prometheus metrics\n"
	"programs:\n"
	"  --dir DIR             serve each executable file DIR/NAME at /NAME\n"
	"  --passenv LIST        also pass these environment variables (comma list)\n"
	"  --binary              raw bytes both ways; binary messages out\n"
	"  --framed              exact messages both ways as 'T text' / 'B base64'\n"
	"                        lines (see man portal-gw, FRAMED MODE)\n"
	"  --stderr MODE         log (default), send (also to the client), both, ignore\n"
	"  --closems MS          extra grace before SIGTERM and before SIGKILL (0)\n"
	"limits:\n"
	"  --max-message BYTES   largest client message (default 1048576)\n"
	"  --max-head BYTES      largest request head (default 8192)\n"
	"  --handshake-timeout MS  time for the request head (default 10000)\n"
	"  --ping-interval MS    ping each client this often (default 0: never)\n"
	"  --ping-timeout MS     end a session with no pong in time (default: interval)\n"
	"  --drain-timeout MS    on SIGTERM, kill what is left after this (25000)\n"
	"other:\n"
	"  --loglevel LEVEL      debug, trace, access, info, error or fatal (access)\n"
	"  --log-format FORMAT   text (default) or json\n"
	"  --help, --version\n"
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
	char why[PROGRAM_WHY_MAX];
	if (!program_usable(argv[0], r->program, errno, why, sizeof why)) {
		log_msg(LV_FATAL, "%s: cannot run %s: %s", r->path, argv[0], why);
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
	F_MAXHEAD,
	F_HSTIMEOUT,
	F_PING,
	F_PONG,
	F_DRAIN,
	F_MAXFORKS,
	F_STDERR,
	F_BINARY,
	F_FRAMED,
	F_DIR,
	F_ORIGIN,
	F_SAMEORIGIN,
	F_PASSENV,
	F_HEADER,
	F_HEADER_WS,
	F_HEADER_HTTP,
	F_LOGLEVEL,
	F_LOGFORMAT,
	F_UNIX,
	F_TRUSTPROXY,
	F_PROTOCOL,
	F_DEVCONSOLE,
	F_STATICDIR,
	F_HEALTH,
	F_METRICS,
	F_HELP,
	F_VERSION,
};

enum flag_kind {
	K_VALUE, /* needs a value */
	K_BOOL,  /* no value, or =true/=false as Go's flag package allows */
	K_NONE,  /* no value at all */
};

static const struct {
	const char *name;
	enum flag_id id;
	enum flag_kind kind;
} flags[] = {
	{ "port", F_PORT, K_VALUE },
	{ "address", F_ADDRESS, K_VALUE },
	{ "closems", F_CLOSEMS, K_VALUE },
	{ "max-message", F_MAXMSG, K_VALUE },
	{ "max-head", F_MAXHEAD, K_VALUE },
	{ "handshake-timeout", F_HSTIMEOUT, K_VALUE },
	{ "ping-interval", F_PING, K_VALUE },
	{ "ping-timeout", F_PONG, K_VALUE },
	{ "drain-timeout", F_DRAIN, K_VALUE },
	{ "maxforks", F_MAXFORKS, K_VALUE },
	{ "stderr", F_STDERR, K_VALUE },
	{ "binary", F_BINARY, K_BOOL },
	{ "framed", F_FRAMED, K_BOOL },
	{ "dir", F_DIR, K_VALUE },
	{ "origin", F_ORIGIN, K_VALUE },
	{ "sameorigin", F_SAMEORIGIN, K_BOOL },
	{ "passenv", F_PASSENV, K_VALUE },
	{ "header", F_HEADER, K_VALUE },
	{ "header-ws", F_HEADER_WS, K_VALUE },
	{ "header-http", F_HEADER_HTTP, K_VALUE },
	{ "loglevel", F_LOGLEVEL, K_VALUE },
	{ "log-format", F_LOGFORMAT, K_VALUE },
	{ "unix", F_UNIX, K_VALUE },
	{ "trust-proxy", F_TRUSTPROXY, K_BOOL },
	{ "protocol", F_PROTOCOL, K_VALUE },
	{ "devconsole", F_DEVCONSOLE, K_BOOL },
	{ "staticdir", F_STATICDIR, K_VALUE },
	{ "health", F_HEALTH, K_VALUE },
	{ "metrics", F_METRICS, K_VALUE },
	{ "help", F_HELP, K_NONE },
	{ "h", F_HELP, K_NONE },
	{ "version", F_VERSION, K_NONE },
};

/* Adds the comma-separated items of v (empty ones skipped) to l. */
static bool add_items(struct options *o, struct opts_list *l, const char *v)
{
	char *copy = strdup(v);
	if (!copy || o->owned.n == OPTS_MAX_LIST)
		return false;
	o->owned.item[o->owned.n++] = copy;
	for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
		while (*tok == ' ')
			tok++;
		if (!*tok)
			continue;
		if (l->n == OPTS_MAX_LIST)
			return false;
		l->item[l->n++] = tok;
	}
	return true;
}

/* "Name: value" with a token name and no CR or LF anywhere. */
static bool header_ok(const char *v)
{
	const char *colon = strchr(v, ':');
	if (!colon || colon == v || strpbrk(v, "\r\n"))
		return false;
	for (const char *p = v; p < colon; p++) {
		if (!strchr("!#$%&'*+-.^_`|~", *p) &&
		    !((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z')))
			return false;
	}
	return true;
}

static bool add_header(struct opts_list *l, const char *v)
{
	if (!header_ok(v) || l->n == OPTS_MAX_LIST)
		return false;
	l->item[l->n++] = v;
	return true;
}

/* A path for --health or --metrics: "/" then visible ASCII, no '?' or '#'. */
static bool plain_path_ok(const char *v)
{
	if (v[0] != '/')
		return false;
	for (const char *p = v; *p; p++) {
		if (*p <= ' ' || *p >= 0x7f || *p == '?' || *p == '#')
			return false;
	}
	return true;
}

/* A subprotocol name: an RFC 9110 token. */
static bool token_ok(const char *v)
{
	for (const char *p = v; *p; p++) {
		if (!strchr("!#$%&'*+-.^_`|~", *p) &&
		    !((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z')))
			return false;
	}
	return *v != '\0';
}

static int apply_flag(struct options *o, enum flag_id id, const char *flag,
		      const char *v)
{
	unsigned long long n;
	const unsigned long long hour_ms = 3600ull * 1000;
	switch (id) {
	case F_PORT:
		if (!parse_uint(v, 65535, &n))
			goto bad;
		o->port = (int)n;
		o->port_given = true;
		return OPTS_OK;
	case F_ADDRESS:
		if (o->naddresses == OPTS_MAX_ADDRESSES) {
			usage_error("too many --address flags (at most 16)%s", "");
			return OPTS_USAGE;
		}
		o->addresses[o->naddresses++] = v;
		return OPTS_OK;
	case F_CLOSEMS:
		if (!parse_uint(v, hour_ms, &n))
			goto bad;
		o->closems = (unsigned)n;
		return OPTS_OK;
	case F_MAXMSG:
		if (!parse_uint(v, UINT64_MAX >> 1, &n) || n == 0)
			goto bad;
		o->max_message = n;
		return OPTS_OK;
	case F_MAXHEAD:
		if (!parse_uint(v, 1024 * 1024, &n) || n < 256)
			goto bad;
		o->max_head = (size_t)n;
		return OPTS_OK;
	case F_HSTIMEOUT:
		if (!parse_uint(v, hour_ms, &n) || n == 0)
			goto bad;
		o->handshake_ms = (unsigned)n;
		return OPTS_OK;
	case F_PING:
		if (!parse_uint(v, hour_ms, &n))
			goto bad;
		o->ping_ms = (unsigned)n;
		return OPTS_OK;
	case F_PONG:
		if (!parse_uint(v, hour_ms, &n) || n == 0)
			goto bad;
		o->pong_ms = (unsigned)n;
		return OPTS_OK;
	case F_DRAIN:
		if (!parse_uint(v, hour_ms, &n))
			goto bad;
		o->drain_ms = (unsigned)n;
		return OPTS_OK;
	case F_MAXFORKS:
		if (!parse_uint(v, 1000000, &n))
			goto bad;
		o->maxforks = (unsigned)n;
		return OPTS_OK;
	case F_STDERR:
		if (strcmp(v, "log") == 0)
			o->err_mode = STDERR_LOG;
		else if (strcmp(v, "send") == 0)
			o->err_mode = STDERR_SEND;
		else if (strcmp(v, "both") == 0)
			o->err_mode = STDERR_BOTH;
		else if (strcmp(v, "ignore") == 0)
			o->err_mode = STDERR_IGNORE;
		else
			goto bad;
		return OPTS_OK;
	case F_BINARY:
		o->mode = v ? MODE_BINARY : MODE_LINES;
		return OPTS_OK;
	case F_FRAMED:
		o->mode = v ? MODE_FRAMED : MODE_LINES;
		return OPTS_OK;
	case F_SAMEORIGIN:
		o->sameorigin = v != NULL;
		return OPTS_OK;
	case F_DIR:
		free(o->dir);
		if (!(o->dir = realpath(v, NULL))) {
			log_msg(LV_FATAL, "--dir %s: %s", v, strerror(errno));
			return OPTS_FAIL;
		}
		return OPTS_OK;
	case F_ORIGIN:
		if (!add_items(o, &o->origins, v))
			goto bad;
		return OPTS_OK;
	case F_PASSENV:
		if (!add_items(o, &o->passenv, v))
			goto bad;
		return OPTS_OK;
	case F_HEADER:
		if (!add_header(&o->headers, v))
			goto bad;
		return OPTS_OK;
	case F_HEADER_WS:
		if (!add_header(&o->headers_ws, v))
			goto bad;
		return OPTS_OK;
	case F_HEADER_HTTP:
		if (!add_header(&o->headers_http, v))
			goto bad;
		return OPTS_OK;
	case F_LOGLEVEL:
		if (!log_level_parse(v, &o->loglevel))
			goto bad;
		return OPTS_OK;
	case F_LOGFORMAT:
		if (strcmp(v, "text") == 0)
			o->log_format = LOG_TEXT;
		else if (strcmp(v, "json") == 0)
			o->log_format = LOG_JSON;
		else
			goto bad;
		/* At once: start-up errors from here on come in this format. */
		log_format = o->log_format;
		return OPTS_OK;
	case F_UNIX:
		if (!*v || o->unix_paths.n == OPTS_MAX_LIST)
			goto bad;
		o->unix_paths.item[o->unix_paths.n++] = v;
		return OPTS_OK;
	case F_TRUSTPROXY:
		o->trust_proxy = v != NULL;
		return OPTS_OK;
	case F_PROTOCOL: {
		size_t from = o->protocols.n;
		if (!add_items(o, &o->protocols, v))
			goto bad;
		for (size_t i = from; i < o->protocols.n; i++) {
			if (!token_ok(o->protocols.item[i]))
				goto bad;
		}
		return OPTS_OK;
	}
	case F_DEVCONSOLE:
		o->devconsole = v != NULL;
		return OPTS_OK;
	case F_STATICDIR:
		free(o->staticdir);
		if (!(o->staticdir = realpath(v, NULL))) {
			log_msg(LV_FATAL, "--staticdir %s: %s", v,
				strerror(errno));
			return OPTS_FAIL;
		}
		struct stat st;
		if (stat(o->staticdir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			log_msg(LV_FATAL, "--staticdir %s: %s", v,
				strerror(ENOTDIR));
			return OPTS_FAIL;
		}
		return OPTS_OK;
	case F_HEALTH:
		if (!plain_path_ok(v))
			goto bad;
		o->health_path = v;
		return OPTS_OK;
	case F_METRICS:
		if (!plain_path_ok(v))
			goto bad;
		o->metrics_path = v;
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
		v, flag);
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
		if (flags[k].kind == K_VALUE) {
			if (eq) {
				v = eq + 1;
			} else if (*i + 1 < argc) {
				v = argv[++*i];
			} else {
				usage_error("flag %s needs a value", flag);
				return OPTS_USAGE;
			}
		} else if (flags[k].kind == K_BOOL) {
			/* A non-NULL v means on. */
			if (!eq || strcmp(eq + 1, "true") == 0 ||
			    strcmp(eq + 1, "1") == 0) {
				v = "true";
			} else if (strcmp(eq + 1, "false") != 0 &&
				   strcmp(eq + 1, "0") != 0) {
				fprintf(stderr, "portal-gw: invalid value '%s' for "
					"%s (see portal-gw --help)\n", eq + 1, flag);
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
	o->max_head = DEFAULT_MAX_HEAD;
	o->handshake_ms = DEFAULT_HANDSHAKE_MS;
	o->drain_ms = DEFAULT_DRAIN_MS;

	int i = 1, rc;
	bool flags_done = false, program_form = false;
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
			program_form = true;
			break;
		}
	}
	if (o->nresources == 0 && !o->dir) {
		usage_error("%sno resource to serve: give /PATH=COMMAND, PROGRAM "
			    "or --dir DIR", "");
		return OPTS_USAGE;
	}
	if (o->dir && program_form) {
		usage_error("%s--dir serves one program per file; it cannot be "
			    "combined with the PROGRAM form", "");
		return OPTS_USAGE;
	}
	if (o->ping_ms && !o->pong_ms)
		o->pong_ms = o->ping_ms;
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
	free(o->dir);
	free(o->staticdir);
	for (size_t i = 0; i < o->owned.n; i++)
		free((char *)o->owned.item[i]);
	memset(o, 0, sizeof *o);
}
