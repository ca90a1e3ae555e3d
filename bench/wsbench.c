/* wsbench: the measuring instrument of `make bench`.
 *
 *   wsbench latency    [-b] [-s BYTES]             round trip on 1 connection
 *   wsbench throughput [-c N] [-k N] [-s BYTES]    pipelined echo, messages/s
 *   wsbench large      [-c N] [-k N] [-s BYTES]    big messages, MB/s, stalls
 *   wsbench churn      [-P N]                      connect+echo+close, per s
 *   wsbench idle       -p PID [-n N] [-P N]        server KiB per open session
 *   wsbench fanout     [-c N] [-s BYTES] [--go FILE] [--slow N] [-p PID]
 *                      clients of a broadcast route: deliveries/s, lag
 *   wsbench produce    [-s BYTES] [-r LINES/S] [-n LINES] [-d SECS]
 *                      [--go FILE]  the broadcast program (see produce.c)
 *   wsbench spawn      [-P N] [-T N] [--prog PROG] posix_spawn+waitpid per s
 *   wsbench relay      [--port N] [--prog PROG]    bare TCP+pipes relay server
 *   wsbench freeport                               prints a free TCP port
 *
 * Common options: --host H (127.0.0.1) --port N --path P (/) -d SECS
 * (measured, 3) -w SECS (warm-up, 0.5) -D SECS (deadline of the whole run,
 * default warm-up + duration + 30) --stall SECS (5) --raw (plain lines over
 * TCP, to measure `wsbench relay`) -p PID (the server: idle reads its RSS;
 * the other load modes report its CPU time and read/write syscalls per
 * message or churn session, srv_cpu_us_per_op and srv_rw_per_op).
 * fanout also takes --hold SECS (idle clients held before the server's RSS
 * is read, 1) and -P N (handshakes at a time, 64); see fanout.c.
 *
 * Output: one line of key=value pairs on stdout, e.g.
 *   mode=throughput msgs_per_s=212345 mb_per_s=6.8 p50_us=1500.0 ...
 * A stall prints stall=1 and exits 0 (a stall is a result); a run that
 * could not produce a figure prints error="..." and exits 1; usage errors
 * exit 2. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wsbench.h"

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The first reason is kept for the result line; with WSBENCH_WHY set in
 * the environment every one is also printed on stderr, one a line (the
 * rolling restart of bench/scale.sh sorts them). */
void fail(struct result *r, const char *fmt, ...)
{
	va_list ap;
	char why[sizeof r->why];

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (getenv("WSBENCH_WHY"))
		fprintf(stderr, "why %s\n", why);
	if (!r->why[0])
		memcpy(r->why, why, sizeof why);
}

static const char *const modes[] = {
    [M_LATENCY] = "latency", [M_THROUGHPUT] = "throughput",
    [M_LARGE] = "large",     [M_CHURN] = "churn",
    [M_IDLE] = "idle",	     [M_FANOUT] = "fanout",
    [M_SPAWN] = "spawn",     [M_RELAY] = "relay",
    [M_FREEPORT] = "freeport", [M_PRODUCE] = "produce",
};

static void usage(const char *why)
{
	fprintf(stderr,
		"wsbench: %s\n"
		"usage: wsbench latency|throughput|large|churn|idle|fanout|"
		"spawn|relay|freeport|produce [options] (see bench/wsbench.c)\n",
		why);
	exit(2);
}

static double num(const char *flag, const char *v, double lo, double hi)
{
	char *end;
	double d;

	if (!v)
		usage(flag);
	d = strtod(v, &end);
	if (*end || end == v || d < lo || d > hi) {
		fprintf(stderr, "wsbench: bad value for %s: %s\n", flag, v);
		exit(2);
	}
	return d;
}

static void parse(int argc, char **argv, struct opts *o)
{
	int i;

	if (argc < 2)
		usage("no mode");
	for (i = 0; i < (int)(sizeof modes / sizeof *modes); i++)
		if (strcmp(argv[1], modes[i]) == 0)
			break;
	if (i == (int)(sizeof modes / sizeof *modes))
		usage("unknown mode");
	*o = (struct opts){.mode = (enum mode)i,
			   .host = "127.0.0.1",
			   .path = "/",
			   .conns = 50,
			   .inflight = 8,
			   .size = 32,
			   .duration = 3,
			   .warmup = 0.5,
			   .deadline = -1,
			   .stall = 5,
			   .sessions = 1000,
			   .hold = 1,
			   .parallel = 8,
			   .prog = "cat"};
	if (o->mode == M_LATENCY)
		o->conns = o->inflight = 1;
	if (o->mode == M_LARGE) {
		o->conns = 10;
		o->inflight = 4;
		o->size = 65536;
	}
	if (o->mode == M_IDLE || o->mode == M_FANOUT)
		o->parallel = 64;
	if (o->mode == M_FANOUT || o->mode == M_PRODUCE) {
		o->size = 64;
		o->conns = 100;
	}
	if (o->mode == M_PRODUCE)
		o->duration = 60;
	for (i = 2; i < argc; i++) {
		const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(f, "-b") == 0 || strcmp(f, "--busy") == 0) {
			o->busy = true;
			continue;
		}
		if (strcmp(f, "--raw") == 0) {
			o->raw = true;
			continue;
		}
		i++;
		if (strcmp(f, "--host") == 0 && v)
			o->host = v;
		else if (strcmp(f, "--path") == 0 && v)
			o->path = v;
		else if (strcmp(f, "--prog") == 0 && v)
			o->prog = v;
		else if (strcmp(f, "--go") == 0 && v)
			o->go = v;
		else if (strcmp(f, "-r") == 0)
			o->rate = num(f, v, 0, 1e9);
		else if (strcmp(f, "--slow") == 0)
			o->slow = (int)num(f, v, 0, 100000);
		else if (strcmp(f, "-n") == 0 && o->mode == M_PRODUCE)
			o->count = (long long)num(f, v, 0, 1e15);
		else if (strcmp(f, "--port") == 0)
			o->port = (int)num(f, v, 0, 65535);
		else if (strcmp(f, "-c") == 0)
			o->conns = (int)num(f, v, 1, 100000);
		else if (strcmp(f, "-k") == 0)
			o->inflight = (int)num(f, v, 1, 100000);
		else if (strcmp(f, "-s") == 0)
			o->size = (size_t)num(f, v, 0, 1 << 30);
		else if (strcmp(f, "-d") == 0)
			o->duration = num(f, v, 0.01, 86400);
		else if (strcmp(f, "-w") == 0)
			o->warmup = num(f, v, 0, 86400);
		else if (strcmp(f, "-D") == 0)
			o->deadline = num(f, v, 0.1, 86400);
		else if (strcmp(f, "--stall") == 0)
			o->stall = num(f, v, 0.1, 86400);
		else if (strcmp(f, "-p") == 0 || strcmp(f, "--pid") == 0)
			o->pid = (int)num(f, v, 1, 1 << 30);
		else if (strcmp(f, "-n") == 0)
			o->sessions = (int)num(f, v, 1, 10000000);
		else if (strcmp(f, "--hold") == 0)
			o->hold = num(f, v, 0, 86400);
		else if (strcmp(f, "-T") == 0)
			o->threads = (int)num(f, v, 1, 1024);
		else if (strcmp(f, "-P") == 0)
			o->parallel = (int)num(f, v, 1, 100000);
		else
			usage(f);
	}
	if (o->deadline < 0)
		o->deadline = o->warmup + o->duration + 30 +
			      (o->mode == M_FANOUT ? o->hold + 60 : 0);
	if ((o->mode == M_FANOUT || o->mode == M_PRODUCE) &&
	    (o->size < FAN_MIN_SIZE || o->size > FAN_MAX_SIZE)) {
		fprintf(stderr, "wsbench: -s must be %d to %d for %s\n",
			FAN_MIN_SIZE, FAN_MAX_SIZE, modes[o->mode]);
		exit(2);
	}
	if (o->mode <= M_FANOUT && o->port == 0)
		usage("--port is required");
	if (o->mode == M_IDLE && o->pid == 0)
		usage("idle needs -p PID");
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

static double pct(const struct result *r, double p)
{
	size_t i = (size_t)(p * (double)(r->nlat - 1) + 0.5);

	return r->nlat ? (double)r->lat[i] : 0;
}

static void report(const struct opts *o, struct result *r)
{
	double secs = r->secs > 0 ? r->secs : 1e-9;

	printf("mode=%s", modes[o->mode]);
	qsort(r->lat, r->nlat, sizeof *r->lat, cmp_float);
	switch (o->mode) {
	case M_LATENCY:
	case M_THROUGHPUT:
	case M_LARGE:
		printf(" conns=%d inflight=%d size=%zu msgs_per_s=%.0f "
		       "mb_per_s=%.1f",
		       o->conns, o->inflight, o->size, (double)r->msgs / secs,
		       (double)r->bytes / secs / 1e6);
		printf(" p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f "
		       "samples=%zu",
		       pct(r, .5), pct(r, .9), pct(r, .99), pct(r, .999),
		       r->nlat);
		break;
	case M_CHURN:
		printf(" parallel=%d sessions_per_s=%.0f session_p50_us=%.0f "
		       "session_p99_us=%.0f",
		       o->parallel, (double)r->sessions / secs, pct(r, .5),
		       pct(r, .99));
		break;
	case M_IDLE:
		printf(" asked=%d held=%d rss_base_kib=%ld rss_kib=%ld "
		       "kib_per_session=%.2f",
		       o->sessions, r->held, r->rss_base_kib, r->rss_kib,
		       r->held > 0
			   ? (double)(r->rss_kib - r->rss_base_kib) / r->held
			   : 0.0);
		break;
	case M_FANOUT:
		printf(" conns=%d slow=%d readers=%d size=%zu msgs_per_s=%.0f "
		       "per_client_per_s=%.0f lag_p50_us=%.1f lag_p99_us=%.1f "
		       "lag_p999_us=%.1f missing=%llu reordered=%llu "
		       "gap_clients=%d",
		       o->conns, o->slow, r->readers, o->size,
		       (double)r->msgs / secs,
		       r->readers > 0 ? (double)r->msgs / secs / r->readers
				      : 0.0,
		       r->lag_us[0], r->lag_us[1], r->lag_us[2],
		       (unsigned long long)r->missing,
		       (unsigned long long)r->reordered, r->gap_clients);
		if (r->rss_base_kib >= 0 && r->rss_kib >= 0 && r->held > 0)
			printf(" rss_base_kib=%ld rss_kib=%ld kib_per_sub=%.2f",
			       r->rss_base_kib, r->rss_kib,
			       (double)(r->rss_kib - r->rss_base_kib) /
				   r->held);
		if (r->prod_rss_kib >= 0)
			printf(" prod_rss_kib=%ld", r->prod_rss_kib);
		printf(" cli_cpu_pct=%.0f",
		       (r->cli_cpu[1] - r->cli_cpu[0]) / secs * 100);
		break;
	case M_SPAWN:
		printf(" parallel=%d procs=%d prog=%s spawns_per_s=%.0f",
		       o->parallel, o->threads > 1 ? o->threads : 1, o->prog,
		       (double)r->sessions / secs);
		break;
	default:
		break;
	}
	if (r->have_srv) {
		double cpu = r->cpu[1] - r->cpu[0];
		double per =
		    (double)(o->mode == M_CHURN ? r->sessions : r->msgs);

		printf(" srv_cpu_pct=%.0f", cpu / secs * 100);
		if (per > 0)
			printf(" srv_cpu_us_per_op=%.2f srv_rw_per_op=%.2f",
			       cpu * 1e6 / per,
			       (double)(r->sysc[1] - r->sysc[0]) / per);
	}
	printf(" secs=%.2f errors=%llu stall=%d", r->secs,
	       (unsigned long long)r->errors, r->stalled ? 1 : 0);
	if (r->stalled)
		printf(" stall_at=%.1f", r->stall_at);
	if (r->why[0])
		printf(" why=\"%s\"", r->why);
	printf("\n");
}

int main(int argc, char **argv)
{
	struct opts o;
	struct result r = {0};
	int rc;

	parse(argc, argv, &o);
	switch (o.mode) {
	case M_FREEPORT:
		return floor_freeport();
	case M_PRODUCE:
		return produce_run(&o);
	case M_RELAY:
		return floor_relay(&o);
	case M_SPAWN:
		rc = floor_spawn(&o, &r);
		break;
	default:
		rc = load_run(&o, &r);
	}
	if (rc < 0 || r.timed_out) {
		printf("mode=%s error=\"%s\"\n", modes[o.mode],
		       r.why[0] ? r.why : "failed");
		return 1;
	}
	report(&o, &r);
	free(r.lat);
	return 0;
}
