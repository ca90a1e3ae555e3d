#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "logsink.h"
#include "utf8.h"

enum log_format log_format = LOG_TEXT;
enum log_level log_threshold = LV_ACCESS;

static const char *const level_names[] = {
	"debug", "trace", "access", "info", "error", "fatal", "none",
};

/* A text line is cut at TEXT_MAX bytes. A JSON line may be longer, as
 * escaping can take six bytes for one (a 4 KiB stderr line of text fits
 * whole); its fields stop JSON_RESERVE bytes before the end, so that a cut
 * line still ends with ,"truncated":true} and stays valid JSON. */
#define TEXT_MAX 4096
#define JSON_MAX 16384
#define JSON_RESERVE 32

bool log_level_parse(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}

/* --- JSON string escaping (pure) -------------------------------------- */

size_t log_json_escape(char *out, size_t cap, const uint8_t *p, size_t n,
		       size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, o = 0;
	while (i < n) {
		uint8_t b = p[i];
		char esc[6];
		const char *w = esc;
		size_t wn, in = 1;
		if (b == '"' || b == '\\') {
			esc[0] = '\\';
			esc[1] = (char)b;
			wn = 2;
		} else if (b == '\n' || b == '\r' || b == '\t') {
			esc[0] = '\\';
			esc[1] = b == '\n' ? 'n' : b == '\r' ? 'r' : 't';
			wn = 2;
		} else if (b < 0x20) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[b >> 4];
			esc[5] = hex[b & 15];
			wn = 6;
		} else if (b < 0x80) {
			esc[0] = (char)b;
			wn = 1;
		} else {
			/* Ill-formed: one U+FFFD per maximal subpart,
			 * as utf8_scrub. */
			bool valid;
			in = utf8_char(p + i, n - i, &valid);
			w = valid ? (const char *)p + i : "\xef\xbf\xbd";
			wn = valid ? in : 3;
		}
		if (wn > cap - o)
			break;
		memcpy(out + o, w, wn);
		o += wn;
		i += in;
	}
	if (used)
		*used = i;
	return o;
}

/* --- building a line -------------------------------------------------- */

struct line {
	char buf[JSON_MAX];
	size_t len;
	size_t limit; /* where fields stop */
	bool cut;
	enum log_kind kind; /* for the sink's drop policy */
};

/* Appends s[0..n) whole, or nothing and marks the line cut. */
static bool line_put(struct line *l, const char *s, size_t n)
{
	if (l->cut || n > l->limit - l->len) {
		l->cut = true;
		return false;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	return true;
}

static bool line_puts(struct line *l, const char *s)
{
	return line_put(l, s, strlen(s));
}

/* "TIMESTAMP" as RFC 3339 UTC with milliseconds. */
static void line_time(struct line *l)
{
	struct timespec ts;
	struct tm tm;
	char t[40];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(t + n, sizeof t - n, ".%03ldZ", ts.tv_nsec / 1000000L);
	line_puts(l, t);
}

static void line_start(struct line *l, enum log_level lv)
{
	l->len = 0;
	l->cut = false;
	l->kind = lv >= LV_ERROR   ? LOG_KIND_ERROR
		  : lv == LV_ACCESS ? LOG_KIND_ACCESS
				    : LOG_KIND_INFO;
	if (log_format == LOG_JSON) {
		l->limit = JSON_MAX - JSON_RESERVE;
		line_puts(l, "{\"time\":\"");
		line_time(l);
		line_puts(l, "\",\"level\":\"");
		line_puts(l, level_names[lv]);
		line_puts(l, "\"");
	} else {
		l->limit = TEXT_MAX - 1;
		line_time(l);
		line_puts(l, " ");
		line_puts(l, level_names[lv]);
		line_puts(l, " ");
	}
}

/* Text: appends as much of p[0..n) as fits, raw. */
static void line_text(struct line *l, const void *p, size_t n)
{
	size_t room = l->limit - l->len;
	if (n > room) {
		n = room;
		l->cut = true;
	}
	memcpy(l->buf + l->len, p, n);
	l->len += n;
}

/* JSON: ,"key":"escaped p[0..n)", cut short if need be, but always with
 * its closing quote. */
static void json_str(struct line *l, const char *key, const void *p, size_t n)
{
	char k[40];
	int kn = snprintf(k, sizeof k, ",\"%s\":\"", key);
	if (l->cut)
		return;
	if (kn < 0 || (size_t)kn >= sizeof k ||
	    (size_t)kn + 1 > l->limit - l->len) {
		l->cut = true;
		return;
	}
	line_put(l, k, (size_t)kn);
	size_t used;
	l->len += log_json_escape(l->buf + l->len, l->limit - l->len - 1, p, n,
				  &used);
	l->buf[l->len++] = '"';
	if (used < n)
		l->cut = true;
}

static void json_cstr(struct line *l, const char *key, const char *s)
{
	if (!s) {
		char k[40];
		snprintf(k, sizeof k, ",\"%s\":null", key);
		line_puts(l, k);
		return;
	}
	json_str(l, key, s, strlen(s));
}

static void json_num(struct line *l, const char *key, long long v)
{
	char f[64];
	int n = snprintf(f, sizeof f, ",\"%s\":%lld", key, v);
	if (n > 0 && (size_t)n < sizeof f)
		line_put(l, f, (size_t)n);
}

static void json_unum(struct line *l, const char *key, unsigned long long v)
{
	char f[64];
	int n = snprintf(f, sizeof f, ",\"%s\":%llu", key, v);
	if (n > 0 && (size_t)n < sizeof f)
		line_put(l, f, (size_t)n);
}

/* Ends the line and hands it to the sink (logsink.c), whole. */
static void line_emit(struct line *l)
{
	if (log_format == LOG_JSON) {
		l->limit = JSON_MAX;
		if (l->cut) {
			l->cut = false;
			line_puts(l, ",\"truncated\":true");
		}
		line_puts(l, "}");
	}
	l->buf[l->len++] = '\n';
	logsink_put(l->kind, l->buf, l->len);
}

/* --- the entry points ------------------------------------------------- */

void log_msg(enum log_level lv, const char *fmt, ...)
{
	if (!log_enabled(lv))
		return;
	char msg[TEXT_MAX];
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	size_t n = k < 0 ? 0 : (size_t)k;
	if (n > sizeof msg - 1)
		n = sizeof msg - 1;

	struct line l;
	line_start(&l, lv);
	if (log_format == LOG_TEXT) {
		line_text(&l, msg, n);
		line_emit(&l);
		return;
	}
	/* "#ID rest": the session id gets its own field. */
	size_t d = 1;
	while (msg[0] == '#' && d < n && msg[d] >= '0' && msg[d] <= '9')
		d++;
	const char *m = msg;
	if (d > 1 && d < 21 && d < n && msg[d] == ' ') {
		unsigned long long id = 0;
		for (size_t i = 1; i < d; i++)
			id = id * 10 + (unsigned)(msg[i] - '0');
		json_unum(&l, "id", id);
		m += d + 1;
		n -= d + 1;
	}
	json_str(&l, "msg", m, n);
	line_emit(&l);
}

/* Text: " KEY=VALUE", or " VALUE" without key; "-" for a NULL value. A
 * quoted value is escaped as a JSON string, so that whatever a client sent
 * stays on its line and cannot pass for another field. */
static void text_field(struct line *l, const char *key, const char *v,
		       bool quoted)
{
	char k[40];
	snprintf(k, sizeof k, " %s%s", key ? key : "", key ? "=" : "");
	line_text(l, k, strlen(k));
	if (!v) {
		line_text(l, "-", 1);
	} else if (!quoted) {
		line_text(l, v, strlen(v));
	} else {
		char esc[512];
		size_t n = log_json_escape(esc, sizeof esc, (const uint8_t *)v,
					   strlen(v), NULL);
		line_text(l, "\"", 1);
		line_text(l, esc, n);
		line_text(l, "\"", 1);
	}
}

/* Text: a number, or "-" when it is none. */
static void text_num(struct line *l, const char *key, bool none,
		     unsigned long long v, const char *unit)
{
	char f[64];
	snprintf(f, sizeof f, "%llu%s", v, unit);
	text_field(l, key, none ? NULL : f, false);
}

static void access_text(struct line *l, const struct log_access *a)
{
	char f[192];
	bool v6 = strchr(a->addr, ':') != NULL;
	if (a->port < 0)
		snprintf(f, sizeof f, "#%llu %s", a->id, a->addr);
	else
		snprintf(f, sizeof f, "#%llu %s%s%s:%d", a->id, v6 ? "[" : "",
			 a->addr, v6 ? "]" : "", a->port);
	line_text(l, f, strlen(f));
	text_field(l, NULL, a->method, false);
	text_field(l, NULL, a->path, false);
	text_num(l, NULL, a->status == 0, (unsigned)a->status, "");
	text_field(l, NULL, a->reason, true);
	text_field(l, "fwd", a->forwarded, false);
	text_field(l, "origin", a->origin, true);
	text_num(l, "sent", false, a->bytes_sent, "B");
	text_num(l, "ms", false, a->duration_ms, "");
	text_num(l, "pid", a->pid <= 0, (unsigned long long)a->pid, "");
	snprintf(f, sizeof f, "%llu/%lluB", a->msgs_in, a->bytes_in);
	text_field(l, "in", a->session ? f : NULL, false);
	snprintf(f, sizeof f, "%llu/%lluB", a->msgs_out, a->bytes_out);
	text_field(l, "out", a->session ? f : NULL, false);
	text_num(l, "close", a->close_code == 0, a->close_code, "");
	if (a->signal)
		text_field(l, "signal", a->signal, false);
	else
		text_num(l, "exit", a->exit_code < 0,
			 (unsigned long long)a->exit_code, "");
}

/* JSON: ,"key":v, or ,"key":null when none. */
static void json_num_or_null(struct line *l, const char *key, bool none,
			     long long v)
{
	if (!none) {
		json_num(l, key, v);
		return;
	}
	char k[48];
	snprintf(k, sizeof k, ",\"%s\":null", key);
	line_puts(l, k);
}

static void access_json(struct line *l, const struct log_access *a)
{
	json_unum(l, "id", a->id);
	json_cstr(l, "remote_addr", a->addr);
	json_num_or_null(l, "remote_port", a->port < 0, a->port);
	json_cstr(l, "forwarded_for", a->forwarded);
	json_cstr(l, "method", a->method);
	json_cstr(l, "path", a->path);
	json_num_or_null(l, "status", a->status == 0, a->status);
	json_cstr(l, "reason", a->reason);
	json_cstr(l, "origin", a->origin);
	json_unum(l, "bytes_sent", a->bytes_sent);
	json_unum(l, "duration_ms", a->duration_ms);
	json_num_or_null(l, "pid", a->pid <= 0, a->pid);
	const unsigned long long counts[] = { a->msgs_in, a->bytes_in,
					      a->msgs_out, a->bytes_out };
	const char *const names[] = { "msgs_in", "bytes_in", "msgs_out",
				      "bytes_out" };
	for (size_t i = 0; i < 4; i++)
		json_num_or_null(l, names[i], !a->session,
				 (long long)counts[i]);
	json_num_or_null(l, "close_code", a->close_code == 0, a->close_code);
	json_num_or_null(l, "exit_code", a->exit_code < 0 || a->signal,
			 a->exit_code);
	json_cstr(l, "signal", a->signal);
}

void log_access(const struct log_access *a)
{
	if (!log_enabled(LV_ACCESS))
		return;
	struct line l;
	line_start(&l, LV_ACCESS);
	if (log_format == LOG_TEXT)
		access_text(&l, a);
	else
		access_json(&l, a);
	line_emit(&l);
}

void log_stderr(unsigned long long id, const uint8_t *p, size_t n)
{
	if (!log_enabled(LV_INFO) || !logsink_admit(LOG_KIND_STDERR))
		return; /* a flood into a full queue costs no formatting */
	struct line l;
	line_start(&l, LV_INFO);
	l.kind = LOG_KIND_STDERR;
	if (log_format == LOG_TEXT) {
		char head[48];
		snprintf(head, sizeof head, "#%llu stderr: ", id);
		line_text(&l, head, strlen(head));
		line_text(&l, p, n);
	} else {
		json_unum(&l, "id", id);
		json_str(&l, "stderr", p, n);
	}
	line_emit(&l);
}
