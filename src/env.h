/* Builds a child's environment (CGI/1.1, RFC 3875) in caller storage. Pure:
 * no syscalls, no allocation. */
#ifndef PORTAL_ENV_H
#define PORTAL_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"

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

/* A request as the CGI rules see it. Texts are views (ptr, len) unless
 * said to be NUL-terminated; the caller did every lookup (getenv, the
 * address's text, the reverse lookup) beforehand. */
struct env_request {
	const char *path;      /* the gateway's PATH (NUL-terminated) */
	const char *software;  /* SERVER_SOFTWARE (NUL-terminated) */
	const char *method;    /* REQUEST_METHOD; NULL: GET */
	size_t method_len;
	bool plain_http;       /* a plain HTTP request (--cgidir): CONTENT_*
				  only as the caller added them, as RFC 3875
				  and Go's net/http/cgi have it */
	const char *server_name; /* the Host header's host part (with
				    forwarded: X-Forwarded-Host's, if sent) */
	size_t server_name_len;
	const char *server_port; /* ... its port; NULL: none */
	size_t server_port_len;
	bool unix_socket;      /* the request came over a Unix socket */
	bool forwarded;        /* --trust-proxy: the proxy names the port,
				  also over a Unix socket */
	const char *fwd_port;  /* with forwarded: X-Forwarded-Port's last
				  element, or NULL */
	size_t fwd_port_len;
	const char *target;    /* REQUEST_URI: the request-target as sent */
	size_t target_len;
	const char *decoded;   /* the path, percent-decoded (env_decode_path) */
	size_t decoded_len;
	const char *script;    /* SCRIPT_NAME: a view into decoded */
	size_t script_len;
	const char *path_info; /* PATH_INFO: a view into decoded */
	size_t path_info_len;
	const char *query;     /* QUERY_STRING as sent; NULL when absent */
	size_t query_len;
	int tls;               /* 1 https, 0 http, -1 unknown (no HTTPS, no
				  REQUEST_SCHEME; SERVER_PORT defaults to 80) */
	const char *protocol;  /* WEBSOCKET_PROTOCOL, or NULL */
	const char *remote_addr; /* NUL-terminated */
	const char *remote_host; /* the client's name, or its address */
	int remote_port;
	const char *unique_id; /* NUL-terminated */
	const struct http_header *headers;
	size_t num_headers;
	const char *const *pass_names;  /* --passenv: names and the gateway's */
	const char *const *pass_values; /* values (NULL when unset) */
	size_t npass;
	bool route_only;       /* a shared route's program: nothing of one
				  client (no REQUEST_URI, PATH_INFO,
				  PATH_TRANSLATED, QUERY_STRING, REMOTE_*,
				  UNIQUE_ID, WEBSOCKET_PROTOCOL, HTTP_*) */
};

/* Adds the whole environment of a child for rq, in this order: PATH (always:
 * a child that runs programs needs it), the
 * CGI/1.1 variables (RFC 3875 4.1; SERVER_NAME and SERVER_PORT as the
 * client addressed the server, from Host, as websocketd: the port of the
 * scheme when Host has none, 0 over a Unix socket; when forwarded, the
 * port is fwd_port if that is a port number, else server_port, else the
 * scheme's, over a Unix socket too; AUTH_TYPE, CONTENT_LENGTH,
 * CONTENT_TYPE, REMOTE_IDENT and REMOTE_USER are set empty, as websocketd
 * does, for scripts that read them unchecked), HTTP_* for each request
 * header (repeats joined; "Proxy" left out: httpoxy, CVE-2016-5385), then
 * the --passenv variables that are set and are neither a CGI name
 * (env_is_cgi_name) nor already present, so that no passed variable can
 * describe the request falsely. */
void env_build(struct env *e, const struct env_request *rq);

/* True for a name that describes the request and so comes only from it:
 * the CGI/1.1 variables, HTTPS, REQUEST_SCHEME, REQUEST_URI, UNIQUE_ID,
 * WEBSOCKET_PROTOCOL and every HTTP_* but HTTP_PROXY (never set from a
 * request; a proxy setting for programs). */
bool env_is_cgi_name(const char *name);

/* Percent-decodes a request path in[0..len) into out (room for len bytes;
 * out may be in). Returns the decoded length, or -1 for a '%' not followed
 * by two hex digits or one that decodes to NUL (a path no environment
 * variable can hold). '+' stays '+' (RFC 3875 4.1.5: not a query). */
long env_decode_path(const char *in, size_t len, char *out);

/* NULL-terminates the list and returns it. */
char **env_finish(struct env *e);

#endif
