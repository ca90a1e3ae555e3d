/* Fuzz target for src/hub.h: hub_parse on any line, and the formatters on
 * any bytes. A parsed line must say what it held (ID, code, a text view
 * inside the line, a reason that is UTF-8 and at most 123 bytes, or a
 * cause); each formatter writes whole lines that parse back, and writes
 * nothing when the buffer is one byte short.
 *
 * Input: the whole input is the line; byte 0 also seeds the ID and the
 * split point of the formatters' fields, which are the rest. */
#include <stdbool.h>

#include "fuzz.h"
#include "hub.h"
#include "utf8.h"

static size_t id_text(uint64_t id, char *out)
{
	char d[HUB_ID_DIGITS];
	size_t i = sizeof d;
	do {
		d[--i] = (char)('0' + id % 10);
		id /= 10;
	} while (id);
	memcpy(out, d + i, sizeof d - i);
	return sizeof d - i;
}

static void check_parse(const char *line, size_t n)
{
	struct hub_cmd cmd;
	char id[HUB_ID_DIGITS];
	hub_parse(line, n, &cmd);
	size_t len = n > 0 && line[n - 1] == '\r' ? n - 1 : n;
	switch (cmd.kind) {
	case HUB_TO_ONE:
	case HUB_TO_ALL: {
		/* The line is exactly "ID " or "* " and the text. */
		size_t head = cmd.kind == HUB_TO_ONE ? id_text(cmd.id, id) : 1;
		FUZZ_CHECK(cmd.id != 0 || cmd.kind == HUB_TO_ALL);
		FUZZ_CHECK(head + 1 + cmd.text_len == len);
		FUZZ_CHECK(cmd.text == line + head + 1);
		FUZZ_CHECK(line[head] == ' ');
		if (cmd.kind == HUB_TO_ONE)
			FUZZ_CHECK(memcmp(line, id, head) == 0);
		else
			FUZZ_CHECK(line[0] == '*');
		FUZZ_CHECK(cmd.error == NULL);
		break;
	}
	case HUB_CLOSE: {
		FUZZ_CHECK(cmd.code == 1000 ||
			   (cmd.code >= 3000 && cmd.code <= 4999));
		FUZZ_CHECK(cmd.id != 0 && line[0] == '-');
		size_t head = id_text(cmd.id, id);
		FUZZ_CHECK(memcmp(line + 1, id, head) == 0);
		FUZZ_CHECK(cmd.text_len <= HUB_REASON_MAX);
		FUZZ_CHECK(cmd.text_len == 0 ||
			   (cmd.text > line && cmd.text + cmd.text_len <= line + len));
		FUZZ_CHECK(utf8_valid_prefix((const uint8_t *)cmd.text,
					     cmd.text_len) == cmd.text_len);
		FUZZ_CHECK(cmd.error == NULL);
		break;
	}
	case HUB_INVALID:
		FUZZ_CHECK(cmd.error != NULL && cmd.text == NULL && cmd.id == 0);
		break;
	default:
		FUZZ_CHECK(false);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0) {
		check_parse("", 0);
		return 0;
	}
	char *line = fuzz_dup(data, size);
	check_parse(line, size);
	free(line);

	uint64_t id = data[0] == 0xff ? UINT64_MAX : 1 + (uint64_t)data[0] * 7919u;
	const char *rest = (const char *)data + 1;
	size_t rn = size - 1, cut = rn ? data[0] % (rn + 1) : 0;

	/* A message: one "ID TEXT" line per line of it, each parsing back. */
	size_t need = hub_fmt_message(NULL, 0, id, rest, rn);
	char *out = malloc(need);
	if (!out)
		abort();
	memset(out, '#', need);
	FUZZ_CHECK(hub_fmt_message(out, need - 1, id, rest, rn) == need);
	FUZZ_CHECK(out[0] == '#');
	FUZZ_CHECK(hub_fmt_message(out, need, id, rest, rn) == need);
	FUZZ_CHECK(out[need - 1] == '\n');
	const char *p = out, *src = rest;
	while (p < out + need) {
		const char *nl = memchr(p, '\n', (size_t)(out + need - p));
		FUZZ_CHECK(nl != NULL);
		struct hub_cmd cmd;
		size_t ln = (size_t)(nl - p);
		hub_parse(p, ln, &cmd);
		/* A text ending in "\r" loses it, as any line does. */
		FUZZ_CHECK(cmd.kind == HUB_TO_ONE && cmd.id == id);
		const char *seg_end = memchr(src, '\n', (size_t)(rest + rn - src));
		size_t seg = seg_end ? (size_t)(seg_end - src)
				     : (size_t)(rest + rn - src);
		size_t want = seg > 0 && src[seg - 1] == '\r' ? seg - 1 : seg;
		FUZZ_CHECK(cmd.text_len == want && memcmp(cmd.text, src, want) == 0);
		src += seg + 1;
		p = nl + 1;
	}
	free(out);

	/* Join and header: exactly one line, "\n" only at its end. */
	need = hub_fmt_join(NULL, 0, id, rest, cut, rest + cut, rn - cut);
	out = malloc(need);
	if (!out)
		abort();
	FUZZ_CHECK(hub_fmt_join(out, need, id, rest, cut, rest + cut, rn - cut) ==
		   need);
	FUZZ_CHECK(out[0] == '+' && out[need - 1] == '\n');
	FUZZ_CHECK(memchr(out, '\n', need - 1) == NULL);
	size_t spaces = 0;
	for (size_t i = 0; i < need; i++) {
		spaces += out[i] == ' ';
		FUZZ_CHECK((unsigned char)out[i] >= ' ' || out[i] == '\n');
		FUZZ_CHECK((unsigned char)out[i] < 0x7f);
	}
	FUZZ_CHECK(spaces == 2);
	free(out);

	need = hub_fmt_header(NULL, 0, id, rest, cut, rest + cut, rn - cut);
	out = malloc(need);
	if (!out)
		abort();
	FUZZ_CHECK(hub_fmt_header(out, need, id, rest, cut, rest + cut,
				  rn - cut) == need);
	FUZZ_CHECK(out[0] == '=' && out[need - 1] == '\n');
	FUZZ_CHECK(memchr(out, '\n', need - 1) == NULL);
	FUZZ_CHECK(memchr(out, '\r', need) == NULL);
	FUZZ_CHECK(need == 1 + id_text(id, (char[HUB_ID_DIGITS]){0}) + 3 + rn);
	free(out);

	/* "-ID CODE" reads as the close line a hub may print. */
	char leave[32];
	uint16_t code = (uint16_t)(3000 + cut % 2000);
	size_t ln = hub_fmt_leave(leave, sizeof leave, id, code);
	struct hub_cmd cmd;
	hub_parse(leave, ln - 1, &cmd);
	FUZZ_CHECK(leave[ln - 1] == '\n' && cmd.kind == HUB_CLOSE);
	FUZZ_CHECK(cmd.id == id && cmd.code == code && cmd.text_len == 0);
	return 0;
}
