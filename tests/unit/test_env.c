/* env: the CGI environment builder. */
#include <stdbool.h>
#include <string.h>

#include "check.h"
#include "env.h"

static const char *find(char **vars, const char *name)
{
	size_t n = strlen(name);
	for (; *vars; vars++) {
		if (strncmp(*vars, name, n) == 0 && (*vars)[n] == '=')
			return *vars + n + 1;
	}
	return NULL;
}

static bool eq(char **vars, const char *name, const char *want)
{
	const char *v = find(vars, name);
	if (v && strcmp(v, want) == 0)
		return true;
	fprintf(stderr, "    %s: got '%s', want '%s'\n", name, v ? v : "(unset)",
		want);
	return false;
}

static size_t count(char **vars, const char *name)
{
	size_t n = 0, len = strlen(name);
	for (; *vars; vars++)
		n += strncmp(*vars, name, len) == 0 && (*vars)[len] == '=';
	return n;
}

/* The decoded path, or "(invalid)". */
static const char *decode(const char *in)
{
	static char out[64];
	long n = env_decode_path(in, strlen(in), out);
	if (n < 0)
		return "(invalid)";
	out[n] = '\0';
	return out;
}

/* A request for /any/pa%20th?x=1 served by the PROGRAM form (SCRIPT_NAME
 * "/", the whole decoded path as PATH_INFO), as websocketd gives it. */
static void test_build(void)
{
	static char buf[8192];
	char *vars[64];
	struct env e;
	struct http_header h[] = {
		{ "Host", 4, "example.com:8080", 16 },
		{ "Proxy", 5, "http://evil", 11 },
		{ "X-Rep", 5, "a", 1 },
		{ "x-rep", 5, "b", 1 },
	};
	const char *names[] = { "FOO", "HTTPS", "REMOTE_USER", "HTTP_HOST",
				"HTTP_X_OTHER", "HTTP_PROXY", "UNSET", "PATH" };
	const char *values[] = { "foo", "on", "root", "evil", "x", "http://p:3128",
				 NULL, "/elsewhere" };
	const char *target = "/any/pa%20th?x=1";
	char decoded[16];
	long dl = env_decode_path(target, 12, decoded);
	CHECK_INT(dl, 10);
	struct env_request rq = {
		.path = "/usr/bin:/bin",
		.software = "portal-gw/test",
		.server_name = "example.com",
		.server_name_len = 11,
		.server_port = "8080",
		.server_port_len = 4,
		.target = target,
		.target_len = strlen(target),
		.decoded = decoded,
		.decoded_len = (size_t)dl,
		.script = "/",
		.script_len = 1,
		.path_info = decoded,
		.path_info_len = (size_t)dl,
		.query = "x=1",
		.query_len = 3,
		.tls = -1,
		.remote_addr = "127.0.0.1",
		.remote_host = "127.0.0.1",
		.remote_port = 40000,
		.unique_id = "u1",
		.headers = h,
		.num_headers = 4,
		.pass_names = names,
		.pass_values = values,
		.npass = 8,
	};
	env_init(&e, buf, sizeof buf, vars, 64);
	env_build(&e, &rq);
	char **v = env_finish(&e);
	CHECK(!e.overflow);
	CHECK(eq(v, "PATH", "/usr/bin:/bin"));
	CHECK(find(v, "LD_LIBRARY_PATH") == NULL);
	CHECK(eq(v, "GATEWAY_INTERFACE", "CGI/1.1"));
	CHECK(eq(v, "SERVER_SOFTWARE", "portal-gw/test"));
	CHECK(eq(v, "SERVER_PROTOCOL", "HTTP/1.1"));
	CHECK(eq(v, "REQUEST_METHOD", "GET"));
	CHECK(eq(v, "SERVER_NAME", "example.com"));
	CHECK(eq(v, "SERVER_PORT", "8080"));
	CHECK(eq(v, "REQUEST_URI", "/any/pa%20th?x=1"));
	CHECK(eq(v, "SCRIPT_NAME", "/"));
	CHECK(eq(v, "PATH_INFO", "/any/pa th"));
	CHECK(eq(v, "PATH_TRANSLATED", "/any/pa th"));
	CHECK(eq(v, "QUERY_STRING", "x=1"));
	CHECK(eq(v, "REMOTE_ADDR", "127.0.0.1"));
	CHECK(eq(v, "REMOTE_HOST", "127.0.0.1"));
	CHECK(eq(v, "REMOTE_PORT", "40000"));
	CHECK(eq(v, "UNIQUE_ID", "u1"));
	/* Set empty, as websocketd does. */
	CHECK(eq(v, "AUTH_TYPE", ""));
	CHECK(eq(v, "CONTENT_LENGTH", ""));
	CHECK(eq(v, "CONTENT_TYPE", ""));
	CHECK(eq(v, "REMOTE_IDENT", ""));
	CHECK(eq(v, "REMOTE_USER", ""));
	/* The scheme is unknown without a proxy to say it. */
	CHECK(find(v, "REQUEST_SCHEME") == NULL);
	CHECK(find(v, "WEBSOCKET_PROTOCOL") == NULL);
	CHECK(eq(v, "HTTP_HOST", "example.com:8080"));
	CHECK(eq(v, "HTTP_X_REP", "a, b"));
	/* --passenv: only what describes no request, and never twice. */
	CHECK(eq(v, "FOO", "foo"));
	CHECK(find(v, "HTTPS") == NULL);
	CHECK(find(v, "HTTP_X_OTHER") == NULL);
	CHECK(find(v, "UNSET") == NULL);
	CHECK_INT(count(v, "REMOTE_USER"), 1);
	CHECK_INT(count(v, "HTTP_HOST"), 1);
	CHECK_INT(count(v, "PATH"), 1);
	CHECK(eq(v, "PATH", "/usr/bin:/bin"));
	/* The Proxy header never becomes HTTP_PROXY (httpoxy); a passed
	 * HTTP_PROXY is the gateway's proxy setting and goes through. */
	CHECK(eq(v, "HTTP_PROXY", "http://p:3128"));

	/* --dir: /sub/deep.sh/x%2Fy, a proxy saying https, a subprotocol. */
	const char *t2 = "/sub/deep.sh/x%2Fy";
	dl = env_decode_path(t2, strlen(t2), decoded);
	CHECK_INT(dl, 16);
	rq.target = t2;
	rq.target_len = strlen(t2);
	rq.decoded_len = (size_t)dl;
	rq.script_len = 12;
	rq.script = decoded;
	rq.path_info = decoded + 12;
	rq.path_info_len = 4;
	rq.query = NULL;
	rq.query_len = 0;
	rq.tls = 1;
	rq.protocol = "chat";
	rq.remote_host = "client.example";
	rq.npass = 0;
	env_init(&e, buf, sizeof buf, vars, 64);
	env_build(&e, &rq);
	v = env_finish(&e);
	CHECK(!e.overflow);
	CHECK(eq(v, "SCRIPT_NAME", "/sub/deep.sh"));
	CHECK(eq(v, "PATH_INFO", "/x/y"));
	CHECK(eq(v, "PATH_TRANSLATED", "/sub/deep.sh/x/y"));
	CHECK(eq(v, "QUERY_STRING", ""));
	CHECK(eq(v, "HTTPS", "on"));
	CHECK(eq(v, "REQUEST_SCHEME", "https"));
	CHECK(eq(v, "WEBSOCKET_PROTOCOL", "chat"));
	CHECK(eq(v, "REMOTE_HOST", "client.example"));
	CHECK(eq(v, "REMOTE_ADDR", "127.0.0.1"));
	/* SERVER_PORT: the Host's port, else the scheme's, as websocketd. */
	CHECK(eq(v, "SERVER_PORT", "8080"));
	rq.server_port = NULL;
	rq.server_port_len = 0;
	env_init(&e, buf, sizeof buf, vars, 64);
	env_build(&e, &rq);
	v = env_finish(&e);
	CHECK(eq(v, "SERVER_PORT", "443"));
	rq.tls = 0;
	env_init(&e, buf, sizeof buf, vars, 64);
	env_build(&e, &rq);
	v = env_finish(&e);
	CHECK(find(v, "HTTPS") == NULL);
	CHECK(eq(v, "REQUEST_SCHEME", "http"));
	CHECK(eq(v, "SERVER_PORT", "80"));
	/* Over a Unix socket there is no TCP port to name. */
	rq.unix_socket = true;
	rq.server_port = "8080";
	rq.server_port_len = 4;
	env_init(&e, buf, sizeof buf, vars, 64);
	env_build(&e, &rq);
	v = env_finish(&e);
	CHECK(eq(v, "SERVER_PORT", "0"));

	/* --trust-proxy: X-Forwarded-Port first, then the forwarded host's
	 * port, then the scheme's, over a Unix socket too. */
	rq.forwarded = true;
	env_init(&e, buf, sizeof buf, vars, 64);
	env_build(&e, &rq);
	v = env_finish(&e);
	CHECK(eq(v, "SERVER_PORT", "8080"));
	rq.fwd_port = "8443";
	rq.fwd_port_len = 4;
	env_init(&e, buf, sizeof buf, vars, 64);
	env_build(&e, &rq);
	v = env_finish(&e);
	CHECK(eq(v, "SERVER_PORT", "8443"));
	rq.server_port = NULL;
	rq.server_port_len = 0;
	rq.tls = 1;
	const char *bad[] = {"", "x1", "65536", "123456", "-1", "80 "};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		rq.fwd_port = bad[i];
		rq.fwd_port_len = strlen(bad[i]);
		env_init(&e, buf, sizeof buf, vars, 64);
		env_build(&e, &rq);
		v = env_finish(&e);
		CHECK(eq(v, "SERVER_PORT", "443"));
	}
	rq.fwd_port = "65535";
	rq.fwd_port_len = 5;
	env_init(&e, buf, sizeof buf, vars, 64);
	env_build(&e, &rq);
	v = env_finish(&e);
	CHECK(eq(v, "SERVER_PORT", "65535"));
}

static void test_names_and_decoding(void)
{
	CHECK(env_is_cgi_name("HTTPS"));
	CHECK(env_is_cgi_name("REMOTE_USER"));
	CHECK(env_is_cgi_name("PATH_TRANSLATED"));
	CHECK(env_is_cgi_name("HTTP_HOST"));
	CHECK(env_is_cgi_name("HTTP_"));
	CHECK(!env_is_cgi_name("HTTP_PROXY"));
	CHECK(!env_is_cgi_name("HTTPS_PROXY"));
	CHECK(!env_is_cgi_name("PATH"));
	CHECK(!env_is_cgi_name("LD_LIBRARY_PATH"));
	CHECK(!env_is_cgi_name("https"));

	CHECK(strcmp(decode("/a%20b"), "/a b") == 0);
	CHECK(strcmp(decode("/%65.sh"), "/e.sh") == 0);
	CHECK(strcmp(decode("/a%2Fb%2fc"), "/a/b/c") == 0);
	CHECK(strcmp(decode("/%2e%2E/x"), "/../x") == 0);
	CHECK(strcmp(decode("/a+b"), "/a+b") == 0);
	CHECK(strcmp(decode("/%C3%A9"), "/\xc3\xa9") == 0);
	CHECK(strcmp(decode("/%0a"), "/\n") == 0);
	CHECK(strcmp(decode("/plain"), "/plain") == 0);
	CHECK(strcmp(decode(""), "") == 0);
	CHECK(strcmp(decode("/%ZZ"), "(invalid)") == 0);
	CHECK(strcmp(decode("/%4"), "(invalid)") == 0);
	CHECK(strcmp(decode("/%"), "(invalid)") == 0);
	CHECK(strcmp(decode("/%g0"), "(invalid)") == 0);
	CHECK(strcmp(decode("/a%00b"), "(invalid)") == 0);
	/* Every split of an escape at the end of the input: never a read
	 * past it (the guard page catches one). */
	const char *tails[] = { "%", "%4", "%41" };
	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(tails[i]);
		char *g = check_guarded(tails[i], n);
		char out[4];
		CHECK_INT(env_decode_path(g, n, out), i == 2 ? 1 : -1);
		check_unguard(g, n);
	}
}

/* A shared route's program: the route's variables, nothing of a client. */
static void test_route_only(void)
{
	static char buf[4096];
	char *vars[64];
	struct env e;
	struct http_header h[] = { { "Host", 4, "example.com", 11 },
				   { "X-Secret", 8, "s", 1 } };
	const char *names[] = { "FOO" };
	const char *values[] = { "foo" };
	struct env_request rq = {
		.path = "/bin",
		.software = "portal-gw/test",
		.server_name = "example.com",
		.server_name_len = 11,
		.target = "/chat/x?q=1",
		.target_len = 11,
		.decoded = "/chat/x",
		.decoded_len = 7,
		.script = "/chat",
		.script_len = 5,
		.path_info = "/x",
		.path_info_len = 2,
		.query = "q=1",
		.query_len = 3,
		.tls = -1,
		.remote_addr = "127.0.0.1",
		.remote_host = "127.0.0.1",
		.remote_port = 40000,
		.unique_id = "u1",
		.headers = h,
		.num_headers = 2,
		.pass_names = names,
		.pass_values = values,
		.npass = 1,
		.route_only = true,
	};
	env_init(&e, buf, sizeof buf, vars, 64);
	env_build(&e, &rq);
	char **v = env_finish(&e);
	CHECK(!e.overflow);
	CHECK(eq(v, "SCRIPT_NAME", "/chat"));
	CHECK(eq(v, "GATEWAY_INTERFACE", "CGI/1.1"));
	CHECK(eq(v, "SERVER_NAME", "example.com"));
	CHECK(eq(v, "SERVER_PORT", "80"));
	CHECK(eq(v, "FOO", "foo"));
	CHECK(eq(v, "AUTH_TYPE", ""));
	const char *none[] = { "REQUEST_URI", "PATH_INFO", "PATH_TRANSLATED",
			       "QUERY_STRING", "REMOTE_ADDR", "REMOTE_HOST",
			       "REMOTE_PORT", "UNIQUE_ID", "HTTP_HOST",
			       "HTTP_X_SECRET" };
	for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
		CHECK(find(v, none[i]) == NULL);
}

int main(void)
{
	test_build();
	test_route_only();
	test_names_and_decoding();

	char buf[512];
	char *vars[16];
	struct env e;

	env_init(&e, buf, sizeof buf, vars, 16);
	env_add(&e, "PATH_INFO", "/x", 2);
	env_add(&e, "QUERY_STRING", "a=1\r\nEVIL=1", 11);
	env_add_header(&e, "Host", 4, "example.com", 11);
	env_add_header(&e, "X-Forwarded-For", 15, "1.2.3.4", 7);
	env_add_header(&e, "X-Forwarded-For", 15, "5.6.7.8", 7);
	env_add_header(&e, "X_Smuggled", 10, "no", 2);
	env_add_header(&e, "Bad Name", 8, "no", 2);
	env_add_header(&e, "", 0, "no", 2);
	char **v = env_finish(&e);
	CHECK(!e.overflow);
	CHECK(strcmp(find(v, "PATH_INFO"), "/x") == 0);
	CHECK(strcmp(find(v, "QUERY_STRING"), "a=1  EVIL=1") == 0);
	CHECK(find(v, "EVIL") == NULL);
	CHECK(strcmp(find(v, "HTTP_HOST"), "example.com") == 0);
	CHECK(strcmp(find(v, "HTTP_X_FORWARDED_FOR"), "1.2.3.4, 5.6.7.8") == 0);
	CHECK(find(v, "HTTP_X_SMUGGLED") == NULL);
	CHECK_INT(e.n, 4);

	/* A repeat that is not adjacent is joined too. */
	env_init(&e, buf, sizeof buf, vars, 16);
	env_add_header(&e, "Accept", 6, "a", 1);
	env_add_header(&e, "Host", 4, "h", 1);
	env_add_header(&e, "accept", 6, "b", 1);
	v = env_finish(&e);
	CHECK(!e.overflow);
	CHECK_INT(e.n, 2);
	CHECK(strcmp(find(v, "HTTP_ACCEPT"), "a, b") == 0);
	CHECK(strcmp(find(v, "HTTP_HOST"), "h") == 0);

	/* Too small: what does not fit is left out whole, and said. */
	char tiny[24];
	env_init(&e, tiny, sizeof tiny, vars, 16);
	env_add(&e, "A", "1", 1);
	env_add(&e, "LONG_NAME", "a value that does not fit", 25);
	env_add(&e, "B", "2", 1);
	v = env_finish(&e);
	CHECK(e.overflow);
	CHECK(strcmp(find(v, "A"), "1") == 0);
	CHECK(find(v, "LONG_NAME") == NULL);
	CHECK(strcmp(find(v, "B"), "2") == 0);

	/* Too many variables: the list stays NULL-terminated. */
	env_init(&e, buf, sizeof buf, vars, 3);
	env_add(&e, "A", "1", 1);
	env_add(&e, "B", "2", 1);
	env_add(&e, "C", "3", 1);
	v = env_finish(&e);
	CHECK(e.overflow);
	CHECK_INT(e.n, 2);
	CHECK(v[2] == NULL);
	return check_report("env");
}
