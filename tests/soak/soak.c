/* soak: hundreds of concurrent WebSocket clients against portal-gw for
 * minutes, with children that fail in every way and clients that misbehave,
 * then an audit of what went through and of what the gateway left behind.
 *
 *   soak GATEWAY SOAKCHILD HANG_SH OUTDIR
 *
 * Environment (all optional):
 *   SOAK_SECONDS        how long clients are started, in all (180)
 *   SOAK_ROUNDS         rounds the run is cut into; all sessions end between
 *                       two, and the gateway is measured each time (2)
 *   SOAK_CLIENTS        concurrent sessions kept open (300)
 *   SOAK_SEED           random seed (from the clock; printed for replay)
 *   SOAK_PROBE_MS       a probe's deadline for its echo (2000)
 *   SOAK_PING_MS        the gateway's --ping-interval (5000; 0: none)
 *   SOAK_RSS_SLACK_KB   how far above its baseline the gateway's RSS may end
 *                       (16384)
 *   SOAK_RSS_GROWTH_KB  how much it may grow from the first round to the
 *                       last: the leak check; at least half of its working
 *                       set (peak minus baseline), at least this (2048)
 *   SOAK_KINDS          only these kinds of client in the run, e.g.
 *                       "flood,slow-reader" (default: all)
 *   SOAK_GW_ARGS        more gateway flags, split at spaces
 *
 * The driver starts the gateway itself (--address 127.0.0.1 --port 0, the
 * port read from its log), with one resource per kind of child:
 *   /echo /crash /flood /errflood /early   tests/soak/child.c
 *   /hang                                  tests/soak/hang.sh
 * Children append "start"/"end" records with their counts to
 * OUTDIR/children.log; the gateway logs to OUTDIR/gw.log.
 *
 * One thread, epoll, non-blocking sockets; every client speaks RFC 6455
 * itself (masked frames, Sec-WebSocket-Accept checked, every server frame
 * validated: no mask, no RSV, known opcodes, whole short control frames,
 * minimal lengths, fragments in order, valid UTF-8, legal close codes,
 * nothing after Close) and answers the gateway's pings. Kinds of client:
 *   echo          messages of 0..40000 bytes with a window of 1..32, some
 *                 fragmented with pings between fragments; every echo is
 *                 checked in order; ends by Close after the last echo, by
 *                 Close right after the last message (the gateway must still
 *                 deliver every echo before its Close), or by "!exit 0"
 *   slow-reader   stops reading for 0.5-2.5 s, 1-3 times, while it keeps
 *                 sending large messages (half of them with 16 KiB socket
 *                 buffers); must still get every echo
 *   churn         0-3 messages per session, many sessions
 *   vanish        half a frame then FIN or RST, half a fragmented message,
 *                 one header byte, RST with messages in flight, half a
 *                 request head, nothing after the 101
 *   flood         the child writes up to 10000 lines as fast as it can
 *                 (some clients pause reading), or without end until the
 *                 client sends Close or resets
 *   stderr-flood  the child floods stderr; each line must be in the log
 *   crash         the child echoes n lines then dies of SIGSEGV: n echoes,
 *                 then Close 1011 "killed by signal SIGSEGV"
 *   hang          the child ignores stdin and SIGTERM: SIGKILL must end it
 *   early-exit    the child writes n lines and exits with 0, 1, 3 or 42
 *   probe         one new echo session a second; the echo must come within
 *                 SOAK_PROBE_MS
 * A warm-up round runs two sessions of each kind first; the RSS after it is
 * the baseline (the first sessions page in code and libc, which is no leak).
 *
 * At the end, checked against the children's records and the gateway's
 * access lines: every message reached its child and every line a live
 * child wrote reached its client (counted at both ends and by the gateway);
 * no part of a message ever reached a child; every stderr line was logged;
 * each child ended as it should (exit status or signal); after each round
 * no child of the gateway left, zombie or not, and its descriptor count back
 * to its start; its RSS at the end within SOAK_RSS_SLACK_KB of the baseline
 * and within SOAK_RSS_GROWTH_KB of what it was after the first round; every
 * probe served in time; no error line in the gateway's log; on SIGTERM,
 * Close 1001 to each open client and exit 0. A summary table, the failures
 * grouped by symptom (each with the gateway's access figures and the
 * child's counts), then one line per check and "N passed, N failed".
 *
 * Exit status: 0 if every check passed, 1 if one failed, 2 usage or setup. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "gen.h"
#include "sha1.h"

#define TICK_MS 10
#define OUT_LIMIT 65536        /* a client queues no more while this is pending */
#define MAX_FRAME (4u << 20)   /* larger server frames are an error */
#define MAX_MSG (1u << 20)
#define WARMUP_EACH 2          /* warm-up sessions of each kind */
#define FINAL_CLIENTS 20       /* open when SIGTERM is sent */
#define DRAIN_MS 90000         /* for every session to end after the run */
#define SETTLE_MS 15000        /* then for children and descriptors to go */
#define SHUTDOWN_MS 15000      /* for Close 1001 and exit 0 after SIGTERM */

/* --- small tools ------------------------------------------------------ */

static int64_t now;

static int64_t clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t rng;

static uint64_t rnd(void)
{
	return gen_mix(rng++);
}

/* A random number in [lo, hi]. */
static uint32_t rnd_in(uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(rnd() % ((uint64_t)hi - lo + 1));
}

static unsigned long env_num(const char *name, unsigned long def)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return def;
	char *end;
	unsigned long n = strtoul(v, &end, 10);
	if (*end) {
		fprintf(stderr, "soak: %s=%s is not a number\n", name, v);
		exit(2);
	}
	return n;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "soak: out of memory\n");
		exit(2);
	}
	return p;
}

/* A byte queue: data at p[off .. off+len). */
struct bbuf {
	uint8_t *p;
	size_t off, len, cap;
};

static uint8_t *bb_reserve(struct bbuf *b, size_t n)
{
	if (b->off && b->off + b->len + n > b->cap) {
		memmove(b->p, b->p + b->off, b->len);
		b->off = 0;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	return b->p + b->off + b->len;
}

static void bb_free(struct bbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

static void bb_consume(struct bbuf *b, size_t n)
{
	b->off += n;
	b->len -= n;
	if (b->len == 0) {
		b->off = 0;
		if (b->cap > 262144)
			bb_free(b);
	}
}

static void bb_append(struct bbuf *b, const void *p, size_t n)
{
	memcpy(bb_reserve(b, n), p, n);
	b->len += n;
}

/* RFC 3629 validation: no overlong forms, no surrogates, nothing above
 * U+10FFFF. */
static bool utf8_ok(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		size_t k;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1fu;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0fu;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07u;
		} else {
			return false;
		}
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3fu);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

/* --- kinds of session and their records -------------------------------- */

enum kind {
	K_ECHO, K_SLOW, K_CHURN, K_VANISH, K_FLOOD, K_ERRFLOOD, K_CRASH,
	K_HANG, K_EARLY, K_PROBE, K_FINAL, NKINDS
};

static const char *const kind_name[NKINDS] = {
	"echo", "slow-reader", "churn", "vanish", "flood", "stderr-flood",
	"crash", "hang", "early-exit", "probe", "shutdown",
};

/* Share of the concurrent sessions each kind gets during the run. */
static const unsigned kind_weight[NKINDS] = {
	26, 8, 20, 14, 8, 3, 9, 5, 7, 0, 0,
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

static const char *const vanish_name[NVANISH] = {
	"fin-midframe", "rst-midframe", "rst-inflight", "fin-fragment",
	"rst-header", "handshake", "after-101",
};

enum flood_variant { F_FINITE, F_SLOW, F_CLOSE, F_RESET };
enum hang_variant { H_CLOSE, H_RESET, H_FIN };

static const char *const flood_name[] = { "finite", "slow", "close", "reset" };
static const char *const hang_name[] = { "close", "reset", "fin" };
static const char *const end_name[] = { "close-after", "exit-cmd", "close-now",
					"vanish", "server", "idle" };

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

static struct sess *sessions;
static uint32_t nsessions, sessions_cap;

/* One access line of the gateway's log, by session number. */
struct access {
	bool seen;
	long pid;
	uint64_t ms, in, inb, out, outb;
	unsigned close;
	int exit_code;     /* -1: killed */
	char signal[40];
	uint64_t errlines; /* "#N stderr:" lines */
};

static struct access *accs;
static size_t naccs;

struct kstat {
	uint64_t started, ok, failed, xfailed;
	uint64_t sent, recv, sent_bytes, recv_bytes;
};
static struct kstat kst[NKINDS];

/* Failures, grouped by what the client or the audit saw. */
enum fcat {
	FC_CUT, FC_EARLY_CLOSE, FC_NO_CLOSE, FC_BAD_CLOSE, FC_PROTOCOL,
	FC_PROBE, FC_DEADLINE, FC_AUDIT, FC_OTHER, NFCAT
};

static const char *const fcat_name[NFCAT] = {
	"a line arrived cut short or changed",
	"Close before all of the child's output",
	"connection ended without the closing handshake",
	"unexpected Close code or reason",
	"protocol violation by the gateway",
	"probe not served in time",
	"session deadline",
	"child's or gateway's counts disagree with the client's",
	"other",
};

static enum fcat classify(const char *what)
{
	static const struct {
		const char *start;
		enum fcat cat;
	} pats[] = {
		{ "line ", FC_CUT },
		{ "a line after", FC_CUT },
		{ "Close after", FC_EARLY_CLOSE },
		{ "Close %", FC_EARLY_CLOSE },
		{ "EOF while", FC_NO_CLOSE },
		{ "Connection reset", FC_NO_CLOSE },
		{ "write", FC_NO_CLOSE },
		{ "Close ", FC_BAD_CLOSE },
		{ "unexpected Close", FC_BAD_CLOSE },
		{ "probe:", FC_PROBE },
		{ "deadline", FC_DEADLINE },
		{ "still open", FC_DEADLINE },
	};
	if (strstr(what, "before every echo"))
		return FC_EARLY_CLOSE;
	for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
		if (strncmp(what, pats[i].start, strlen(pats[i].start)) == 0)
			return pats[i].cat;
	}
	if (strstr(what, "frame") || strstr(what, "opcode") ||
	    strstr(what, "UTF-8") || strstr(what, "length") ||
	    strstr(what, "continuation") || strstr(what, "handshake") ||
	    strstr(what, "101") || strstr(what, "Accept"))
		return FC_PROTOCOL;
	return FC_OTHER;
}

#define NOTES_PER_KIND 4
static struct {
	uint32_t token;
	char *what;
} fail_notes[NKINDS][NOTES_PER_KIND];
static unsigned nfail_notes[NKINDS], nfail_total, fcat_count[NFCAT];
static uint32_t fcat_example[NFCAT];

static void note_failure_cat(uint32_t token, const char *what, enum fcat cat)
{
	unsigned k = sessions[token].kind;
	nfail_total++;
	if (fcat_count[cat]++ == 0)
		fcat_example[cat] = token;
	if (nfail_notes[k] < NOTES_PER_KIND) {
		fail_notes[k][nfail_notes[k]].token = token;
		fail_notes[k][nfail_notes[k]++].what = strdup(what);
	}
}

static void note_failure(uint32_t token, const char *what)
{
	note_failure_cat(token, what, classify(what));
}

/* --- connections ----------------------------------------------------- */

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

static struct conn *conns, *graveyard;
static int epfd;
static struct sockaddr_in gw_addr;
static unsigned nactive[NKINDS];
static uint64_t connect_errors, server_pings, write_stalls, late_closes;
static uint64_t probe_lat[100000], probe_hs[100000];
static size_t nprobe_lat, nprobe_hs;
static int64_t loop_lag_max;
static int64_t read_budget; /* bytes left to read in this loop iteration */
static uint32_t probe_deadline_ms;

static struct sess *S(const struct conn *c)
{
	return &sessions[c->token];
}

static void set_events(struct conn *c)
{
	if (c->st == ST_DEAD)
		return;
	uint32_t ev = 0;
	if (!c->paused)
		ev |= EPOLLIN;
	if (c->out.len > 0 || c->st == ST_CONNECTING)
		ev |= EPOLLOUT;
	if (ev == c->events)
		return;
	struct epoll_event e = { .events = ev, .data.ptr = c };
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e) < 0) {
		perror("soak: epoll_ctl");
		exit(2);
	}
	c->events = ev;
}

static void conn_end(struct conn *c, bool ok, bool reset)
{
	if (c->st == ST_DEAD)
		return;
	struct sess *s = S(c);
	s->done = true;
	s->ok = ok;
	if (reset) {
		struct linger lg = { 1, 0 };
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	}
	close(c->fd);
	c->fd = -1;
	c->st = ST_DEAD;
	nactive[c->kind]--;
	struct kstat *k = &kst[c->kind];
	if (ok)
		k->ok++;
	else
		k->failed++;
	k->sent += s->sent;
	k->recv += s->recv;
	k->sent_bytes += s->sent_bytes;
	k->recv_bytes += s->recv_bytes;
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = graveyard;
	graveyard = c;
}

static void conn_fail(struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void conn_fail(struct conn *c, const char *fmt, ...)
{
	if (c->st == ST_DEAD)
		return;
	char what[512], full[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	const struct sess *s = S(c);
	snprintf(full, sizeof full, "%s (sent %u, received %u, %lld ms in)",
		 what, s->sent, s->recv, (long long)(now - c->t0));
	note_failure(c->token, full);
	conn_end(c, false, true);
}

static void conn_flush(struct conn *c)
{
	while (c->out.len > 0 && c->st != ST_DEAD) {
		ssize_t n = send(c->fd, c->out.p + c->out.off, c->out.len,
				 MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			write_stalls++;
			break;
		}
		if (n < 0 && c->st == ST_WAIT_EOF && c->was_paused &&
		    (errno == EPIPE || errno == ECONNRESET)) {
			/* The gateway waits 2 s for our Close; a client that
			 * stopped reading may have let that pass. */
			late_closes++;
			conn_end(c, true, false);
			return;
		}
		if (n < 0) {
			conn_fail(c, "write: %s", strerror(errno));
			return;
		}
		bb_consume(&c->out, (size_t)n);
	}
	set_events(c);
}

/* Queues one masked frame. */
static void put_frame(struct bbuf *b, unsigned op, bool fin, const uint8_t *p,
		      size_t n)
{
	uint8_t *d = bb_reserve(b, n + 14);
	size_t h = 0;
	d[h++] = (uint8_t)((fin ? 0x80u : 0u) | op);
	if (n < 126) {
		d[h++] = (uint8_t)(0x80u | n);
	} else if (n < 65536) {
		d[h++] = 0x80 | 126;
		d[h++] = (uint8_t)(n >> 8);
		d[h++] = (uint8_t)n;
	} else {
		d[h++] = 0x80 | 127;
		for (int i = 7; i >= 0; i--)
			d[h++] = (uint8_t)((uint64_t)n >> (8 * i));
	}
	uint64_t r = rnd();
	uint8_t mk[4] = { (uint8_t)r, (uint8_t)(r >> 8), (uint8_t)(r >> 16),
			  (uint8_t)(r >> 24) };
	memcpy(d + h, mk, 4);
	h += 4;
	for (size_t i = 0; i < n; i++)
		d[h + i] = p[i] ^ mk[i & 3];
	b->len += h + n;
}

static void send_close(struct conn *c, uint16_t code)
{
	uint8_t p[2] = { (uint8_t)(code >> 8), (uint8_t)code };
	put_frame(&c->out, 0x8, true, p, 2);
	c->close_sent = true;
	c->my_close = code;
	conn_flush(c);
}

/* --- what clients send and expect ------------------------------------ */

static size_t echo_len(const struct conn *c, uint64_t seq)
{
	uint64_t r = gen_hash(c->token, seq, 0x6c656e73u);
	uint64_t p = r % 100, v = r >> 8;
	switch (c->lenprof) {
	case 0:
		return (size_t)(v % 121);
	case 1:
		if (p < 75)
			return (size_t)(v % 301);
		if (p < 97)
			return (size_t)(300 + v % 4700);
		return (size_t)(5000 + v % 35000);
	default:
		if (p < 88)
			return (size_t)(1000 + v % 15000);
		return (size_t)(16000 + v % 30000); /* out as fragments */
	}
}

static char scratch[MAX_MSG];

static void send_message(struct conn *c)
{
	struct sess *s = S(c);
	size_t len = echo_len(c, s->sent);
	gen_line(c->token, s->sent, len, scratch);
	const uint8_t *p = (const uint8_t *)scratch;
	if (c->fragment && len >= 2 && rnd() % 3 == 0) {
		/* 2-4 fragments, a ping between two of them */
		unsigned parts = rnd_in(2, 4);
		size_t off = 0;
		for (unsigned i = 0; i < parts; i++) {
			size_t left = len - off;
			size_t k = i + 1 == parts ? left : (size_t)(rnd() % (left + 1));
			put_frame(&c->out, i == 0 ? 0x1 : 0x0, i + 1 == parts,
				  p + off, k);
			off += k;
			if (i == 0 && c->pinging) {
				char ping[24];
				int m = snprintf(ping, sizeof ping, "f%u", s->pings);
				put_frame(&c->out, 0x9, true, (const uint8_t *)ping,
					  (size_t)m);
				s->pings++;
			}
		}
	} else {
		put_frame(&c->out, 0x1, true, p, len);
	}
	s->sent++;
	s->sent_bytes += len;
	if (c->pinging && rnd() % 16 == 0) {
		char ping[24];
		int m = snprintf(ping, sizeof ping, "p%u", s->pings);
		put_frame(&c->out, 0x9, true, (const uint8_t *)ping, (size_t)m);
		s->pings++;
	}
}

/* Writes part of one more frame and leaves: FIN, or RST if reset. */
static void vanish_now(struct conn *c)
{
	struct sess *s = S(c);
	struct bbuf f = { 0 };
	size_t cut = 0;
	bool reset = false;
	switch (c->variant) {
	case V_FIN_MIDFRAME:
	case V_RST_MIDFRAME:
	case V_RST_INFLIGHT: {
		size_t len = rnd_in(1, 3000);
		gen_line(c->token, s->sent, len, scratch);
		put_frame(&f, 0x1, true, (const uint8_t *)scratch, len);
		cut = rnd_in(1, (uint32_t)f.len - 1);
		reset = c->variant != V_FIN_MIDFRAME;
		break;
	}
	case V_FIN_FRAGMENT: {
		size_t len = rnd_in(1, 2000);
		gen_line(c->token, s->sent, len, scratch);
		put_frame(&f, 0x1, false, (const uint8_t *)scratch, len);
		if (rnd() % 2)
			put_frame(&f, 0x0, false, (const uint8_t *)scratch, len);
		cut = f.len;
		break;
	}
	case V_RST_HEADER:
		bb_append(&f, "\x81", 1);
		cut = 1;
		reset = true;
		break;
	default: /* V_AFTER_101 */
		reset = rnd() % 2;
		break;
	}
	if (cut)
		bb_append(&c->out, f.p, cut);
	bb_free(&f);
	/* One try: what does not fit in the socket now is never sent. */
	if (c->out.len > 0 &&
	    send(c->fd, c->out.p + c->out.off, c->out.len, MSG_NOSIGNAL) < 0 &&
	    errno != EAGAIN) {
		conn_fail(c, "write before vanishing: %s", strerror(errno));
		return;
	}
	conn_end(c, true, reset);
}

/* Reading on or off for slow readers: pauses of 0.5-2.5 s, each followed
 * by reading for at least as long, so that in any 5 s (the gateway's pong
 * deadline) a slow reader reads for half the time. */
static void pauses(struct conn *c)
{
	if (!c->paused && c->pauses_left > 0 && now >= c->pause_at) {
		c->paused = true;
		c->was_paused = true;
		c->pause_len = rnd_in(500, 2500);
		c->pause_end = now + c->pause_len;
		set_events(c);
	} else if (c->paused && now >= c->pause_end) {
		c->paused = false;
		c->pauses_left--;
		c->pause_at = now + c->pause_len + rnd_in(0, 1000);
		set_events(c);
	}
}

static void step(struct conn *c)
{
	struct sess *s = S(c);
	if (c->st != ST_OPEN)
		return;
	pauses(c);
	switch (c->kind) {
	case K_FLOOD:
		if (c->variant == F_CLOSE && !c->close_sent && s->recv >= c->trigger)
			send_close(c, 1000);
		else if (c->variant == F_RESET && s->recv >= c->trigger)
			conn_end(c, true, true);
		return;
	case K_ERRFLOOD:
		return;
	case K_HANG:
		while (s->sent < c->limit && c->out.len < OUT_LIMIT)
			send_message(c);
		conn_flush(c);
		if (c->st == ST_OPEN && now >= c->act_at && !c->close_sent) {
			if (c->variant == H_CLOSE)
				send_close(c, 1000);
			else
				conn_end(c, true, c->variant == H_RESET);
		}
		return;
	default:
		break;
	}
	if (c->close_sent)
		return;
	bool more = c->endmode == END_SERVER ||
		    (now < c->end_ms && s->sent < c->limit);
	if (c->endmode == END_SERVER && s->sent >= c->limit)
		more = false;
	bool queued = false;
	while (more && s->sent < c->limit && s->sent - s->recv < c->window &&
	       c->out.len < OUT_LIMIT && now >= c->next_send) {
		send_message(c);
		queued = true;
		if (c->think_ms) {
			c->next_send = now + (int64_t)(rnd() % (uint64_t)c->think_ms);
			break;
		}
	}
	if (queued)
		conn_flush(c);
	if (more || c->st != ST_OPEN)
		return;
	bool drained = s->recv == s->sent && c->out.len == 0;
	switch (c->endmode) {
	case END_CLOSE_AFTER:
		if (drained)
			send_close(c, 1000);
		break;
	case END_EXIT_CMD:
		if (drained && s->ctl == 0) {
			put_frame(&c->out, 0x1, true, (const uint8_t *)"!exit 0", 7);
			s->ctl++;
			conn_flush(c);
		}
		break;
	case END_CLOSE_NOW:
		send_close(c, 1000);
		break;
	case END_VANISH:
		if (drained || c->variant == V_RST_INFLIGHT)
			vanish_now(c);
		break;
	default:
		break;
	}
}

/* Checks a data message against what this session expects next. */
static void on_message(struct conn *c, const uint8_t *p, size_t n)
{
	struct sess *s = S(c);
	size_t want;
	switch (c->kind) {
	case K_HANG:
		conn_fail(c, "message from a child that never writes");
		return;
	case K_FLOOD:
	case K_ERRFLOOD:
	case K_EARLY: {
		uint32_t expect = c->kind == K_ERRFLOOD ? (s->n + 7) / 8 : s->n;
		if (s->n && s->recv >= expect) {
			conn_fail(c, "more lines than the child writes (%u)", expect);
			return;
		}
		want = gen_flood_len(c->token, s->recv,
				     c->kind == K_FLOOD ? (s->code ? 2000 : 200) : 200);
		break;
	}
	default:
		if (s->recv >= s->sent) {
			conn_fail(c, "an echo of a message never sent");
			return;
		}
		want = echo_len(c, s->recv);
		break;
	}
	if (c->cut_line) {
		conn_fail(c, "a line after the flood's cut-off last line");
		return;
	}
	gen_line(c->token, s->recv, want, scratch);
	if (c->kind == K_FLOOD && c->variant == F_CLOSE && c->close_sent &&
	    n < want + 3) {
		/* After our Close the child is ended by SIGTERM, and the line
		 * it was writing goes out as its last: a prefix, where a
		 * character cut in two became U+FFFD. */
		size_t k = n;
		if (k >= 3 && memcmp(p + k - 3, "\xef\xbf\xbd", 3) == 0)
			k -= 3;
		if (k <= want && memcmp(p, scratch, k) == 0 &&
		    (n != want || k != n)) {
			c->cut_line = true;
			s->recv++;
			s->recv_bytes += n;
			return;
		}
	}
	if (n != want || memcmp(p, scratch, n) != 0) {
		size_t d = 0;
		while (d < n && d < want && p[d] == (uint8_t)scratch[d])
			d++;
		conn_fail(c, "line %u: got %zu bytes, want %zu, first difference "
			  "at byte %zu (got \"%.*s\")", s->recv, n, want, d,
			  (int)(n - d < 40 ? n - d : 40), (const char *)p + d);
		return;
	}
	s->recv++;
	s->recv_bytes += n;
	if (c->kind == K_PROBE && s->recv == 1) {
		c->echo_ms = now - c->t0;
		if (nprobe_lat < sizeof probe_lat / sizeof probe_lat[0])
			probe_lat[nprobe_lat++] = (uint64_t)c->echo_ms;
	}
}

static bool close_code_legal(unsigned code)
{
	if (code >= 3000 && code <= 4999)
		return true;
	return code >= 1000 && code <= 1014 && code != 1004 && code != 1005 &&
	       code != 1006;
}

/* The gateway's Close: is it the one this session expects? */
static void on_close(struct conn *c, unsigned code, const char *reason)
{
	struct sess *s = S(c);
	s->close_code = (uint16_t)code;
	bool echoes_done = s->recv == s->sent;
	char want_reason[64] = "";
	unsigned want = 1000;
	if (c->close_sent) {
		want = c->my_close;
		switch (c->kind) {
		case K_FLOOD:
		case K_HANG:
			break;
		default:
			if (!echoes_done) {
				conn_fail(c, "Close %u before every echo (%u of %u)",
					  code, s->recv, s->sent);
				return;
			}
		}
	} else {
		switch (c->kind) {
		case K_CRASH:
			want = 1011;
			strcpy(want_reason, "killed by signal SIGSEGV");
			break;
		case K_EARLY:
			want = s->code ? 1011 : 1000;
			if (s->code)
				snprintf(want_reason, sizeof want_reason,
					 "exit status %d", s->code);
			if (s->recv != s->n) {
				conn_fail(c, "Close after %u lines, want %u", s->recv,
					  s->n);
				return;
			}
			break;
		case K_FLOOD:
		case K_ERRFLOOD: {
			uint32_t expect = c->kind == K_FLOOD ? s->n : (s->n + 7) / 8;
			if (c->kind == K_FLOOD && c->variant >= F_CLOSE) {
				conn_fail(c, "Close %u from an endless flood", code);
				return;
			}
			if (s->recv != expect) {
				conn_fail(c, "Close after %u lines, want %u", s->recv,
					  expect);
				return;
			}
			break;
		}
		case K_FINAL:
			want = 1001;
			break;
		default:
			if (c->endmode != END_EXIT_CMD || s->ctl == 0) {
				conn_fail(c, "unexpected Close %u \"%s\"", code, reason);
				return;
			}
			if (!echoes_done) {
				conn_fail(c, "Close %u before every echo (%u of %u)",
					  code, s->recv, s->sent);
				return;
			}
		}
	}
	if (code != want || (want_reason[0] && strcmp(reason, want_reason) != 0)) {
		conn_fail(c, "Close %u \"%s\", want %u \"%s\"", code, reason, want,
			  want_reason);
		return;
	}
	if (s->pings != s->pongs && c->kind != K_CRASH && c->kind != K_EARLY) {
		conn_fail(c, "%u pongs for %u pings", s->pongs, s->pings);
		return;
	}
	if (!c->close_sent) {
		uint8_t p[2] = { (uint8_t)(code >> 8), (uint8_t)code };
		put_frame(&c->out, 0x8, true, p, 2);
		c->close_sent = true;
		c->my_close = (uint16_t)code;
	}
	c->st = ST_WAIT_EOF;
	c->paused = false;
	c->deadline = now + 5000;
	conn_flush(c);
}

/* Validates and consumes whole frames from c->in. */
static void parse_frames(struct conn *c)
{
	struct sess *s = S(c);
	while (c->st == ST_OPEN || c->st == ST_WAIT_EOF) {
		uint8_t *b = c->in.p + c->in.off;
		size_t have = c->in.len;
		if (have < 2)
			return;
		unsigned fin = b[0] & 0x80u, rsv = b[0] & 0x70u, op = b[0] & 0x0fu;
		unsigned masked = b[1] & 0x80u, l7 = b[1] & 0x7fu;
		size_t hl = 2;
		uint64_t len = l7;
		if (rsv || masked) {
			conn_fail(c, "server frame with %s", rsv ? "RSV bits" : "a mask");
			return;
		}
		if (l7 == 126) {
			if (have < 4)
				return;
			len = (uint64_t)b[2] << 8 | b[3];
			hl = 4;
			if (len < 126) {
				conn_fail(c, "non-minimal 16-bit length %" PRIu64, len);
				return;
			}
		} else if (l7 == 127) {
			if (have < 10)
				return;
			len = 0;
			for (int i = 0; i < 8; i++)
				len = len << 8 | b[2 + i];
			hl = 10;
			if (len < 65536 || len >> 63) {
				conn_fail(c, "bad 64-bit length %" PRIu64, len);
				return;
			}
		}
		if (len > MAX_FRAME) {
			conn_fail(c, "frame of %" PRIu64 " bytes", len);
			return;
		}
		if (have < hl + len) {
			bb_reserve(&c->in, (size_t)(hl + len - have));
			return;
		}
		const uint8_t *p = b + hl;
		size_t n = (size_t)len;
		if (c->st == ST_WAIT_EOF) {
			conn_fail(c, "frame (opcode %u) after the server's Close", op);
			return;
		}
		if (op >= 0x8) {
			if (!fin || n > 125) {
				conn_fail(c, "control frame %s", !fin ? "fragmented"
								      : "too long");
				return;
			}
			if (op == 0x8) {
				unsigned code = 0;
				char reason[128] = "";
				if (n == 1) {
					conn_fail(c, "Close with a 1-byte payload");
					return;
				}
				if (n >= 2) {
					code = (unsigned)p[0] << 8 | p[1];
					if (!close_code_legal(code) ||
					    !utf8_ok(p + 2, n - 2)) {
						conn_fail(c, "bad Close %u", code);
						return;
					}
					memcpy(reason, p + 2, n - 2);
					reason[n - 2] = '\0';
				}
				bb_consume(&c->in, hl + n);
				on_close(c, code, reason);
				continue;
			} else if (op == 0x9) {
				server_pings++;
				if (!c->close_sent) {
					int unsent = 0;
					ioctl(c->fd, SIOCOUTQ, &unsent);
					c->ping_at = now;
					c->pong_behind = c->out.len + (size_t)unsent;
					put_frame(&c->out, 0xA, true, p, n);
					conn_flush(c);
				}
			} else if (op == 0xA) {
				s->pongs++;
			} else {
				conn_fail(c, "reserved opcode %u", op);
				return;
			}
		} else if (op == 0x1 || op == 0x0) {
			if (op == 0x1 && c->in_msg) {
				conn_fail(c, "new message inside a fragmented one");
				return;
			}
			if (op == 0x0 && !c->in_msg) {
				conn_fail(c, "continuation without a message");
				return;
			}
			if (fin && !c->in_msg) {
				if (!utf8_ok(p, n)) {
					conn_fail(c, "invalid UTF-8 in a text message");
					return;
				}
				on_message(c, p, n);
			} else {
				if (c->msg.len + n > MAX_MSG) {
					conn_fail(c, "message over %u bytes", MAX_MSG);
					return;
				}
				bb_append(&c->msg, p, n);
				c->in_msg = !fin;
				if (fin) {
					if (!utf8_ok(c->msg.p + c->msg.off, c->msg.len)) {
						conn_fail(c, "invalid UTF-8 in a "
							  "fragmented message");
						return;
					}
					on_message(c, c->msg.p + c->msg.off, c->msg.len);
					bb_free(&c->msg);
				}
			}
		} else {
			conn_fail(c, "%s opcode %u", op == 2 ? "binary" : "reserved",
				  op);
			return;
		}
		if (c->st == ST_DEAD)
			return;
		bb_consume(&c->in, hl + n);
	}
}

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* "Name: value" in the response head h, case-insensitive name. */
static bool header_value(const char *h, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	for (const char *line = strstr(h, "\r\n"); line && line[2];
	     line = strstr(line + 2, "\r\n")) {
		const char *l = line + 2;
		if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
			const char *v = l + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			const char *e = strstr(v, "\r\n");
			size_t n = e ? (size_t)(e - v) : strlen(v);
			while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
				n--;
			if (n >= cap)
				n = cap - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return true;
		}
	}
	return false;
}

static void on_handshake(struct conn *c)
{
	uint8_t *b = c->in.p + c->in.off;
	size_t n = c->in.len;
	uint8_t *end = memmem(b, n, "\r\n\r\n", 4);
	if (!end) {
		if (n > 4096)
			conn_fail(c, "response head over 4 KiB");
		return;
	}
	size_t hlen = (size_t)(end - b) + 4;
	char head[4100], v[256];
	if (hlen > 4096) {
		conn_fail(c, "response head over 4 KiB");
		return;
	}
	memcpy(head, b, hlen);
	head[hlen] = '\0';
	if (strncmp(head, "HTTP/1.1 101 ", 13) != 0) {
		char *eol = strstr(head, "\r\n");
		if (eol)
			*eol = '\0';
		conn_fail(c, "handshake answered \"%s\"", head);
		return;
	}
	uint8_t digest[SHA1_LEN];
	struct sha1 sh;
	sha1_init(&sh);
	sha1_update(&sh, c->key, strlen(c->key));
	sha1_update(&sh, ws_guid, sizeof ws_guid - 1);
	sha1_final(&sh, digest);
	char accept[BASE64_ENCODED_LEN(SHA1_LEN) + 1];
	accept[base64_encode(digest, SHA1_LEN, accept)] = '\0';
	if (!header_value(head, "Upgrade", v, sizeof v) ||
	    strcasecmp(v, "websocket") != 0) {
		conn_fail(c, "101 without Upgrade: websocket");
		return;
	}
	if (!header_value(head, "Connection", v, sizeof v) ||
	    !strcasestr(v, "upgrade")) {
		conn_fail(c, "101 without Connection: Upgrade");
		return;
	}
	if (!header_value(head, "Sec-WebSocket-Accept", v, sizeof v) ||
	    strcmp(v, accept) != 0) {
		conn_fail(c, "Sec-WebSocket-Accept \"%s\", want \"%s\"", v, accept);
		return;
	}
	bb_consume(&c->in, hlen);
	c->st = ST_OPEN;
	S(c)->got101 = true;
	if (c->kind == K_PROBE && nprobe_hs < sizeof probe_hs / sizeof probe_hs[0])
		probe_hs[nprobe_hs++] = (uint64_t)(now - c->t0);
	if (c->kind == K_VANISH && c->variant == V_AFTER_101) {
		vanish_now(c);
		return;
	}
	step(c);
	if (c->st == ST_OPEN)
		parse_frames(c);
}

static void on_readable(struct conn *c)
{
	for (int i = 0; i < 2 && !c->paused && read_budget > 0; i++) {
		if (c->st != ST_HANDSHAKE && c->st != ST_OPEN && c->st != ST_WAIT_EOF)
			return;
		uint8_t *p = bb_reserve(&c->in, 65536);
		ssize_t n = recv(c->fd, p, 65536, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			if (n == 0 && c->st == ST_WAIT_EOF) {
				conn_end(c, true, false);
				return;
			}
			if (n < 0 && errno == ECONNRESET && c->st == ST_WAIT_EOF &&
			    c->was_paused) {
				late_closes++;
				conn_end(c, true, false);
				return;
			}
			static const char *const stname[] = {
				"connecting", "handshake", "open", "closing", "dead"
			};
			char ping[120] = "";
			if (c->ping_at)
				snprintf(ping, sizeof ping, "; the gateway's last ping "
					 "came %lld ms ago, our pong behind %zu bytes "
					 "of ours", (long long)(now - c->ping_at),
					 c->pong_behind);
			conn_fail(c, "%s while %s, no Close from the gateway%s",
				  n == 0 ? "EOF" : strerror(errno), stname[c->st],
				  ping);
			return;
		}
		c->in.len += (size_t)n;
		read_budget -= n;
		if (c->st == ST_HANDSHAKE)
			on_handshake(c);
		else
			parse_frames(c);
	}
}

static void send_request(struct conn *c)
{
	uint8_t raw[16];
	uint64_t a = rnd(), b = rnd();
	memcpy(raw, &a, 8);
	memcpy(raw + 8, &b, 8);
	c->key[base64_encode(raw, 16, c->key)] = '\0';
	char req[512];
	int n = snprintf(req, sizeof req,
			 "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
			 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
			 "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
			 "User-Agent: portal-gw-soak\r\n\r\n",
			 c->path, (unsigned)ntohs(gw_addr.sin_port), c->key);
	if (c->kind == K_VANISH && c->variant == V_HANDSHAKE) {
		bb_append(&c->out, req, rnd_in(1, (uint32_t)n - 1));
		if (send(c->fd, c->out.p, c->out.len, MSG_NOSIGNAL) < 0 &&
		    errno != EAGAIN) {
			conn_fail(c, "write: %s", strerror(errno));
			return;
		}
		conn_end(c, true, rnd() % 2);
		return;
	}
	bb_append(&c->out, req, (size_t)n);
	c->st = ST_HANDSHAKE;
	conn_flush(c);
}

static void on_event(struct conn *c, uint32_t ev)
{
	if (c->st == ST_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof err;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			connect_errors++;
			conn_fail(c, "connect: %s", strerror(err));
			return;
		}
		if (!(ev & EPOLLOUT))
			return;
		send_request(c);
		return;
	}
	if (ev & (EPOLLHUP | EPOLLERR))
		c->paused = false; /* nothing to wait for: see what happened */
	if (ev & EPOLLOUT)
		conn_flush(c);
	if (c->st != ST_DEAD && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		on_readable(c);
	if (c->st == ST_OPEN)
		step(c);
	if (c->st != ST_DEAD)
		set_events(c);
}

/* --- starting sessions ------------------------------------------------- */

static uint32_t new_session(enum kind k)
{
	if (nsessions == sessions_cap) {
		sessions_cap = sessions_cap ? sessions_cap * 2 : 4096;
		sessions = xrealloc(sessions, sessions_cap * sizeof *sessions);
	}
	struct sess *s = &sessions[nsessions];
	memset(s, 0, sizeof *s);
	s->kind = (uint8_t)k;
	s->sid = -1;
	return nsessions++;
}

static void conn_start(enum kind k)
{
	struct conn *c = calloc(1, sizeof *c);
	if (!c) {
		fprintf(stderr, "soak: out of memory\n");
		exit(2);
	}
	c->token = new_session(k);
	struct sess *s = S(c);
	c->kind = (uint8_t)k;
	c->t0 = now;
	c->deadline = now + 30000;
	c->limit = UINT32_MAX;
	c->window = 1;
	c->end_ms = INT64_MAX;
	c->endmode = END_CLOSE_AFTER;
	snprintf(c->path, sizeof c->path, "/echo?t=%u", c->token);
	static const uint32_t windows[] = { 1, 1, 2, 4, 8, 16, 32 };
	switch (k) {
	case K_ECHO:
		c->lenprof = (int)(rnd() % 2);
		c->window = windows[rnd() % 7];
		c->think_ms = rnd() % 3 == 0 ? rnd_in(1, 50) : 0;
		c->end_ms = now + rnd_in(200, 8000);
		c->endmode = (uint8_t)(rnd() % 3); /* CLOSE_AFTER, EXIT, NOW */
		c->fragment = rnd() % 4 == 0;
		c->pinging = rnd() % 3 == 0;
		c->deadline = c->end_ms + 20000;
		break;
	case K_SLOW:
		c->lenprof = 2;
		c->window = UINT32_MAX;
		c->end_ms = now + rnd_in(3000, 9000);
		c->endmode = rnd() % 2 ? END_CLOSE_AFTER : END_EXIT_CMD;
		c->pauses_left = (int)rnd_in(1, 3);
		c->pause_at = now + rnd_in(100, 1000);
		c->pinging = rnd() % 2;
		c->think_ms = rnd_in(0, 10);
		c->small_buffers = rnd() % 2;
		c->deadline = c->end_ms + 30000;
		break;
	case K_CHURN:
		c->limit = rnd_in(0, 3);
		c->endmode = (uint8_t)(rnd() % 3);
		c->deadline = now + 15000;
		break;
	case K_VANISH:
		c->variant = (uint8_t)(rnd() % NVANISH);
		c->lenprof = 1;
		c->window = rnd_in(1, 8);
		c->end_ms = now + rnd_in(100, 3000);
		c->endmode = END_VANISH;
		c->deadline = c->end_ms + 20000;
		break;
	case K_FLOOD:
		c->variant = (uint8_t)(rnd() % 4);
		s->code = rnd() % 2; /* line length: 1 up to 2000, 0 up to 200 */
		s->n = c->variant == F_FINITE ? rnd_in(500, 10000)
		     : c->variant == F_SLOW   ? rnd_in(2000, 10000)
					      : 0;
		c->trigger = rnd_in(100, 5000);
		if (c->variant == F_SLOW) {
			c->small_buffers = rnd() % 2;
			c->pauses_left = (int)rnd_in(1, 2);
			c->pause_at = now + rnd_in(0, 300);
		}
		c->endmode = END_SERVER;
		c->deadline = now + 60000;
		snprintf(c->path, sizeof c->path, "/flood?t=%u&n=%u&len=%u",
			 c->token, s->n, s->code ? 2000 : 200);
		break;
	case K_ERRFLOOD:
		s->n = rnd_in(100, 1000);
		c->endmode = END_SERVER;
		snprintf(c->path, sizeof c->path, "/errflood?t=%u&n=%u&len=200",
			 c->token, s->n);
		break;
	case K_CRASH:
		s->n = rnd_in(0, 40);
		c->lenprof = (int)(rnd() % 2);
		c->window = rnd_in(1, 8);
		c->endmode = END_SERVER;
		snprintf(c->path, sizeof c->path, "/crash?t=%u&n=%u", c->token, s->n);
		break;
	case K_HANG:
		c->variant = (uint8_t)(rnd() % 3);
		c->limit = rnd_in(1, 5);
		c->window = UINT32_MAX;
		c->act_at = now + rnd_in(100, 1500);
		c->deadline = now + 20000;
		snprintf(c->path, sizeof c->path, "/hang?t=%u", c->token);
		break;
	case K_EARLY: {
		static const int codes[] = { 0, 0, 1, 3, 42 };
		s->n = rnd_in(0, 20);
		s->code = codes[rnd() % 5];
		c->window = UINT32_MAX;
		c->limit = rnd_in(0, 20);
		c->endmode = END_SERVER;
		snprintf(c->path, sizeof c->path,
			 "/early?t=%u&n=%u&len=200&code=%d", c->token, s->n,
			 s->code);
		break;
	}
	case K_PROBE:
		c->limit = 1;
		c->deadline = now + 15000;
		break;
	case K_FINAL:
		c->limit = 1;
		c->endmode = END_IDLE;
		c->deadline = now + 120000;
		break;
	default:
		break;
	}
	s->variant = c->variant;
	s->endmode = c->endmode;
	kst[k].started++;
	nactive[k]++;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		perror("soak: socket");
		exit(2);
	}
	if (c->small_buffers) {
		int sz = 16384;
		setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
		setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	}
	c->st = ST_CONNECTING;
	c->events = EPOLLOUT;
	struct epoll_event e = { .events = c->events, .data.ptr = c };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &e) < 0) {
		perror("soak: epoll_ctl");
		exit(2);
	}
	c->next = conns;
	if (conns)
		conns->prev = c;
	conns = c;
	if (connect(c->fd, (struct sockaddr *)&gw_addr, sizeof gw_addr) < 0 &&
	    errno != EINPROGRESS) {
		connect_errors++;
		conn_fail(c, "connect: %s", strerror(errno));
	}
}

static unsigned weight[NKINDS];

/* SOAK_KINDS=echo,flood,...: only these kinds in the run (not the
 * warm-up, the probes or the shutdown clients). */
static void set_weights(const char *only)
{
	for (int k = 0; k < NKINDS; k++) {
		weight[k] = kind_weight[k];
		if (only && *only) {
			const char *p = strstr(only, kind_name[k]);
			size_t n = strlen(kind_name[k]);
			bool listed = p && (p == only || p[-1] == ',') &&
				      (p[n] == ',' || p[n] == '\0');
			if (!listed)
				weight[k] = 0;
		}
	}
}

static enum kind pick_kind(void)
{
	unsigned total = 0;
	for (int k = 0; k < NKINDS; k++)
		total += weight[k];
	if (total == 0) {
		fprintf(stderr, "soak: SOAK_KINDS names no kind of client\n");
		exit(2);
	}
	unsigned r = (unsigned)(rnd() % total);
	for (int k = 0; k < NKINDS; k++) {
		if (r < weight[k])
			return (enum kind)k;
		r -= weight[k];
	}
	return K_ECHO;
}

static void tick(void)
{
	struct conn *c, *next;
	for (c = conns; c; c = next) {
		next = c->next;
		if (now >= c->deadline) {
			conn_fail(c, "deadline: still %s",
				  c->st == ST_CONNECTING ? "connecting"
				  : c->st == ST_HANDSHAKE ? "waiting for the 101"
				  : c->st == ST_WAIT_EOF  ? "waiting for EOF"
				  : c->close_sent	 ? "waiting for Close"
							 : "open");
			continue;
		}
		if (c->kind == K_PROBE && c->echo_ms == 0 &&
		    now - c->t0 > probe_deadline_ms) {
			conn_fail(c, "probe: no echo within %u ms",
				  probe_deadline_ms);
			continue;
		}
		if (c->st == ST_OPEN)
			step(c);
	}
	while (graveyard) {
		c = graveyard;
		graveyard = c->next;
		bb_free(&c->in);
		bb_free(&c->out);
		bb_free(&c->msg);
		free(c);
	}
}

static void run_events(int timeout)
{
	struct epoll_event ev[256];
	int64_t before = clock_ms();
	if (now && before - now > loop_lag_max)
		loop_lag_max = before - now; /* our own work since the last wait */
	read_budget = 8 << 20; /* bounds how long one iteration checks lines */
	int n = epoll_wait(epfd, ev, 256, timeout);
	if (n < 0 && errno != EINTR) {
		perror("soak: epoll_wait");
		exit(2);
	}
	now = clock_ms();
	for (int i = 0; i < n; i++) {
		struct conn *c = ev[i].data.ptr;
		if (c->st != ST_DEAD)
			on_event(c, ev[i].events);
	}
}

static unsigned active_except_probes(void)
{
	unsigned n = 0;
	for (int k = 0; k < NKINDS; k++)
		if (k != K_PROBE)
			n += nactive[k];
	return n;
}

/* --- the gateway process ---------------------------------------------- */

static pid_t gw_pid = -1;
static int gw_status = -1;
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static long proc_rss_kb(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	FILE *f = fopen(path, "r");
	long kb = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}

static int proc_fd_count(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.')
			n++;
	}
	closedir(d);
	return n;
}

struct kids {
	int total, zombies;
	long list[8];
	char state[8];
	int nlist;
};

/* The processes whose parent is pid, from /proc. */
static void proc_children(pid_t parent, struct kids *k)
{
	memset(k, 0, sizeof *k);
	DIR *d = opendir("/proc");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		char path[300], buf[512];
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		char *r = strrchr(buf, ')');
		char st;
		long ppid;
		if (!r || sscanf(r + 1, " %c %ld", &st, &ppid) != 2 ||
		    ppid != (long)parent)
			continue;
		k->total++;
		if (st == 'Z')
			k->zombies++;
		if (k->nlist < 8) {
			k->list[k->nlist] = strtol(e->d_name, NULL, 10);
			k->state[k->nlist++] = st;
		}
	}
	closedir(d);
}

static void kill_leftovers(void)
{
	/* We are a subreaper: whatever the gateway left is ours now. */
	int64_t end = clock_ms() + 5000;
	for (;;) {
		struct kids k;
		proc_children(getpid(), &k);
		if (k.total == 0 || clock_ms() > end)
			break;
		for (int i = 0; i < k.nlist; i++) {
			kill(-(pid_t)k.list[i], SIGKILL);
			kill((pid_t)k.list[i], SIGKILL);
		}
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		usleep(20000);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void abort_run(const char *why)
{
	fprintf(stderr, "soak: %s; killing the gateway\n", why);
	if (gw_pid > 0 && gw_status < 0) {
		kill(gw_pid, SIGKILL);
		waitpid(gw_pid, NULL, 0);
	}
	kill_leftovers();
	exit(2);
}

static bool gw_exited(void)
{
	if (gw_status >= 0)
		return true;
	int st;
	pid_t r = waitpid(gw_pid, &st, WNOHANG);
	if (r == gw_pid) {
		gw_status = st;
		return true;
	}
	return false;
}

static void quote_into(char *out, size_t cap, const char *s)
{
	if (strchr(s, '\'')) {
		fprintf(stderr, "soak: a path with a quote: %s\n", s);
		exit(2);
	}
	snprintf(out, cap, "'%s'", s);
}

static void start_gateway(const char *gw, const char *child, const char *hang,
			  const char *dir, unsigned ping_ms)
{
	char log[PATH_MAX + 32], clog[PATH_MAX + 32], qc[PATH_MAX + 2],
		qh[PATH_MAX + 2], ql[PATH_MAX + 40], ping[32];
	snprintf(log, sizeof log, "%s/gw.log", dir);
	snprintf(clog, sizeof clog, "%s/children.log", dir);
	quote_into(qc, sizeof qc, child);
	quote_into(qh, sizeof qh, hang);
	quote_into(ql, sizeof ql, clog);
	static char res[6][3 * PATH_MAX + 100];
	static const char *const modes[] = { "echo", "crash", "flood", "errflood",
					     "early" };
	char *argv[64];
	int a = 0;
	argv[a++] = (char *)gw;
	argv[a++] = "--address";
	argv[a++] = "127.0.0.1";
	argv[a++] = "--port";
	argv[a++] = "0";
	if (ping_ms) {
		snprintf(ping, sizeof ping, "%u", ping_ms);
		argv[a++] = "--ping-interval";
		argv[a++] = ping;
	}
	char *extra = getenv("SOAK_GW_ARGS") ? strdup(getenv("SOAK_GW_ARGS"))
					      : NULL;
	for (char *t = extra ? strtok(extra, " ") : NULL; t && a < 40;
	     t = strtok(NULL, " "))
		argv[a++] = t;
	for (int i = 0; i < 5; i++) {
		snprintf(res[i], sizeof res[i], "/%s=%s %s %s", modes[i], qc,
			 modes[i], ql);
		argv[a++] = res[i];
	}
	snprintf(res[5], sizeof res[5], "/hang=/bin/sh %s %s", qh, ql);
	argv[a++] = res[5];
	argv[a] = NULL;

	int lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (lfd < 0) {
		fprintf(stderr, "soak: %s: %s\n", log, strerror(errno));
		exit(2);
	}
	fflush(NULL);
	gw_pid = fork();
	if (gw_pid < 0) {
		perror("soak: fork");
		exit(2);
	}
	if (gw_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGPIPE, SIG_DFL);
		int nul = open("/dev/null", O_RDWR);
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(lfd, 2);
		execv(gw, argv);
		dprintf(2, "soak: exec %s: %s\n", gw, strerror(errno));
		_exit(127);
	}
	close(lfd);
	free(extra);

	/* Its port, from "listening on 127.0.0.1:PORT". */
	int64_t end = clock_ms() + 5000;
	for (;;) {
		FILE *f = fopen(log, "r");
		char line[512];
		long port = 0;
		while (f && fgets(line, sizeof line, f)) {
			char *p = strstr(line, "listening on 127.0.0.1:");
			if (p)
				port = strtol(p + 23, NULL, 10);
		}
		if (f)
			fclose(f);
		if (port > 0 && port < 65536) {
			gw_addr.sin_family = AF_INET;
			gw_addr.sin_port = htons((uint16_t)port);
			gw_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			return;
		}
		if (gw_exited() || clock_ms() > end) {
			fprintf(stderr, "soak: the gateway did not start; its log:\n");
			FILE *g = fopen(log, "r");
			while (g && fgets(line, sizeof line, g))
				fputs(line, stderr);
			if (g)
				fclose(g);
			abort_run("no gateway");
		}
		usleep(20000);
	}
}

/* --- checks at the end --------------------------------------------------- */

static unsigned npass, nfailed;

static void verdict(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void verdict(bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("  %s  ", ok ? "PASS" : "FAIL");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	if (ok)
		npass++;
	else
		nfailed++;
}

static struct access *access_for(long sid)
{
	if (sid < 0)
		return NULL;
	if ((size_t)sid >= naccs) {
		size_t n = naccs ? naccs : 1024;
		while (n <= (size_t)sid)
			n *= 2;
		accs = xrealloc(accs, n * sizeof *accs);
		memset(accs + naccs, 0, (n - naccs) * sizeof *accs);
		naccs = n;
	}
	return &accs[sid];
}

struct logstats {
	uint64_t lines, access, access_nochild, http_errors, stderr_lines, errors,
		sanitizer;
	char examples[5][300];
	int nexamples;
};

static void read_gw_log(const char *dir, struct logstats *ls)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/gw.log", dir);
	FILE *f = fopen(path, "r");
	memset(ls, 0, sizeof *ls);
	if (!f)
		return;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) > 0) {
		ls->lines++;
		if (strstr(line, "Sanitizer") || strstr(line, "runtime error:")) {
			ls->sanitizer++;
			if (ls->nexamples < 5)
				snprintf(ls->examples[ls->nexamples++], 300, "%s", line);
			continue;
		}
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		char *lvl = sp + 1, *rest = strchr(lvl, ' ');
		if (!rest)
			continue;
		*rest++ = '\0';
		unsigned long long sid, ms, in, inb, out, outb;
		long pid;
		unsigned close;
		char addr[80], rpath[300], how[40];
		char *pidp = strstr(rest, " pid=");
		if (strcmp(lvl, "access") == 0 && pidp &&
		    sscanf(rest, "#%llu %79s", &sid, addr) == 2 &&
		    sscanf(pidp, " pid=%ld", &pid) == 1 && pid <= 0) {
			/* a connection that ended before it had a child */
			ls->access_nochild++;
		} else if (strcmp(lvl, "access") == 0) {
			if (sscanf(rest, "#%llu %79s %299s pid=%ld ms=%llu in=%llu/%lluB "
				   "out=%llu/%lluB close=%u %39s", &sid, addr, rpath,
				   &pid, &ms, &in, &inb, &out, &outb, &close,
				   how) == 11) {
				struct access *a = access_for((long)sid);
				ls->access++;
				a->seen = true;
				a->pid = pid;
				a->ms = ms;
				a->in = in;
				a->inb = inb;
				a->out = out;
				a->outb = outb;
				a->close = close;
				a->exit_code = -1;
				if (strncmp(how, "exit=", 5) == 0)
					a->exit_code = atoi(how + 5);
				else if (strncmp(how, "signal=", 7) == 0)
					snprintf(a->signal, sizeof a->signal, "%s", how + 7);
			} else {
				ls->http_errors++;
				if (ls->nexamples < 5)
					snprintf(ls->examples[ls->nexamples++], 300,
						 "access %s", rest);
			}
		} else if (strcmp(lvl, "info") == 0) {
			int off = 0;
			if (sscanf(rest, "#%llu stderr: %n", &sid, &off) == 1 &&
			    off > 0) {
				access_for((long)sid)->errlines++;
				ls->stderr_lines++;
			}
		} else if (strcmp(lvl, "error") == 0 || strcmp(lvl, "fatal") == 0) {
			ls->errors++;
			if (ls->nexamples < 5)
				snprintf(ls->examples[ls->nexamples++], 300, "%s %s",
					 lvl, rest);
		}
	}
	free(line);
	fclose(f);
}

struct childstats {
	uint64_t starts, ends, errors, terms;
};

static void read_children_log(const char *dir, struct childstats *cs)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/children.log", dir);
	FILE *f = fopen(path, "r");
	memset(cs, 0, sizeof *cs);
	if (!f)
		return;
	char line[512], mode[32], sid[32];
	unsigned tok;
	long pid;
	unsigned long long rxl, rxb, txl, txb, partial, errl;
	int term;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "start %31s %u %31s %ld", mode, &tok, sid, &pid) == 4) {
			cs->starts++;
			if (tok >= nsessions)
				continue;
			struct sess *s = &sessions[tok];
			s->c_start = true;
			s->sid = strtol(sid, NULL, 10);
		} else if (sscanf(line, "end %u %31s %llu %llu %llu %llu %llu %llu %d",
				  &tok, sid, &rxl, &rxb, &txl, &txb, &partial, &errl,
				  &term) == 9) {
			cs->ends++;
			if (term)
				cs->terms++;
			if (tok >= nsessions)
				continue;
			struct sess *s = &sessions[tok];
			s->c_end = true;
			s->c_term = term != 0;
			s->c_rxl = rxl;
			s->c_rxb = rxb;
			s->c_txl = txl;
			s->c_txb = txb;
			s->c_partial = partial;
			s->c_errl = errl;
		} else {
			cs->errors++;
			if (sscanf(line, "error %u", &tok) == 1 && tok < nsessions) {
				char what[600];
				snprintf(what, sizeof what, "child: %s", line);
				what[strcspn(what, "\n")] = '\0';
				note_failure(tok, what);
			}
		}
	}
	fclose(f);
}

/* What a session's child and the gateway's access line must say, given
 * what its client saw. Returns NULL if all agree. */
static const char *cross_check(uint32_t token, char *why, size_t cap)
{
	const struct sess *s = &sessions[token];
	if (!s->done || !s->ok || !s->got101)
		return NULL;
	bool may_lack_child = s->kind == K_VANISH && s->variant == V_AFTER_101;
	if (!s->c_start) {
		if (may_lack_child)
			return NULL;
		return "no record from its child";
	}
	const struct access *a = s->sid >= 0 && (size_t)s->sid < naccs ? &accs[s->sid]
								   : NULL;
	if (!a || !a->seen)
		return "no access line for its session";
#define CHECK(cond, ...)                                  \
	do {                                              \
		if (!(cond)) {                            \
			snprintf(why, cap, __VA_ARGS__);  \
			return why;                       \
		}                                         \
	} while (0)
	switch (s->kind) {
	case K_ECHO:
	case K_SLOW:
	case K_CHURN:
	case K_PROBE:
	case K_FINAL:
	case K_VANISH: {
		bool exact = !(s->kind == K_VANISH && s->variant == V_RST_INFLIGHT);
		CHECK(s->c_end, "the echo child left no end record (%s)",
		      a->signal[0] ? a->signal : "exited");
		CHECK(s->c_partial == 0, "the child got %" PRIu64 " bytes of a "
		      "message that never arrived whole", s->c_partial);
		CHECK(a->exit_code == 0, "child ended %s%d", a->signal,
		      a->exit_code);
		CHECK(s->c_txl == s->c_rxl, "child echoed %" PRIu64 " of %" PRIu64,
		      s->c_txl, s->c_rxl);
		CHECK(a->in == s->c_rxl + s->ctl, "gateway passed %" PRIu64
		      " messages, child read %" PRIu64 " lines", a->in, s->c_rxl);
		if (exact) {
			CHECK(s->c_rxl == s->sent && s->c_rxb == s->sent_bytes,
			      "client sent %u messages / %" PRIu64 " bytes, child "
			      "read %" PRIu64 " / %" PRIu64, s->sent, s->sent_bytes,
			      s->c_rxl, s->c_rxb);
			CHECK(s->recv == s->c_txl && s->recv_bytes == s->c_txb,
			      "child wrote %" PRIu64 " lines / %" PRIu64 " bytes, "
			      "client got %u / %" PRIu64, s->c_txl, s->c_txb,
			      s->recv, s->recv_bytes);
			CHECK(a->out == s->c_txl, "gateway sent %" PRIu64
			      " of the child's %" PRIu64 " lines", a->out, s->c_txl);
		} else {
			CHECK(s->c_rxl <= s->sent, "child read %" PRIu64 " lines, "
			      "client sent %u", s->c_rxl, s->sent);
			CHECK(s->recv <= a->out && a->out <= s->c_txl,
			      "client got %u, gateway sent %" PRIu64 ", child "
			      "wrote %" PRIu64, s->recv, a->out, s->c_txl);
		}
		break;
	}
	case K_CRASH:
		CHECK(strcmp(a->signal, "SIGSEGV") == 0, "child ended %s%d, want "
		      "SIGSEGV", a->signal, a->exit_code);
		CHECK(s->c_end, "the crash child left no record");
		CHECK(s->recv == s->c_txl && a->out == s->c_txl,
		      "child wrote %" PRIu64 " lines before it crashed, gateway "
		      "sent %" PRIu64 ", client got %u", s->c_txl, a->out, s->recv);
		CHECK(s->c_rxl <= s->sent && a->in >= s->c_rxl,
		      "child read %" PRIu64 ", gateway passed %" PRIu64 ", "
		      "client sent %u", s->c_rxl, a->in, s->sent);
		break;
	case K_FLOOD:
		if (s->variant == F_FINITE || s->variant == F_SLOW) {
			CHECK(a->exit_code == 0, "flood child ended %s%d", a->signal,
			      a->exit_code);
			CHECK(s->c_txl == s->n && s->recv == s->n && a->out == s->n,
			      "flood of %u lines: child wrote %" PRIu64 ", gateway "
			      "sent %" PRIu64 ", client got %u", s->n, s->c_txl,
			      a->out, s->recv);
		} else {
			CHECK(strcmp(a->signal, "SIGTERM") == 0, "endless flood "
			      "ended %s%d, want SIGTERM", a->signal, a->exit_code);
			CHECK(s->recv <= a->out, "client got %u, gateway sent %"
			      PRIu64, s->recv, a->out);
		}
		break;
	case K_ERRFLOOD:
		CHECK(a->exit_code == 0, "child ended %s%d", a->signal, a->exit_code);
		CHECK(s->c_end && s->c_errl == s->n, "child wrote %" PRIu64
		      " stderr lines, want %u", s->c_errl, s->n);
		CHECK(a->errlines == s->c_errl, "log has %" PRIu64 " of the "
		      "child's %" PRIu64 " stderr lines", a->errlines, s->c_errl);
		CHECK(s->recv == s->c_txl && a->out == s->c_txl,
		      "child wrote %" PRIu64 " lines, gateway sent %" PRIu64
		      ", client got %u", s->c_txl, a->out, s->recv);
		break;
	case K_EARLY:
		CHECK(a->exit_code == s->code, "child ended %s%d, want exit %d",
		      a->signal, a->exit_code, s->code);
		CHECK(s->c_end && s->c_txl == s->n && s->recv == s->n,
		      "child wrote %" PRIu64 " of %u lines, client got %u",
		      s->c_txl, s->n, s->recv);
		break;
	case K_HANG:
		CHECK(strcmp(a->signal, "SIGKILL") == 0, "hung child ended %s%d, "
		      "want SIGKILL", a->signal, a->exit_code);
		CHECK(a->ms >= 600, "hung child killed after %" PRIu64 " ms, "
		      "before the 100 + 500 ms grace", a->ms);
		break;
	default:
		break;
	}
#undef CHECK
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* --- main ---------------------------------------------------------------- */

struct sample {
	long rss_kb;
	int fds;
	int kids;
};

static struct sample peak;

static void sample(void)
{
	long rss = proc_rss_kb(gw_pid);
	int fds = proc_fd_count(gw_pid);
	struct kids k;
	proc_children(gw_pid, &k);
	if (rss > peak.rss_kb)
		peak.rss_kb = rss;
	if (fds > peak.fds)
		peak.fds = fds;
	if (k.total > peak.kids)
		peak.kids = k.total;
}

static bool deadline_passed(int64_t end, const char *what)
{
	if (now <= end)
		return false;
	printf("soak: deadline passed: %s\n", what);
	return true;
}

/* What the gateway looked like once every session of a round had ended. */
struct round {
	bool drained, settled;
	int fds, kids, zombies;
	long rss;
	int64_t settle_ms;
	struct kids left;
};

static void print_failure(unsigned k, unsigned i)
{
	uint32_t t = fail_notes[k][i].token;
	const struct sess *s = &sessions[t];
	const char *v = s->kind == K_VANISH ? vanish_name[s->variant]
		      : s->kind == K_FLOOD  ? flood_name[s->variant]
		      : s->kind == K_HANG   ? hang_name[s->variant]
					    : end_name[s->endmode];
	printf("  %s/%s t=%u #%ld: %s\n", kind_name[s->kind], v, t, s->sid,
	       fail_notes[k][i].what);
	const struct access *a = s->sid >= 0 && (size_t)s->sid < naccs &&
					 accs[s->sid].seen
				 ? &accs[s->sid]
				 : NULL;
	if (a) {
		char how[64];
		if (a->signal[0])
			snprintf(how, sizeof how, "killed by %s", a->signal);
		else
			snprintf(how, sizeof how, "exit %d", a->exit_code);
		printf("      gateway: %" PRIu64 " ms, in %" PRIu64 " msgs, out %"
		       PRIu64 " msgs, Close %u, child %s\n",
		       a->ms, a->in, a->out, a->close, how);
	}
	if (s->c_end)
		printf("      child: read %" PRIu64 " lines, wrote %" PRIu64
		       " (+%" PRIu64 " to stderr)%s; client: sent %u, got %u\n",
		       s->c_rxl, s->c_txl, s->c_errl,
		       s->c_term ? ", SIGTERM came first" : "", s->sent, s->recv);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: soak GATEWAY SOAKCHILD HANG_SH OUTDIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	unsigned seconds = (unsigned)env_num("SOAK_SECONDS", 180);
	unsigned clients = (unsigned)env_num("SOAK_CLIENTS", 300);
	unsigned rounds = (unsigned)env_num("SOAK_ROUNDS", 2);
	uint64_t seed = env_num("SOAK_SEED", (unsigned long)time(NULL) ^
					      (unsigned long)getpid());
	probe_deadline_ms = (uint32_t)env_num("SOAK_PROBE_MS", 2000);
	unsigned ping_ms = (unsigned)env_num("SOAK_PING_MS", 5000);
	long rss_slack = (long)env_num("SOAK_RSS_SLACK_KB", 16384);
	long rss_growth = (long)env_num("SOAK_RSS_GROWTH_KB", 2048);
	if (rounds < 1 || rounds > 10)
		rounds = rounds < 1 ? 1 : 10;
	rng = seed;
	set_weights(getenv("SOAK_KINDS"));

	char gw[PATH_MAX], child[PATH_MAX], hang[PATH_MAX], dir[PATH_MAX];
	mkdir(argv[4], 0755);
	if (!realpath(argv[1], gw) || !realpath(argv[2], child) ||
	    !realpath(argv[3], hang) || !realpath(argv[4], dir)) {
		fprintf(stderr, "soak: cannot resolve the paths given\n");
		return 2;
	}
	char clog[PATH_MAX + 16];
	snprintf(clog, sizeof clog, "%s/children.log", dir);
	unlink(clog);

	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < (rlim_t)clients * 6 + 200) {
		fprintf(stderr, "soak: %u clients need about %u descriptors; the "
			"limit is %lu (lower SOAK_CLIENTS or raise ulimit -n)\n",
			clients, clients * 6 + 200, (unsigned long)rl.rlim_cur);
		return 2;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	printf("soak: %u s in %u round(s), %u concurrent clients, seed %" PRIu64
	       "; probe deadline %u ms, gateway pings every %u ms, RSS slack %ld "
	       "KiB (growth between rounds %ld KiB)\n",
	       seconds, rounds, clients, seed, probe_deadline_ms, ping_ms,
	       rss_slack, rss_growth);
	printf("soak: results in %s\n", dir);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	start_gateway(gw, child, hang, dir, ping_ms);
	printf("soak: gateway pid %ld on 127.0.0.1:%u\n", (long)gw_pid,
	       (unsigned)ntohs(gw_addr.sin_port));

	now = clock_ms();
	int64_t hard_end = now + (int64_t)seconds * 1000 +
			   (int64_t)rounds * (DRAIN_MS + SETTLE_MS) + SHUTDOWN_MS * 2 +
			   120000;
	usleep(200000);
	int fds_start = proc_fd_count(gw_pid);
	long rss_start = proc_rss_kb(gw_pid);

	enum { PH_WARMUP, PH_WARMUP_WAIT, PH_RUN, PH_DRAIN, PH_SETTLE, PH_SHUTDOWN,
	       PH_EXIT, PH_DONE } phase = PH_WARMUP;
	int64_t phase_end = 0, last_tick = 0, last_sample = 0, last_probe = 0,
		last_status = 0, run_start = 0, run_end = 0, run_ms = 0,
		settle_start = 0;
	long rss_base = 0;
	struct round rd[10];
	unsigned round = 0;
	memset(rd, 0, sizeof rd);
	bool shut_sent = false, probing = false;
	uint64_t sessions_at_run_start = 0;

	while (phase != PH_DONE) {
		run_events(TICK_MS);
		if (interrupted) {
			char why[64];
			snprintf(why, sizeof why, "interrupted by signal %d",
				 (int)interrupted);
			abort_run(why);
		}
		if (now > hard_end)
			abort_run("the whole run took too long");
		if (phase != PH_EXIT && phase != PH_SHUTDOWN && gw_exited())
			abort_run("the gateway died");
		if (now - last_tick >= TICK_MS) {
			last_tick = now;
			tick();
		}
		if (phase <= PH_SETTLE && now - last_sample >= 1000) {
			last_sample = now;
			sample();
		}
		if (probing && now - last_probe >= 1000) {
			last_probe = now;
			conn_start(K_PROBE);
		}
		switch (phase) {
		case PH_WARMUP:
			for (int k = 0; k < K_PROBE; k++)
				for (int i = 0; i < WARMUP_EACH; i++)
					conn_start((enum kind)k);
			phase = PH_WARMUP_WAIT;
			phase_end = now + 60000;
			break;
		case PH_WARMUP_WAIT: {
			if (deadline_passed(phase_end, "warm-up sessions"))
				abort_run("warm-up did not end");
			if (active_except_probes() > 0)
				break;
			struct kids k;
			proc_children(gw_pid, &k);
			if (k.total > 0 || proc_fd_count(gw_pid) != fds_start)
				break;
			rss_base = proc_rss_kb(gw_pid);
			printf("soak: warm-up done (%u sessions); gateway: %d fds, "
			       "RSS %ld KiB at start, %ld KiB after warm-up\n",
			       nsessions, fds_start, rss_start, rss_base);
			sessions_at_run_start = nsessions;
			phase = PH_RUN;
			run_start = now;
			run_end = now + (int64_t)seconds * 1000 / rounds;
			probing = true;
			break;
		}
		case PH_RUN: {
			unsigned started = 0;
			while (active_except_probes() < clients && started < 64) {
				conn_start(pick_kind());
				started++;
			}
			if (now - last_status >= 10000) {
				last_status = now;
				printf("soak: %3lld s: %u sessions, %u open; gateway "
				       "RSS %ld KiB, %d fds\n",
				       (long long)(run_ms + now - run_start) / 1000,
				       nsessions, active_except_probes(),
				       proc_rss_kb(gw_pid), proc_fd_count(gw_pid));
			}
			if (now >= run_end) {
				run_ms += now - run_start;
				phase = PH_DRAIN;
				phase_end = now + DRAIN_MS;
				printf("soak: round %u over; draining %u sessions\n",
				       round + 1, active_except_probes());
			}
			break;
		}
		case PH_DRAIN:
			if (active_except_probes() == 0) {
				probing = false;
				if (nactive[K_PROBE] == 0) {
					rd[round].drained = true;
					phase = PH_SETTLE;
					settle_start = now;
					phase_end = now + SETTLE_MS;
				}
			} else if (deadline_passed(phase_end, "sessions to end")) {
				struct conn *c, *next;
				for (c = conns; c; c = next) {
					next = c->next;
					conn_fail(c, "still open %d s after the run",
						  DRAIN_MS / 1000);
				}
			}
			break;
		case PH_SETTLE: {
			struct round *r = &rd[round];
			proc_children(gw_pid, &r->left);
			r->fds = proc_fd_count(gw_pid);
			if ((r->left.total == 0 && r->fds == fds_start) ||
			    deadline_passed(phase_end, "children and descriptors")) {
				r->settled = r->left.total == 0 && r->fds == fds_start;
				r->kids = r->left.total;
				r->zombies = r->left.zombies;
				r->rss = proc_rss_kb(gw_pid);
				r->settle_ms = now - settle_start;
				printf("soak: round %u: gateway settled in %lld ms: %d "
				       "children, %d fds, RSS %ld KiB\n",
				       round + 1, (long long)r->settle_ms, r->kids,
				       r->fds, r->rss);
				if (++round < rounds) {
					phase = PH_RUN;
					run_start = now;
					run_end = now + (int64_t)seconds * 1000 / rounds;
					probing = true;
					break;
				}
				for (int i = 0; i < FINAL_CLIENTS; i++)
					conn_start(K_FINAL);
				phase = PH_SHUTDOWN;
				phase_end = now + SHUTDOWN_MS;
			}
			break;
		}
		case PH_SHUTDOWN: {
			if (!shut_sent) {
				bool ready = true;
				for (struct conn *c = conns; c; c = c->next)
					if (c->kind == K_FINAL && S(c)->recv < 1)
						ready = false;
				if (ready || deadline_passed(phase_end, "idle clients")) {
					kill(gw_pid, SIGTERM);
					shut_sent = true;
					phase = PH_EXIT;
					phase_end = now + SHUTDOWN_MS;
				}
			}
			break;
		}
		case PH_EXIT:
			if (gw_exited() && nactive[K_FINAL] == 0) {
				phase = PH_DONE;
			} else if (deadline_passed(phase_end, "gateway exit after "
						   "SIGTERM")) {
				struct conn *c, *next;
				for (c = conns; c; c = next) {
					next = c->next;
					conn_fail(c, "no Close 1001 after SIGTERM");
				}
				if (!gw_exited()) {
					kill(gw_pid, SIGKILL);
					waitpid(gw_pid, NULL, 0);
					gw_status = 0x7f00; /* marks "killed by us" */
				}
				phase = PH_DONE;
			}
			break;
		default:
			break;
		}
	}
	tick(); /* free the last of them */
	struct kids orphans;
	usleep(100000);
	proc_children(getpid(), &orphans);
	kill_leftovers();

	/* --- audit --- */
	struct logstats ls;
	struct childstats cs;
	read_gw_log(dir, &ls);
	read_children_log(dir, &cs);
	uint64_t with_child = 0;
	for (uint32_t t = 0; t < nsessions; t++) {
		char why[400];
		const char *w = cross_check(t, why, sizeof why);
		if (sessions[t].c_start)
			with_child++;
		if (w) {
			kst[sessions[t].kind].xfailed++;
			note_failure_cat(t, w, FC_AUDIT);
		}
	}

	printf("\n%-13s %8s %8s %6s %6s %10s %10s %9s %9s\n", "kind", "sessions",
	       "ok", "failed", "xfail", "msgs sent", "msgs recv", "MiB sent",
	       "MiB recv");
	struct kstat tot = { 0 };
	for (int k = 0; k < NKINDS; k++) {
		struct kstat *x = &kst[k];
		printf("%-13s %8" PRIu64 " %8" PRIu64 " %6" PRIu64 " %6" PRIu64
		       " %10" PRIu64 " %10" PRIu64 " %9.1f %9.1f\n",
		       kind_name[k], x->started, x->ok, x->failed, x->xfailed,
		       x->sent, x->recv, (double)x->sent_bytes / 1048576.0,
		       (double)x->recv_bytes / 1048576.0);
		tot.started += x->started;
		tot.ok += x->ok;
		tot.failed += x->failed;
		tot.xfailed += x->xfailed;
		tot.sent += x->sent;
		tot.recv += x->recv;
		tot.sent_bytes += x->sent_bytes;
		tot.recv_bytes += x->recv_bytes;
	}
	printf("%-13s %8" PRIu64 " %8" PRIu64 " %6" PRIu64 " %6" PRIu64
	       " %10" PRIu64 " %10" PRIu64 " %9.1f %9.1f\n",
	       "total", tot.started, tot.ok, tot.failed, tot.xfailed, tot.sent,
	       tot.recv, (double)tot.sent_bytes / 1048576.0,
	       (double)tot.recv_bytes / 1048576.0);

	if (nprobe_lat)
		qsort(probe_lat, nprobe_lat, sizeof probe_lat[0], cmp_u64);
	if (nprobe_hs)
		qsort(probe_hs, nprobe_hs, sizeof probe_hs[0], cmp_u64);
	uint64_t p50 = nprobe_lat ? probe_lat[nprobe_lat / 2] : 0;
	uint64_t p99 = nprobe_lat ? probe_lat[nprobe_lat * 99 / 100] : 0;
	uint64_t pmax = nprobe_lat ? probe_lat[nprobe_lat - 1] : 0;
	uint64_t h50 = nprobe_hs ? probe_hs[nprobe_hs / 2] : 0;
	uint64_t hmax = nprobe_hs ? probe_hs[nprobe_hs - 1] : 0;
	uint64_t run_sessions = nsessions - sessions_at_run_start;
	printf("\nrun %.1f s in %u round(s), %" PRIu64 " sessions (%.1f/s), %u "
	       "concurrent; seed %" PRIu64 "\n",
	       (double)run_ms / 1000.0, rounds, run_sessions,
	       run_ms ? (double)run_sessions * 1000.0 / (double)run_ms : 0.0,
	       clients, seed);
	printf("gateway RSS: %ld KiB at start, %ld after warm-up (baseline), "
	       "peak %ld; fds: %d at start, peak %d; children: peak %d\n",
	       rss_start, rss_base, peak.rss_kb, fds_start, peak.fds, peak.kids);
	for (unsigned i = 0; i < rounds; i++)
		printf("after round %u: RSS %ld KiB, %d fds, %d children (%d "
		       "zombies), settled in %lld ms\n",
		       i + 1, rd[i].rss, rd[i].fds, rd[i].kids, rd[i].zombies,
		       (long long)rd[i].settle_ms);
	printf("probes: %zu echoed; connect to echo p50 %" PRIu64 " ms, p99 %"
	       PRIu64 " ms, max %" PRIu64 " ms (deadline %u ms); to the 101 p50 %"
	       PRIu64 " ms, max %" PRIu64 " ms; driver's longest busy stretch %"
	       PRId64 " ms\n",
	       nprobe_lat, p50, p99, pmax, probe_deadline_ms, h50, hmax,
	       loop_lag_max);
	printf("log: %" PRIu64 " lines, %" PRIu64 " access lines (and %" PRIu64
	       " for connections without a child), %" PRIu64 " stderr lines, %"
	       PRIu64 " HTTP errors, %" PRIu64 " error lines\n",
	       ls.lines, ls.access, ls.access_nochild, ls.stderr_lines,
	       ls.http_errors, ls.errors);
	printf("children: %" PRIu64 " started, %" PRIu64 " recorded their end, %"
	       PRIu64 " echo children got SIGTERM while still reading\n",
	       cs.starts, cs.ends, cs.terms);
	printf("client side: %" PRIu64 " gateway pings answered, %" PRIu64
	       " write stalls (backpressure), %" PRIu64 " connect errors, %"
	       PRIu64 " closes cut short after a client's own pause\n",
	       server_pings, write_stalls, connect_errors, late_closes);
	for (int i = 0; i < ls.nexamples; i++)
		printf("log: %s", ls.examples[i]);
	if (nfail_total) {
		printf("\nfailures by kind of symptom (%u in all; first example):\n",
		       nfail_total);
		for (int i = 0; i < NFCAT; i++)
			if (fcat_count[i])
				printf("  %5u  %s (t=%u)\n", fcat_count[i],
				       fcat_name[i], fcat_example[i]);
		printf("\nthe first failures of each kind of client:\n");
		for (unsigned k = 0; k < NKINDS; k++)
			for (unsigned i = 0; i < nfail_notes[k]; i++)
				print_failure(k, i);
	}

	printf("\nchecks:\n");
	for (int k = 0; k < NKINDS; k++) {
		const struct kstat *x = &kst[k];
		if (weight[k] == 0 && k < K_PROBE && x->started == WARMUP_EACH &&
		    x->failed == 0 && x->xfailed == 0) {
			printf("  ----  %s: only in the warm-up (SOAK_KINDS)\n",
			       kind_name[k]);
			continue;
		}
		verdict(x->failed == 0 && x->xfailed == 0 && x->started > 0,
			"%s: %" PRIu64 " of %" PRIu64 " sessions as expected%s "
			"(%" PRIu64 " failed on the wire, %" PRIu64 " disagree "
			"with child or log)",
			kind_name[k], x->ok - x->xfailed, x->started,
			k == K_PROBE || k == K_FINAL || k == K_HANG ? "" :
			", every line counted at both ends",
			x->failed, x->xfailed);
	}
	verdict(nprobe_lat > 0 && kst[K_PROBE].failed == 0 &&
			pmax <= probe_deadline_ms,
		"healthy clients served throughout: %zu probes (one a second), "
		"max echo latency %" PRIu64 " ms <= %u ms",
		nprobe_lat, pmax, probe_deadline_ms);
	bool drained = true, settled = true, nozombie = true, fds_ok = true;
	int kids_left = 0, zombies = 0;
	for (unsigned i = 0; i < rounds; i++) {
		drained &= rd[i].drained;
		settled &= rd[i].settled;
		fds_ok &= rd[i].fds == fds_start;
		nozombie &= rd[i].zombies == 0;
		kids_left += rd[i].kids;
		zombies += rd[i].zombies;
	}
	verdict(drained, "every session ended by the end of each round's drain");
	verdict(nozombie, "no zombie child of the gateway after any round (%d)",
		zombies);
	verdict(kids_left == 0, "no child of the gateway left after any round "
		"(%d)", kids_left);
	for (unsigned i = 0; i < rounds; i++)
		for (int j = 0; j < rd[i].left.nlist; j++)
			printf("        round %u: pid %ld state %c\n", i + 1,
			       rd[i].left.list[j], rd[i].left.state[j]);
	verdict(settled && fds_ok, "gateway descriptors back to their start "
		"after each round: %d at start, %d at the end (peak %d)",
		fds_start, rd[rounds - 1].fds, peak.fds);
	long rss_end = rd[rounds - 1].rss;
	verdict(rss_end > 0 && rss_end <= rss_base + rss_slack,
		"gateway RSS back near its baseline: %ld KiB at the end, "
		"baseline %ld KiB + %ld KiB slack (peak %ld KiB)",
		rss_end, rss_base, rss_slack, peak.rss_kb);
	/* The allocator keeps what the busiest moment needed, and a short
	 * first round may not have reached it: allow half the working set. */
	long growth_ok = (peak.rss_kb - rss_base) / 2;
	if (growth_ok < rss_growth)
		growth_ok = rss_growth;
	if (rounds > 1)
		verdict(rss_end <= rd[0].rss + growth_ok,
			"no growth from round to round (a leak): RSS %ld KiB "
			"after round 1, %ld KiB after round %u (at most +%ld KiB)",
			rd[0].rss, rss_end, rounds, growth_ok);
	verdict(with_child == ls.access, "one access line per child started (%"
		PRIu64 " lines, %" PRIu64 " children)", ls.access, with_child);
	verdict(cs.errors == 0, "no child reported an error (%" PRIu64 ")",
		cs.errors);
	verdict(ls.errors == 0 && ls.http_errors == 0 && ls.sanitizer == 0,
		"no error, HTTP error or sanitizer line in the gateway's log "
		"(%" PRIu64 ", %" PRIu64 ", %" PRIu64 ")",
		ls.errors, ls.http_errors, ls.sanitizer);
	bool exit0 = gw_status >= 0 && WIFEXITED(gw_status) &&
		     WEXITSTATUS(gw_status) == 0;
	verdict(kst[K_FINAL].ok == FINAL_CLIENTS && exit0,
		"SIGTERM: %" PRIu64 " of %d open clients got Close 1001, gateway "
		"%s", kst[K_FINAL].ok, FINAL_CLIENTS,
		exit0 ? "exited 0"
		: gw_status == 0x7f00 ? "did not exit and was killed"
		: WIFEXITED(gw_status) ? "exited non-zero" : "died of a signal");
	verdict(orphans.total == 0, "nothing left behind once the gateway "
		"exited (%d processes)", orphans.total);

	printf("\n%u passed, %u failed\n", npass, nfailed);
	return nfailed ? 1 : 0;
}
