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
	live.now_s = 1042;

	CHECK(metrics_render(&m, &live, text, sizeof text) > 0);
	CHECK(has_line("# TYPE portal_gw_sessions_total counter"));
	CHECK(has_line("portal_gw_sessions_total 0"));
	CHECK(has_line("portal_gw_uptime_seconds 42"));
	CHECK(has_line("portal_gw_start_time_seconds 1000"));
	CHECK(!strstr(text, "{"));

	struct msg_counts a = {2, 10, 3, 30};
	m.sessions_total = 2;
	int exited3 = 3 << 8, killed = SIGKILL;
	metrics_session_end(&m, 1000, NULL, &a);
	metrics_session_end(&m, 1011, &exited3, &a);
	metrics_session_end(&m, 0, &killed, &a);
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
	CHECK(has_line("portal_gw_received_bytes_total 35"));
	CHECK(has_line("portal_gw_messages_sent_total 10"));
	CHECK(has_line("portal_gw_sent_bytes_total 97"));
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
		metrics_session_end(&m, 3000 + k, NULL, &a);
	CHECK(metrics_render(&m, &live, text, sizeof text) > 0);
	CHECK(has_line("portal_gw_session_closes_total{code=\"3000\"} 1"));
	CHECK(strstr(text, "portal_gw_session_closes_total{code=\"other\"} "));

	/* The worst case fits: every exit status and signal, full tables. */
	for (int i = 0; i < 256; i++) {
		int st = i << 8;
		metrics_session_end(&m, 1000, &st, &a);
	}
	for (int s = 1; s <= 64; s++) {
		int st = s;
		metrics_session_end(&m, 1000, &st, &a);
	}
	for (int s = 100; s < 600; s++) {
		metrics_http_error(&m, s);
		metrics_plain(&m, s);
	}
	memset(&live, 0xff, sizeof live);
	CHECK(metrics_render(&m, &live, text, sizeof text) > 0);
	return check_report("metrics");
}
