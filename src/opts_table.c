/* The flag table: each flag is described once (name, kind of value, bounds,
 * default, --help text, the struct options field it sets) and one generic
 * setter per kind handles it; only flags that do more have their own.
 * Parsing, --help and the tests (man page, websocketd's flags) all read
 * this table, as tmux's options-table.c is read. The syntax is Go's flag
 * package's, as websocketd takes it. */
#include "opts.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "net.h"

#ifndef PORTAL_VERSION
#define PORTAL_VERSION "dev"
#endif

#define HOUR_MS 3600000LL
#define HELP_COLUMN 24

#define FIELD(f) .off = offsetof(struct options, f), \
		 .size = sizeof(((struct options *)0)->f)

_Static_assert(sizeof(enum stderr_mode) == sizeof(int) &&
		       sizeof(enum log_format) == sizeof(int),
	       "OPTS_CHOICE stores an int");

static void flag_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* One line on stderr, pointing to --help. */
static void flag_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "portal-gw: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (see portal-gw --help)\n");
	va_end(ap);
}

static int bad_value(const struct opts_flag *f, const char *v)
{
	flag_error("invalid value '%s' for --%s", v, f->name);
	return OPTS_USAGE;
}

static void *field(struct options *o, const struct opts_flag *f)
{
	return (char *)o + f->off;
}

/* Digits of base b, and "_" between digits or after a base prefix, as
 * Go's strconv.ParseInt(s, 0, 64) takes them. */
static bool digits_ok(const char *s, int base, bool prefixed)
{
	if (!*s)
		return prefixed && base == 8; /* "0" alone */
	for (const char *p = s; *p; p++) {
		int d = *p >= '0' && *p <= '9'   ? *p - '0'
			: *p >= 'a' && *p <= 'z' ? *p - 'a' + 10
			: *p >= 'A' && *p <= 'Z' ? *p - 'A' + 10
						 : -1;
		if (*p == '_') {
			bool after = p > s ? p[-1] != '_' : prefixed;
			if (!after || !p[1] || p[1] == '_')
				return false;
		} else if (d < 0 || d >= base) {
			return false;
		}
	}
	return true;
}

bool opts_number(const char *s, long long *out)
{
	bool neg = *s == '-';
	if (*s == '-' || *s == '+')
		s++;
	int base = 10;
	const char *d = s;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, d = s + 2;
	else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
		base = 8, d = s + 2;
	else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
		base = 2, d = s + 2;
	else if (s[0] == '0')
		base = 8, d = s + 1;
	if (!digits_ok(d, base, d != s) || (d == s + 2 && !*d))
		return false;
	char buf[80];
	size_t n = 0;
	for (const char *p = d; *p; p++) {
		if (*p == '_')
			continue;
		if (n + 1 == sizeof buf)
			return false;
		buf[n++] = *p;
	}
	buf[n] = '\0';
	errno = 0;
	unsigned long long v = n ? strtoull(buf, NULL, base) : 0;
	if (errno || v > (unsigned long long)LLONG_MAX + neg)
		return false;
	*out = neg ? (long long)(0 - v) : (long long)v;
	return true;
}

/* Go's strconv.ParseBool. */
static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcmp(s, yes[i]) == 0 || strcmp(s, no[i]) == 0) {
			*out = strcmp(s, yes[i]) == 0;
			return true;
		}
	}
	return false;
}

/* --- generic setters: v is the value; NULL turns a bool-like flag off -- */

static int set_bool(struct options *o, const struct opts_flag *f, const char *v)
{
	bool b = v != NULL;
	memcpy(field(o, f), &b, sizeof b);
	return OPTS_OK;
}

static int set_num(struct options *o, const struct opts_flag *f, const char *v)
{
	long long n;
	if (!opts_number(v, &n) || n < f->min || n > f->max)
		return bad_value(f, v);
	if (f->size == sizeof(uint64_t)) {
		uint64_t x = (uint64_t)n;
		memcpy(field(o, f), &x, sizeof x);
	} else {
		unsigned x = (unsigned)n; /* an int or unsigned field */
		memcpy(field(o, f), &x, sizeof x);
	}
	return OPTS_OK;
}

static int set_choice(struct options *o, const struct opts_flag *f,
		      const char *v)
{
	for (int i = 0; f->choices[i]; i++) {
		if (strcmp(v, f->choices[i]) == 0) {
			memcpy(field(o, f), &i, sizeof i);
			return OPTS_OK;
		}
	}
	return bad_value(f, v);
}

static int set_string(struct options *o, const struct opts_flag *f,
		      const char *v)
{
	if (f->valid && !f->valid(v))
		return bad_value(f, v);
	memcpy(field(o, f), &v, sizeof v);
	return OPTS_OK;
}

/* Adds the comma-separated items of v (empty ones skipped). */
static int set_list(struct options *o, const struct opts_flag *f,
		    const char *v)
{
	struct opts_list *l = field(o, f);
	char *copy = strdup(v);
	if (!copy)
		abort();
	if (o->owned.n == OPTS_MAX_LIST) {
		free(copy);
		return bad_value(f, v);
	}
	o->owned.item[o->owned.n++] = copy;
	for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
		while (*tok == ' ')
			tok++;
		if (!*tok)
			continue;
		if (l->n == OPTS_MAX_LIST || (f->valid && !f->valid(tok)))
			return bad_value(f, v);
		l->item[l->n++] = tok;
	}
	return OPTS_OK;
}

/* One item per flag. */
static int set_add(struct options *o, const struct opts_flag *f, const char *v)
{
	struct opts_list *l = field(o, f);
	if (l->n == OPTS_MAX_LIST || (f->valid && !f->valid(v)))
		return bad_value(f, v);
	l->item[l->n++] = v;
	return OPTS_OK;
}

/* A header line. One without ':' is ignored with a warning, as websocketd
 * ignores it, so that a command line that starts websocketd starts this
 * too; a bad name or a CR or LF is refused (it would forge a header). */
static int set_header(struct options *o, const struct opts_flag *f,
		      const char *v)
{
	if (!strchr(v, ':')) {
		log_msg(LV_ERROR, "--%s '%s' has no ':', ignored", f->name, v);
		return OPTS_OK;
	}
	return set_add(o, f, v);
}

/* The realpath of a directory that exists: a start-up failure (exit 1)
 * otherwise, as the resources' programs are. */
static int set_dir(struct options *o, const struct opts_flag *f, const char *v)
{
	char **p = field(o, f);
	struct stat st;
	free(*p);
	*p = realpath(v, NULL);
	if (*p && (stat(*p, &st) < 0 || !S_ISDIR(st.st_mode)))
		errno = ENOTDIR;
	else if (*p)
		return OPTS_OK;
	log_msg(LV_FATAL, "--%s %s: %s", f->name, v, strerror(errno));
	return OPTS_FAIL;
}

/* TLS and its redirect stay in front of portal-gw, which links only libc. */
static int set_refused(struct options *o, const struct opts_flag *f,
		       const char *v)
{
	(void)o;
	if (!v)
		return OPTS_OK; /* --ssl=false asks for nothing */
	fprintf(stderr, "portal-gw: --%s: portal-gw does not do TLS itself; "
		"put a TLS proxy in front (README.md, \"Behind nginx\")\n",
		f->name);
	return OPTS_USAGE;
}

/* --- flags that do more -------------------------------------------- */

static int set_port(struct options *o, const struct opts_flag *f, const char *v)
{
	int rc = set_num(o, f, v);
	o->port_given = rc == OPTS_OK;
	return rc;
}

static int add_address(struct options *o, const char *a)
{
	for (size_t i = 0; i < o->naddresses; i++) {
		if (strcmp(o->addresses[i], a) == 0)
			return OPTS_OK;
	}
	if (o->naddresses == OPTS_MAX_ADDRESSES) {
		flag_error("too many addresses to listen on (at most %d)",
			   OPTS_MAX_ADDRESSES);
		return OPTS_USAGE;
	}
	o->addresses[o->naddresses++] = a;
	return OPTS_OK;
}

/* A numeric address as it is; a host name resolved now, at start, into
 * every address it has (never later: the loop does no lookups). */
static int set_address(struct options *o, const struct opts_flag *f,
		       const char *v)
{
	struct sockaddr_storage a[OPTS_MAX_ADDRESSES];
	char err[128];
	if (net_addr_parse(v, strlen(v), &a[0]) == 0)
		return add_address(o, v);
	int n = net_resolve(v, a, OPTS_MAX_ADDRESSES, err, sizeof err);
	if (n < 0) {
		log_msg(LV_FATAL, "--%s %s: %s", f->name, v, err);
		return OPTS_FAIL;
	}
	for (int i = 0; i < n; i++) {
		char host[NET_ADDR_TEXT];
		net_addr_host(&a[i], host, sizeof host);
		char *copy = strdup(host);
		if (!copy || o->owned.n == OPTS_MAX_LIST)
			abort();
		o->owned.item[o->owned.n++] = copy;
		int rc = add_address(o, copy);
		if (rc != OPTS_OK)
			return rc;
	}
	return OPTS_OK;
}

/* websocketd: "unlimited when 0 or negative". */
static int set_maxforks(struct options *o, const struct opts_flag *f,
			const char *v)
{
	long long n;
	if (!opts_number(v, &n) || n > f->max)
		return bad_value(f, v);
	o->maxforks = n < 0 ? 0 : (unsigned)n;
	return OPTS_OK;
}

/* --broadcast and --hub: f->min is the route_kind. */
static int set_shared(struct options *o, const struct opts_flag *f,
		      const char *v)
{
	if (v[0] != '/' || !strchr(v, '='))
		return bad_value(f, v);
	return opts_add_resource(o, v, (enum route_kind)f->min);
}

/* --binary and --framed: f->min is the mode when on. */
static int set_mode(struct options *o, const struct opts_flag *f, const char *v)
{
	o->mode = v ? (enum msg_mode)f->min : MODE_LINES;
	return OPTS_OK;
}

static int set_loglevel(struct options *o, const struct opts_flag *f,
			const char *v)
{
	return log_level_parse(v, &o->loglevel) ? OPTS_OK : bad_value(f, v);
}

/* At once: start-up errors from here on come in this format. */
static int set_log_format(struct options *o, const struct opts_flag *f,
			  const char *v)
{
	int rc = set_choice(o, f, v);
	if (rc == OPTS_OK)
		log_format = o->log_format;
	return rc;
}

/* Even --help=false, as Go's flag package answers -help and -h. */
static int show_help(struct options *o, const struct opts_flag *f,
		     const char *v)
{
	(void)o, (void)f, (void)v;
	opts_help(stdout);
	return OPTS_EXIT;
}

static int show_version(struct options *o, const struct opts_flag *f,
			const char *v)
{
	(void)o, (void)f;
	if (!v)
		return OPTS_OK;
	printf("portal-gw %s\n", PORTAL_VERSION);
	return OPTS_EXIT;
}

static int show_license(struct options *o, const struct opts_flag *f,
			const char *v)
{
	(void)o, (void)f;
	if (!v)
		return OPTS_OK;
	fputs(opts_license, stdout);
	return OPTS_EXIT;
}

/* --- validators ------------------------------------------------------ */

static bool is_tchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* "Name: value" with a token name and no CR or LF anywhere. */
static bool header_ok(const char *v)
{
	const char *colon = strchr(v, ':');
	if (!colon || colon == v || strpbrk(v, "\r\n"))
		return false;
	for (const char *p = v; p < colon; p++) {
		if (!is_tchar(*p))
			return false;
	}
	return true;
}

/* A subprotocol name: an RFC 9110 token. */
static bool token_ok(const char *v)
{
	for (const char *p = v; *p; p++) {
		if (!is_tchar(*p))
			return false;
	}
	return *v != '\0';
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

static bool nonempty(const char *v)
{
	return *v != '\0';
}

static const char *const stderr_modes[] = {"log", "send", "both", "ignore",
					   NULL};
static const char *const log_formats[] = {"text", "json", NULL};

/* --- the table ------------------------------------------------------- */

const struct opts_flag opts_flags[] = {
	{"port", OPTS_NUM, "N", "TCP port; 0: any free (default $PORT, else 8080)",
	 .group = "listening", .min = 0, .max = 65535, .set = set_port,
	 FIELD(port)},
	{"address", OPTS_STRING, "ADDR",
	 "IP address or host name (all its addresses) to\nlisten on "
	 "(repeatable; default: all)", .set = set_address},
	{"maxforks", OPTS_NUM, "N",
	 "at most N children at once; 503 beyond (0 or less:\nno limit)",
	 .max = 1000000, .set = set_maxforks, FIELD(maxforks)},
	{"maxconns", OPTS_NUM, "N",
	 "at most N connections of every kind at once; 503\nbeyond (0: no limit)",
	 .max = 1000000, FIELD(maxconns)},
	{"origin", OPTS_LIST, "LIST",
	 "allowed Origins: host, host:port, scheme://host[:port]",
	 FIELD(origins)},
	{"sameorigin", OPTS_BOOL, NULL, "Origin must match Host",
	 FIELD(sameorigin)},
	{"header", OPTS_ADD, "'N: V'",
	 "add a header to every response (repeatable)", .valid = header_ok,
	 .set = set_header, FIELD(headers)},
	{"header-ws", OPTS_ADD, "'N: V'", "... to 101 responses only",
	 .valid = header_ok, .set = set_header, FIELD(headers_ws)},
	{"header-http", OPTS_ADD, "'N: V'", "... to other HTTP responses only",
	 .valid = header_ok, .set = set_header, FIELD(headers_http)},
	{"unix", OPTS_ADD, "PATH",
	 "listen on a Unix socket (repeatable; then TCP only\nwith --port or "
	 "--address)", .valid = nonempty, FIELD(unix_paths)},
	{"trust-proxy", OPTS_BOOL, NULL,
	 "take REMOTE_ADDR, HTTPS, SERVER_NAME, SERVER_PORT from\n"
	 "X-Forwarded-For, -Proto, -Host and -Port (only behind a\n"
	 "proxy you run)", FIELD(trust_proxy)},
	{"protocol", OPTS_LIST, "LIST",
	 "subprotocols to accept (comma list); the client's\nfirst offered "
	 "one in LIST is chosen", .valid = token_ok, FIELD(protocols)},
	{"reuseport", OPTS_BOOL, NULL,
	 "share the port with other portal-gw processes\n(SO_REUSEPORT); "
	 "SIGTERM closes the listener at once", FIELD(reuseport)},

	{"devconsole", OPTS_BOOL, NULL,
	 "a plain GET to a resource serves a test page", .group = "plain HTTP",
	 FIELD(devconsole)},
	{"staticdir", OPTS_DIR, "DIR", "serve the files of DIR to plain GETs",
	 FIELD(staticdir)},
	{"cgidir", OPTS_DIR, "DIR", "run the CGI scripts of DIR for plain requests",
	 FIELD(cgidir)},
	{"health", OPTS_STRING, "PATH", "200 while serving, 503 while shutting down",
	 .valid = plain_path_ok, FIELD(health_path)},
	{"metrics", OPTS_STRING, "PATH", "Prometheus metrics",
	 .valid = plain_path_ok, FIELD(metrics_path)},

	{"dir", OPTS_DIR, "DIR", "serve each executable file DIR/NAME at /NAME",
	 .group = "programs", FIELD(dir)},
	{"passenv", OPTS_LIST, "LIST",
	 "pass these environment variables (comma list;\nPATH always)",
	 .def = "PATH,LD_LIBRARY_PATH", FIELD(passenv)},
	{"binary", OPTS_BOOL, NULL, "raw bytes both ways; binary messages out",
	 .min = MODE_BINARY, .set = set_mode},
	{"framed", OPTS_BOOL, NULL,
	 "exact messages both ways as 'T text' / 'B base64'\nlines (see man "
	 "portal-gw, FRAMED MODE)", .min = MODE_FRAMED, .set = set_mode},
	{"stderr", OPTS_CHOICE, "MODE",
	 "log, send (to the client only), both or\nignore", .def = "log",
	 .choices = stderr_modes, FIELD(err_mode)},
	{"closems", OPTS_NUM, "MS", "extra grace before SIGINT, SIGTERM and SIGKILL",
	 .max = HOUR_MS, FIELD(closems)},
	{"reverselookup", OPTS_BOOL, NULL,
	 "REMOTE_HOST from a reverse lookup of the client", FIELD(reverselookup)},

	{"broadcast", OPTS_STRING, "/PATH=COMMAND",
	 "one COMMAND for all clients of PATH: each line it\nprints goes to "
	 "every one (repeatable)", .group = "shared routes (man portal-gw, "
	 "SHARED ROUTES)", .min = ROUTE_BROADCAST, .set = set_shared},
	{"hub", OPTS_STRING, "/PATH=COMMAND",
	 "one COMMAND for all clients of PATH that sees who\nis who "
	 "(repeatable)", .min = ROUTE_HUB, .set = set_shared},
	{"history", OPTS_NUM, "N",
	 "a client joining a broadcast route first gets the\nlast N lines",
	 .max = 10000, FIELD(history)},
	{"linger", OPTS_NUM, "MS",
	 "end a shared program this long after its last\nclient left (0: at "
	 "once; -1: never)", .def = "5000", .min = -1, .max = HOUR_MS,
	 FIELD(linger_ms)},
	{"maxclients", OPTS_NUM, "N",
	 "at most N clients per shared route; 503 beyond\n(0: no limit)",
	 .max = 1000000, FIELD(maxclients)},
	{"maxqueue", OPTS_NUM, "BYTES",
	 "bytes queued for one client of a shared route;\nbeyond, it is "
	 "closed (1008)", .def = "1048576", .min = 1, .max = LLONG_MAX,
	 FIELD(max_queue)},
	{"hub-header", OPTS_LIST, "LIST",
	 "request headers passed to a hub as '=ID Name value'\nlines (comma "
	 "list)", .valid = token_ok, FIELD(hub_headers)},

	{"max-message", OPTS_NUM, "BYTES", "largest client message",
	 .group = "limits", .def = "1048576", .min = 1, .max = LLONG_MAX,
	 FIELD(max_message)},
	{"max-head", OPTS_NUM, "BYTES", "largest request head", .def = "32768",
	 .min = 256, .max = 1024 * 1024, FIELD(max_head)},
	{"handshake-timeout", OPTS_NUM, "MS", "time for the request head",
	 .def = "10000", .min = 1, .max = HOUR_MS, FIELD(handshake_ms)},
	{"ping-interval", OPTS_NUM, "MS", "ping each client this often (0: never)",
	 .max = HOUR_MS, FIELD(ping_ms)},
	{"ping-timeout", OPTS_NUM, "MS",
	 "end a session with no pong in time (default: interval)", .min = 1,
	 .max = HOUR_MS, FIELD(pong_ms)},
	{"drain-timeout", OPTS_NUM, "MS",
	 "SIGTERM: kill what is left after this", .def = "25000",
	 .max = HOUR_MS, FIELD(drain_ms)},

	{"loglevel", OPTS_CHOICE, "LEVEL",
	 "debug, trace, access, info, error, fatal\nor none", .group = "other",
	 .def = "access", .set = set_loglevel},
	{"log-format", OPTS_CHOICE, "FORMAT", "text or json", .def = "text",
	 .choices = log_formats, .set = set_log_format, FIELD(log_format)},
	{"help", OPTS_ACTION, NULL, "print this and exit", .set = show_help},
	{"h", OPTS_ACTION, NULL, NULL, .set = show_help},
	{"version", OPTS_ACTION, NULL, "print the version and exit",
	 .set = show_version},
	{"license", OPTS_ACTION, NULL, "print the licence statement and exit",
	 .set = show_license},

	{"ssl", OPTS_REFUSED, NULL, "",
	 .group = "websocketd's TLS flags, refused (put a TLS proxy in front:\n"
		  "README.md, \"Behind nginx\")"},
	{"sslcert", OPTS_REFUSED, "FILE", .help = ""},
	{"sslkey", OPTS_REFUSED, "FILE", .help = ""},
	{"redirport", OPTS_REFUSED, "N", .help = ""},
};

const size_t opts_nflags = sizeof opts_flags / sizeof opts_flags[0];
_Static_assert(sizeof opts_flags / sizeof opts_flags[0] <= OPTS_NFLAGS_MAX,
	       "OPTS_NFLAGS_MAX holds every flag");

const char opts_license[] =
	"portal-gw " PORTAL_VERSION "\n"
	"\n"
	"No licence has been stated for portal-gw: its sources carry no\n"
	"LICENSE file, and neither its README nor its manual names one.\n"
	"Until the authors state one, no rights beyond those the law gives\n"
	"are granted; ask them before you copy or redistribute it.\n";

static int (*const setters[])(struct options *, const struct opts_flag *,
			      const char *) = {
	[OPTS_BOOL] = set_bool,     [OPTS_NUM] = set_num,
	[OPTS_CHOICE] = set_choice, [OPTS_STRING] = set_string,
	[OPTS_LIST] = set_list,     [OPTS_ADD] = set_add,
	[OPTS_DIR] = set_dir,       [OPTS_ACTION] = NULL,
	[OPTS_REFUSED] = set_refused,
};

static int set(struct options *o, const struct opts_flag *f, const char *v)
{
	return f->set ? f->set(o, f, v) : setters[f->type](o, f, v);
}

void opts_defaults(struct options *o)
{
	for (size_t k = 0; k < opts_nflags; k++) {
		if (opts_flags[k].def && set(o, &opts_flags[k],
					     opts_flags[k].def) != OPTS_OK)
			abort(); /* a default the table's own setter refuses */
	}
}

int opts_flag_parse(struct options *o, int argc, char **argv, int *i,
		    bool seen[OPTS_NFLAGS_MAX])
{
	const char *arg = argv[*i];
	const char *name = arg + (arg[1] == '-' ? 2 : 1);
	if (!*name || *name == '-' || *name == '=') {
		flag_error("bad flag syntax: %s", arg);
		return OPTS_USAGE;
	}
	const char *eq = strchr(name, '=');
	size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
	for (size_t k = 0; k < opts_nflags; k++) {
		const struct opts_flag *f = &opts_flags[k];
		if (strlen(f->name) != nlen || strncmp(f->name, name, nlen) != 0)
			continue;
		const char *v = "true";
		bool on = true;
		if (f->arg && eq) {
			v = eq + 1;
		} else if (f->arg && *i + 1 < argc) {
			v = argv[++*i];
		} else if (f->arg) {
			flag_error("flag --%s needs a value", f->name);
			return OPTS_USAGE;
		} else if (eq && !parse_bool(eq + 1, &on)) {
			return bad_value(f, eq + 1);
		} else if (eq && !on) {
			v = NULL;
		}
		/* Given on the command line, a list replaces its default;
		 * given again, it adds up. */
		if (!seen[k] && (f->type == OPTS_LIST || f->type == OPTS_ADD))
			((struct opts_list *)field(o, f))->n = 0;
		seen[k] = true;
		return set(o, f, v);
	}
	flag_error("unknown flag '%s'", arg);
	return OPTS_USAGE;
}

static const char help_head[] =
	"usage: portal-gw [OPTIONS] /PATH=COMMAND [/PATH=COMMAND ...]\n"
	"       portal-gw [OPTIONS] --dir DIR [/PATH=COMMAND ...]\n"
	"       portal-gw [OPTIONS] PROGRAM [ARGS ...]\n"
	"       portal-gw [OPTIONS] --staticdir DIR\n"
	"\n"
	"Serves WebSocket clients: each client gets its own COMMAND; every text\n"
	"message becomes a line on its stdin, every line it prints becomes a\n"
	"text message, its stderr is logged, and its exit status closes the\n"
	"connection (0: 1000, otherwise 1011). COMMAND is split like a shell\n"
	"would but never run by one. /PATH also serves /PATH/anything.\n"
	"\n";

static const char help_tail[] =
	"\n"
	"Flags may also be written -flag, --flag=value or -flag=value; a flag\n"
	"without a value takes =true or =false; -- ends the flags.\n"
	"See man portal-gw for the details.\n";

void opts_help(FILE *out)
{
	fputs(help_head, out);
	for (size_t k = 0; k < opts_nflags; k++) {
		const struct opts_flag *f = &opts_flags[k];
		if (f->group)
			fprintf(out, "%s:\n", f->group);
		if (!f->help)
			continue;
		int n = fprintf(out, "  --%s%s%s", f->name, f->arg ? " " : "",
				f->arg ? f->arg : "");
		if (*f->help)
			fprintf(out, "%*s", n < HELP_COLUMN - 1 ? HELP_COLUMN - n : 2,
				"");
		for (const char *p = f->help; *p; p++) {
			fputc(*p, out);
			if (*p == '\n')
				fprintf(out, "%*s", HELP_COLUMN, "");
		}
		if (f->def)
			fprintf(out, " (default %s)", f->def);
		fputc('\n', out);
	}
	fputs(help_tail, out);
}
