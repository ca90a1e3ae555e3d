/* hub: the hub protocol. Every output line kind, each rejection and its
 * cause, one case per line, each parsed from a guarded copy (a read past
 * the line crashes); the input formatters, their "needs N bytes" contract,
 * and a multi-line message. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "hub.h"

/* One output line: what it parses to. text NULL: no text expected. */
struct pcase {
	const char *line;
	enum hub_kind kind;
	uint64_t id;
	unsigned code;
	const char *text;  /* the message or reason expected */
	const char *error; /* HUB_INVALID: the cause */
};

#define R "\xc3\xa9" /* a 2-byte character */

static const struct pcase cases[] = {
	{"7 hello", HUB_TO_ONE, 7, 0, "hello", NULL},
	{"7 ", HUB_TO_ONE, 7, 0, "", NULL},
	{"7  two spaces", HUB_TO_ONE, 7, 0, " two spaces", NULL},
	{"7 a\r", HUB_TO_ONE, 7, 0, "a", NULL},
	{"7 a\rb", HUB_TO_ONE, 7, 0, "a\rb", NULL},
	{"18446744073709551615 max", HUB_TO_ONE, UINT64_MAX, 0, "max", NULL},
	{"* all of you", HUB_TO_ALL, 0, 0, "all of you", NULL},
	{"* ", HUB_TO_ALL, 0, 0, "", NULL},
	{"-3", HUB_CLOSE, 3, 1000, NULL, NULL},
	{"-3\r", HUB_CLOSE, 3, 1000, NULL, NULL},
	{"-3 1000", HUB_CLOSE, 3, 1000, NULL, NULL},
	{"-3 4000", HUB_CLOSE, 3, 4000, NULL, NULL},
	{"-3 3000 bye now", HUB_CLOSE, 3, 3000, "bye now", NULL},
	{"-3 4999 ", HUB_CLOSE, 3, 4999, "", NULL},
	{"-3 4001 caf" R, HUB_CLOSE, 3, 4001, "caf" R, NULL},

	{"", HUB_INVALID, 0, 0, NULL, "empty line"},
	{"\r", HUB_INVALID, 0, 0, NULL, "empty line"},
	{"7", HUB_INVALID, 0, 0, NULL, "no space after ID"},
	{"7x hi", HUB_INVALID, 0, 0, NULL, "no space after ID"},
	{"7\thi", HUB_INVALID, 0, 0, NULL, "no space after ID"},
	{"*", HUB_INVALID, 0, 0, NULL, "no space after *"},
	{"*hi", HUB_INVALID, 0, 0, NULL, "no space after *"},
	{"0 zero", HUB_INVALID, 0, 0, NULL, "bad ID"},
	{"07 lead", HUB_INVALID, 0, 0, NULL, "bad ID"},
	{"+7 sign", HUB_INVALID, 0, 0, NULL, "bad ID"},
	{"=7 Name v", HUB_INVALID, 0, 0, NULL, "bad ID"},
	{" 7 space", HUB_INVALID, 0, 0, NULL, "bad ID"},
	{"hello world", HUB_INVALID, 0, 0, NULL, "bad ID"},
	{"18446744073709551616 over", HUB_INVALID, 0, 0, NULL, "bad ID"},
	{"99999999999999999999 over", HUB_INVALID, 0, 0, NULL, "bad ID"},
	{"-", HUB_INVALID, 0, 0, NULL, "bad ID"},
	{"-0", HUB_INVALID, 0, 0, NULL, "bad ID"},
	{"-x", HUB_INVALID, 0, 0, NULL, "bad ID"},
	{"-3x", HUB_INVALID, 0, 0, NULL, "bad ID"},
	{"-3 ", HUB_INVALID, 0, 0, NULL, "bad close code"},
	{"-3  1000", HUB_INVALID, 0, 0, NULL, "bad close code"},
	{"-3 100", HUB_INVALID, 0, 0, NULL, "bad close code"},
	{"-3 01000", HUB_INVALID, 0, 0, NULL, "bad close code"},
	{"-3 10000", HUB_INVALID, 0, 0, NULL, "bad close code"},
	{"-3 1000x", HUB_INVALID, 0, 0, NULL, "bad close code"},
	{"-3 bye", HUB_INVALID, 0, 0, NULL, "bad close code"},
	{"-3 1001", HUB_INVALID, 0, 0, NULL, "close code not 1000 or 3000-4999"},
	{"-3 1006", HUB_INVALID, 0, 0, NULL, "close code not 1000 or 3000-4999"},
	{"-3 2999", HUB_INVALID, 0, 0, NULL, "close code not 1000 or 3000-4999"},
	{"-3 5000", HUB_INVALID, 0, 0, NULL, "close code not 1000 or 3000-4999"},
	{"-3 0100", HUB_INVALID, 0, 0, NULL, "close code not 1000 or 3000-4999"},
	{"-3 1000 \xff", HUB_INVALID, 0, 0, NULL, "close reason not UTF-8"},
	{"-3 1000 \xc3", HUB_INVALID, 0, 0, NULL, "close reason not UTF-8"},
};

static void check_case(const struct pcase *c)
{
	size_t n = strlen(c->line);
	char *line = check_guarded(c->line, n);
	struct hub_cmd cmd;
	memset(&cmd, 0x5a, sizeof cmd); /* zeroed by the parser */
	hub_parse(line, n, &cmd);
	if (!check_at(cmd.kind == c->kind, __FILE__, __LINE__, c->line))
		fprintf(stderr, "    kind %d, want %d (%s)\n", cmd.kind, c->kind,
			cmd.error ? cmd.error : "");
	CHECK(cmd.id == c->id);
	CHECK_INT(cmd.code, c->code);
	if (c->text) {
		CHECK(cmd.text >= line && cmd.text + cmd.text_len <= line + n);
		CHECK_MEM(cmd.text, cmd.text_len, c->text, strlen(c->text));
	} else {
		CHECK(cmd.text == NULL && cmd.text_len == 0);
	}
	if (c->error)
		CHECK(cmd.error && strcmp(cmd.error, c->error) == 0);
	else
		CHECK(cmd.error == NULL);
	check_unguard(line, n);
}

/* A reason is cut to 123 bytes, never inside a character. */
static void check_reason_cut(void)
{
	char line[300], want[200];
	struct hub_cmd cmd;
	/* ASCII: exactly 123 kept. */
	strcpy(line, "-9 3000 ");
	memset(line + 8, 'a', 200);
	hub_parse(line, 208, &cmd);
	CHECK(cmd.kind == HUB_CLOSE);
	CHECK_INT(cmd.text_len, HUB_REASON_MAX);
	/* 2-byte characters: byte 123 would split one. */
	strcpy(line, "-9 3000 ");
	size_t n = 8;
	for (int i = 0; i < 80; i++, n += 2)
		memcpy(line + n, R, 2);
	hub_parse(line, n, &cmd);
	CHECK(cmd.kind == HUB_CLOSE);
	CHECK_INT(cmd.text_len, 122);
	memcpy(want, line + 8, 122);
	CHECK_MEM(cmd.text, cmd.text_len, want, 122);
	/* "a" first: 123 bytes end on a boundary, all kept. */
	strcpy(line, "-9 3000 a");
	n = 9;
	for (int i = 0; i < 80; i++, n += 2)
		memcpy(line + n, R, 2);
	hub_parse(line, n, &cmd);
	CHECK_INT(cmd.text_len, 123);
	/* A 4-byte character across the cut. */
	strcpy(line, "-9 3000 ");
	memset(line + 8, 'b', 121);
	memcpy(line + 129, "\xf0\x9f\x98\x80", 4);
	hub_parse(line, 133, &cmd);
	CHECK(cmd.kind == HUB_CLOSE);
	CHECK_INT(cmd.text_len, 121);
}

static void check_formatters(void)
{
	char out[256];
	size_t n = hub_fmt_join(out, sizeof out, 12, "127.0.0.1", 9,
				"/chat?room=a%20b", 16);
	CHECK_MEM(out, n, "+12 127.0.0.1 /chat?room=a%20b\n", 31);
	/* Nothing that breaks a field or the line gets through. */
	n = hub_fmt_join(out, sizeof out, 1, "::1", 3, "/a b\n\x7f\xc3", 7);
	CHECK_MEM(out, n, "+1 ::1 /a%20b%0A%7F%C3\n", 23);

	n = hub_fmt_header(out, sizeof out, 12, "Cookie", 6, "a=1; b=2", 8);
	CHECK_MEM(out, n, "=12 Cookie a=1; b=2\n", 20);
	n = hub_fmt_header(out, sizeof out, 12, "X", 1, "a\r\nb", 4);
	CHECK_MEM(out, n, "=12 X a  b\n", 11);
	n = hub_fmt_header(out, sizeof out, 12, "X", 1, "", 0);
	CHECK_MEM(out, n, "=12 X \n", 7);

	n = hub_fmt_message(out, sizeof out, 5, "hi there", 8);
	CHECK_MEM(out, n, "5 hi there\n", 11);
	n = hub_fmt_message(out, sizeof out, 5, "a\nb", 3);
	CHECK_MEM(out, n, "5 a\n5 b\n", 8);
	n = hub_fmt_message(out, sizeof out, 5, "", 0);
	CHECK_MEM(out, n, "5 \n", 3);
	n = hub_fmt_message(out, sizeof out, 5, NULL, 0);
	CHECK_MEM(out, n, "5 \n", 3);
	n = hub_fmt_message(out, sizeof out, 5, "a\n", 2);
	CHECK_MEM(out, n, "5 a\n5 \n", 7);
	n = hub_fmt_message(out, sizeof out, 5, "\n\n", 2);
	CHECK_MEM(out, n, "5 \n5 \n5 \n", 9);
	n = hub_fmt_message(out, sizeof out, UINT64_MAX, "x", 1);
	CHECK_MEM(out, n, "18446744073709551615 x\n", 23);

	n = hub_fmt_leave(out, sizeof out, 12, 1006);
	CHECK_MEM(out, n, "-12 1006\n", 9);
	n = hub_fmt_leave(out, sizeof out, 1, 1000);
	CHECK_MEM(out, n, "-1 1000\n", 8);

	/* Too small: the size needed, and nothing written; exact: written. */
	memset(out, '#', sizeof out);
	CHECK_INT(hub_fmt_message(NULL, 0, 5, "a\nb", 3), 8);
	CHECK_INT(hub_fmt_message(out, 7, 5, "a\nb", 3), 8);
	CHECK(out[0] == '#');
	CHECK_INT(hub_fmt_leave(out, 8, 12, 1006), 9);
	CHECK(out[0] == '#');
	char *g = check_guarded("########", 8);
	CHECK_INT(hub_fmt_message(g, 8, 5, "a\nb", 3), 8);
	CHECK_MEM(g, 8, "5 a\n5 b\n", 8);
	check_unguard(g, 8);
}

/* What the formatters write parses back as the hub's own output would:
 * "ID TEXT" lines name the same client and text. */
static void check_roundtrip(void)
{
	char out[64];
	size_t n = hub_fmt_message(out, sizeof out, 42, "one\ntwo", 7);
	struct hub_cmd cmd;
	hub_parse(out, 6, &cmd); /* "42 one" */
	CHECK(cmd.kind == HUB_TO_ONE && cmd.id == 42);
	CHECK_MEM(cmd.text, cmd.text_len, "one", 3);
	hub_parse(out + 7, n - 8, &cmd); /* "42 two" */
	CHECK(cmd.kind == HUB_TO_ONE && cmd.id == 42);
	CHECK_MEM(cmd.text, cmd.text_len, "two", 3);
}

int main(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_case(&cases[i]);
	check_reason_cut();
	check_formatters();
	check_roundtrip();
	return check_report("hub");
}
