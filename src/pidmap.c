#include "pidmap.h"

#include <stdlib.h>

#define EMPTY 0
#define TOMBSTONE (-1)

struct pidmap_slot {
	pid_t pid; /* EMPTY, TOMBSTONE or a pid (> 0) */
	void *owner;
};

static size_t hash(pid_t pid, size_t cap)
{
	return ((size_t)pid * 2654435761u) & (cap - 1);
}

static int grow(struct pidmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	struct pidmap_slot *s = calloc(cap, sizeof *s);
	if (!s)
		return -1;
	size_t used = 0;
	for (size_t i = 0; i < m->cap; i++) {
		if (m->slot[i].pid <= 0)
			continue;
		size_t k = hash(m->slot[i].pid, cap);
		while (s[k].pid != EMPTY)
			k = (k + 1) & (cap - 1);
		s[k] = m->slot[i];
		used++;
	}
	free(m->slot);
	m->slot = s;
	m->cap = cap;
	m->used = used;
	return 0;
}

int pidmap_put(struct pidmap *m, pid_t pid, void *owner)
{
	if ((m->used + 1) * 2 > m->cap && grow(m) < 0)
		return -1;
	size_t k = hash(pid, m->cap);
	while (m->slot[k].pid > 0 && m->slot[k].pid != pid)
		k = (k + 1) & (m->cap - 1);
	if (m->slot[k].pid == EMPTY)
		m->used++;
	m->slot[k].pid = pid;
	m->slot[k].owner = owner;
	return 0;
}

static struct pidmap_slot *find(const struct pidmap *m, pid_t pid)
{
	if (!m->cap)
		return NULL;
	size_t k = hash(pid, m->cap);
	while (m->slot[k].pid != EMPTY) {
		if (m->slot[k].pid == pid)
			return &m->slot[k];
		k = (k + 1) & (m->cap - 1);
	}
	return NULL;
}

void *pidmap_get(const struct pidmap *m, pid_t pid)
{
	struct pidmap_slot *s = find(m, pid);
	return s ? s->owner : NULL;
}

void pidmap_del(struct pidmap *m, pid_t pid)
{
	struct pidmap_slot *s = find(m, pid);
	if (s) {
		s->pid = TOMBSTONE;
		s->owner = NULL;
	}
}

void pidmap_free(struct pidmap *m)
{
	free(m->slot);
	m->slot = NULL;
	m->cap = m->used = 0;
}
