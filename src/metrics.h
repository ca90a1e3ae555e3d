/* Counters for --metrics, rendered in the Prometheus text format. Plain
 * counting: no syscalls, no allocation. */
#ifndef PORTAL_METRICS_H
#define PORTAL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What one session carried, counted as it goes. */
struct msg_counts {
	uint64_t msgs_in, bytes_in;   /* client -> child */
	uint64_t msgs_out, bytes_out; /* child -> client */
};

static inline void msg_counts_add(struct msg_counts *to,
				  const struct msg_counts *n)
{
	to->msgs_in += n->msgs_in;
	to->bytes_in += n->bytes_in;
	to->msgs_out += n->msgs_out;
	to->bytes_out += n->bytes_out;
}

/* A count per key (an HTTP status, a close code); keys are few, so a small
 * table. Once it is full, further keys count under METRICS_OTHER. */
#define METRICS_KEYS 24
#define METRICS_OTHER 0xffffffffu
struct metrics_count {
	unsigned key;
	uint64_t n; /* 0: slot unused */
};

/* A histogram of durations; its bucket bounds are metrics.c's. */
#define METRICS_BUCKETS 16
struct metrics_hist {
	uint64_t bucket[METRICS_BUCKETS]; /* observations per bucket, not
					     cumulative; after the last
					     bound: over the top */
	uint64_t n, sum_us;
};

struct metrics {
	uint64_t sessions_total;   /* 101 answers sent */
	struct metrics_hist handshake; /* request head -> 101 sent */
	struct metrics_hist session;   /* 101 sent -> session ended */
	struct msg_counts ended;   /* sums over sessions that have ended */
	struct metrics_count http_errors[METRICS_KEYS]; /* refused upgrades */
	struct metrics_count plain[METRICS_KEYS]; /* plain answers by status */
	struct metrics_count closes[METRICS_KEYS]; /* close code sent, 0: none */
	uint64_t exits[256 + 65];  /* exit status 0..255, then 256 + signal */
	uint64_t refused[2];       /* by enum metrics_refusal */
};

/* Connections answered 503 by a limit (--maxconns, --maxclients). */
enum metrics_refusal {
	METRICS_REFUSED_CONNS,      /* "too many connections" */
	METRICS_REFUSED_ROUTE_FULL, /* "route full" */
};

/* What is read off the live server when the metrics are asked for. */
struct metrics_live {
	uint64_t sessions_open;
	uint64_t children;       /* running: started, not yet reaped */
	struct msg_counts n;     /* sums over the open sessions */
	uint64_t start_s;        /* wall clock, seconds */
	uint64_t connections;    /* held, of every kind */
};

/* Largest text metrics_render can write. */
#define METRICS_TEXT_MAX 65536

/* A request was refused with this HTTP status. */
void metrics_http_error(struct metrics *m, int status);

/* A plain HTTP request (health, metrics, file, console) was answered. */
void metrics_plain(struct metrics *m, int status);

/* A connection was refused by a limit. */
void metrics_refused(struct metrics *m, enum metrics_refusal why);

/* A 101 was sent, us microseconds after the request head was read: the
 * time the client waited for the program's start. */
void metrics_session_open(struct metrics *m, uint64_t us);

/* A session ended: the close code we sent (0: none), the child's wait
 * status if it was reaped (NULL if not), what the session carried, and how
 * long it was open (ms since its 101). */
void metrics_session_end(struct metrics *m, unsigned close_code,
			 const int *wait_status, const struct msg_counts *n,
			 uint64_t ms);

/* Writes the Prometheus text exposition (format 0.0.4) of m and live to
 * out[0..cap). Returns the length, or 0 if cap is too small
 * (METRICS_TEXT_MAX always suffices). */
size_t metrics_render(const struct metrics *m, const struct metrics_live *live,
		      char *out, size_t cap);

#endif
