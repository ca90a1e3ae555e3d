/* Logging to stderr, one line per event, with websocketd's levels. */
#ifndef PORTAL_LOG_H
#define PORTAL_LOG_H

#include <stdbool.h>

enum log_level {
	LV_DEBUG,
	LV_TRACE,
	LV_ACCESS,
	LV_INFO,
	LV_ERROR,
	LV_FATAL,
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
 * "fatal"); returns false if there is no such level. */
bool log_level_parse(const char *name, enum log_level *out);

static inline bool log_enabled(enum log_level lv)
{
	return lv >= log_threshold;
}

/* Writes "TIMESTAMP LEVEL message\n" to stderr with one write(2), so that
 * lines from one process never interleave. Long messages are cut. */
void log_msg(enum log_level lv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
