/* pid -> owner map for reaping: open addressing, grows as needed, so that a
 * SIGCHLD costs the same with ten sessions or ten thousand. */
#ifndef PORTAL_PIDMAP_H
#define PORTAL_PIDMAP_H

#include <stddef.h>
#include <sys/types.h>

struct pidmap {
	struct pidmap_slot *slot;
	size_t cap, used; /* used counts live entries and tombstones */
};

/* Records pid -> owner; returns 0, or -1 when out of memory. */
int pidmap_put(struct pidmap *m, pid_t pid, void *owner);
/* The owner of pid, or NULL. */
void *pidmap_get(const struct pidmap *m, pid_t pid);
/* Forgets pid (harmless if absent). */
void pidmap_del(struct pidmap *m, pid_t pid);
void pidmap_free(struct pidmap *m);

#endif
