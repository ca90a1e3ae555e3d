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
 *   SOAK_LOG_RATE       bytes a second the slow log reader takes from the
 *                       gateway's stderr (131072; 0: stderr is the log
 *                       file itself)
 *   SOAK_LOG_STALL_MS   and how long it stops reading every 5 s (1000)
 *
 * The driver starts the gateway itself (--address 127.0.0.1 --port 0, the
 * port read from its log), with one resource per kind of child:
 *   /echo /crash /flood /errflood /early   tests/soak/child.c
 *   /hang                                  tests/soak/hang.sh
 *   /errecho                               tests/soak/child.c
 * Children append "start"/"end" records with their counts to
 * OUTDIR/children.log; the gateway logs to OUTDIR/gw.log, through a slow
 * reader (SOAK_LOG_RATE, SOAK_LOG_STALL_MS) that makes it drop lines: its
 * log must never hold up a session.
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
 *                 deliver every echo before its Close), or by "!exit 0";
 *                 a third of them talk to an errecho child, which writes
 *                 5-50 lines to stderr before each echo
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
 *                 or counted in the gateway's drop reports
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
 * no part of a message ever reached a child; every stderr line was logged
 * or reported dropped, and no access or error line was dropped;
 * each child ended as it should (exit status or signal); after each round
 * no child of the gateway left, zombie or not, and its descriptor count back
 * to its start; its RSS at the end within SOAK_RSS_SLACK_KB of the baseline
 * and within SOAK_RSS_GROWTH_KB of what it was after the first round; every
 * probe served in time; no error line in the gateway's log; on SIGTERM,
 * Close 1001 to each open client and exit 0. A summary table, the failures
 * grouped by symptom (each with the gateway's access figures and the
 * child's counts), then one line per check and "N passed, N failed".
 *
 * Exit status: 0 if every check passed, 1 if one failed, 2 usage or setup.
 *
 * This file holds the command line and the phases of the run; soak.h lists
 * the others. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "soak.h"

#define TICK_MS 10
#define WARMUP_EACH 2          /* warm-up sessions of each kind */
#define FINAL_CLIENTS 20       /* open when SIGTERM is sent */
#define DRAIN_MS 90000         /* for every session to end after the run */
#define SETTLE_MS 15000        /* then for children and descriptors to go */
#define SHUTDOWN_MS 15000      /* for Close 1001 and exit 0 after SIGTERM */

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

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
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
	unsigned log_rate = (unsigned)env_num("SOAK_LOG_RATE", 131072);
	unsigned log_stall = (unsigned)env_num("SOAK_LOG_STALL_MS", 1000);
	if (rounds < 1 || rounds > 10)
		rounds = rounds < 1 ? 1 : 10;
	rng = seed;
	session_set_weights(getenv("SOAK_KINDS"));

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
	gw_start(gw, child, hang, dir, ping_ms, log_rate, log_stall);
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
		wire_run_events(TICK_MS);
		if (interrupted) {
			char why[64];
			snprintf(why, sizeof why, "interrupted by signal %d",
				 (int)interrupted);
			gw_abort_run(why);
		}
		if (now > hard_end)
			gw_abort_run("the whole run took too long");
		if (phase != PH_EXIT && phase != PH_SHUTDOWN && gw_exited())
			gw_abort_run("the gateway died");
		if (now - last_tick >= TICK_MS) {
			last_tick = now;
			wire_tick();
		}
		if (phase <= PH_SETTLE && now - last_sample >= 1000) {
			last_sample = now;
			gw_sample();
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
				gw_abort_run("warm-up did not end");
			if (session_active_except_probes() > 0)
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
			while (session_active_except_probes() < clients && started < 64) {
				conn_start(session_pick_kind());
				started++;
			}
			if (now - last_status >= 10000) {
				last_status = now;
				printf("soak: %3lld s: %u sessions, %u open; gateway "
				       "RSS %ld KiB, %d fds\n",
				       (long long)(run_ms + now - run_start) / 1000,
				       nsessions, session_active_except_probes(),
				       proc_rss_kb(gw_pid), proc_fd_count(gw_pid));
			}
			if (now >= run_end) {
				run_ms += now - run_start;
				phase = PH_DRAIN;
				phase_end = now + DRAIN_MS;
				printf("soak: round %u over; draining %u sessions\n",
				       round + 1, session_active_except_probes());
			}
			break;
		}
		case PH_DRAIN:
			if (session_active_except_probes() == 0) {
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
					if (c->kind == K_FINAL && conn_sess(c)->recv < 1)
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
	wire_tick(); /* free the last of them */
	struct kids orphans;
	usleep(100000);
	gw_log_wait();
	proc_children(getpid(), &orphans);
	gw_kill_leftovers();

	/* --- audit --- */
	struct logstats ls;
	struct childstats cs;
	report_read_gw_log(dir, &ls);
	report_read_children_log(dir, &cs);
	uint64_t with_child = 0;
	for (uint32_t t = 0; t < nsessions; t++) {
		char why[400];
		const char *w = report_cross_check(t, why, sizeof why);
		if (sessions[t].c_start)
			with_child++;
		if (w) {
			kst[sessions[t].kind].xfailed++;
			report_note_failure_cat(t, w, FC_AUDIT);
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
		qsort(probe_lat, nprobe_lat, sizeof probe_lat[0], report_cmp_u64);
	if (nprobe_hs)
		qsort(probe_hs, nprobe_hs, sizeof probe_hs[0], report_cmp_u64);
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
	printf("log reader: %u bytes/s, stops %u ms every 5 s; the gateway "
	       "reported dropped lines %" PRIu64 " times: stderr %" PRIu64
	       ", info %" PRIu64 ", access %" PRIu64 ", error %" PRIu64 "\n",
	       log_rate, log_stall, ls.drop_reports, ls.dropped[0],
	       ls.dropped[1], ls.dropped[2], ls.dropped[3]);
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
				report_print_failure(k, i);
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
		report_verdict(x->failed == 0 && x->xfailed == 0 && x->started > 0,
			"%s: %" PRIu64 " of %" PRIu64 " sessions as expected%s "
			"(%" PRIu64 " failed on the wire, %" PRIu64 " disagree "
			"with child or log)",
			kind_name[k], x->ok - x->xfailed, x->started,
			k == K_PROBE || k == K_FINAL || k == K_HANG ? "" :
			", every line counted at both ends",
			x->failed, x->xfailed);
	}
	report_verdict(nprobe_lat > 0 && kst[K_PROBE].failed == 0 &&
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
	report_verdict(drained, "every session ended by the end of each round's drain");
	report_verdict(nozombie, "no zombie child of the gateway after any round (%d)",
		zombies);
	report_verdict(kids_left == 0, "no child of the gateway left after any round "
		"(%d)", kids_left);
	for (unsigned i = 0; i < rounds; i++)
		for (int j = 0; j < rd[i].left.nlist; j++)
			printf("        round %u: pid %ld state %c\n", i + 1,
			       rd[i].left.list[j], rd[i].left.state[j]);
	report_verdict(settled && fds_ok, "gateway descriptors back to their start "
		"after each round: %d at start, %d at the end (peak %d)",
		fds_start, rd[rounds - 1].fds, peak.fds);
	long rss_end = rd[rounds - 1].rss;
	report_verdict(rss_end > 0 && rss_end <= rss_base + rss_slack,
		"gateway RSS back near its baseline: %ld KiB at the end, "
		"baseline %ld KiB + %ld KiB slack (peak %ld KiB)",
		rss_end, rss_base, rss_slack, peak.rss_kb);
	/* The allocator keeps what the busiest moment needed, and a short
	 * first round may not have reached it: allow half the working set. */
	long growth_ok = (peak.rss_kb - rss_base) / 2;
	if (growth_ok < rss_growth)
		growth_ok = rss_growth;
	if (rounds > 1)
		report_verdict(rss_end <= rd[0].rss + growth_ok,
			"no growth from round to round (a leak): RSS %ld KiB "
			"after round 1, %ld KiB after round %u (at most +%ld KiB)",
			rd[0].rss, rss_end, rounds, growth_ok);
	report_verdict(with_child == ls.access, "one access line per child started (%"
		PRIu64 " lines, %" PRIu64 " children)", ls.access, with_child);
	report_verdict(cs.errors == 0, "no child reported an error (%" PRIu64 ")",
		cs.errors);
	uint64_t errl = 0;
	for (uint32_t t = 0; t < nsessions; t++)
		errl += sessions[t].c_errl;
	report_verdict(errl == ls.stderr_lines + ls.dropped[0],
		"every stderr line a child wrote was logged or reported dropped "
		"(%" PRIu64 " written, %" PRIu64 " logged, %" PRIu64 " dropped)",
		errl, ls.stderr_lines, ls.dropped[0]);
	report_verdict(ls.dropped[2] == 0 && ls.dropped[3] == 0,
		"no access or error line dropped (%" PRIu64 ", %" PRIu64 ")",
		ls.dropped[2], ls.dropped[3]);
	report_verdict(ls.errors == 0 && ls.http_errors == 0 && ls.sanitizer == 0,
		"no error, HTTP error or sanitizer line in the gateway's log "
		"(%" PRIu64 ", %" PRIu64 ", %" PRIu64 ")",
		ls.errors, ls.http_errors, ls.sanitizer);
	bool exit0 = gw_status >= 0 && WIFEXITED(gw_status) &&
		     WEXITSTATUS(gw_status) == 0;
	report_verdict(kst[K_FINAL].ok == FINAL_CLIENTS && exit0,
		"SIGTERM: %" PRIu64 " of %d open clients got Close 1001, gateway "
		"%s", kst[K_FINAL].ok, FINAL_CLIENTS,
		exit0 ? "exited 0"
		: gw_status == 0x7f00 ? "did not exit and was killed"
		: WIFEXITED(gw_status) ? "exited non-zero" : "died of a signal");
	report_verdict(orphans.total == 0, "nothing left behind once the gateway "
		"exited (%d processes)", orphans.total);

	printf("\n%u passed, %u failed\n", npass, nfailed);
	return nfailed ? 1 : 0;
}
