/* soak's audit: failures noted as they happen and grouped by symptom, the
 * gateway's log and the children's records read back at the end, each
 * session cross-checked against both, and the PASS/FAIL lines. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "soak.h"

static const char *const vanish_name[NVANISH] = {
	"fin-midframe", "rst-midframe", "rst-inflight", "fin-fragment",
	"rst-header", "handshake", "after-101",
};

static const char *const flood_name[] = { "finite", "slow", "close", "reset" };
static const char *const hang_name[] = { "close", "reset", "fin" };
static const char *const end_name[] = { "close-after", "exit-cmd", "close-now",
					"vanish", "server", "idle" };

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

const char *const fcat_name[NFCAT] = {
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
unsigned nfail_notes[NKINDS], nfail_total, fcat_count[NFCAT];
uint32_t fcat_example[NFCAT];

void report_note_failure_cat(uint32_t token, const char *what, enum fcat cat)
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

void report_note_failure(uint32_t token, const char *what)
{
	report_note_failure_cat(token, what, classify(what));
}

unsigned npass, nfailed;

void report_verdict(bool ok, const char *fmt, ...)
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

/* rest is "N log lines dropped (stderr N, info N, ...)", the gateway's
 * report once its log has drained: adds the counts to ls. Returns false
 * if rest is something else or does not add up. */
static bool drop_report(const char *rest, struct logstats *ls)
{
	static const char *const kinds[4] = { "stderr", "info", "access",
					      "error" };
	unsigned long long all, n, sum = 0;
	uint64_t by[4] = { 0 };
	int off = 0;
	if (sscanf(rest, "%llu log lines dropped (%n", &all, &off) != 1 ||
	    off == 0)
		return false;
	const char *p = rest + off;
	for (;;) {
		char kind[16];
		int k, used = 0;
		if (sscanf(p, "%15[a-z] %llu%n", kind, &n, &used) != 2)
			return false;
		for (k = 0; k < 4 && strcmp(kind, kinds[k]) != 0; k++)
			;
		if (k == 4)
			return false;
		by[k] += n;
		sum += n;
		p += used;
		if (*p == ')')
			break;
		if (strncmp(p, ", ", 2) != 0)
			return false;
		p += 2;
	}
	if (sum != all)
		return false;
	for (int k = 0; k < 4; k++)
		ls->dropped[k] += by[k];
	ls->drop_reports++;
	return true;
}

void report_read_gw_log(const char *dir, struct logstats *ls)
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
		char closed[16];
		char addr[80], rpath[300], how[40];
		/* "#ID ADDR METHOD PATH STATUS REASON fwd= origin= sent=NB
		 * ms=D pid=P in=M/NB out=M/NB close=C exit=N|signal=S", with
		 * "-" for what a request without a session has not. */
		char *msp = strstr(rest, " ms=");
		char *pidp = msp ? strstr(msp, " pid=") : NULL;
		char method[16];
		unsigned status = 0;
		if (strcmp(lvl, "access") == 0 && pidp &&
		    sscanf(rest, "#%llu %79s %15s %299s %u", &sid, addr, method,
			   rpath, &status) == 5 && status == 101 &&
		    sscanf(msp, " ms=%llu pid=%ld in=%llu/%lluB out=%llu/%lluB "
			   "close=%15s %39s", &ms, &pid, &in, &inb, &out, &outb,
			   closed, how) == 8) {
			struct access *a = access_for((long)sid);
			ls->access++;
			a->seen = true;
			a->pid = pid;
			a->ms = ms;
			a->in = in;
			a->inb = inb;
			a->out = out;
			a->outb = outb;
			a->close = (unsigned)atoi(closed); /* "-": none, 0 */
			a->exit_code = -1;
			if (strncmp(how, "exit=", 5) == 0)
				a->exit_code = atoi(how + 5);
			else if (strncmp(how, "signal=", 7) == 0)
				snprintf(a->signal, sizeof a->signal, "%s", how + 7);
		} else if (strcmp(lvl, "access") == 0) {
			/* an answer without a session: an HTTP error, and
			 * no child at all unless its exec failed */
			if (pidp && strncmp(pidp, " pid=-", 6) == 0)
				ls->access_nochild++;
			ls->http_errors++;
			if (ls->nexamples < 5)
				snprintf(ls->examples[ls->nexamples++], 300,
					 "access %s", rest);
		} else if (strcmp(lvl, "info") == 0) {
			int off = 0;
			if (sscanf(rest, "#%llu stderr: %n", &sid, &off) == 1 &&
			    off > 0) {
				access_for((long)sid)->errlines++;
				ls->stderr_lines++;
			}
		} else if (strcmp(lvl, "error") == 0 && drop_report(rest, ls)) {
			continue;
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

void report_read_children_log(const char *dir, struct childstats *cs)
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
				report_note_failure(tok, what);
			}
		}
	}
	fclose(f);
}

/* What a session's child and the gateway's access line must say, given
 * what its client saw. Returns NULL if all agree. */
const char *report_cross_check(uint32_t token, char *why, size_t cap)
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
		if (s->kind == K_ECHO && s->variant == 1)
			CHECK(s->c_errl == s->c_rxl * s->n &&
			      a->errlines <= s->c_errl, "errecho child wrote %"
			      PRIu64 " stderr lines for %" PRIu64 " lines read "
			      "(%u each), log has %" PRIu64, s->c_errl, s->c_rxl,
			      s->n, a->errlines);
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
			/* The escalation's first signal ends it. */
			CHECK(strcmp(a->signal, "SIGINT") == 0, "endless flood "
			      "ended %s%d, want SIGINT", a->signal, a->exit_code);
			CHECK(s->recv <= a->out, "client got %u, gateway sent %"
			      PRIu64, s->recv, a->out);
		}
		break;
	case K_ERRFLOOD:
		CHECK(a->exit_code == 0, "child ended %s%d", a->signal, a->exit_code);
		CHECK(s->c_end && s->c_errl == s->n, "child wrote %" PRIu64
		      " stderr lines, want %u", s->c_errl, s->n);
		/* Lines the slow log reader made the gateway drop are counted
		 * in its drop reports; soak.c checks the sum over the run. */
		CHECK(a->errlines <= s->c_errl, "log has %" PRIu64 " stderr "
		      "lines, the child wrote %" PRIu64, a->errlines, s->c_errl);
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

int report_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

void report_print_failure(unsigned k, unsigned i)
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
