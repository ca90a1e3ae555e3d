/* mime.types tables: parsing and lookup. */
#include "mime.h"

#include <stdbool.h>
#include <string.h>

#define CHARSET "; charset=utf-8"
#define NSLOTS (2 * MIME_EXT_MAX)

static char lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

static bool blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' ||
	       ch == '\f';
}

/* RFC 9110 tchar. */
static bool tchar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') ||
	       (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static bool ext_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
	       ch == '+' || ch == '.';
}

static bool valid_type(const char *s, size_t n)
{
	const char *slash = memchr(s, '/', n);
	if (!slash || slash == s || slash == s + n - 1 || n > MIME_TYPE_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s + i != slash && !tchar(s[i]))
			return false;
	}
	return true;
}

static bool valid_ext(const char *s, size_t n)
{
	if (n == 0 || n > MIME_EXT_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!ext_char(s[i]))
			return false;
	}
	return true;
}

/* FNV-1a of the lower-cased extension. */
static size_t hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)lower(s[i])) * 16777619u;
	return h % NSLOTS;
}

/* The slot holding ext[0..n), or the empty slot where it would go. */
static size_t find_slot(const struct mime_table *t, const char *ext, size_t n)
{
	size_t i = hash(ext, n);
	while (t->slot[i]) {
		const char *e = t->text + t->ext[t->slot[i] - 1];
		size_t k = 0;
		while (k < n && e[k] && e[k] == lower(ext[k]))
			k++;
		if (k == n && e[k] == '\0')
			break;
		i = (i + 1) % NSLOTS; /* never full: NSLOTS > MIME_EXT_MAX */
	}
	return i;
}

/* Copies s[0..n) (lower-cased if asked) and then tail into text;
 * returns its offset, or -1 when it does not fit. */
static long keep(struct mime_table *t, const char *s, size_t n, bool low,
		 const char *tail)
{
	size_t tl = strlen(tail);
	if (MIME_TEXT_MAX - t->used < n + tl + 1)
		return -1;
	char *d = t->text + t->used;
	for (size_t i = 0; i < n; i++)
		d[i] = low ? lower(s[i]) : s[i];
	memcpy(d + n, tail, tl + 1);
	long at = (long)t->used;
	t->used += n + tl + 1;
	return at;
}

/* One line, without its "\n" and comment. */
static void parse_line(struct mime_table *t, const char *p, const char *end)
{
	long type = -1;
	while (p < end) {
		while (p < end && blank(*p))
			p++;
		const char *w = p;
		while (p < end && !blank(*p))
			p++;
		size_t n = (size_t)(p - w);
		if (n == 0)
			break;
		if (type < 0) {
			if (!valid_type(w, n))
				return;
			bool text = n > 5 && strncmp(w, "text/", 5) == 0;
			if ((type = keep(t, w, n, false, text ? CHARSET : "")) < 0)
				return;
			continue;
		}
		if (!valid_ext(w, n) || t->n == MIME_EXT_MAX)
			continue;
		size_t s = find_slot(t, w, n);
		if (t->slot[s])
			continue; /* an earlier line has it */
		long e = keep(t, w, n, true, "");
		if (e < 0)
			return;
		t->ext[t->n] = (uint32_t)e;
		t->type[t->n] = (uint32_t)type;
		t->slot[s] = (uint16_t)++t->n;
	}
}

size_t mime_parse(struct mime_table *t, const char *buf, size_t len)
{
	memset(t, 0, sizeof *t);
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *hash_mark = memchr(p, '#', (size_t)(eol - p));
		parse_line(t, p, hash_mark ? hash_mark : eol);
		p = nl ? nl + 1 : end;
	}
	return t->n;
}

const char *mime_lookup(const struct mime_table *t, const char *ext,
			size_t len)
{
	if (len == 0 || len > MIME_EXT_LEN || t->n == 0)
		return NULL;
	size_t s = find_slot(t, ext, len);
	return t->slot[s] ? t->text + t->type[t->slot[s] - 1] : NULL;
}
