/* The soak driver's shared types and functions, private to tests/soak/
 * (child.c, a separate program, does not use it). The driver's files:
 *   soak.c      command line, the phases of a run and the final table of checks
 *   util.c      clock, random numbers, allocation and the byte queue
 *   wire.c      one client connection: RFC 6455 client side and the event loop
 *   session.c   the kinds of session: how each starts, sends, what it expects
 *   gateway.c   the gateway process: start, watch (RSS, fds, children), kill
 *   report.c    failure notes and the audit of the logs at the end
 * One thread: nothing here is locked. */
#ifndef SOAK_H
#define SOAK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MAX_MSG (1u << 20)

struct conn;

/* --- util.c -------------------------------------------------------------- */

/* The loop's clock (CLOCK_MONOTONIC, ms), updated after each epoll_wait. */
extern int64_t now;
/* The random state; the seed is set once by main (SOAK_SEED). */
extern uint64_t rng;

/* CLOCK_MONOTONIC in milliseconds. */
int64_t clock_ms(void);
/* The next random number; the run is replayed by its seed. */
uint64_t rnd(void);
/* A random number in [lo, hi]. */
uint32_t rnd_in(uint32_t lo, uint32_t hi);
/* realloc, or exit 2 when out of memory. */
void *xrealloc(void *p, size_t n);

/* A byte queue: data at p[off .. off+len). */
struct bbuf {
	uint8_t *p;
	size_t off, len, cap;
};

/* A pointer to n free bytes after the data, which stays valid until the
 * next call on b; the caller adds what it wrote to b->len. */
uint8_t *bb_reserve(struct bbuf *b, size_t n);
/* Frees the storage and empties b. */
void bb_free(struct bbuf *b);
/* Drops n bytes (n <= len) from the front; frees a large emptied buffer. */
void bb_consume(struct bbuf *b, size_t n);
/* Appends p[0..n). */
void bb_append(struct bbuf *b, const void *p, size_t n);

/* --- session.c: kinds of session and their records ----------------------- */

enum kind {
	K_ECHO, K_SLOW, K_CHURN, K_VANISH, K_FLOOD, K_ERRFLOOD, K_CRASH,
	K_HANG, K_EARLY, K_PROBE, K_FINAL, NKINDS
};

enum endmode {
	END_CLOSE_AFTER, /* Close once every echo is in */
	END_EXIT_CMD,    /* "!exit 0" once every echo is in: server's Close 1000 */
	END_CLOSE_NOW,   /* Close right after the last message */
	END_VANISH,      /* go away without Close, as the variant says */
	END_SERVER,      /* the child ends the session */
	END_IDLE,        /* wait for the gateway's shutdown */
};

enum vanish {
	V_FIN_MIDFRAME, V_RST_MIDFRAME, V_RST_INFLIGHT, V_FIN_FRAGMENT,
	V_RST_HEADER, V_HANDSHAKE, V_AFTER_101, NVANISH
};

enum flood_variant { F_FINITE, F_SLOW, F_CLOSE, F_RESET };
enum hang_variant { H_CLOSE, H_RESET, H_FIN };

/* What one session did, kept to the end for the cross-checks. The token
 * (its index) travels in the query string to the child's records. */
struct sess {
	uint8_t kind, variant, endmode;
	bool done, ok, got101;
	uint16_t close_code;
	uint32_t sent, recv, ctl, pings, pongs;
	uint32_t n;
	int code;
	uint64_t sent_bytes, recv_bytes;
	/* from the child's records */
	bool c_start, c_end, c_term;
	long sid;
	uint64_t c_rxl, c_rxb, c_txl, c_txb, c_partial, c_errl;
};

struct kstat {
	uint64_t started, ok, failed, xfailed;
	uint64_t sent, recv, sent_bytes, recv_bytes;
};

extern const char *const kind_name[NKINDS];
/* Every session of the run, indexed by token. */
extern struct sess *sessions;
extern uint32_t nsessions;
extern struct kstat kst[NKINDS];
extern unsigned nactive[NKINDS];   /* open sessions of each kind */
extern unsigned weight[NKINDS];    /* share of the run, after SOAK_KINDS */
/* Probes' connect-to-echo and connect-to-101 times, in ms. */
extern uint64_t probe_lat[100000], probe_hs[100000];
extern size_t nprobe_lat, nprobe_hs;
extern uint32_t probe_deadline_ms; /* SOAK_PROBE_MS */

/* Opens a new session of kind k: its record, its socket, a non-blocking
 * connect to gw_addr. Exits 2 when no socket can be had. */
void conn_start(enum kind k);
/* SOAK_KINDS=echo,flood,...: only these kinds in the run (not the
 * warm-up, the probes or the shutdown clients). only may be NULL. */
void session_set_weights(const char *only);
/* A kind for a new session of the run, by weight; exits 2 if none has any. */
enum kind session_pick_kind(void);
/* Open sessions, probes not counted. */
unsigned session_active_except_probes(void);
/* Sends, pauses or ends an open session as its kind says; call it on each
 * event and tick while c is ST_OPEN. May end c. */
void session_step(struct conn *c);
/* A vanish session's exit: part of one more frame, then FIN or RST. Ends c. */
void session_vanish(struct conn *c);
/* A whole, valid data message from the gateway: checks it against what
 * this session expects next; fails c on a mismatch. */
void session_on_message(struct conn *c, const uint8_t *p, size_t n);
/* The gateway's Close, code and reason already validated: fails c unless
 * it is the one this session expects, else answers it and waits for EOF. */
void session_on_close(struct conn *c, unsigned code, const char *reason);

/* --- wire.c: connections ------------------------------------------------- */

enum cstate {
	ST_CONNECTING, /* TCP connect in progress */
	ST_HANDSHAKE,  /* request sent or being sent, waiting for the 101 */
	ST_OPEN,
	ST_WAIT_EOF,   /* Close both ways, waiting for the gateway's FIN */
	ST_DEAD,
};

struct conn {
	struct conn *prev, *next;
	int fd;
	uint32_t token;
	uint8_t kind, variant, endmode;
	enum cstate st;
	uint32_t events; /* registered with epoll */
	struct bbuf out, in, msg;
	bool in_msg;
	bool close_sent;
	uint16_t my_close;
	char key[32];
	char path[128];

	int64_t t0, deadline, end_ms, next_send, think_ms;
	uint32_t window, limit;
	int lenprof;
	bool fragment, pinging;
	bool small_buffers; /* 16 KiB socket buffers: backpressure sooner */

	/* slow reading */
	bool paused, was_paused;
	int pauses_left;
	int64_t pause_at, pause_end;
	uint32_t pause_len;

	/* flood, hang */
	uint32_t trigger; /* lines before Close or reset */
	int64_t act_at;

	/* probe */
	int64_t echo_ms;

	bool cut_line; /* an endless flood's last line, cut by SIGTERM, came */

	/* the gateway's last ping: when it came and how many of our bytes
	 * were queued ahead of our pong (ours and the kernel's) */
	int64_t ping_at;
	size_t pong_behind;
};

extern struct conn *conns; /* open connections */
extern int epfd;
extern uint64_t connect_errors, server_pings, write_stalls, late_closes;
extern int64_t loop_lag_max; /* the driver's longest busy stretch, ms */

/* The record of c's session. */
struct sess *conn_sess(const struct conn *c);
/* Brings c's epoll interest in line with its state; no-op once dead. */
void conn_set_events(struct conn *c);
/* Closes c (with RST if reset), counts its session as ok or failed and
 * moves c to the graveyard, freed by the next wire_tick. No-op if dead. */
void conn_end(struct conn *c, bool ok, bool reset);
/* Notes a failure of c's session with its counts and ends c with RST. */
void conn_fail(struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Sends what c has queued until EAGAIN; may end c. */
void conn_flush(struct conn *c);
/* Queues one masked frame of opcode op with payload p[0..n) on b. */
void wire_put_frame(struct bbuf *b, unsigned op, bool fin, const uint8_t *p,
		    size_t n);
/* Queues and sends a Close with code; may end c. */
void conn_send_close(struct conn *c, uint16_t code);
/* Deadlines and steps for every connection; frees the ended ones. */
void wire_tick(void);
/* Waits up to timeout ms for events and handles them; sets now. */
void wire_run_events(int timeout);

/* --- gateway.c: the gateway process -------------------------------------- */

struct kids {
	int total, zombies;
	long list[8];
	char state[8];
	int nlist;
};

struct sample {
	long rss_kb;
	int fds;
	int kids;
};

extern pid_t gw_pid;
extern int gw_status;             /* wait status once reaped, else -1 */
extern struct sockaddr_in gw_addr; /* where it listens */
extern struct sample peak;        /* the highest gw_sample saw */

/* VmRSS of pid in KiB, or -1. */
long proc_rss_kb(pid_t pid);
/* Open descriptors of pid, or -1. */
int proc_fd_count(pid_t pid);
/* The processes whose parent is pid, from /proc. */
void proc_children(pid_t parent, struct kids *k);
/* Kills and reaps whatever the gateway left to us, the subreaper. */
void gw_kill_leftovers(void);
/* Kills the gateway and what it left, then exits 2. */
void gw_abort_run(const char *why);
/* Reaps the gateway if it has exited (gw_status); true if it has. */
bool gw_exited(void);
/* Starts the gateway on 127.0.0.1, port 0, with one resource per kind of
 * child, its log in dir/gw.log; returns once its port is in gw_addr.
 * With log_rate, its stderr is a pipe to a slow reader that copies it to
 * dir/gw.log at about log_rate bytes a second and stops reading for
 * log_stall_ms every 5 s. Exits 2 when it cannot be started. */
void gw_start(const char *gw, const char *child, const char *hang,
	      const char *dir, unsigned ping_ms, unsigned log_rate,
	      unsigned log_stall_ms);
/* Once the gateway has exited: waits (10 s) for the slow log reader to
 * copy the rest of the log and exit. */
void gw_log_wait(void);
/* Reads the gateway's RSS, fds and children into peak. */
void gw_sample(void);

/* --- report.c: failures and the audit ------------------------------------ */

/* Failures, grouped by what the client or the audit saw. */
enum fcat {
	FC_CUT, FC_EARLY_CLOSE, FC_NO_CLOSE, FC_BAD_CLOSE, FC_PROTOCOL,
	FC_PROBE, FC_DEADLINE, FC_AUDIT, FC_OTHER, NFCAT
};

struct logstats {
	uint64_t lines, access, access_nochild, http_errors, stderr_lines, errors,
		sanitizer;
	/* "N log lines dropped (stderr N, ...)": the counts by kind, in the
	 * order of logsink.h (stderr, info, access, error) */
	uint64_t dropped[4], drop_reports;
	char examples[5][300];
	int nexamples;
};

struct childstats {
	uint64_t starts, ends, errors, terms;
};

extern const char *const fcat_name[NFCAT];
extern unsigned nfail_notes[NKINDS], nfail_total, fcat_count[NFCAT];
extern uint32_t fcat_example[NFCAT]; /* the first token of each category */
extern unsigned npass, nfailed;      /* report_verdict's counts */

/* Counts a failure of session token in category cat and keeps the first
 * few of each kind of session for report_print_failure. */
void report_note_failure_cat(uint32_t token, const char *what, enum fcat cat);
/* The same, the category guessed from the text. */
void report_note_failure(uint32_t token, const char *what);
/* Prints one check as PASS or FAIL and counts it. */
void report_verdict(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Reads dir/gw.log: counts into ls, access lines by session number. */
void report_read_gw_log(const char *dir, struct logstats *ls);
/* Reads dir/children.log: counts into cs, each child's figures into its
 * session's record; error records become failure notes. */
void report_read_children_log(const char *dir, struct childstats *cs);
/* What a session's child and the gateway's access line must say, given
 * what its client saw. Returns NULL if all agree, else why (in why). */
const char *report_cross_check(uint32_t token, char *why, size_t cap);
/* qsort comparison of uint64_t. */
int report_cmp_u64(const void *a, const void *b);
/* Prints note i of kind k with the gateway's and the child's figures. */
void report_print_failure(unsigned k, unsigned i);

#endif
