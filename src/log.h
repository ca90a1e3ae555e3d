/* Logging to stderr, one line per event, with websocketd's levels, as text
 * or as one JSON object per line (--log-format). */
#ifndef PORTAL_LOG_H
#define PORTAL_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level {
	LV_DEBUG,
	LV_TRACE,
	LV_ACCESS,
	LV_INFO,
	LV_ERROR,
	LV_FATAL,
	LV_NONE, /* a threshold only (--loglevel none): nothing is logged */
};

enum log_format {
	LOG_TEXT, /* "TIMESTAMP LEVEL message" (default) */
	LOG_JSON, /* one JSON object per line */
};

/* Set once at start from --log-format. */
extern enum log_format log_format;

/* Lines below this level are dropped. Default LV_ACCESS, as websocketd. */
extern enum log_level log_threshold;

/* Parses a level name ("debug", "trace", "access", "info", "error",
 * "fatal", "none"); returns false if there is no such level. */
bool log_level_parse(const char *name, enum log_level *out);

static inline bool log_enabled(enum log_level lv)
{
	return lv >= log_threshold;
}

/* Writes one line to stderr, whole (logsink.h: while the event loop runs,
 * through a bounded queue that never blocks), so that lines from one
 * process never interleave. Text: "TIMESTAMP LEVEL message". JSON:
 * {"time":..,"level":..,"msg":..}; a message that starts with "#ID " (a
 * session id) has it as "id":ID instead. Long messages are cut. */
void log_msg(enum log_level lv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* What one request's access line says, once its connection has ended:
 * every request gets one, WebSocket session or not. "None" is NULL for a
 * string, < 0 for port and exit code, 0 for status, pid and close code; it
 * is written null in JSON and - in text. */
struct log_access {
	unsigned long long id;
	const char *addr;      /* the socket's peer, numeric */
	int port;              /* its port; < 0 if none (a Unix socket) */
	const char *forwarded; /* --trust-proxy: the X-Forwarded-For address */
	const char *method;    /* NULL when the request line was not read */
	const char *path;      /* request path, any bytes; NULL as method */
	int status;            /* HTTP status sent; 0 if none was */
	const char *reason;    /* why that answer (a session: the Close reason) */
	const char *origin;    /* a refused Origin (403), any bytes */
	unsigned long long bytes_sent; /* to the socket, head included */
	unsigned long long duration_ms;
	long pid;              /* the child's; <= 0 when none was started */
	bool session;          /* a 101 was sent: the fields below apply */
	unsigned long long msgs_in, bytes_in, msgs_out, bytes_out;
	unsigned close_code;   /* 0 if no Close was sent */
	int exit_code;         /* the child's exit code; < 0 if it did not exit */
	const char *signal;    /* "SIGKILL" when a signal killed it, else NULL */
};

/* The access line (level access). Text, fields always present, - for none:
 * "#ID ADDR[:PORT] METHOD PATH STATUS "REASON" fwd=ADDR origin="ORIGIN"
 *  sent=NB ms=D pid=P in=M/NB out=M/NB close=C exit=N|signal=S"
 * (quoted values escaped as in JSON); JSON: the fields of struct
 * log_access by name (README, man page). */
void log_access(const struct log_access *a);

/* One line of a session's child's stderr, p[0..n), any bytes (level info).
 * Text: "#ID stderr: LINE"; JSON: {"time","level","id","stderr"}. */
void log_stderr(unsigned long long id, const uint8_t *p, size_t n);

/* Writes p[0..n) as the inside of a JSON string to out[0..cap): '"', '\\'
 * and control characters escaped, each ill-formed UTF-8 subsequence
 * (maximal subpart) as U+FFFD. Stops before an escape or character that
 * does not fit. Returns the bytes written; *used (may be NULL) receives
 * the input bytes they stand for (n unless cut). Pure; for tests too. */
size_t log_json_escape(char *out, size_t cap, const uint8_t *p, size_t n,
		       size_t *used);

#endif
