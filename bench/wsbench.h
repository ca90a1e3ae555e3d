/* wsbench: load client and machine floors for `make bench` (see bench/run.sh).
 * Shared between wsbench.c (options, modes, results), load.c, conn.c and
 * wire.c (the WebSocket client engine, which shares load.h besides) and
 * floor.c (spawn rate and the bare TCP+pipes relay); fanout.c (the
 * clients of a broadcast route) and produce.c (its program) for
 * bench/fanout.sh. */
#ifndef WSBENCH_H
#define WSBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum mode {
	M_LATENCY,
	M_THROUGHPUT,
	M_LARGE,
	M_CHURN,
	M_IDLE,
	M_FANOUT,
	M_SPAWN,
	M_RELAY,
	M_FREEPORT,
	M_PRODUCE
};

/* A fan-out line: "SEQ TIME " (16 hex digits each) and padding. */
#define FAN_MIN_SIZE 34
#define FAN_MAX_SIZE 256

struct opts {
	enum mode mode;
	const char *host;
	int port;
	const char *path;
	int conns;	 /* -c: connections (throughput, large) */
	int inflight;	 /* -k: messages in flight per connection */
	size_t size;	 /* -s: payload bytes per message */
	double duration; /* -d: seconds measured */
	double warmup;	 /* -w: seconds run before measuring */
	double deadline; /* -D: hard limit for the whole run, seconds */
	double stall;	 /* seconds without progress that count as a stall */
	bool busy;	 /* -b: spin on epoll_wait(0) instead of sleeping */
	bool raw;	 /* --raw: lines over plain TCP (the relay floor) */
	int pid;	 /* -p: server pid whose RSS idle reads */
	int sessions;	 /* -n: idle sessions to open */
	double hold;	 /* seconds idle sessions are held before reading RSS */
	int parallel;	 /* -P: concurrent sessions (churn, idle) or spawns */
	int threads;	 /* -T: spawning processes (spawn) */
	const char *prog;
	double rate;	  /* -r: produce: lines a second (0: as fast as it can) */
	long long count;  /* -n: produce: lines in all (0: no limit) */
	const char *go;	  /* --go: fanout creates it, produce waits for it */
	int slow;	  /* --slow: fanout clients that never read */
};

struct result {
	uint64_t msgs;	   /* messages echoed inside the window */
	uint64_t bytes;	   /* payload bytes echoed inside the window */
	uint64_t sessions; /* churn: sessions completed inside the window */
	uint64_t errors;   /* connections that failed or broke the protocol */
	double secs;	   /* length of the window actually measured */
	bool stalled;	   /* no byte moved for opts.stall seconds */
	bool timed_out;	   /* the deadline ended the run */
	double stall_at; /* seconds into the run when the stall was declared */
	float *lat;	 /* round trips in microseconds, nlat of them */
	size_t nlat;
	size_t lat_cap;
	long rss_base_kib; /* idle: server VmRSS before and with the sessions */
	long rss_kib;
	int held; /* idle: sessions open when RSS was read */
	/* With -p: the server's CPU seconds (all threads, user + system) and
	 * read/write syscalls (/proc/PID/io) at the window's ends. */
	double cpu[2];
	long long sysc[2];
	bool have_srv;
	/* fanout: lines missing and out of order (summed over clients), how
	 * many clients saw either, clients reading, lag p50/p99/p99.9 (us),
	 * the producer's RSS (the server's children), and the load client's
	 * own CPU, to tell when it is the limit. */
	uint64_t missing, reordered;
	int gap_clients, readers;
	double lag_us[3];
	long prod_rss_kib;
	double cli_cpu[2]; /* this process's CPU seconds at the window's ends */
	char why[160]; /* first error, for the report */
};

double now(void);
void fail(struct result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* load.c: runs latency, throughput, large, churn and idle. Returns 0 when
 * the run produced a figure (a stall is a figure), -1 when it could not. */
int load_run(const struct opts *o, struct result *r);

/* produce.c: the fan-out producer; returns the exit status. */
int produce_run(const struct opts *o);

/* floor.c */
int floor_spawn(const struct opts *o, struct result *r);
int floor_relay(const struct opts *o);
int floor_freeport(void);

#endif
