/* The command line: flags, resources, and the split of a COMMAND into argv. */
#ifndef PORTAL_OPTS_H
#define PORTAL_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define OPTS_MAX_ADDRESSES 16

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
