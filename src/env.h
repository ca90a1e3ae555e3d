/* Builds a child's environment (CGI/1.1, RFC 3875) in caller storage. Pure:
 * no syscalls, no allocation. */
#ifndef PORTAL_ENV_H
#define PORTAL_ENV_H

#include <stdbool.h>
#include <stddef.h>

struct env {
	char *buf; /* "NAME=value\0" strings are packed here */
	size_t cap, used;
	char **vars; /* pointers into buf, NULL-terminated by env_finish */
	size_t max, n;
	bool overflow; /* something did not fit and was left out */
};

void env_init(struct env *e, char *buf, size_t cap, char **vars, size_t max);

/* Adds NAME=value with value[0..len). CR, LF and NUL in the value become
 * spaces, so no value can smuggle a second line or variable. */
void env_add(struct env *e, const char *name, const char *value, size_t len);

/* Adds HTTP_<NAME> for a request header: letters upper-cased, '-' -> '_'.
 * A name with any character other than a letter, digit or '-' is dropped
 * (so "X_Y" cannot pose as "X-Y"). When the same variable is already
 * present, the value is appended after ", " (RFC 9110 5.3). */
void env_add_header(struct env *e, const char *name, size_t name_len,
		    const char *value, size_t value_len);

/* True when NAME is already set. */
bool env_has(const struct env *e, const char *name);

/* NULL-terminates the list and returns it. */
char **env_finish(struct env *e);

#endif
