#include "env.h"

#include <string.h>

void env_init(struct env *e, char *buf, size_t cap, char **vars, size_t max)
{
	e->buf = buf;
	e->cap = cap;
	e->used = 0;
	e->vars = vars;
	e->max = max;
	e->n = 0;
	e->overflow = false;
}

static char clean(char c)
{
	return c == '\r' || c == '\n' || c == '\0' ? ' ' : c;
}

/* Appends value to the last string packed, whose NUL is at e->used - 1. */
static bool append_last(struct env *e, const char *value, size_t len)
{
	if (e->cap - e->used < len)
		return false;
	char *p = e->buf + e->used - 1;
	for (size_t i = 0; i < len; i++)
		*p++ = clean(value[i]);
	*p = '\0';
	e->used += len;
	return true;
}

static char *start_var(struct env *e, const char *name, size_t name_len)
{
	if (e->n + 1 >= e->max || e->cap - e->used < name_len + 2) {
		e->overflow = true;
		return NULL;
	}
	char *p = e->buf + e->used;
	memcpy(p, name, name_len);
	p[name_len] = '=';
	p[name_len + 1] = '\0';
	e->used += name_len + 2;
	e->vars[e->n++] = p;
	return p;
}

static void drop_last(struct env *e)
{
	e->n--;
	e->used = (size_t)(e->vars[e->n] - e->buf);
	e->overflow = true;
}

void env_add(struct env *e, const char *name, const char *value, size_t len)
{
	if (!start_var(e, name, strlen(name)))
		return;
	if (!append_last(e, value, len))
		drop_last(e);
}

void env_add_header(struct env *e, const char *name, size_t name_len,
		    const char *value, size_t value_len)
{
	char var[256];
	if (name_len == 0 || name_len + 5 > sizeof var)
		return;
	memcpy(var, "HTTP_", 5);
	for (size_t i = 0; i < name_len; i++) {
		char c = name[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (c == '-')
			c = '_';
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return;
		var[5 + i] = c;
	}
	size_t vlen = name_len + 5;

	/* A repeat of an earlier header: join, moving the strings packed
	 * after it along so that the buffer stays one run of strings. */
	for (size_t i = 0; i < e->n; i++) {
		if (strncmp(e->vars[i], var, vlen) != 0 || e->vars[i][vlen] != '=')
			continue;
		size_t need = 2 + value_len;
		if (e->cap - e->used < need) {
			e->overflow = true;
			return;
		}
		char *nul = e->vars[i] + strlen(e->vars[i]);
		size_t pos = (size_t)(nul - e->buf);
		memmove(nul + need, nul, e->used - pos);
		for (size_t j = i + 1; j < e->n; j++)
			e->vars[j] += need;
		nul[0] = ',';
		nul[1] = ' ';
		for (size_t k = 0; k < value_len; k++)
			nul[2 + k] = clean(value[k]);
		e->used += need;
		return;
	}
	if (!start_var(e, var, vlen))
		return;
	if (!append_last(e, value, value_len))
		drop_last(e);
}

bool env_has(const struct env *e, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < e->n; i++) {
		if (strncmp(e->vars[i], name, n) == 0 && e->vars[i][n] == '=')
			return true;
	}
	return false;
}

char **env_finish(struct env *e)
{
	e->vars[e->n] = NULL;
	return e->vars;
}
