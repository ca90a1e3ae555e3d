/* metrics.c: counting by key, session ends, and the rendered text. */
#include <signal.h>
#include <string.h>

#include "check.h"
#include "metrics.h"

static char text[METRICS_TEXT_MAX];

/* The rendered text has this exact line. */
static int has_line(const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)); p++) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	}
	return 0;
}

int main(void)
{
	static struct metrics m;
	struct metrics_live live = {0};
	live.start_s = 1000;

	CHECK(metrics_render(&m, &live, text, sizeof text) > 0);
	CHECK(has_line("# TYPE portal_gw_sessions_total counter"));
	CHECK(has_line("portal_gw_sessions_total 0"));
	CHECK(!strstr(text, "uptime"));
	CHECK(has_line("portal_gw_start_time_seconds 1000"));
	CHECK(has_line("# TYPE portal_gw_build_info gauge"));
	CHECK(has_line("portal_gw_build_info{version=\"" PORTAL_VERSION "\"} 1"));
	/* Empty histograms: every bucket, a zero sum and count. */
	CHECK(has_line("# TYPE portal_gw_handshake_seconds histogram"));
	CHECK(has_line("portal_gw_handshake_seconds_bucket{le=\"0.00025\"} 0"));
	CHECK(has_line("portal_gw_handshake_seconds_bucket{le=\"+Inf\"} 0"));
	CHECK(has_line("portal_gw_handshake_seconds_sum 0"));
	CHECK(has_line("portal_gw_handshake_seconds_count 0"));
	CHECK(has_line("# TYPE portal_gw_session_duration_seconds histogram"));
	CHECK(has_line("portal_gw_session_duration_seconds_bucket{le=\"3600\"} 0"));
	CHECK(has_line("portal_gw_session_duration_seconds_count 0"));

	struct msg_counts a = {2, 10, 3, 30};
	int exited3 = 3 << 8, killed = SIGKILL;
	metrics_session_open(&m, 800);     /* 0.8 ms */
	metrics_session_open(&m, 1000);    /* on a bound: in its bucket */
	metrics_session_open(&m, 3000000); /* 3 s */
	metrics_session_end(&m, 1000, NULL, &a, 50);
	metrics_session_end(&m, 1011, &exited3, &a, 90000);
	metrics_session_end(&m, 0, &killed, &a, 100000000);
	metrics_http_error(&m, 404);
	metrics_http_error(&m, 404);
	metrics_http_error(&m, 400);
	metrics_plain(&m, 200);
	live.sessions_open = 1;
	live.children = 1;
	live.n = (struct msg_counts){1, 5, 1, 7};
	size_t n = metrics_render(&m, &live, text, sizeof text);
	CHECK(n > 0 && n == strlen(text));
	CHECK(has_line("portal_gw_sessions_open 1"));
	CHECK(has_line("portal_gw_children_running 1"));
	CHECK(has_line("portal_gw_messages_received_total 7"));
	CHECK(has_line("portal_gw_bytes_received_total 35"));
	CHECK(has_line("portal_gw_messages_sent_total 10"));
	CHECK(has_line("portal_gw_bytes_sent_total 97"));
	CHECK(has_line("portal_gw_sessions_total 3"));
	/* Cumulative buckets, sums in seconds. */
	CHECK(has_line("portal_gw_handshake_seconds_bucket{le=\"0.0005\"} 0"));
	CHECK(has_line("portal_gw_handshake_seconds_bucket{le=\"0.001\"} 2"));
	CHECK(has_line("portal_gw_handshake_seconds_bucket{le=\"2.5\"} 2"));
	CHECK(has_line("portal_gw_handshake_seconds_bucket{le=\"10\"} 3"));
	CHECK(has_line("portal_gw_handshake_seconds_bucket{le=\"+Inf\"} 3"));
	CHECK(has_line("portal_gw_handshake_seconds_sum 3.0018"));
	CHECK(has_line("portal_gw_handshake_seconds_count 3"));
	CHECK(has_line("portal_gw_session_duration_seconds_bucket{le=\"0.1\"} 1"));
	CHECK(has_line("portal_gw_session_duration_seconds_bucket{le=\"60\"} 1"));
	CHECK(has_line("portal_gw_session_duration_seconds_bucket{le=\"300\"} 2"));
	CHECK(has_line("portal_gw_session_duration_seconds_bucket{le=\"86400\"} 2"));
	CHECK(has_line("portal_gw_session_duration_seconds_bucket{le=\"+Inf\"} 3"));
	CHECK(has_line("portal_gw_session_duration_seconds_sum 100090.05"));
	CHECK(has_line("portal_gw_session_duration_seconds_count 3"));
	CHECK(has_line("portal_gw_handshake_failures_total{status=\"400\"} 1"));
	CHECK(has_line("portal_gw_handshake_failures_total{status=\"404\"} 2"));
	/* in key order */
	CHECK(strstr(text, "{status=\"400\"}") < strstr(text, "{status=\"404\"}"));
	CHECK(has_line("portal_gw_http_responses_total{status=\"200\"} 1"));
	CHECK(has_line("portal_gw_session_closes_total{code=\"-\"} 1"));
	CHECK(has_line("portal_gw_session_closes_total{code=\"1000\"} 1"));
	CHECK(has_line("portal_gw_session_closes_total{code=\"1011\"} 1"));
	CHECK(has_line("portal_gw_child_exits_total{status=\"3\"} 1"));
	CHECK(has_line("portal_gw_child_exits_total{status=\"SIGKILL\"} 1"));
	CHECK(!strstr(text, "portal_gw_child_exits_total{status=\"0\"}"));

	/* Too small a buffer: 0, never a cut text. */
	CHECK_INT(metrics_render(&m, &live, text, 100), 0);
	CHECK_INT(metrics_render(&m, &live, text, n), 0);
	CHECK_INT(metrics_render(&m, &live, text, n + 1), n);

	/* More distinct keys than the table holds: the rest under "other". */
	for (unsigned k = 0; k < METRICS_KEYS + 10; k++)
		metrics_session_end(&m, 3000 + k, NULL, &a, 0);
	CHECK(metrics_render(&m, &live, text, sizeof text) > 0);
	CHECK(has_line("portal_gw_session_closes_total{code=\"3000\"} 1"));
	CHECK(strstr(text, "portal_gw_session_closes_total{code=\"other\"} "));

	/* The worst case fits: every exit status and signal, full tables. */
	for (int i = 0; i < 256; i++) {
		int st = i << 8;
		metrics_session_end(&m, 1000, &st, &a, UINT64_MAX / 1000);
	}
	for (int s = 1; s <= 64; s++) {
		int st = s;
		metrics_session_end(&m, 1000, &st, &a, UINT64_MAX / 1000);
	}
	for (int i = 0; i < 4; i++)
		metrics_session_open(&m, UINT64_MAX / 4);
	for (int s = 100; s < 600; s++) {
		metrics_http_error(&m, s);
		metrics_plain(&m, s);
	}
	memset(&live, 0xff, sizeof live);
	CHECK(metrics_render(&m, &live, text, sizeof text) > 0);
	return check_report("metrics");
}
