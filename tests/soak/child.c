/* soakchild: the programs portal-gw runs during the soak (tests/soak/soak.c).
 *
 *   soakchild MODE LOGFILE
 *
 * Parameters come from QUERY_STRING (t=TOKEN&n=N&len=L&code=C), the session
 * number from UNIQUE_ID (its last "-" field). Each run appends to LOGFILE,
 * with one O_APPEND write per record so that concurrent children never mix:
 *   start MODE TOKEN SID PID
 *   end TOKEN SID RXLINES RXBYTES TXLINES TXBYTES PARTIAL ERRLINES TERM
 * RX counts complete lines read from stdin (commands excluded), TX complete
 * lines written to stdout, PARTIAL the bytes after the last newline at end
 * of input (portal-gw must never deliver part of a message, so always 0),
 * ERRLINES lines written to stderr, TERM 1 if SIGINT or SIGTERM came before
 * the end.
 *
 * Modes:
 *   echo      writes every line back; the line "!exit N" makes it exit N;
 *             exits 0 at end of input. SIGINT or SIGTERM does not cut it short: it
 *             still reads what is left and records its counts (the soak
 *             checks delivery, not how fast a loaded machine schedules).
 *   crash     echo, but after echoing n lines it kills itself with SIGSEGV
 *             (n=0: before reading anything).
 *   errecho   echo, but before the echo of each line it writes e lines of
 *             up to 200 bytes to stderr: a flood of stderr while echoing.
 *   flood     writes n lines (0: without end) of up to len bytes as fast as
 *             it can, never reading stdin; then exits 0.
 *   errflood  writes n lines to stderr as fast as it can, and every 8th
 *             also a line to stdout; then exits 0.
 *   early     writes n lines without reading stdin and exits with code C.
 * Lines written by flood, errflood and early are gen_line(TOKEN, i, ...)
 * with gen_flood_len(TOKEN, i, len) bytes, i counting from 0 per stream. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "gen.h"

#define IN_CAP (1u << 20) /* longest line echo handles: far above the soak's */
#define OUT_FLUSH 32768

static int logfd = -1;
static uint32_t token;
static char sid[32] = "-";
static volatile sig_atomic_t got_term;

static struct {
	unsigned long long rxl, rxb, txl, txb, partial, errl;
} cnt;

static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

static void record(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void record(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > 0 && logfd >= 0 && write(logfd, line, (size_t)n) < 0)
		_exit(98);
}

static void record_end(void)
{
	record("end %u %s %llu %llu %llu %llu %llu %llu %d\n", token, sid, cnt.rxl,
	       cnt.rxb, cnt.txl, cnt.txb, cnt.partial, cnt.errl, (int)got_term);
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			record("error %u %s write to fd %d: %s\n", token, sid, fd,
			       strerror(errno));
			_exit(97);
		}
		p += w;
		n -= (size_t)w;
	}
}

/* QUERY_STRING's value of name, or def. */
static unsigned long param(const char *name, unsigned long def)
{
	const char *q = getenv("QUERY_STRING");
	size_t nl = strlen(name);
	while (q && *q) {
		if (strncmp(q, name, nl) == 0 && q[nl] == '=')
			return strtoul(q + nl + 1, NULL, 10);
		q = strchr(q, '&');
		if (q)
			q++;
	}
	return def;
}

static void crash(void)
{
	struct rlimit no = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no);
	signal(SIGSEGV, SIG_DFL); /* a sanitizer's handler would exit instead */
	kill(getpid(), SIGSEGV);
	_exit(96); /* not reached */
}

/* errecho: errs lines to stderr, counted. */
static void err_lines(unsigned long errs)
{
	static char buf[OUT_FLUSH + 256];
	size_t b = 0;
	for (unsigned long j = 0; j < errs; j++) {
		size_t len = gen_flood_len(token, cnt.errl + j, 200);
		gen_line(token, cnt.errl + j, len, buf + b);
		b += len;
		buf[b++] = '\n';
		if (b >= OUT_FLUSH || j + 1 == errs) {
			write_all(2, buf, b);
			b = 0;
		}
	}
	cnt.errl += errs;
}

/* echo, crash and errecho. crash_after is 0 for echo; errs 0 but for
 * errecho. */
static int echo(unsigned long crash_after, int crashing, unsigned long errs)
{
	static char in[IN_CAP];
	static char out[IN_CAP + OUT_FLUSH];
	size_t have = 0;
	if (crashing && crash_after == 0) {
		record_end();
		crash();
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	/* no SA_RESTART: read sees EINTR. SIGINT, the escalation's first
	 * signal, as SIGTERM: a program that finishes its input on either. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (;;) {
		ssize_t n = read(0, in + have, sizeof in - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		size_t start = 0, o = 0, lines = 0, bytes = 0;
		char *nl;
		while ((nl = memchr(in + start, '\n', have - start)) != NULL) {
			size_t len = (size_t)(nl - (in + start));
			const char *line = in + start;
			start += len + 1;
			if (len >= 6 && memcmp(line, "!exit ", 6) == 0) {
				write_all(1, out, o);
				cnt.txl += lines;
				cnt.txb += bytes;
				record_end();
				return (int)strtol(line + 6, NULL, 10);
			}
			cnt.rxl++;
			cnt.rxb += len;
			err_lines(errs);
			memcpy(out + o, line, len + 1);
			o += len + 1;
			lines++;
			bytes += len;
			if (crashing && cnt.rxl == crash_after) {
				write_all(1, out, o);
				cnt.txl += lines;
				cnt.txb += bytes;
				record_end();
				crash();
			}
			if (o >= OUT_FLUSH) {
				write_all(1, out, o);
				cnt.txl += lines;
				cnt.txb += bytes;
				o = lines = bytes = 0;
			}
		}
		write_all(1, out, o);
		cnt.txl += lines;
		cnt.txb += bytes;
		memmove(in, in + start, have - start);
		have -= start;
		if (have == sizeof in) {
			record("error %u %s line longer than %u bytes\n", token,
			       sid, IN_CAP);
			return 95;
		}
	}
	cnt.partial = have;
	record_end();
	return 0;
}

/* Lines 0..n-1 (forever: without end) of at most maxlen bytes, to fd; with
 * also_out, every 8th is also followed by a line to stdout. */
static void flood(int fd, unsigned long n, int forever, size_t maxlen,
		  int also_out)
{
	static char buf[OUT_FLUSH + 8192], obuf[OUT_FLUSH + 8192];
	size_t b = 0, ob = 0;
	unsigned long long pend = 0, pendb = 0, opend = 0, opendb = 0;
	unsigned long long oseq = 0;
	for (unsigned long long i = 0; forever || i < n; i++) {
		size_t len = gen_flood_len(token, i, maxlen);
		gen_line(token, i, len, buf + b);
		b += len;
		buf[b++] = '\n';
		pend++;
		pendb += len;
		if (also_out && i % 8 == 0) {
			size_t ol = gen_flood_len(token, oseq, maxlen);
			gen_line(token, oseq, ol, obuf + ob);
			ob += ol;
			obuf[ob++] = '\n';
			oseq++;
			opend++;
			opendb += ol;
		}
		if (b >= OUT_FLUSH || ob >= OUT_FLUSH || (!forever && i + 1 == n)) {
			write_all(fd, buf, b);
			if (fd == 2)
				cnt.errl += pend;
			else {
				cnt.txl += pend;
				cnt.txb += pendb;
			}
			if (ob) {
				write_all(1, obuf, ob);
				cnt.txl += opend;
				cnt.txb += opendb;
			}
			b = ob = 0;
			pend = pendb = opend = opendb = 0;
		}
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: soakchild MODE LOGFILE\n");
		return 2;
	}
	const char *mode = argv[1];
	logfd = open(argv[2], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (logfd < 0) {
		fprintf(stderr, "soakchild: %s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	token = (uint32_t)param("t", 0);
	const char *u = getenv("UNIQUE_ID");
	const char *dash = u ? strrchr(u, '-') : NULL;
	if (dash && strlen(dash + 1) < sizeof sid)
		strcpy(sid, dash + 1);
	record("start %s %u %s %ld\n", mode, token, sid, (long)getpid());

	unsigned long n = param("n", 0);
	size_t len = (size_t)param("len", 100);
	if (len > 4000)
		len = 4000; /* flood's buffers; and under 4 KiB, stderr lines log whole */
	if (strcmp(mode, "echo") == 0)
		return echo(0, 0, 0);
	if (strcmp(mode, "errecho") == 0)
		return echo(0, 0, param("e", 0));
	if (strcmp(mode, "crash") == 0)
		return echo(n, 1, 0);
	if (strcmp(mode, "flood") == 0) {
		flood(1, n, n == 0, len, 0);
		record_end();
		return 0;
	}
	if (strcmp(mode, "errflood") == 0) {
		flood(2, n, 0, len, 1);
		record_end();
		return 0;
	}
	if (strcmp(mode, "early") == 0) {
		flood(1, n, 0, len, 0);
		record_end();
		return (int)param("code", 0);
	}
	record("error %u %s unknown mode %s\n", token, sid, mode);
	return 2;
}
