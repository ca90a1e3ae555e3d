/* Which program serves a request path: the longest /PATH=COMMAND resource,
 * or an executable file of --dir. */
#ifndef PORTAL_ROUTE_H
#define PORTAL_ROUTE_H

#include <limits.h>
#include <stddef.h>

struct options;
struct opts_list;

enum route_kind {
	ROUTE_ONE,       /* /PATH=COMMAND: a program per client (default) */
	ROUTE_BROADCAST, /* --broadcast: each line the program prints to all */
	ROUTE_HUB,       /* --hub: the program sees who is who */
};

struct route {
	enum route_kind kind;   /* ROUTE_ONE for --dir */
	const char *program;    /* what to execute */
	char *const *argv;
	const char *script;     /* SCRIPT_NAME */
	size_t script_len;
	const char *path_info;  /* PATH_INFO: the rest of the path */
	size_t path_info_len;
	/* storage for a --dir match: DIR/segments of the path */
	char dir_program[PATH_MAX];
	char *dir_argv[2];
};

/* Finds the program for path[0..len) (the request path without its query,
 * percent-decoded). A resource longer than "/" wins over --dir, which wins
 * over "/". For --dir, the path's segments name sub-directories and then a
 * regular executable file (symlinks followed), each segment not empty and
 * not starting with '.'; what follows the file is PATH_INFO. The "/"
 * resource of the PROGRAM form serves every path with SCRIPT_NAME "/" and
 * the whole path as PATH_INFO, as websocketd. Returns 0 and fills *r (whose
 * fields point into path, o, r itself or a literal), or 404. */
int route_find(const struct options *o, const char *path, size_t len,
	       struct route *r);

/* True when origin[0..olen) is acceptable under --origin (allowed) and
 * --sameorigin (same, against host[0..hlen), the Host header). Without
 * either, everything is. With either, a request without Origin is allowed
 * (only browsers send one, and they always do), "null" and unparsable
 * origins are not. An allowed entry is host, host:port or
 * scheme://host[:port]; without a port any port matches; hosts compare
 * case-insensitively. Pure. */
_Bool route_origin_ok(const struct opts_list *allowed, _Bool same,
		      const char *origin, size_t olen, const char *host,
		      size_t hlen);

/* The length of the host part of a Host value host[0..len) (a name, an
 * IPv4 address or a bracketed IPv6 address), without its port; len if the
 * value cannot be split. Pure. */
size_t route_host_name_len(const char *host, size_t len);

#endif
