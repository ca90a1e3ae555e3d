#include "hub.h"

#include <string.h>

#include "utf8.h"

/* Parses the ID at p[0..n): returns the digits used (0 if none valid). */
static size_t parse_id(const char *p, size_t n, uint64_t *id)
{
	size_t i = 0;
	uint64_t v = 0;
	if (n == 0 || p[0] < '1' || p[0] > '9')
		return 0; /* no digit, a sign, or a leading zero */
	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		unsigned d = (unsigned)(p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	*id = v;
	return i;
}

/* "-ID [CODE [TEXT]]", p[0..n) after the '-'. Returns NULL or the cause
 * of a protocol error. */
static const char *parse_close(const char *p, size_t n, struct hub_cmd *cmd)
{
	size_t used = parse_id(p, n, &cmd->id);
	cmd->kind = HUB_CLOSE;
	cmd->code = 1000;
	if (!used || (used < n && p[used] != ' '))
		return "bad ID";
	if (used == n)
		return NULL;
	p += used + 1, n -= used + 1;
	unsigned code = 0;
	size_t i = 0;
	for (; i < n && i < 5 && p[i] >= '0' && p[i] <= '9'; i++)
		code = code * 10 + (unsigned)(p[i] - '0');
	if (i != 4 || (i < n && p[i] != ' '))
		return "bad close code";
	if (code != 1000 && (code < 3000 || code > 4999))
		return "close code not 1000 or 3000-4999";
	cmd->code = (uint16_t)code;
	if (i == n)
		return NULL;
	const uint8_t *r = (const uint8_t *)p + i + 1;
	size_t rlen = n - i - 1;
	if (utf8_valid_prefix(r, rlen) != rlen)
		return "close reason not UTF-8";
	if (rlen > HUB_REASON_MAX) {
		rlen = HUB_REASON_MAX;
		while ((r[rlen] & 0xc0) == 0x80)
			rlen--; /* r[rlen] starts the first character cut */
	}
	cmd->text = (const char *)r;
	cmd->text_len = rlen;
	return NULL;
}

/* "ID TEXT" or "* TEXT". Returns NULL or the cause of a protocol error. */
static const char *parse_send(const char *line, size_t len,
			      struct hub_cmd *cmd)
{
	size_t used = 1;
	cmd->kind = line[0] == '*' ? HUB_TO_ALL : HUB_TO_ONE;
	if (cmd->kind == HUB_TO_ONE && !(used = parse_id(line, len, &cmd->id)))
		return "bad ID";
	if (used == len || line[used] != ' ')
		return cmd->kind == HUB_TO_ALL ? "no space after *"
					       : "no space after ID";
	cmd->text = line + used + 1;
	cmd->text_len = len - used - 1;
	return NULL;
}

void hub_parse(const char *line, size_t len, struct hub_cmd *cmd)
{
	memset(cmd, 0, sizeof *cmd);
	if (len > 0 && line[len - 1] == '\r')
		len--;
	const char *why = len == 0	   ? "empty line"
			  : line[0] == '-' ? parse_close(line + 1, len - 1, cmd)
					   : parse_send(line, len, cmd);
	if (why) {
		memset(cmd, 0, sizeof *cmd);
		cmd->kind = HUB_INVALID;
		cmd->error = why;
	}
}

/* --- formatters: each builds its line twice, counting, then writing ------ */

/* Where bytes go: out is NULL while counting. */
struct sink {
	char *out;
	size_t len;
};

static void put(struct sink *s, const char *p, size_t n)
{
	if (s->out && n)
		memcpy(s->out + s->len, p, n);
	s->len += n;
}

static void put_c(struct sink *s, char c)
{
	put(s, &c, 1);
}

static void put_u64(struct sink *s, uint64_t v)
{
	char d[HUB_ID_DIGITS];
	size_t i = sizeof d;
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(s, d + i, sizeof d - i);
}

/* p[0..n) with each byte that is not visible ASCII as %XX. */
static void put_field(struct sink *s, const char *p, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c > ' ' && c < 0x7f) {
			put_c(s, (char)c);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			put(s, e, sizeof e);
		}
	}
}

/* p[0..n) with CR and LF as spaces. */
static void put_oneline(struct sink *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_c(s, p[i] == '\r' || p[i] == '\n' ? ' ' : p[i]);
}

/* The arguments of every formatter, so that one builder per line kind can
 * count and then write. */
struct line_args {
	uint64_t id;
	const char *a, *b;
	size_t a_len, b_len;
	uint16_t code;
};

static void build_join(struct sink *s, const struct line_args *x)
{
	put_c(s, '+');
	put_u64(s, x->id);
	put_c(s, ' ');
	put_field(s, x->a, x->a_len);
	put_c(s, ' ');
	put_field(s, x->b, x->b_len);
	put_c(s, '\n');
}

static void build_header(struct sink *s, const struct line_args *x)
{
	put_c(s, '=');
	put_u64(s, x->id);
	put_c(s, ' ');
	put_oneline(s, x->a, x->a_len);
	put_c(s, ' ');
	put_oneline(s, x->b, x->b_len);
	put_c(s, '\n');
}

static void build_message(struct sink *s, const struct line_args *x)
{
	const char *p = x->a, *end = x->a + x->a_len;
	for (;;) {
		const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p))
					 : NULL;
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		put_u64(s, x->id);
		put_c(s, ' ');
		put(s, p, n);
		put_c(s, '\n');
		if (!nl)
			break;
		p = nl + 1;
	}
}

static void build_leave(struct sink *s, const struct line_args *x)
{
	put_c(s, '-');
	put_u64(s, x->id);
	put_c(s, ' ');
	put_u64(s, x->code);
	put_c(s, '\n');
}

static size_t format(char *out, size_t cap, const struct line_args *x,
		     void (*build)(struct sink *, const struct line_args *))
{
	struct sink s = {NULL, 0};
	build(&s, x);
	if (s.len <= cap && out) {
		size_t need = s.len;
		s = (struct sink){out, 0};
		build(&s, x);
		return need;
	}
	return s.len;
}

size_t hub_fmt_join(char *out, size_t cap, uint64_t id, const char *addr,
		    size_t addr_len, const char *uri, size_t uri_len)
{
	struct line_args x = {id, addr, uri, addr_len, uri_len, 0};
	return format(out, cap, &x, build_join);
}

size_t hub_fmt_header(char *out, size_t cap, uint64_t id, const char *name,
		      size_t name_len, const char *value, size_t value_len)
{
	struct line_args x = {id, name, value, name_len, value_len, 0};
	return format(out, cap, &x, build_header);
}

size_t hub_fmt_message(char *out, size_t cap, uint64_t id, const char *msg,
		       size_t len)
{
	struct line_args x = {id, msg, NULL, len, 0, 0};
	return format(out, cap, &x, build_message);
}

size_t hub_fmt_leave(char *out, size_t cap, uint64_t id, uint16_t code)
{
	struct line_args x = {id, NULL, NULL, 0, 0, code};
	return format(out, cap, &x, build_leave);
}
