/* The command line: flags, resources, and the split of a COMMAND into argv. */
#ifndef PORTAL_OPTS_H
#define PORTAL_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

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

struct resource {
	char *path;     /* "/echo"; "/" serves every path */
	size_t path_len;
	char **argv;    /* argv[0] as written, NULL-terminated */
	char *program;  /* what is executed: argv[0] resolved through PATH */
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
	bool reverselookup;            /* REMOTE_HOST: the client's name */
	struct opts_list protocols;    /* --protocol: acceptable subprotocols */
	bool devconsole;               /* plain GET to a resource: the console */
	char *staticdir;               /* --staticdir: realpath of the directory */
	const char *health_path;       /* --health PATH, or NULL */
	const char *metrics_path;      /* --metrics PATH, or NULL */
	enum log_format log_format;    /* --log-format */
	struct opts_list owned;        /* storage of the lists above */
	struct resource *resources;
	size_t nresources;
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

/* The usage text printed by --help. */
extern const char opts_usage[];

#endif
