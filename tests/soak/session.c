/* soak's kinds of session (see soak.c for what each does): how each one
 * starts (its resource, its knobs drawn at random), what it sends and when
 * it ends, and what it expects back, line by line and at the Close. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "gen.h"
#include "soak.h"

#define OUT_LIMIT 65536        /* a client queues no more while this is pending */

const char *const kind_name[NKINDS] = {
	"echo", "slow-reader", "churn", "vanish", "flood", "stderr-flood",
	"crash", "hang", "early-exit", "probe", "shutdown",
};

/* Share of the concurrent sessions each kind gets during the run. */
static const unsigned kind_weight[NKINDS] = {
	26, 8, 20, 14, 8, 3, 9, 5, 7, 0, 0,
};

struct sess *sessions;
uint32_t nsessions;
static uint32_t sessions_cap;

struct kstat kst[NKINDS];
unsigned nactive[NKINDS];
uint64_t probe_lat[100000], probe_hs[100000];
size_t nprobe_lat, nprobe_hs;
uint32_t probe_deadline_ms;

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
	struct sess *s = conn_sess(c);
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
			wire_put_frame(&c->out, i == 0 ? 0x1 : 0x0, i + 1 == parts,
				  p + off, k);
			off += k;
			if (i == 0 && c->pinging) {
				char ping[24];
				int m = snprintf(ping, sizeof ping, "f%u", s->pings);
				wire_put_frame(&c->out, 0x9, true, (const uint8_t *)ping,
					  (size_t)m);
				s->pings++;
			}
		}
	} else {
		wire_put_frame(&c->out, 0x1, true, p, len);
	}
	s->sent++;
	s->sent_bytes += len;
	if (c->pinging && rnd() % 16 == 0) {
		char ping[24];
		int m = snprintf(ping, sizeof ping, "p%u", s->pings);
		wire_put_frame(&c->out, 0x9, true, (const uint8_t *)ping, (size_t)m);
		s->pings++;
	}
}

/* Writes part of one more frame and leaves: FIN, or RST if reset. */
void session_vanish(struct conn *c)
{
	struct sess *s = conn_sess(c);
	struct bbuf f = { 0 };
	size_t cut = 0;
	bool reset = false;
	switch (c->variant) {
	case V_FIN_MIDFRAME:
	case V_RST_MIDFRAME:
	case V_RST_INFLIGHT: {
		size_t len = rnd_in(1, 3000);
		gen_line(c->token, s->sent, len, scratch);
		wire_put_frame(&f, 0x1, true, (const uint8_t *)scratch, len);
		cut = rnd_in(1, (uint32_t)f.len - 1);
		reset = c->variant != V_FIN_MIDFRAME;
		break;
	}
	case V_FIN_FRAGMENT: {
		size_t len = rnd_in(1, 2000);
		gen_line(c->token, s->sent, len, scratch);
		wire_put_frame(&f, 0x1, false, (const uint8_t *)scratch, len);
		if (rnd() % 2)
			wire_put_frame(&f, 0x0, false, (const uint8_t *)scratch, len);
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
		conn_set_events(c);
	} else if (c->paused && now >= c->pause_end) {
		c->paused = false;
		c->pauses_left--;
		c->pause_at = now + c->pause_len + rnd_in(0, 1000);
		conn_set_events(c);
	}
}

void session_step(struct conn *c)
{
	struct sess *s = conn_sess(c);
	if (c->st != ST_OPEN)
		return;
	pauses(c);
	switch (c->kind) {
	case K_FLOOD:
		if (c->variant == F_CLOSE && !c->close_sent && s->recv >= c->trigger)
			conn_send_close(c, 1000);
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
				conn_send_close(c, 1000);
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
			conn_send_close(c, 1000);
		break;
	case END_EXIT_CMD:
		if (drained && s->ctl == 0) {
			wire_put_frame(&c->out, 0x1, true, (const uint8_t *)"!exit 0", 7);
			s->ctl++;
			conn_flush(c);
		}
		break;
	case END_CLOSE_NOW:
		conn_send_close(c, 1000);
		break;
	case END_VANISH:
		if (drained || c->variant == V_RST_INFLIGHT)
			session_vanish(c);
		break;
	default:
		break;
	}
}

/* Checks a data message against what this session expects next. */
void session_on_message(struct conn *c, const uint8_t *p, size_t n)
{
	struct sess *s = conn_sess(c);
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

/* The gateway's Close: is it the one this session expects? */
void session_on_close(struct conn *c, unsigned code, const char *reason)
{
	struct sess *s = conn_sess(c);
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
		wire_put_frame(&c->out, 0x8, true, p, 2);
		c->close_sent = true;
		c->my_close = (uint16_t)code;
	}
	c->st = ST_WAIT_EOF;
	c->paused = false;
	c->deadline = now + 5000;
	conn_flush(c);
}

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

void conn_start(enum kind k)
{
	struct conn *c = calloc(1, sizeof *c);
	if (!c) {
		fprintf(stderr, "soak: out of memory\n");
		exit(2);
	}
	c->token = new_session(k);
	struct sess *s = conn_sess(c);
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
		if (rnd() % 3 == 0) {
			/* the child floods stderr while it echoes */
			c->variant = 1;
			s->n = rnd_in(5, 50);
			snprintf(c->path, sizeof c->path, "/errecho?t=%u&e=%u",
				 c->token, s->n);
		}
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

unsigned weight[NKINDS];

/* SOAK_KINDS=echo,flood,...: only these kinds in the run (not the
 * warm-up, the probes or the shutdown clients). */
void session_set_weights(const char *only)
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

enum kind session_pick_kind(void)
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

unsigned session_active_except_probes(void)
{
	unsigned n = 0;
	for (int k = 0; k < NKINDS; k++)
		if (k != K_PROBE)
			n += nactive[k];
	return n;
}
