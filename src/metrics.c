/* Counters for --metrics and their Prometheus text exposition (format
 * 0.0.4): names prefixed portal_gw_, counters ending in _total, units in
 * the name (_bytes, _seconds). */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "child.h"
#include "logsink.h"

#ifndef PORTAL_VERSION
#define PORTAL_VERSION "dev"
#endif

static void count(struct metrics_count *t, unsigned key)
{
	size_t i;
	for (i = 0; i < METRICS_KEYS; i++) {
		if (t[i].n == 0 || t[i].key == key)
			break;
	}
	if (i == METRICS_KEYS) {
		i = METRICS_KEYS - 1; /* the last slot becomes "other" */
		t[i].key = METRICS_OTHER;
	}
	t[i].key = t[i].n == 0 ? key : t[i].key;
	t[i].n++;
}

void metrics_http_error(struct metrics *m, int status)
{
	count(m->http_errors, (unsigned)status);
}

void metrics_plain(struct metrics *m, int status)
{
	count(m->plain, (unsigned)status);
}

void metrics_refused(struct metrics *m, enum metrics_refusal why)
{
	m->refused[why]++;
}

/* Upper bounds of the buckets, microseconds, ascending; 0 ends a list
 * (the +Inf bucket follows). The handshake is a spawn and an exec:
 * about a millisecond, more when the host is loaded or the program's
 * binary is slow to load; sessions last from a message to hours. */
static const uint64_t handshake_le[METRICS_BUCKETS] = {
	250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
	500000, 1000000, 2500000, 10000000, 0};
static const uint64_t session_le[METRICS_BUCKETS] = {
	100000, 1000000, 10000000, 60000000, 300000000, 900000000,
	1800000000, 3600000000, 7200000000, 21600000000, 86400000000, 0};

static void observe(struct metrics_hist *h, const uint64_t *le, uint64_t us)
{
	size_t i = 0;
	while (le[i] && us > le[i])
		i++;
	h->bucket[i]++;
	h->n++;
	h->sum_us += us;
}

void metrics_session_open(struct metrics *m, uint64_t us)
{
	m->sessions_total++;
	observe(&m->handshake, handshake_le, us);
}

void metrics_session_end(struct metrics *m, unsigned close_code,
			 const int *wait_status, const struct msg_counts *n,
			 uint64_t ms)
{
	observe(&m->session, session_le, ms * 1000);
	count(m->closes, close_code);
	if (wait_status) {
		int st = *wait_status;
		if (WIFEXITED(st))
			m->exits[WEXITSTATUS(st) & 255]++;
		else if (WIFSIGNALED(st) && WTERMSIG(st) > 0 && WTERMSIG(st) <= 64)
			m->exits[256 + WTERMSIG(st)]++;
	}
	msg_counts_add(&m->ended, n);
}

/* --- rendering -------------------------------------------------------- */

struct out {
	char *p;
	size_t cap, len;
	bool overflow;
};

static void put(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = o->overflow ? 0 : o->cap - o->len;
	int k = vsnprintf(o->p + o->len, room, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= room)
		o->overflow = true;
	else
		o->len += (size_t)k;
}

static void head(struct out *o, const char *name, const char *type,
		 const char *help)
{
	put(o, "# HELP portal_gw_%s %s\n# TYPE portal_gw_%s %s\n", name, help,
	    name, type);
}

/* A metric with one sample and no labels. */
static void single(struct out *o, const char *name, const char *type,
		   const char *help, uint64_t v)
{
	head(o, name, type, help);
	put(o, "portal_gw_%s %llu\n", name, (unsigned long long)v);
}

/* us as seconds, without trailing zeros: "0.00025", "1", "0". */
static const char *seconds(uint64_t us, char s[32])
{
	int k = snprintf(s, 32, "%llu.%06llu", (unsigned long long)(us / 1000000),
			 (unsigned long long)(us % 1000000));
	while (k > 0 && s[k - 1] == '0')
		s[--k] = '\0';
	if (k > 0 && s[k - 1] == '.')
		s[--k] = '\0';
	return s;
}

/* A histogram: cumulative buckets up to +Inf, then _sum and _count. */
static void histogram(struct out *o, const char *name, const char *help,
		      const struct metrics_hist *h, const uint64_t *le)
{
	head(o, name, "histogram", help);
	unsigned long long below = 0;
	char sum[32];
	for (size_t i = 0; le[i]; i++) {
		char s[32];
		below += h->bucket[i];
		put(o, "portal_gw_%s_bucket{le=\"%s\"} %llu\n", name,
		    seconds(le[i], s), below);
	}
	put(o, "portal_gw_%s_bucket{le=\"+Inf\"} %llu\n", name,
	    (unsigned long long)h->n);
	put(o, "portal_gw_%s_sum %s\n", name, seconds(h->sum_us, sum));
	put(o, "portal_gw_%s_count %llu\n", name, (unsigned long long)h->n);
}

/* One sample per used key of t, in key order; key 0 is written as
 * zero_name when that is not NULL. */
static void samples(struct out *o, const char *name, const char *label,
		    const struct metrics_count *t, const char *zero_name)
{
	struct metrics_count s[METRICS_KEYS];
	size_t n = 0;
	for (size_t i = 0; i < METRICS_KEYS && t[i].n; i++) {
		size_t j = n++;
		for (; j > 0 && s[j - 1].key > t[i].key; j--)
			s[j] = s[j - 1];
		s[j] = t[i];
	}
	for (size_t i = 0; i < n; i++) {
		unsigned long long v = (unsigned long long)s[i].n;
		if (s[i].key == METRICS_OTHER)
			put(o, "portal_gw_%s{%s=\"other\"} %llu\n", name, label, v);
		else if (s[i].key == 0 && zero_name)
			put(o, "portal_gw_%s{%s=\"%s\"} %llu\n", name, label,
			    zero_name, v);
		else
			put(o, "portal_gw_%s{%s=\"%u\"} %llu\n", name, label,
			    s[i].key, v);
	}
}

size_t metrics_render(const struct metrics *m, const struct metrics_live *live,
		      char *out, size_t cap)
{
	struct out o = {out, cap, 0, cap == 0};
	struct msg_counts all = m->ended;
	msg_counts_add(&all, &live->n);

	head(&o, "build_info", "gauge",
	     "The gateway's version, as --version prints it; always 1.");
	put(&o, "portal_gw_build_info{version=\"%s\"} 1\n", PORTAL_VERSION);
	single(&o, "sessions_open", "gauge",
	       "WebSocket sessions now open.",
	       live->sessions_open);
	single(&o, "sessions_total", "counter",
	       "WebSocket sessions started (101 answers sent).",
	       m->sessions_total);
	single(&o, "children_running", "gauge",
	       "Child processes started and not yet reaped.",
	       live->children);
	single(&o, "messages_received_total", "counter",
	       "Messages received from clients and passed to children.",
	       all.msgs_in);
	single(&o, "bytes_received_total", "counter",
	       "Payload bytes of the messages received from clients.",
	       all.bytes_in);
	single(&o, "messages_sent_total", "counter",
	       "Messages sent to clients from children's output.",
	       all.msgs_out);
	single(&o, "bytes_sent_total", "counter",
	       "Payload bytes of the messages sent to clients.",
	       all.bytes_out);
	histogram(&o, "handshake_seconds",
		  "Time from a WebSocket request's head to its 101 answer: the "
		  "program's start, as the client waits for it.",
		  &m->handshake, handshake_le);
	histogram(&o, "session_duration_seconds",
		  "How long WebSocket sessions were open, from the 101 to their "
		  "end.", &m->session, session_le);
	head(&o, "handshake_failures_total", "counter",
	     "Requests refused with an HTTP error, by status.");
	samples(&o, "handshake_failures_total", "status", m->http_errors, NULL);
	head(&o, "http_responses_total", "counter",
	     "Plain HTTP requests answered (health, metrics, files, console), "
	     "by status.");
	samples(&o, "http_responses_total", "status", m->plain, NULL);
	head(&o, "session_closes_total", "counter",
	     "Sessions ended, by the close code sent (-: no Close sent, as in "
	     "the access line).");
	samples(&o, "session_closes_total", "code", m->closes, "-");
	head(&o, "child_exits_total", "counter",
	     "Children reaped, by exit status or the signal that ended them.");
	for (int i = 0; i < 256 + 65; i++) {
		char sig[32];
		unsigned long long v = (unsigned long long)m->exits[i];
		if (v == 0)
			continue;
		if (i < 256)
			put(&o, "portal_gw_child_exits_total{status=\"%d\"} %llu\n",
			    i, v);
		else
			put(&o, "portal_gw_child_exits_total{status=\"%s\"} %llu\n",
			    child_signal_name(i - 256, sig, sizeof sig), v);
	}
	head(&o, "log_dropped_total", "counter",
	     "Log lines dropped because standard error did not keep up, by "
	     "kind.");
	for (int k = 0; k < LOG_KINDS; k++) {
		uint64_t v = logsink_dropped((enum log_kind)k);
		if (v > 0)
			put(&o, "portal_gw_log_dropped_total{kind=\"%s\"} "
			    "%llu\n", logsink_kind_name((enum log_kind)k),
			    (unsigned long long)v);
	}
	single(&o, "connections", "gauge",
	       "Connections held, of every kind.", live->connections);
	head(&o, "connections_refused_total", "counter",
	     "Connections answered 503 by --maxconns or --maxclients, by "
	     "reason.");
	put(&o, "portal_gw_connections_refused_total{reason=\"too many "
	    "connections\"} %llu\n",
	    (unsigned long long)m->refused[METRICS_REFUSED_CONNS]);
	put(&o, "portal_gw_connections_refused_total{reason=\"route full\"} "
	    "%llu\n", (unsigned long long)m->refused[METRICS_REFUSED_ROUTE_FULL]);
	single(&o, "start_time_seconds", "gauge",
	       "Start time of the gateway since the Unix epoch.",
	       live->start_s);
	return o.overflow ? 0 : o.len;
}
