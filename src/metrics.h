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

struct metrics {
	uint64_t sessions_total;   /* 101 answers sent */
	struct msg_counts ended;   /* sums over sessions that have ended */
	/* filled in by metrics.c */
	uint64_t http_errors[16];  /* by status, see metrics.c */
	uint64_t closes[32];       /* by close code sent, see metrics.c */
	uint64_t exits[256 + 65];  /* exit status 0..255, then signals */
};

/* A request was refused with this HTTP status. */
void metrics_http_error(struct metrics *m, int status);

/* A session ended: the close code we sent (0: none), the child's wait
 * status if it was reaped (NULL if not), and what the session carried. */
void metrics_session_end(struct metrics *m, unsigned close_code,
			 const int *wait_status, const struct msg_counts *n);

#endif
