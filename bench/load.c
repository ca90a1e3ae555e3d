/* The load client: many RFC 6455 client connections in one thread on epoll.
 *
 * Every connection streams: outgoing messages are generated and masked in
 * buffer-sized chunks as the socket takes them, incoming frames are checked
 * against the expected echo as they arrive, so a 1 MiB message costs no
 * more memory than a 32-byte one. Each message carries its sequence number
 * (8 hex digits) followed by a fixed letter pattern: an echo that is lost,
 * reordered, cut or corrupted is an error, not a number.
 *
 * With --raw the same engine speaks lines over plain TCP (message + "\n"),
 * for the relay floor in floor.c.
 *
 * `wsbench fanout` (fanout.c) runs on the same engine, receiving only.
 *
 * This file holds the run: setup, the phases, the server's RSS, CPU and
 * syscall figures, and load_run; conn.c holds one connection's life and
 * wire.c the frames, sharing load.h. */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include "load.h"

const struct opts *o;
struct result *res;
int ep = -1;
struct conn *conns;
size_t nconns, bufsize, msg_total;
unsigned char *pattern; /* msg_total bytes: letters, "\n" if raw */
struct sockaddr_storage addr;
socklen_t addrlen;
uint64_t rng;
enum phase phase;
double t_measure, last_progress;
static double t_run, t_end, t_hold;
size_t n_open, n_failed, n_pending;
size_t n_started;

long load_rss(int pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	return kib;
}

/* CPU seconds used so far by process pid, all threads, user + system. */
static double read_cpu(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	size_t n;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (!p || sscanf(p + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%llu %llu",
			 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* read and write syscalls made so far by pid (/proc/PID/io), or -1. */
static long long read_sysc(int pid)
{
	char path[64], line[128];
	long long r = -1, w = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/io", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "syscr:", 6) == 0)
			r = atoll(line + 6);
		else if (strncmp(line, "syscw:", 6) == 0)
			w = atoll(line + 6);
	}
	fclose(f);
	return r < 0 || w < 0 ? -1 : r + w;
}

static void server_sample(int i)
{
	res->cli_cpu[i] = read_cpu(getpid());
	if (o->pid <= 0)
		return;
	res->cpu[i] = read_cpu(o->pid);
	res->sysc[i] = read_sysc(o->pid);
	res->have_srv = i == 1 && res->cpu[0] >= 0 && res->sysc[0] >= 0 &&
			res->cpu[1] >= 0 && res->sysc[1] >= 0;
}

static int resolve(void)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	char port[16];
	int rc;

	snprintf(port, sizeof port, "%d", o->port);
	rc = getaddrinfo(o->host, port, &hints, &ai);
	if (rc != 0) {
		fail(res, "%s: %s", o->host, gai_strerror(rc));
		return -1;
	}
	memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
	addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* Starts connections outside event callbacks, so that no callback sees its
 * connection replaced under it: idle keeps o->parallel handshakes going
 * until all are started, churn restarts every finished slot. */
static void refill(void)
{
	if (o->mode == M_IDLE || o->mode == M_FANOUT) {
		while (n_started < nconns && n_pending < (size_t)o->parallel)
			conn_start(&conns[n_started++]);
	} else if (o->mode == M_CHURN && phase != P_DONE) {
		if (n_failed > 100) {
			phase = P_DONE;
			return;
		}
		for (size_t i = 0; i < nconns; i++)
			if (conns[i].st == C_FREE)
				conn_start(&conns[i]);
	}
}

/* Moves the phases along; called after every batch of events. */
static void tick(void)
{
	double t = now();

	if (t - t_run > o->deadline) {
		res->timed_out = true;
		fail(res, "deadline of %.0f s reached", o->deadline);
		phase = P_DONE;
		return;
	}
	if (o->mode == M_FANOUT && fan_tick(t))
		return;
	if (phase == P_WARM && t >= t_measure) {
		phase = P_MEASURE;
		t_measure = t;
		t_end = t + o->duration;
		server_sample(0);
	} else if (phase == P_MEASURE && t >= t_end &&
		   t - last_progress < 0.25) {
		/* A window that ends while nothing moves runs on until
		 * bytes move again or the stall timeout calls it a stall. */
		phase = P_DONE;
		res->secs = t - t_measure;
		server_sample(1);
		return;
	}
	if (o->mode == M_IDLE) {
		if (phase == P_SETUP && n_started == nconns && n_pending == 0) {
			phase = P_HOLD;
			t_hold = t + o->hold;
		} else if (phase == P_HOLD && t >= t_hold) {
			res->rss_kib = load_rss(o->pid);
			res->held = (int)n_open;
			phase = P_DONE;
		}
		if (phase == P_HOLD)
			return;
	}
	if (o->mode == M_CHURN && phase == P_SETUP) {
		phase = P_WARM;
		t_measure = t + o->warmup;
	}
	if (t - last_progress > o->stall) {
		res->stalled = true;
		res->stall_at = t - t_run;
		if (phase == P_MEASURE && last_progress > t_measure)
			res->secs = last_progress - t_measure;
		phase = P_DONE;
	}
	if (n_failed && o->mode != M_IDLE && o->mode != M_CHURN &&
	    o->mode != M_FANOUT)
		phase = P_DONE;
}

static int setup(void)
{
	size_t n;

	msg_total = o->size + (o->raw ? 1 : 0);
	pattern = malloc(msg_total + 1);
	if (!pattern)
		return -1;
	for (size_t i = 0; i < msg_total; i++)
		pattern[i] = (unsigned char)('a' + i % 26);
	if (o->raw)
		pattern[o->size] = '\n';
	if (getrandom(&rng, sizeof rng, 0) != sizeof rng || rng == 0)
		rng = (uint64_t)(now() * 1e9) | 1;
	switch (o->mode) {
	case M_CHURN:
		nconns = (size_t)o->parallel;
		break;
	case M_IDLE:
		nconns = (size_t)o->sessions;
		break;
	default:
		nconns = (size_t)o->conns;
	}
	bufsize = o->mode == M_IDLE ? 4096 : o->size >= 4096 ? 262144 : 16384;
	conns = calloc(nconns, sizeof *conns);
	res->lat_cap = 8u << 20;
	res->lat = malloc(res->lat_cap * sizeof *res->lat);
	if (!conns || !res->lat)
		return -1;
	for (n = 0; n < nconns; n++) {
		conns[n].fd = -1;
		conns[n].obuf = malloc(bufsize);
		conns[n].ibuf = malloc(bufsize);
		conns[n].t_sent = calloc((size_t)o->inflight, sizeof(double));
		if (!conns[n].obuf || !conns[n].ibuf || !conns[n].t_sent)
			return -1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	return ep < 0 ? -1 : 0;
}

int load_run(const struct opts *opts, struct result *r)
{
	struct epoll_event evs[256];

	o = opts;
	res = r;
	if (resolve() < 0)
		return -1;
	if (setup() < 0) {
		fail(r, "out of memory or descriptors");
		return -1;
	}
	t_run = last_progress = now();
	phase = P_SETUP;
	if (o->mode == M_IDLE || o->mode == M_FANOUT) {
		res->rss_base_kib = load_rss(o->pid);
		if (res->rss_base_kib < 0 && o->mode == M_IDLE) {
			fail(r, "cannot read /proc/%d/status", o->pid);
			return -1;
		}
	}
	if (o->mode == M_IDLE || o->mode == M_FANOUT)
		refill();
	else
		for (n_started = 0; n_started < nconns; n_started++)
			conn_start(&conns[n_started]);
	while (phase != P_DONE) {
		int n = epoll_wait(ep, evs, 256, o->busy ? 0 : 20);

		for (int i = 0; i < n; i++)
			conn_event(evs[i].data.ptr, evs[i].events);
		refill();
		tick();
	}
	res->errors = n_failed;
	for (size_t i = 0; i < nconns; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	if (o->mode == M_FANOUT) {
		fan_finish();
		return res->secs > 0 || res->stalled ? 0 : -1;
	}
	if (n_failed && o->mode != M_IDLE && o->mode != M_CHURN)
		return -1;
	return 0;
}
