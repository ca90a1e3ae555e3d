/* Where finished log lines go: standard error, without ever making the
 * event loop wait. While the loop runs, a line that the sink does not take
 * at once waits in a bounded queue written out when fd 2 is writable; when
 * the queue is full, lines are dropped by kind (child stderr first, access
 * and error lines last), counted, and reported once the sink drains. Before
 * logsink_start and after logsink_stop, lines are written synchronously. */
#ifndef PORTAL_LOGSINK_H
#define PORTAL_LOGSINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct loop;

/* What a line is, in the order it is dropped: stderr first. */
enum log_kind {
	LOG_KIND_STDERR, /* a line of a child's stderr */
	LOG_KIND_INFO,   /* the gateway's debug, trace and info lines */
	LOG_KIND_ACCESS, /* access lines */
	LOG_KIND_ERROR,  /* error and fatal lines */
	LOG_KINDS,
};

/* The queue's size: about 1,700 access lines, enough to ride out a stalled
 * reader for a while. A line is queued if afterwards the queue is at most
 * half full (child stderr), three quarters full (info) or full (access,
 * error); the man page's LOGGING says the same. */
#define LOGSINK_CAP (256u * 1024u)

/* With no --drain-timeout, how long the last lines may take at exit. */
#define LOGSINK_FLUSH_MS 2000

/* "stderr", "info", "access", "error". */
const char *logsink_kind_name(enum log_kind k);

/* Lines of kind k dropped since the start (for --metrics). */
uint64_t logsink_dropped(enum log_kind k);

/* Whether a line of kind k may be queued now; if not, it is counted as
 * dropped, and the caller need not build it. A line admitted may still be
 * dropped by logsink_put, once its length is known. */
bool logsink_admit(enum log_kind k);

/* Hands one whole line p[0..n) (with its "\n") to the sink. */
void logsink_put(enum log_kind k, const char *p, size_t n);

/* From now on the loop writes the log: fd 2 is watched like any other
 * descriptor, if it can block (a pipe, FIFO, socket or terminal). */
void logsink_start(struct loop *l);

/* Before the loop is freed: writes what is queued within timeout_ms and
 * goes back to synchronous writes; if the sink took too long, later lines
 * are dropped instead, so that the exit never waits on the log. */
void logsink_stop(int timeout_ms);

/* --- the queue (pure, for tests) ------------------------------------- */

/* A ring of whole lines over caller storage buf[0..cap). */
struct logq {
	char *buf;
	size_t cap;
	size_t head, len; /* queued bytes: len from head, wrapping */
	uint64_t dropped[LOG_KINDS]; /* since the last report */
	uint64_t total[LOG_KINDS];   /* since the start */
};

void logq_init(struct logq *q, char *buf, size_t cap);

/* Queues p[0..n) whole if the queue holds at most the share of kind k
 * after it, else counts it dropped. With force, queues it whatever the
 * share (the rest of a line already part written), if it fits. Returns
 * whether it was queued. */
bool logq_put(struct logq *q, enum log_kind k, const char *p, size_t n,
	      bool force);

/* The queued bytes as at most two pieces, oldest first; returns how many. */
int logq_peek(const struct logq *q, struct iovec iov[2]);

/* n bytes of the front were written. */
void logq_consume(struct logq *q, size_t n);

/* Once the queue is empty: "N log lines dropped (stderr N, ...)" naming
 * the kinds with drops since the last report, written to out[0..cap);
 * returns its length, 0 when nothing was dropped, and starts counting
 * again. */
size_t logq_report(struct logq *q, char *out, size_t cap);

#endif
