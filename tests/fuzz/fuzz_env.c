/* Fuzz target for src/env.h: the packed CGI environment must stay inside
 * the caller's storage, hold only well-formed NAME=value strings with no CR
 * or LF in a value, and, when nothing overflowed, be exactly what the
 * contract describes (a model below).
 *
 * Input: byte 0 chooses the buffer size (bit 7: 64 KiB, else 16 * byte),
 * byte 1 the number of variable slots (1..48), then operations:
 *   op bit 0 clear: env_add_header(name, value): a length byte and the
 *       name's bytes, a length byte and the value's bytes;
 *   op bit 0 set: env_add(NAMES[op >> 1 % 4], value), value as above.
 * The whole input is also a path for env_decode_path, checked against a
 * model of RFC 3986 percent-decoding that refuses %00. */
#include <stdbool.h>

#include "env.h"
#include "fuzz.h"

#define MAX_VARS 48

static const char *const names[] = {"REMOTE_ADDR", "PATH_INFO", "HTTP_HOST",
				    "HTTP_X_A"};

struct reader {
	const uint8_t *p;
	size_t n, i;
};

/* Up to max bytes, as many as a length byte says and the input holds. */
static const char *take(struct reader *r, size_t max, size_t *len)
{
	size_t want = r->i < r->n ? r->p[r->i++] % (max + 1) : 0;
	const char *s = (const char *)r->p + r->i;
	*len = want < r->n - r->i ? want : r->n - r->i;
	r->i += *len;
	return s;
}

/* The contract's environment: its strings in order. */
struct model {
	struct fuzz_bytes var[MAX_VARS];
	size_t n;
};

static void put_clean(struct fuzz_bytes *b, const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c =
		    v[i] == '\r' || v[i] == '\n' || v[i] == '\0' ? ' ' : v[i];
		fuzz_put(b, &c, 1);
	}
}

static struct fuzz_bytes *model_find(struct model *m, const char *name,
				     size_t len)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->var[i].len > len &&
		    memcmp(m->var[i].p, name, len) == 0 &&
		    m->var[i].p[len] == '=')
			return &m->var[i];
	return NULL;
}

static void model_add(struct model *m, const char *name, size_t len,
		      const char *v, size_t vlen)
{
	if (m->n == MAX_VARS)
		return; /* the real one has overflowed long before */
	struct fuzz_bytes *b = &m->var[m->n++];
	fuzz_put(b, name, len);
	fuzz_put(b, "=", 1);
	put_clean(b, v, vlen);
}

/* "HTTP_<NAME> ... letters upper-cased, '-' -> '_'. A name with any
 * character other than a letter, digit or '-' is dropped. When the same
 * variable is already present, the value is appended after ", "." */
static void model_header(struct model *m, const char *name, size_t len,
			 const char *v, size_t vlen)
{
	char var[5 + 64];

	if (len == 0)
		return;
	memcpy(var, "HTTP_", 5);
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (c == '-')
			c = '_';
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return;
		var[5 + i] = c;
	}
	struct fuzz_bytes *b = model_find(m, var, 5 + len);
	if (b) {
		fuzz_put(b, ", ", 2);
		put_clean(b, v, vlen);
	} else {
		model_add(m, var, 5 + len, v, vlen);
	}
}

static bool name_char(char c, bool header)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       (!header && c >= 'a' && c <= 'z');
}

/* The packed strings lie one after the other in buf[0..used). */
static void check_env(const struct env *e, const char *buf, size_t cap,
		      size_t max)
{
	const char *at = buf;

	FUZZ_CHECK(e->used <= cap);
	FUZZ_CHECK(e->n < max);
	for (size_t i = 0; i < e->n; i++) {
		const char *s = e->vars[i];
		FUZZ_CHECK(s == at);
		size_t room = (size_t)(buf + e->used - s);
		size_t len = strnlen(s, room);
		FUZZ_CHECK(len < room);
		const char *eq = memchr(s, '=', len);
		FUZZ_CHECK(eq != NULL && eq > s);
		bool header = strncmp(s, "HTTP_", 5) == 0;
		for (const char *p = s; p < eq; p++)
			FUZZ_CHECK(name_char(*p, header));
		FUZZ_CHECK(memchr(s, '\r', len) == NULL);
		FUZZ_CHECK(memchr(s, '\n', len) == NULL);
		char name[128];
		size_t nl = (size_t)(eq - s);
		if (nl < sizeof name) {
			memcpy(name, s, nl);
			name[nl] = '\0';
			FUZZ_CHECK(env_has(e, name));
		}
		at = s + len + 1;
	}
	FUZZ_CHECK(at == buf + e->used);
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (uint8_t)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "Returns the decoded length, or -1 for a '%' not followed by two hex
 * digits or one that decodes to NUL." Written into a buffer exactly as
 * long as the input, so that ASan sees any write past len. */
static void check_decode(const uint8_t *p, size_t n)
{
	char *out = malloc(n ? n : 1);
	struct fuzz_bytes want = {0};
	long model = 0;
	if (!out)
		abort();
	for (size_t i = 0; i < n && model >= 0; i++) {
		uint8_t c = p[i];
		if (c == '%') {
			int hi = i + 2 < n ? hexval(p[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(p[i + 2]) : -1;
			if (lo < 0 || (hi | lo) == 0) {
				model = -1;
				break;
			}
			c = (uint8_t)(hi * 16 + lo);
			i += 2;
		}
		fuzz_put(&want, (const char *)&c, 1);
		model++;
	}
	long got = env_decode_path((const char *)p, n, out);
	FUZZ_CHECK(got == model);
	if (got >= 0)
		FUZZ_CHECK((size_t)got <= n &&
			   (got == 0 || memcmp(out, want.p, (size_t)got) == 0));
	fuzz_bytes_free(&want);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_decode(data, size);
	if (size < 2)
		return 0;
	size_t cap = data[0] & 0x80 ? 65536 : (size_t)data[0] * 16;
	size_t max = 1 + data[1] % MAX_VARS;
	char *buf = malloc(cap ? cap : 1);
	char **vars = malloc(max * sizeof *vars);
	struct reader r = {data + 2, size - 2, 0};
	struct model m = {0};
	struct env e;

	if (!buf || !vars)
		abort();
	env_init(&e, buf, cap, vars, max);
	while (r.i < r.n) {
		uint8_t op = r.p[r.i++];
		size_t nl = 0, vl;
		const char *name = NULL;
		if (!(op & 1))
			name = take(&r, 64, &nl);
		const char *v = take(&r, 200, &vl);
		if (op & 1) {
			const char *fixed = names[(op >> 1) % 4];
			env_add(&e, fixed, v, vl);
			model_add(&m, fixed, strlen(fixed), v, vl);
		} else {
			env_add_header(&e, name, nl, v, vl);
			model_header(&m, name, nl, v, vl);
		}
		check_env(&e, buf, cap, max);
	}
	FUZZ_CHECK(env_finish(&e) == vars && vars[e.n] == NULL);

	/* Nothing was left out: exactly the model. */
	if (!e.overflow) {
		FUZZ_CHECK(e.n == m.n);
		for (size_t i = 0; i < e.n; i++)
			FUZZ_CHECK(strlen(vars[i]) == m.var[i].len &&
				   memcmp(vars[i], m.var[i].p, m.var[i].len) ==
				       0);
	}
	for (size_t i = 0; i < m.n; i++)
		fuzz_bytes_free(&m.var[i]);
	free(vars);
	free(buf);
	return 0;
}
