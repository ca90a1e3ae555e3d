/* opts_split: shell-like quoting without a shell. The flag table: Go's
 * flag syntax as websocketd takes it, each flag's value, the table against
 * the man page and websocketd 0.4.1's flags, and --help made from it. */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "opts.h"

static void split_ok(const char *s, int want_n, const char *const *want)
{
	char out[256];
	char *argv[16];
	int n = opts_split(s, out, argv, 16);
	CHECK_INT(n, want_n);
	for (int i = 0; i < want_n && i < n; i++) {
		if (!check_at(strcmp(argv[i], want[i]) == 0, __FILE__, __LINE__,
			      "word matches"))
			fprintf(stderr, "    input [%s] word %d: got [%s], want [%s]\n",
				s, i, argv[i], want[i]);
	}
	if (n >= 0)
		CHECK(argv[n] == NULL);
}

static const struct opts_flag *flag_find(const char *name)
{
	for (size_t k = 0; k < opts_nflags; k++) {
		if (strcmp(opts_flags[k].name, name) == 0)
			return &opts_flags[k];
	}
	return NULL;
}

/* opts_parse of "portal-gw" then args (NULL-terminated); stderr, where a
 * refusal is printed, goes to /dev/null meanwhile. */
static int parse(struct options *o, const char *const *args)
{
	char *argv[32] = {"portal-gw"};
	int argc = 1;
	while (*args)
		argv[argc++] = (char *)*args++;
	fflush(stderr);
	int saved = dup(2), null = open("/dev/null", O_WRONLY);
	if (saved < 0 || null < 0 || dup2(null, 2) < 0)
		abort();
	close(null);
	int rc = opts_parse(argc, argv, o);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	return rc;
}

#define PARSE(o, ...) parse((o), (const char *const[]){__VA_ARGS__, NULL})

static void number_ok(const char *s, long long want)
{
	long long n = 0;
	if (!check_at(opts_number(s, &n) && n == want, __FILE__, __LINE__,
		      "number parses"))
		fprintf(stderr, "    [%s]: got %lld, want %lld\n", s, n, want);
}

static void number_bad(const char *s)
{
	long long n;
	if (!check_at(!opts_number(s, &n), __FILE__, __LINE__, "number refused"))
		fprintf(stderr, "    [%s] was taken as %lld\n", s, n);
}

/* strconv.ParseInt(s, 0, 64), as websocketd reads --port, --maxforks. */
static void test_numbers(void)
{
	number_ok("0", 0);
	number_ok("8080", 8080);
	number_ok("0x1F90", 8080);
	number_ok("0X1f90", 8080);
	number_ok("010", 8);
	number_ok("0o17", 15);
	number_ok("0b101", 5);
	number_ok("1_000", 1000);
	number_ok("0x_ff", 255);
	number_ok("+5", 5);
	number_ok("-1", -1);
	number_ok("-0x10", -16);
	number_ok("9223372036854775807", LLONG_MAX);
	number_ok("-9223372036854775808", LLONG_MIN);
	number_bad("");
	number_bad("-");
	number_bad("0x");
	number_bad("08");
	number_bad("1.5");
	number_bad(" 1");
	number_bad("1 ");
	number_bad("_1");
	number_bad("1_");
	number_bad("1__0");
	number_bad("++1");
	number_bad("eighty");
	number_bad("9223372036854775808");
}

/* Shared routes (issue 12): their kinds, one PATH across kinds, --binary
 * refused with them, and the limits' defaults and bounds. */
static void test_shared(void)
{
	struct options o;

	CHECK_INT(PARSE(&o, "/e=cat"), OPTS_OK);
	CHECK_INT(o.linger_ms, 5000);
	CHECK_INT(o.max_queue, 1048576);
	CHECK(o.history == 0 && o.maxclients == 0 && o.maxconns == 0);
	CHECK(o.nshared == 0 && o.hub_headers.n == 0);
	CHECK_INT(o.resources[0].kind, ROUTE_ONE);
	opts_free(&o);

	CHECK_INT(PARSE(&o, "--broadcast", "/chat=cat", "--hub=/room=cat -u",
			"/e=cat", "-broadcast", "/log/=tail -F x"), OPTS_OK);
	CHECK_INT(o.nresources, 4);
	CHECK_INT(o.nshared, 3);
	if (o.nresources == 4) {
		CHECK_INT(o.resources[0].kind, ROUTE_BROADCAST);
		CHECK(strcmp(o.resources[0].path, "/chat") == 0);
		CHECK_INT(o.resources[1].kind, ROUTE_HUB);
		CHECK(strcmp(o.resources[1].argv[1], "-u") == 0);
		CHECK_INT(o.resources[2].kind, ROUTE_ONE);
		CHECK(strcmp(o.resources[3].path, "/log") == 0);
		CHECK(strcmp(o.resources[3].argv[2], "x") == 0);
	}
	opts_free(&o);
	/* A shared route alone is a server. */
	CHECK_INT(PARSE(&o, "--hub", "/h=cat"), OPTS_OK);
	opts_free(&o);

	/* One PATH once, whatever its kind. */
	CHECK_INT(PARSE(&o, "--broadcast", "/a=cat", "/a=cat"), OPTS_USAGE);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--broadcast", "/a=cat", "--hub", "/a/=cat"),
		  OPTS_USAGE);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--hub", "/a=cat", "--hub", "/a=cat"), OPTS_USAGE);
	opts_free(&o);
	/* Not /PATH=COMMAND, or a program that cannot run. */
	CHECK_INT(PARSE(&o, "--broadcast", "cat"), OPTS_USAGE);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--hub", "/a"), OPTS_USAGE);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--hub", "/a="), OPTS_USAGE);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--hub", "/a b=cat"), OPTS_USAGE);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--broadcast", "/a=/nonexistent/prog"), OPTS_FAIL);
	opts_free(&o);

	/* --binary would mix clients in one byte stream; --framed is exact. */
	CHECK_INT(PARSE(&o, "--binary", "--broadcast", "/a=cat"), OPTS_USAGE);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--hub", "/a=cat", "--binary"), OPTS_USAGE);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--binary", "/a=cat"), OPTS_OK);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--framed", "--hub", "/a=cat", "--broadcast",
			"/b=cat"), OPTS_OK);
	CHECK_INT(o.mode, MODE_FRAMED);
	opts_free(&o);

	CHECK_INT(PARSE(&o, "--linger", "-1", "--history", "10000",
			"--maxclients", "50", "--maxconns=0x100", "--maxqueue",
			"65536", "--hub-header", "Cookie, Authorization",
			"--hub-header=X-User", "/e=cat"), OPTS_OK);
	CHECK_INT(o.linger_ms, -1);
	CHECK_INT(o.history, 10000);
	CHECK_INT(o.maxclients, 50);
	CHECK_INT(o.maxconns, 256);
	CHECK_INT(o.max_queue, 65536);
	CHECK_INT(o.hub_headers.n, 3);
	if (o.hub_headers.n == 3) {
		CHECK(strcmp(o.hub_headers.item[0], "Cookie") == 0);
		CHECK(strcmp(o.hub_headers.item[1], "Authorization") == 0);
		CHECK(strcmp(o.hub_headers.item[2], "X-User") == 0);
	}
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--linger", "0", "/e=cat"), OPTS_OK);
	CHECK_INT(o.linger_ms, 0);
	opts_free(&o);

	static const char *const bad[][2] = {
		{"--linger", "-2"},	   {"--linger", "soon"},
		{"--history", "-1"},	   {"--history", "10001"},
		{"--maxclients", "-1"},	   {"--maxconns", "-5"},
		{"--maxqueue", "0"},	   {"--maxqueue", "1M"},
		{"--hub-header", "Bad Name"}, {"--hub-header", "X:Y"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (!check_at(PARSE(&o, bad[i][0], bad[i][1], "/e=cat") ==
				      OPTS_USAGE,
			      __FILE__, __LINE__, "bad value refused"))
			fprintf(stderr, "    %s %s\n", bad[i][0], bad[i][1]);
		opts_free(&o);
	}
}

/* Go's flag syntax and each websocketd flag's value. */
static void test_parse(void)
{
	struct options o;

	CHECK_INT(PARSE(&o, "-port", "0x1F90", "/e=cat"), OPTS_OK);
	CHECK_INT(o.port, 8080);
	CHECK(o.port_given);
	opts_free(&o);

	/* Defaults: websocketd's --passenv, and every limit. */
	CHECK_INT(PARSE(&o, "/e=cat"), OPTS_OK);
	CHECK_INT(o.passenv.n, 2);
	CHECK(o.passenv.n == 2 && strcmp(o.passenv.item[0], "PATH") == 0 &&
	      strcmp(o.passenv.item[1], "LD_LIBRARY_PATH") == 0);
	CHECK_INT(o.max_head, 32768);
	CHECK_INT(o.max_message, 1048576);
	CHECK_INT(o.handshake_ms, 10000);
	CHECK_INT(o.drain_ms, 25000);
	CHECK_INT(o.loglevel, LV_ACCESS);
	CHECK_INT(o.err_mode, STDERR_LOG);
	CHECK_INT(o.log_format, LOG_TEXT);
	CHECK(!o.reverselookup && !o.sameorigin && !o.port_given);
	CHECK_INT(o.mode, MODE_LINES);
	opts_free(&o);

	/* A given --passenv replaces the default; repeated, it adds up. */
	CHECK_INT(PARSE(&o, "--passenv", "FOO", "-passenv=BAR,BAZ", "/e=cat"),
		  OPTS_OK);
	CHECK_INT(o.passenv.n, 3);
	CHECK(o.passenv.n == 3 && strcmp(o.passenv.item[0], "FOO") == 0 &&
	      strcmp(o.passenv.item[2], "BAZ") == 0);
	opts_free(&o);

	/* Bool flags: alone, or =ParseBool; "--flag false" is not a value. */
	CHECK_INT(PARSE(&o, "--sameorigin=false", "--binary=true",
			"--devconsole=F", "--reverselookup=1", "/e=cat"), OPTS_OK);
	CHECK(!o.sameorigin && !o.devconsole && o.reverselookup);
	CHECK_INT(o.mode, MODE_BINARY);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "-sameorigin", "--binary=TRUE", "--binary=f",
			"--framed=t", "/e=cat"), OPTS_OK);
	CHECK(o.sameorigin);
	CHECK_INT(o.mode, MODE_FRAMED);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--binary=yes", "/e=cat"), OPTS_USAGE);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--reverselookup=", "/e=cat"), OPTS_USAGE);
	opts_free(&o);
	/* As websocketd: "false" is the PROGRAM, "cat" its argument. */
	CHECK_INT(PARSE(&o, "--sameorigin", "false", "cat"), OPTS_OK);
	CHECK(o.sameorigin && o.nresources == 1 &&
	      strcmp(o.resources[0].argv[0], "false") == 0 &&
	      strcmp(o.resources[0].argv[1], "cat") == 0);
	opts_free(&o);

	/* -- ends the flags: what follows is the PROGRAM and its arguments. */
	CHECK_INT(PARSE(&o, "--", "cat", "--port", "1"), OPTS_OK);
	CHECK(o.nresources == 1 && strcmp(o.resources[0].argv[1], "--port") == 0);
	CHECK(!o.port_given);
	opts_free(&o);

	CHECK_INT(PARSE(&o, "---port=1", "/e=cat"), OPTS_USAGE);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--=1", "/e=cat"), OPTS_USAGE);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--port=-5", "/e=cat"), OPTS_USAGE);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--closems=-1", "/e=cat"), OPTS_USAGE);
	opts_free(&o);

	/* --maxforks: websocketd's "unlimited when 0 or negative". */
	CHECK_INT(PARSE(&o, "--maxforks=-1", "/e=cat"), OPTS_OK);
	CHECK_INT(o.maxforks, 0);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--maxforks", "010", "/e=cat"), OPTS_OK);
	CHECK_INT(o.maxforks, 8);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--maxforks=1.5", "/e=cat"), OPTS_USAGE);
	opts_free(&o);

	CHECK_INT(PARSE(&o, "--loglevel", "none", "/e=cat"), OPTS_OK);
	CHECK_INT(o.loglevel, LV_NONE);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--stderr=send", "--log-format=json", "/e=cat"),
		  OPTS_OK);
	CHECK_INT(o.err_mode, STDERR_SEND);
	CHECK_INT(o.log_format, LOG_JSON);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--stderr=loud", "/e=cat"), OPTS_USAGE);
	opts_free(&o);

	/* --cgidir, like --staticdir: the realpath of a directory. */
	CHECK_INT(PARSE(&o, "--cgidir", "/usr/../usr/bin"), OPTS_OK);
	CHECK(o.cgidir && strcmp(o.cgidir, "/usr/bin") == 0);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--cgidir", "/nonexistent/portal-gw", "/e=cat"),
		  OPTS_FAIL);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--cgidir", "/bin/sh", "/e=cat"), OPTS_FAIL);
	opts_free(&o);

	/* A --staticdir alone is a server (websocketd's too); --devconsole
	 * alone has nothing to try. */
	CHECK_INT(PARSE(&o, "--staticdir", "/"), OPTS_OK);
	CHECK_INT(o.nresources, 0);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--devconsole"), OPTS_USAGE);
	opts_free(&o);

	/* TLS is refused, saying why; --ssl=false asks for nothing. */
	CHECK_INT(PARSE(&o, "--ssl", "/e=cat"), OPTS_USAGE);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--sslcert=c.pem", "/e=cat"), OPTS_USAGE);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--sslkey", "k.pem", "/e=cat"), OPTS_USAGE);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--redirport=80", "/e=cat"), OPTS_USAGE);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--ssl=false", "/e=cat"), OPTS_OK);
	opts_free(&o);

	/* Addresses: numeric ones as written, a name as all its addresses,
	 * each once. */
	CHECK_INT(PARSE(&o, "--address", "127.0.0.1", "--address=[::1]",
			"--address", "localhost", "/e=cat"), OPTS_OK);
	CHECK(o.naddresses >= 2 && strcmp(o.addresses[0], "127.0.0.1") == 0 &&
	      strcmp(o.addresses[1], "[::1]") == 0);
	for (size_t i = 2; i < o.naddresses; i++)
		CHECK(strcmp(o.addresses[i], "127.0.0.1") != 0);
	opts_free(&o);
	CHECK_INT(PARSE(&o, "--address", "no-such-host.invalid", "/e=cat"),
		  OPTS_FAIL);
	opts_free(&o);
}

/* Each name that follows "Fl" on an .It line of the man page's OPTIONS:
 * ".It Fl Fl help , Fl h" names help and h. */
static size_t man_flags(char names[][32], size_t max)
{
	FILE *f = fopen("man/portal-gw.1", "r"); /* make unit runs at the top */
	if (!check_at(f != NULL, __FILE__, __LINE__, "man/portal-gw.1 opens"))
		return 0;
	char line[512];
	size_t n = 0;
	bool in = false;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, ".Sh ", 4) == 0)
			in = strcmp(line, ".Sh OPTIONS\n") == 0;
		if (!in || strncmp(line, ".It Fl ", 7) != 0)
			continue;
		char *save, *prev = NULL;
		for (char *w = strtok_r(line, " \n", &save); w;
		     w = strtok_r(NULL, " \n", &save)) {
			if (prev && strcmp(prev, "Fl") == 0 && strcmp(w, "Fl") != 0 &&
			    n < max)
				snprintf(names[n++], sizeof names[0], "%s", w);
			prev = w;
		}
	}
	fclose(f);
	return n;
}

static void test_man(void)
{
	char names[128][32];
	size_t n = man_flags(names, 128);
	for (size_t k = 0; k < opts_nflags; k++) {
		bool found = false;
		for (size_t i = 0; i < n; i++)
			found |= strcmp(names[i], opts_flags[k].name) == 0;
		if (!check_at(found, __FILE__, __LINE__, "flag in the man page"))
			fprintf(stderr, "    --%s has no .It Fl entry in OPTIONS\n",
				opts_flags[k].name);
	}
	for (size_t i = 0; i < n; i++) {
		if (!check_at(flag_find(names[i]) != NULL, __FILE__, __LINE__,
			      "man page flag in the table"))
			fprintf(stderr, "    man OPTIONS has %s, the table not\n",
				names[i]);
	}
}

/* websocketd 0.4.1's flags (websocketd --help) are all taken, if only to
 * refuse them with a reason. */
static void test_websocketd(void)
{
	static const char *const wsd[] = {
		"address", "binary", "cgidir", "closems", "devconsole", "dir",
		"header", "header-http", "header-ws", "license", "loglevel",
		"maxforks", "origin", "passenv", "port", "redirport",
		"reverselookup", "sameorigin", "ssl", "sslcert", "sslkey",
		"staticdir", "version", "help",
	};
	for (size_t i = 0; i < sizeof wsd / sizeof wsd[0]; i++) {
		if (!check_at(flag_find(wsd[i]) != NULL, __FILE__, __LINE__,
			      "websocketd flag in the table"))
			fprintf(stderr, "    --%s is missing\n", wsd[i]);
	}
}

/* --help is the table: every listed flag with its default. */
static void test_help(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		abort();
	opts_help(f);
	fclose(f);
	for (size_t k = 0; k < opts_nflags; k++) {
		const struct opts_flag *fl = &opts_flags[k];
		char want[64];
		snprintf(want, sizeof want, "\n  --%s%s", fl->name,
			 fl->arg ? " " : "");
		if (fl->help && !check_at(strstr(text, want) != NULL, __FILE__,
					  __LINE__, "flag in --help"))
			fprintf(stderr, "    --%s is not in --help\n", fl->name);
	}
	CHECK(strstr(text, "(default 32768)") != NULL);
	CHECK(strstr(text, "(default PATH,LD_LIBRARY_PATH)") != NULL);
	CHECK(strstr(text, "send (to the client only)") != NULL);
	for (const char *p = text; *p; p = strchr(p, '\n') + 1) {
		size_t w = (size_t)(strchr(p, '\n') - p);
		if (!check_at(w <= 79, __FILE__, __LINE__, "--help fits 80 columns"))
			fprintf(stderr, "    %.*s\n", (int)w, p);
	}
	free(text);
}

int main(void)
{
	test_numbers();
	test_parse();
	test_man();
	test_shared();
	test_websocketd();
	test_help();

	split_ok("./echo.sh", 1, (const char *const[]){ "./echo.sh" });
	split_ok("  cat   -u  ", 2, (const char *const[]){ "cat", "-u" });
	split_ok("", 0, NULL);
	split_ok("   ", 0, NULL);
	split_ok("sh -c 'echo $HOME; ls *'", 3,
		 (const char *const[]){ "sh", "-c", "echo $HOME; ls *" });
	split_ok("printf \"a b\\\"c\\\\d\\$e\\x\"", 2,
		 (const char *const[]){ "printf", "a b\"c\\d$e\\x" });
	split_ok("a\\ b c\\'d", 2, (const char *const[]){ "a b", "c'd" });
	split_ok("x'y'\"z\"w", 1, (const char *const[]){ "xyzw" });
	split_ok("'' \"\"", 2, (const char *const[]){ "", "" });
	split_ok("~ $PATH ; | >", 5,
		 (const char *const[]){ "~", "$PATH", ";", "|", ">" });
	split_ok("a\tb\nc", 3, (const char *const[]){ "a", "b", "c" });

	char out[64];
	char *argv[4];
	CHECK_INT(opts_split("'open", out, argv, 4), -1);
	CHECK_INT(opts_split("\"open", out, argv, 4), -1);
	CHECK_INT(opts_split("trailing\\", out, argv, 4), -1);
	CHECK_INT(opts_split("a b c d", out, argv, 4), -2);
	CHECK_INT(opts_split("a b c", out, argv, 4), 3);
	return check_report("opts");
}
