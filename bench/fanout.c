/* `wsbench fanout`: C clients of one broadcast route, fed by `wsbench
 * produce` (produce.c), on the load client's engine (load.c, conn.c,
 * wire.c).
 *
 * The run: open all C connections (-P handshakes at a time); hold them
 * idle --hold seconds and read the server's RSS (per idle subscriber:
 * minus the RSS before the first connect, divided by C); create the --go
 * file, which starts the producer; warm up -w seconds, then count over -d
 * seconds. Every message must be one line of the producer: -s bytes, its
 * sequence number one more than the last this client got (a gap counts as
 * missing lines, a step back as out of order: both are reported, per
 * client). Its lag is the time the read that brought it returned minus
 * the time in the line (CLOCK_MONOTONIC: same host), kept in a histogram
 * of 1/32-octave buckets (3% wide).
 *
 * --slow N: the first N clients stop reading once open (they stay
 * connected and never read again), with a 4 KiB receive buffer: the
 * others' rate is then the slow subscriber figure. Their lines are not
 * counted. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "load.h"

#define OCTAVES 40
#define SUB	32 /* buckets per octave */

static uint64_t hist[OCTAVES * SUB];
static uint64_t hist_n;
uint64_t fan_rx_ns;

uint64_t fan_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Bucket of a lag of v ns: the octave (top bit) and the next 5 bits. */
static size_t bucket(uint64_t v)
{
	int top;

	if (v < SUB)
		return (size_t)v;
	top = 63 - __builtin_clzll(v);
	if (top - 5 + 1 >= OCTAVES)
		return OCTAVES * SUB - 1;
	return (size_t)(top - 5 + 1) * SUB + ((v >> (top - 5)) & (SUB - 1));
}

/* The lower end of bucket b, ns. */
static double bucket_ns(size_t b)
{
	size_t oct = b / SUB, sub = b % SUB;

	if (oct == 0)
		return (double)sub;
	return (double)((SUB + sub) << (oct - 1));
}

static double lag_pct(double p)
{
	uint64_t want = (uint64_t)(p * (double)hist_n), seen = 0;

	if (hist_n == 0)
		return 0;
	for (size_t b = 0; b < OCTAVES * SUB; b++) {
		seen += hist[b];
		if (seen > want)
			return bucket_ns(b) / 1000;
	}
	return bucket_ns(OCTAVES * SUB - 1) / 1000;
}

static int hexval(const unsigned char *p, uint64_t *v)
{
	uint64_t x = 0;

	for (int i = 0; i < 16; i++) {
		unsigned d = p[i];

		if (d >= '0' && d <= '9')
			d -= '0';
		else if (d >= 'a' && d <= 'f')
			d -= 'a' - 10;
		else
			return -1;
		x = x << 4 | d;
	}
	*v = x;
	return 0;
}

void fan_socket(struct conn *c)
{
	int small = 4096;

	c->fan_started = c->fan_gap = false;
	c->slow = (size_t)(c - conns) < (size_t)o->slow;
	/* A small window, so that the server's queue for a client that never
	 * reads starts growing within the run, not after megabytes. */
	if (c->slow)
		setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
}

void fan_open(struct conn *c)
{
	c->pending = false;
	n_pending--;
	if (c->slow)
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
}

int fan_data(struct conn *c, const unsigned char *p, size_t n)
{
	if (c->rx_off + n > o->size)
		return -1;
	memcpy(c->fan_msg + c->rx_off, p, n);
	c->rx_off += n;
	return 0;
}

void fan_message(struct conn *c)
{
	uint64_t seq, ts;

	if (hexval(c->fan_msg, &seq) < 0 || hexval(c->fan_msg + 17, &ts) < 0) {
		conn_fail(c, "not a line of wsbench produce");
		return;
	}
	if (c->fan_started && seq != c->fan_next) {
		if (seq > c->fan_next)
			res->missing += seq - c->fan_next;
		else
			res->reordered++;
		if (!c->fan_gap) {
			c->fan_gap = true;
			res->gap_clients++;
		}
	}
	c->fan_started = true;
	c->fan_next = seq + 1;
	if (phase != P_MEASURE)
		return;
	res->msgs++;
	res->bytes += o->size;
	hist[bucket(fan_rx_ns > ts ? fan_rx_ns - ts : 0)]++;
	hist_n++;
}

/* Sum of VmRSS of the children of pid (of every thread's), KiB: the
 * producer. */
static long children_rss(int pid)
{
	char path[300];
	struct dirent *d;
	long sum = 0;
	DIR *dir;
	FILE *f;
	int child;

	snprintf(path, sizeof path, "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%.32s/children", pid,
			 d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fscanf(f, "%d", &child) == 1) {
			long k = load_rss(child);

			if (k > 0)
				sum += k;
		}
		fclose(f);
	}
	closedir(dir);
	return sum;
}

/* P_SETUP -> P_HOLD -> P_WARM; returns true while it holds the phase. */
bool fan_tick(double t)
{
	static double t_hold;

	if (phase == P_SETUP) {
		if (n_started < nconns || n_pending > 0)
			return true;
		if (n_failed) {
			fail(res, "only %zu of %zu clients connected", n_open,
			     nconns);
			phase = P_DONE;
			return true;
		}
		phase = P_HOLD;
		t_hold = t + o->hold;
		return true;
	}
	if (phase != P_HOLD)
		return false;
	if (t < t_hold)
		return true;
	res->rss_kib = load_rss(o->pid);
	res->held = (int)n_open;
	res->prod_rss_kib = children_rss(o->pid);
	if (o->go) {
		int fd = open(o->go, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		if (fd < 0) {
			fail(res, "cannot create %s", o->go);
			phase = P_DONE;
			return true;
		}
		close(fd);
	}
	phase = P_WARM;
	t_measure = t + o->warmup;
	last_progress = t;
	return false;
}

void fan_finish(void)
{
	res->readers = (int)n_open - (o->slow < (int)n_open ? o->slow : 0);
	res->lag_us[0] = lag_pct(.5);
	res->lag_us[1] = lag_pct(.99);
	res->lag_us[2] = lag_pct(.999);
}
