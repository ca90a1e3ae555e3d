/* log: log_json_escape case by case (quotes, backslash, every control
 * character, valid UTF-8 kept, invalid UTF-8 as U+FFFD per maximal subpart,
 * checked against utf8_scrub on every byte pair and random bytes), cuts
 * that never split an escape or a character, input read against a guard
 * page; then the lines log_stderr, log_access and log_msg write in
 * both formats (an access line with every field none but its status), read back from a file put on stderr, including a line cut
 * short that must stay one valid JSON object. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "log.h"
#include "utf8.h"

struct ecase {
	const char *in;
	size_t n;
	const char *out;
};
#define E(in, out) {in, sizeof in - 1, out}

static const struct ecase cases[] = {
	E("", ""),
	E("plain text", "plain text"),
	E("a\"b", "a\\\"b"),
	E("back\\slash", "back\\\\slash"),
	E("\n\r\t", "\\n\\r\\t"),
	E("\x01\x1f\x1b", "\\u0001\\u001f\\u001b"),
	E("nul\0in", "nul\\u0000in"),
	E("\x7f/'<>", "\x7f/'<>"),
	/* valid UTF-8 passes through: 2, 3 and 4 bytes */
	E("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
	  "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
	/* ill-formed: lone continuation, C0/C1, FF, surrogate, overlong,
	 * beyond U+10FFFF, truncated sequences */
	E("\x80", "\xef\xbf\xbd"),
	E("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"),
	E("\xff", "\xef\xbf\xbd"),
	E("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"),
	E("\xe0\x80\xaf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"),
	E("\xf4\x90\x80\x80",
	  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"),
	E("\xe2\x82", "\xef\xbf\xbd"),
	E("\xe2\x82x", "\xef\xbf\xbdx"),
	E("\xf0\x9f\x98", "\xef\xbf\xbd"),
	E("\xf0\x9f\x98\"", "\xef\xbf\xbd\\\""),
	E("a\xe2\x82\xac\xe2", "a\xe2\x82\xac\xef\xbf\xbd"),
};

/* Escapes through a guarded copy of the input into a big buffer. */
static size_t escape(const char *in, size_t n, char *out, size_t cap,
		     size_t *used)
{
	uint8_t *g = check_guarded(in, n);
	size_t r = log_json_escape(out, cap, g, n, used);
	check_unguard(g, n);
	return r;
}

static void test_cases(void)
{
	char out[256];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t used = 99;
		size_t r = escape(cases[i].in, cases[i].n, out, sizeof out,
				  &used);
		if (!CHECK_MEM(out, r, cases[i].out, strlen(cases[i].out)))
			fprintf(stderr, "    case %zu: got '%.*s'\n", i,
				(int)r, out);
		CHECK_INT(used, cases[i].n);
	}
}

/* With bytes that need no JSON escape, the result must equal utf8_scrub's
 * (the repair the gateway applies to child output). */
static void check_against_scrub(const uint8_t *p, size_t n)
{
	char out[64];
	uint8_t want[UTF8_SCRUB_MAX(16)];
	size_t r = log_json_escape(out, sizeof out, p, n, NULL);
	size_t w = utf8_scrub(p, n, want, NULL);
	if (!CHECK_MEM(out, r, want, w)) {
		fprintf(stderr, "    input:");
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, " %02x", p[i]);
		fprintf(stderr, "\n");
	}
}

static void test_scrub_oracle(void)
{
	uint8_t p[6];
	for (unsigned a = 0x80; a < 0x100; a++) {
		for (unsigned b = 0x20; b < 0x100; b++) {
			if (b == '"' || b == '\\' || b == 0x7f)
				continue;
			p[0] = (uint8_t)a;
			p[1] = (uint8_t)b;
			check_against_scrub(p, 2);
		}
	}
	srand(6);
	for (int t = 0; t < 200000; t++) {
		size_t n = 1 + (size_t)rand() % sizeof p;
		for (size_t i = 0; i < n; i++) {
			unsigned b;
			do
				b = (unsigned)rand() & 0xff;
			while (b < 0x20 || b == '"' || b == '\\');
			/* mostly high bytes, where the cases are */
			p[i] = (uint8_t)(rand() % 4 ? (b | 0x80) : b);
		}
		check_against_scrub(p, n);
	}
}

/* Every capacity from 0 up: the output is a prefix of the whole escape,
 * ends on an escape boundary, and *used matches it. */
static void test_cuts(void)
{
	static const char in[] = "a\"\xe2\x82\xac\x01\xff\\z";
	size_t n = sizeof in - 1;
	char whole[64], out[64];
	size_t wn = escape(in, n, whole, sizeof whole, NULL);
	for (size_t cap = 0; cap <= wn; cap++) {
		size_t used;
		size_t r = escape(in, n, out, cap, &used);
		CHECK(r <= cap);
		CHECK(memcmp(out, whole, r) == 0);
		char again[64];
		size_t r2 = escape(in, used, again, sizeof again, NULL);
		CHECK_MEM(again, r2, out, r);
		CHECK(cap == wn ? used == n : used < n);
	}
}

/* --- lines on stderr --------------------------------------------------- */

static char got[65536];
static size_t got_len;

/* Runs f with stderr on a temporary file and reads back what it wrote. */
static void capture(void (*f)(void))
{
	char path[] = "/tmp/test_log.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		exit(2);
	}
	unlink(path);
	int saved = dup(2);
	dup2(fd, 2);
	f();
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	ssize_t n = read(fd, got, sizeof got - 1);
	got_len = n > 0 ? (size_t)n : 0;
	got[got_len] = '\0';
	close(fd);
}

static int has(const char *s)
{
	return strstr(got, s) != NULL;
}

/* One line, one JSON object: starts with {"time":", ends with }\n, and
 * its quotes balance once escapes are skipped. */
static int json_line_ok(const char *s, size_t n)
{
	if (n < 12 || memcmp(s, "{\"time\":\"", 9) != 0 ||
	    memcmp(s + n - 2, "}\n", 2) != 0 || memchr(s, '\n', n - 1))
		return 0;
	int in = 0;
	for (size_t i = 0; i < n; i++) {
		if (in && s[i] == '\\')
			i++;
		else if (s[i] == '"')
			in = !in;
		else if (in && (unsigned char)s[i] < 0x20)
			return 0;
	}
	return !in;
}

static void emit_stderr_hostile(void)
{
	static const uint8_t line[] = "say \"hi\"\\\x01\x1b[31m\xff\xc3";
	log_stderr(7, line, sizeof line - 1);
}

static uint8_t huge[4096];

static void emit_stderr_huge(void)
{
	memset(huge, 0x01, sizeof huge); /* six bytes each escaped */
	log_stderr(8, huge, sizeof huge);
}

/* A session killed by a signal, then one that exited 0 on a Unix socket. */
static void emit_session(void)
{
	struct log_access a = {
		.id = 42, .addr = "::1", .port = 5555, .method = "GET",
		.path = "/e\"x", .status = 101, .reason = "killed by signal SIGKILL",
		.bytes_sent = 300, .duration_ms = 12, .pid = 99, .session = true,
		.msgs_in = 1, .bytes_in = 2, .msgs_out = 3, .bytes_out = 4,
		.close_code = 1011, .exit_code = -1, .signal = "SIGKILL",
	};
	log_access(&a);
	a.signal = NULL;
	a.exit_code = 0;
	a.port = -1;
	a.addr = "/run/gw.sock";
	a.reason = NULL;
	a.close_code = 0;
	log_access(&a);
}

/* A 403 with a hostile Origin behind a trusted proxy, and a 408 before
 * any request line: no method, path, child or session. */
static void emit_refused(void)
{
	struct log_access a = {
		.id = 7, .addr = "10.0.0.1", .port = 80,
		.forwarded = "203.0.113.9", .method = "GET", .path = "/echo",
		.status = 403, .reason = "origin not allowed",
		.origin = "http://x\" fwd=\x01\xff", .bytes_sent = 120,
		.duration_ms = 0, .exit_code = -1,
	};
	log_access(&a);
	struct log_access t = {
		.id = 8, .addr = "127.0.0.1", .port = 4000, .status = 408,
		.reason = "request head not received in time",
		.bytes_sent = 99, .duration_ms = 10000, .exit_code = -1,
	};
	log_access(&t);
}

static void emit_msg(void)
{
	log_msg(LV_INFO, "#%d connected to %s", 5, "/p");
	log_msg(LV_ERROR, "#not an id");
}

static void test_json_lines(void)
{
	log_format = LOG_JSON;
	log_threshold = LV_DEBUG;

	capture(emit_stderr_hostile);
	CHECK(json_line_ok(got, got_len));
	CHECK(has(",\"level\":\"info\",\"id\":7,\"stderr\":"
		  "\"say \\\"hi\\\"\\\\\\u0001\\u001b[31m"
		  "\xef\xbf\xbd\xef\xbf\xbd\"}\n"));

	capture(emit_stderr_huge);
	CHECK(json_line_ok(got, got_len));
	CHECK(got_len > 4096 && got_len <= 16384);
	CHECK(has("\",\"truncated\":true}\n"));

	capture(emit_session);
	char *second = memchr(got, '\n', got_len);
	CHECK(second != NULL);
	if (second) {
		second++;
		CHECK(json_line_ok(got, (size_t)(second - got)));
		CHECK(json_line_ok(second, got_len - (size_t)(second - got)));
	}
	CHECK(has("\"level\":\"access\",\"id\":42,\"remote_addr\":\"::1\","
		  "\"remote_port\":5555,\"forwarded_for\":null,"
		  "\"method\":\"GET\",\"path\":\"/e\\\"x\",\"status\":101,"
		  "\"reason\":\"killed by signal SIGKILL\",\"origin\":null,"
		  "\"bytes_sent\":300,\"duration_ms\":12,\"pid\":99,"
		  "\"msgs_in\":1,\"bytes_in\":2,\"msgs_out\":3,\"bytes_out\":4,"
		  "\"close_code\":1011,\"exit_code\":null,"
		  "\"signal\":\"SIGKILL\"}\n"));
	CHECK(has("\"remote_addr\":\"/run/gw.sock\",\"remote_port\":null,"));
	CHECK(has("\"reason\":null,"));
	CHECK(has("\"close_code\":null,\"exit_code\":0,\"signal\":null}\n"));

	capture(emit_refused);
	second = memchr(got, '\n', got_len);
	CHECK(second != NULL);
	if (second) {
		second++;
		CHECK(json_line_ok(got, (size_t)(second - got)));
		CHECK(json_line_ok(second, got_len - (size_t)(second - got)));
	}
	CHECK(has("\"id\":7,\"remote_addr\":\"10.0.0.1\",\"remote_port\":80,"
		  "\"forwarded_for\":\"203.0.113.9\",\"method\":\"GET\","
		  "\"path\":\"/echo\",\"status\":403,"
		  "\"reason\":\"origin not allowed\","
		  "\"origin\":\"http://x\\\" fwd=\\u0001\xef\xbf\xbd\","
		  "\"bytes_sent\":120,\"duration_ms\":0,\"pid\":null,"
		  "\"msgs_in\":null,\"bytes_in\":null,\"msgs_out\":null,"
		  "\"bytes_out\":null,\"close_code\":null,\"exit_code\":null,"
		  "\"signal\":null}\n"));
	CHECK(has("\"id\":8,\"remote_addr\":\"127.0.0.1\",\"remote_port\":4000,"
		  "\"forwarded_for\":null,\"method\":null,\"path\":null,"
		  "\"status\":408,"));

	capture(emit_msg);
	CHECK(has("\"level\":\"info\",\"id\":5,"
		  "\"msg\":\"connected to /p\"}\n"));
	CHECK(has("\"level\":\"error\",\"msg\":\"#not an id\"}\n"));

	log_threshold = LV_ERROR;
	capture(emit_session);
	CHECK_INT(got_len, 0);
}

static void test_text_lines(void)
{
	log_format = LOG_TEXT;
	log_threshold = LV_DEBUG;

	capture(emit_session);
	CHECK(has(" access #42 [::1]:5555 GET /e\"x 101 "
		  "\"killed by signal SIGKILL\" fwd=- origin=- sent=300B ms=12 "
		  "pid=99 in=1/2B out=3/4B close=1011 signal=SIGKILL\n"));
	CHECK(has(" access #42 /run/gw.sock GET /e\"x 101 - fwd=- origin=- "
		  "sent=300B ms=12 pid=99 in=1/2B out=3/4B close=- exit=0\n"));

	capture(emit_refused);
	CHECK(has(" access #7 10.0.0.1:80 GET /echo 403 \"origin not allowed\" "
		  "fwd=203.0.113.9 origin=\"http://x\\\" fwd=\\u0001\xef\xbf\xbd\" "
		  "sent=120B ms=0 pid=- in=- out=- close=- exit=-\n"));
	CHECK(has(" access #8 127.0.0.1:4000 - - 408 "
		  "\"request head not received in time\" fwd=- origin=- "
		  "sent=99B ms=10000 pid=- in=- out=- close=- exit=-\n"));

	capture(emit_stderr_hostile);
	CHECK(has(" info #7 stderr: say \"hi\"\\\x01\x1b[31m\xff\xc3\n"));

	capture(emit_stderr_huge);
	CHECK_INT(got_len, 4096);
	CHECK(got[got_len - 1] == '\n');
}

int main(void)
{
	test_cases();
	test_scrub_oracle();
	test_cuts();
	test_json_lines();
	test_text_lines();
	return check_report("log");
}
