/* The command line: flags, resources, and the split of a COMMAND into argv. */
#ifndef PORTAL_OPTS_H
#define PORTAL_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"
#include "route.h"

#define OPTS_MAX_ADDRESSES 16
#define OPTS_MAX_LIST 32 /* entries of a repeatable or comma-list flag */

/* A flag's values: repeated flags and comma-separated items add up. */
struct opts_list {
	const char *item[OPTS_MAX_LIST];
	size_t n;
};

enum stderr_mode {
	STDERR_LOG,    /* log each line (default) */
	STDERR_SEND,   /* send each line to the client as a text message */
	STDERR_BOTH,   /* both */
	STDERR_IGNORE, /* read and drop */
};

enum msg_mode {
	MODE_LINES,  /* text messages <-> lines (default) */
	MODE_BINARY, /* --binary: raw bytes both ways, binary messages out */
	MODE_FRAMED, /* --framed: "T text" / "B base64" lines both ways */
};

/* What a resource runs: a program per client, or one for all its clients
 * (man portal-gw, SHARED ROUTES). */
struct resource {
	char *path;     /* "/echo"; "/" serves every path */
	size_t path_len;
	char **argv;    /* argv[0] as written, NULL-terminated */
	char *program;  /* what is executed: argv[0] resolved through PATH */
	enum route_kind kind;
};

struct options {
	const char *addresses[OPTS_MAX_ADDRESSES];
	size_t naddresses;
	int port;              /* -1 when not given */
	unsigned closems;
	enum log_level loglevel;
	uint64_t max_message;
	size_t max_head;          /* bytes of a request head; 431 beyond */
	unsigned handshake_ms;    /* for the whole request head; 408 after */
	unsigned ping_ms;         /* 0: no server pings */
	unsigned pong_ms;         /* a pong must come within this */
	unsigned drain_ms;        /* shutdown: SIGKILL everything after this */
	unsigned maxforks;        /* 0: no limit */
	enum stderr_mode err_mode;
	enum msg_mode mode;
	bool sameorigin;
	struct opts_list origins;
	struct opts_list passenv;
	struct opts_list headers;      /* on every response */
	struct opts_list headers_ws;   /* on 101 responses */
	struct opts_list headers_http; /* on other responses */
	char *dir;                     /* --dir: realpath of the directory */
	bool port_given;               /* --port was on the command line */
	struct opts_list unix_paths;   /* --unix: Unix socket paths */
	bool trust_proxy;              /* take REMOTE_ADDR, HTTPS from X-Forwarded-* */
	struct opts_list protocols;    /* --protocol: acceptable subprotocols */
	bool reuseport;                /* --reuseport: SO_REUSEPORT listeners */
	bool devconsole;               /* plain GET to a resource: the console */
	char *staticdir;               /* --staticdir: realpath of the directory */
	char *cgidir;                  /* --cgidir: realpath of the directory */
	bool reverselookup;            /* --reverselookup: REMOTE_HOST by name */
	const char *health_path;       /* --health PATH, or NULL */
	const char *metrics_path;      /* --metrics PATH, or NULL */
	enum log_format log_format;    /* --log-format */
	unsigned maxconns;             /* all connections; 0: no limit */
	unsigned history;              /* --history: lines a broadcast joiner gets */
	int linger_ms;                 /* shared program's EOF after; -1: never */
	unsigned maxclients;           /* clients per shared route; 0: no limit */
	size_t max_queue;              /* bytes queued per shared-route client */
	struct opts_list hub_headers;  /* --hub-header: names passed as =ID lines */
	struct opts_list owned;        /* storage of the lists above */
	struct resource *resources;
	size_t nresources;
	size_t nshared;                /* resources of kind broadcast or hub */
};

enum {
	OPTS_OK = 0,    /* run with *o */
	OPTS_EXIT = 1,  /* --help or --version printed: exit 0 */
	OPTS_USAGE = 2, /* a usage error was printed: exit 2 */
	OPTS_FAIL = 3,  /* a resource cannot run (printed): exit 1 */
};

/* Parses argv into *o, printing help, version or one line naming the bad
 * flag or argument to stdout/stderr. Resolves and checks every program.
 * Returns an OPTS_ value. */
int opts_parse(int argc, char **argv, struct options *o);

/* Adds arg, "/PATH=COMMAND", as a resource of that kind: a usage error
 * (printed) for a bad path, a bad COMMAND or a PATH given before, a failure
 * for a program that cannot run. Returns an OPTS_ value. */
int opts_add_resource(struct options *o, const char *arg, enum route_kind kind);

/* Releases what opts_parse allocated. */
void opts_free(struct options *o);

/* Splits s into words with shell-like quoting but no expansion: blanks
 * separate words, '...' is literal, "..." is literal except that \ escapes
 * " \ $ ` and newline, and an unquoted \ escapes the next character.
 * Words are written NUL-terminated to out (room for strlen(s) + 1 bytes
 * suffices) and pointed to from argv[0..max), NULL-terminated.
 * Returns the word count, -1 for an unterminated quote or trailing \, or
 * -2 if there are max or more words. */
int opts_split(const char *s, char *out, char **argv, size_t max);

/* --- the flag table (opts_table.c) ---------------------------------- */

enum opts_type {
	OPTS_BOOL,    /* bool: --flag, or --flag=BOOL (Go's strconv.ParseBool) */
	OPTS_NUM,     /* int, unsigned, size_t or uint64_t: a Go base-0 integer
		       * (0x10, 010, 0b1, 1_000, +5, -1) in [min, max] */
	OPTS_CHOICE,  /* an enum: the index of the value in choices */
	OPTS_STRING,  /* const char *: the value itself */
	OPTS_LIST,    /* struct opts_list: comma-separated items; repeatable */
	OPTS_ADD,     /* struct opts_list: one item per flag; repeatable */
	OPTS_DIR,     /* char *: realpath of an existing directory, else exit 1 */
	OPTS_ACTION,  /* prints something and exits 0 (--help, ...) */
	OPTS_REFUSED, /* a websocketd flag portal-gw refuses, saying why */
};

/* One flag, described once: parsing, --help and the tests read this. */
struct opts_flag {
	const char *name;  /* "max-head": --max-head, -max-head */
	enum opts_type type;
	const char *arg;   /* the value's name in --help; NULL: no value, but
			    * =true or =false (on or off) */
	const char *help;  /* --help text, '\n' continues it; NULL: unlisted */
	const char *group; /* starts a --help section */
	const char *def;   /* default, as on the command line; NULL: zero */
	long long min, max;           /* OPTS_NUM bounds */
	const char *const *choices;   /* OPTS_CHOICE: NULL-terminated */
	bool (*valid)(const char *v); /* each value or list item */
	/* Instead of the type's generic setter; v is the value, or "true"
	 * or NULL (off) for a flag without one. Returns an OPTS_ value. */
	int (*set)(struct options *o, const struct opts_flag *f, const char *v);
	size_t off, size;  /* the field of struct options it sets */
};

#define OPTS_NFLAGS_MAX 64

extern const struct opts_flag opts_flags[];
extern const size_t opts_nflags;

/* What --license prints. */
extern const char opts_license[];

/* Sets every flag's default (call on a zeroed *o). */
void opts_defaults(struct options *o);

/* Handles argv[*i], a flag, as Go's flag package would (-flag or --flag,
 * =value or the next argument; no value for a bool, or =BOOL); may consume
 * the next argument. seen[k] notes that opts_flags[k] was given, so that a
 * list's first value replaces its default. Returns an OPTS_ value. */
int opts_flag_parse(struct options *o, int argc, char **argv, int *i,
		    bool seen[OPTS_NFLAGS_MAX]);

/* Parses s as Go's strconv.ParseInt(s, 0, 64) does. */
bool opts_number(const char *s, long long *out);

/* Writes the --help text, made from the table. */
void opts_help(FILE *out);

#endif
