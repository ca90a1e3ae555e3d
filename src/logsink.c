/* The log's sink. How fd 2 is written without blocking depends on what it
 * is, and fd 2's file status flags are shared with every process that holds
 * the same open file (the shell, a supervisor, siblings in a pipeline), so
 * they are left alone where possible:
 *   - a regular file or block device never blocks for long: written
 *     directly, synchronously, as before the loop;
 *   - a socket: send(2) with MSG_DONTWAIT, a per-call flag;
 *   - a pipe, FIFO or terminal: a second open file of the same object,
 *     opened through /proc/self/fd/2 with O_NONBLOCK, so that only our own
 *     writes are non-blocking;
 *   - when that open fails (no /proc, no permission, a FIFO with no reader):
 *     O_NONBLOCK on fd 2 itself while the loop runs, put back at the end;
 *   - anything the loop cannot poll (/dev/null) never blocks: direct.
 * Lines stay whole: a line is queued or dropped whole, and the rest of a
 * line the sink took only part of is queued whatever the policy, so that it
 * is completed before any other line starts. */
#include "logsink.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

static const char *const kind_names[LOG_KINDS] = {
	"stderr", "info", "access", "error",
};

const char *logsink_kind_name(enum log_kind k)
{
	return kind_names[k];
}

/* --- the queue -------------------------------------------------------- */

/* How full the queue may be after a line of kind k: stderr 1/2, info 3/4,
 * access and error all of it. */
static size_t share(const struct logq *q, enum log_kind k)
{
	static const unsigned quarters[LOG_KINDS] = { 2, 3, 4, 4 };
	return q->cap / 4 * quarters[k];
}

void logq_init(struct logq *q, char *buf, size_t cap)
{
	memset(q, 0, sizeof *q);
	q->buf = buf;
	q->cap = cap;
}

bool logq_put(struct logq *q, enum log_kind k, const char *p, size_t n,
	      bool force)
{
	if (n > q->cap - q->len || (!force && q->len + n > share(q, k))) {
		q->dropped[k]++;
		q->total[k]++;
		return false;
	}
	size_t tail = (q->head + q->len) % q->cap;
	size_t first = n < q->cap - tail ? n : q->cap - tail;
	memcpy(q->buf + tail, p, first);
	memcpy(q->buf, p + first, n - first);
	q->len += n;
	return true;
}

int logq_peek(const struct logq *q, struct iovec iov[2])
{
	if (q->len == 0)
		return 0;
	size_t first = q->cap - q->head;
	if (first >= q->len) {
		iov[0] = (struct iovec){ q->buf + q->head, q->len };
		return 1;
	}
	iov[0] = (struct iovec){ q->buf + q->head, first };
	iov[1] = (struct iovec){ q->buf, q->len - first };
	return 2;
}

void logq_consume(struct logq *q, size_t n)
{
	q->len -= n;
	q->head = q->len ? (q->head + n) % q->cap : 0;
}

/* What snprintf added to out[len..cap), cut as it cut it. */
static size_t added(int w, size_t room)
{
	if (w < 0 || room == 0)
		return 0;
	return (size_t)w < room ? (size_t)w : room - 1;
}

size_t logq_report(struct logq *q, char *out, size_t cap)
{
	uint64_t all = 0;
	for (int k = 0; k < LOG_KINDS; k++)
		all += q->dropped[k];
	if (all == 0 || cap == 0)
		return 0;
	size_t len = added(snprintf(out, cap, "%llu log lines dropped",
				    (unsigned long long)all), cap);
	const char *sep = " (";
	for (int k = 0; k < LOG_KINDS; k++) {
		if (q->dropped[k] == 0)
			continue;
		len += added(snprintf(out + len, cap - len, "%s%s %llu", sep,
				      kind_names[k],
				      (unsigned long long)q->dropped[k]),
			     cap - len);
		sep = ", ";
	}
	len += added(snprintf(out + len, cap - len, ")"), cap - len);
	memset(q->dropped, 0, sizeof q->dropped);
	return len;
}

/* --- the sink --------------------------------------------------------- */

enum sink_state {
	SINK_SYNC,  /* blocking writes to fd 2: before and after the loop */
	SINK_ASYNC, /* the loop's: queue, written when fd is writable */
	SINK_GONE,  /* the last lines took too long at exit: drop the rest */
};

/* Zero-initialised apart from sink, so that it takes no room in the
 * binary. */
static char store[LOGSINK_CAP];

static struct {
	enum sink_state state;
	struct logq q;
	struct loop *loop;
	int fd;      /* what is written: fd 2 or our own open of it */
	bool sock;   /* send(MSG_DONTWAIT) */
	int restore; /* fd 2's status flags to put back, or -1 */
} sink = { .fd = STDERR_FILENO, .restore = -1 };

uint64_t logsink_dropped(enum log_kind k)
{
	return sink.q.total[k];
}

static void write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		p += w;
		n -= (size_t)w;
	}
}

/* One non-blocking write of iov[0..n); -1 with errno as write(2). */
static ssize_t try_write(const struct iovec *iov, int n)
{
	ssize_t w;
	do {
		if (sink.sock) {
			struct msghdr m = { .msg_iov = (struct iovec *)iov,
					    .msg_iovlen = (size_t)n };
			w = sendmsg(sink.fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
		} else {
			w = writev(sink.fd, iov, n);
		}
	} while (w < 0 && errno == EINTR);
	return w;
}

/* Writes what is queued until the sink would block. Returns false if it
 * would; a sink that fails otherwise (its reader is gone) loses the
 * queue, as it would lose any line. */
static bool flush(void)
{
	while (sink.q.len > 0) {
		struct iovec iov[2];
		int n = logq_peek(&sink.q, iov);
		ssize_t w = try_write(iov, n);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		logq_consume(&sink.q, w > 0 ? (size_t)w : sink.q.len);
	}
	return true;
}

/* The sink has drained: a line saying what was dropped, if anything. */
static void report(void)
{
	char text[160];
	if (logq_report(&sink.q, text, sizeof text) > 0)
		log_msg(LV_ERROR, "%s", text);
}

static void on_writable(struct loop *l, int fd, unsigned ev, void *arg)
{
	(void)ev;
	(void)arg;
	if (!flush())
		return;
	loop_set(l, fd, 0);
	report();
}

bool logsink_admit(enum log_kind k)
{
	if (sink.state == SINK_SYNC ||
	    (sink.state == SINK_ASYNC && sink.q.len < share(&sink.q, k)))
		return true;
	if (sink.state == SINK_ASYNC)
		sink.q.dropped[k]++;
	sink.q.total[k]++;
	return false;
}

void logsink_put(enum log_kind k, const char *p, size_t n)
{
	int saved = errno;
	if (sink.q.buf == NULL)
		logq_init(&sink.q, store, sizeof store);
	if (sink.state == SINK_SYNC) {
		write_all(p, n);
	} else if (sink.state == SINK_GONE) {
		sink.q.total[k]++;
	} else if (sink.q.len > 0) {
		logq_put(&sink.q, k, p, n, false);
	} else {
		/* Try first; wait for writability only if it did not all go. */
		struct iovec v = { (void *)p, n };
		ssize_t w = try_write(&v, 1);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			w = (ssize_t)n; /* lost, as a failed write(2) loses it */
		size_t done = w > 0 ? (size_t)w : 0;
		if (done < n &&
		    logq_put(&sink.q, k, p + done, n - done, done > 0) &&
		    sink.loop)
			loop_set(sink.loop, sink.fd, LOOP_WRITE);
	}
	errno = saved;
}

/* Undoes what logsink_start did to descriptors. */
static void release(void)
{
	if (sink.fd != STDERR_FILENO)
		close(sink.fd);
	if (sink.restore >= 0)
		fcntl(STDERR_FILENO, F_SETFL, sink.restore);
	sink.fd = STDERR_FILENO;
	sink.sock = false;
	sink.restore = -1;
}

void logsink_start(struct loop *l)
{
	struct stat st;
	if (sink.q.buf == NULL)
		logq_init(&sink.q, store, sizeof store);
	if (fstat(STDERR_FILENO, &st) < 0 || S_ISREG(st.st_mode) ||
	    S_ISBLK(st.st_mode))
		return;
	sink.sock = S_ISSOCK(st.st_mode);
	if (!sink.sock) {
		sink.fd = open("/proc/self/fd/2",
			       O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (sink.fd < 0) {
			sink.fd = STDERR_FILENO;
			int fl = fcntl(STDERR_FILENO, F_GETFL);
			if (fl < 0 || fcntl(STDERR_FILENO, F_SETFL,
					    fl | O_NONBLOCK) < 0)
				return;
			sink.restore = fl;
		}
	}
	/* Registered for writability at once: a descriptor the loop cannot
	 * poll (EPERM) never blocks, and stays synchronous. */
	if (loop_add(l, sink.fd, LOOP_WRITE, on_writable, NULL) < 0) {
		release();
		return;
	}
	sink.loop = l;
	sink.state = SINK_ASYNC;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void logsink_stop(int timeout_ms)
{
	if (sink.state != SINK_ASYNC)
		return;
	loop_del(sink.loop, sink.fd);
	sink.loop = NULL; /* lines are still queued, and written here */
	uint64_t end = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	bool reported = false;
	for (;;) {
		if (flush()) {
			if (reported)
				break;
			/* Queued like any line: a sink that stalls again
			 * must not hold the exit either. */
			report();
			reported = true;
			continue;
		}
		uint64_t now = now_ms();
		if (now >= end)
			break;
		struct pollfd pfd = { sink.fd, POLLOUT, 0 };
		poll(&pfd, 1, (int)(end - now));
	}
	release();
	sink.state = sink.q.len > 0 ? SINK_GONE : SINK_SYNC;
}
