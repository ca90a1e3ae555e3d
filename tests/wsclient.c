/* wsclient: a scriptable WebSocket client for portal-gw's end-to-end tests.
 *
 *   wsclient [-t MS] [-H 'Name: value']... [--frames] [--unix SOCKET]
 *            [--rcvbuf BYTES] HOST PORT PATH [STEP...]
 *   wsclient [-t MS] [--unix SOCKET] --http HOST PORT REQUEST
 *
 * --unix SOCKET connects to that Unix socket instead of HOST PORT (which
 * then only make the Host header). Options may stand anywhere before PATH
 * (or REQUEST). --rcvbuf sets SO_RCVBUF before connecting (a small one
 * lets a client that stops reading fall behind quickly). -H adds a header, or
 * replaces the default one of the same name (Host, Upgrade, Connection,
 * Sec-WebSocket-Key, Sec-WebSocket-Version). Steps, run in order:
 *   text:STRING bin:HEX textn:N echo:N ping:STRING pong:STRING
 *   frame:op=N,fin=0|1,rsv=N,mask=0|1,len=N,text=STRING|hex=HEX
 *   close close:CODE close:CODE:REASON raw:HEX chunk:N recv recv:N wait
 *   sleep:MS shut quit reset (close with a TCP reset)
 *   mark:FILE (creates FILE: "every step before this one is done", e.g.
 *   the handshake) until:FILE (reads nothing until FILE exists; timeout
 *   after -t MS)
 * STRING takes the C escapes \n \r \t \\ \xHH; in frame: fields a comma
 * is written \x2c. Every frame is masked with a fresh random key unless
 * frame: says mask=0.
 *
 * It speaks RFC 6455 with its own code, independent of src/ws.c, so that the
 * tests check the gateway instead of agreeing with it; only SHA-1 and base64
 * are shared, for Sec-WebSocket-Accept. Every frame the server sends is
 * checked (no mask, no RSV bits, known opcode, control frames short and
 * whole, minimal length encoding, fragments in order, text and close reasons
 * valid UTF-8, close codes legal on the wire, nothing after Close).
 *
 * Output, one line per received item on stdout ("KIND" alone when the
 * payload is empty):
 *   text PAYLOAD     over 200 bytes: text <N bytes>; bytes outside 0x20-0x7e
 *                    are written as \xHH
 *   binary HEX       over 100 bytes: binary <N bytes>
 *   ping PAYLOAD, pong PAYLOAD
 *   close CODE REASON, or close none for an empty payload
 *   eof              the server closed TCP
 *   frame op=N fin=0|1 len=N PAYLOAD    with --frames, one per frame
 *   echo N ok | echo N mismatch (...)   the echo:N step's verdict
 *   error WHAT       the server broke the protocol (exit 4)
 *   timeout          no byte came for -t MS (default 5000) while a read
 *                    or a blocked write waited (exit 3)
 *   status NNN       the handshake was answered with NNN, not 101 (exit 1)
 *
 * wait answers the server's Close with one carrying the same code (unless a
 * close step already sent one) and reads on until EOF. --http prints the
 * response head (CRLF as plain newlines, up to the blank line), then "eof"
 * if the server closes within -t MS.
 *
 * Exit status: 0 after the last step, 1 no 101 or cannot connect, 2 usage,
 * 3 timeout, 4 protocol error by the server. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "sha1.h"

enum { EX_OK = 0, EX_PEER = 1, EX_USAGE = 2, EX_TIMEOUT = 3, EX_PROTO = 4 };

enum {
	OP_CONT = 0,
	OP_TEXT = 1,
	OP_BIN = 2,
	OP_CLOSE = 8,
	OP_PING = 9,
	OP_PONG = 10
};

#define MAX_HEAD    65536		 /* largest response head accepted */
#define MAX_FRAME   (256u * 1024 * 1024) /* largest frame payload accepted */
#define MAX_HEADERS 64

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

struct bytes {
	unsigned char *p;
	size_t len, cap;
};

/* The connection: one socket, an input buffer that both the reader and the
 * writer fill (a blocked write keeps reading, so that neither side can
 * deadlock the other), and what has been said about closing. */
static struct {
	int fd;
	unsigned char *buf;
	size_t off, len, cap; /* unread bytes are buf[off..len) */
	bool eof;	      /* the server closed (or reset) TCP */
	bool wdead;	      /* writing is over: shut, or the peer is gone */
	size_t chunk;	      /* 0: write whole; else pieces of this size */
	int timeout_ms;
	bool frames;
	bool sent_close, got_close;
	int close_code; /* the server's, -1 for none */
} C = {.fd = -1, .timeout_ms = 5000, .close_code = -1};

/* The data message being reassembled: its opcode (0 when none) and bytes. */
static unsigned msg_op;
static struct bytes msg;

static void usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
static void proto_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void usage(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "wsclient: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr,
		"\nusage: wsclient [-t MS] [-H 'Name: value']... [--frames] "
		"[--unix SOCKET] HOST PORT PATH [STEP...]\n"
		"       wsclient [-t MS] [--unix SOCKET] --http HOST PORT "
		"REQUEST\n");
	exit(EX_USAGE);
}

static void proto_error(const char *fmt, ...)
{
	va_list ap;
	printf("error ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(EX_PROTO);
}

static void timed_out(void) __attribute__((noreturn));
static void timed_out(void)
{
	printf("timeout\n");
	exit(EX_TIMEOUT);
}

static void die_errno(const char *what) __attribute__((noreturn));
static void die_errno(const char *what)
{
	fprintf(stderr, "wsclient: %s: %s\n", what, strerror(errno));
	exit(EX_PEER);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fprintf(stderr, "wsclient: out of memory\n");
		exit(EX_PEER);
	}
	return p;
}

static void bytes_add(struct bytes *b, const void *p, size_t n)
{
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap - b->len < n)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void bytes_free(struct bytes *b)
{
	free(b->p);
	*b = (struct bytes){0};
}

static void random_bytes(void *out, size_t n)
{
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die_errno("/dev/urandom");
	unsigned char *p = out;
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die_errno("/dev/urandom");
		p += r;
		n -= (size_t)r;
	}
	close(fd);
}

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- argument syntax ---- */

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return false;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool parse_hex(const char *s, struct bytes *out)
{
	size_t n = strlen(s);
	if (n % 2)
		return false;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		unsigned char c = (unsigned char)(hi << 4 | lo);
		bytes_add(out, &c, 1);
	}
	return true;
}

/* C escapes: \n \r \t \\ \xHH; anything else after \ is an error. */
static bool unescape(const char *s, struct bytes *out)
{
	while (*s) {
		unsigned char c = (unsigned char)*s++;
		if (c == '\\') {
			switch (*s++) {
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			case 't':
				c = '\t';
				break;
			case '\\':
				c = '\\';
				break;
			case 'x': {
				int hi = hexval(s[0]);
				int lo = hi < 0 ? -1 : hexval(s[1]);
				if (lo < 0)
					return false;
				c = (unsigned char)(hi << 4 | lo);
				s += 2;
				break;
			}
			default:
				return false;
			}
		}
		bytes_add(out, &c, 1);
	}
	return true;
}

/* ---- steps ---- */

enum step_kind {
	S_TEXT,
	S_BIN,
	S_TEXTN,
	S_ECHO,
	S_FRAME,
	S_PING,
	S_PONG,
	S_CLOSE,
	S_RAW,
	S_CHUNK,
	S_RECV,
	S_WAIT,
	S_SLEEP,
	S_SHUT,
	S_QUIT,
	S_RESET,
	S_MARK,
	S_UNTIL,
};

struct step {
	enum step_kind kind;
	struct bytes data; /* payload or raw bytes */
	uint64_t n;	   /* size, count, ms, or close code */
	bool has_n;	   /* close: a code was given */
	unsigned op, rsv;  /* frame: */
	bool fin, mask, has_len;
	uint64_t len;
};

static bool has_prefix(const char *s, const char *prefix, const char **rest)
{
	size_t n = strlen(prefix);
	if (strncmp(s, prefix, n) != 0)
		return false;
	*rest = s + n;
	return true;
}

static void parse_frame_fields(const char *arg, struct step *st)
{
	st->op = OP_TEXT;
	st->fin = true;
	st->mask = true;
	char *copy = strdup(arg);
	if (!copy)
		usage("out of memory");
	for (char *f = strtok(copy, ","); f; f = strtok(NULL, ",")) {
		const char *v;
		uint64_t x;
		if (has_prefix(f, "op=", &v) && parse_u64(v, 15, &x))
			st->op = (unsigned)x;
		else if (has_prefix(f, "fin=", &v) && parse_u64(v, 1, &x))
			st->fin = x == 1;
		else if (has_prefix(f, "rsv=", &v) && parse_u64(v, 7, &x))
			st->rsv = (unsigned)x;
		else if (has_prefix(f, "mask=", &v) && parse_u64(v, 1, &x))
			st->mask = x == 1;
		else if (has_prefix(f, "len=", &v) &&
			 parse_u64(v, UINT64_MAX >> 1, &x)) {
			st->has_len = true;
			st->len = x;
		} else if (has_prefix(f, "text=", &v) && unescape(v, &st->data))
			;
		else if (has_prefix(f, "hex=", &v) && parse_hex(v, &st->data))
			;
		else
			usage("bad frame field '%s'", f);
	}
	free(copy);
}

static void parse_step(const char *s, struct step *st)
{
	const char *a;
	*st = (struct step){0};
	if (has_prefix(s, "text:", &a)) {
		st->kind = S_TEXT;
		if (!unescape(a, &st->data))
			usage("bad escape in '%s'", s);
	} else if (has_prefix(s, "bin:", &a)) {
		st->kind = S_BIN;
		if (!parse_hex(a, &st->data))
			usage("bad hex in '%s'", s);
	} else if (has_prefix(s, "textn:", &a) || has_prefix(s, "echo:", &a)) {
		st->kind = s[0] == 't' ? S_TEXTN : S_ECHO;
		if (!parse_u64(a, MAX_FRAME, &st->n))
			usage("bad size in '%s'", s);
	} else if (has_prefix(s, "frame:", &a)) {
		st->kind = S_FRAME;
		parse_frame_fields(a, st);
	} else if (has_prefix(s, "ping:", &a) || has_prefix(s, "pong:", &a)) {
		st->kind = s[1] == 'i' ? S_PING : S_PONG;
		if (!unescape(a, &st->data))
			usage("bad escape in '%s'", s);
	} else if (strcmp(s, "close") == 0) {
		st->kind = S_CLOSE;
	} else if (has_prefix(s, "close:", &a)) {
		st->kind = S_CLOSE;
		st->has_n = true;
		const char *colon = strchr(a, ':');
		char code[16];
		size_t n = colon ? (size_t)(colon - a) : strlen(a);
		if (n >= sizeof code)
			usage("bad close code in '%s'", s);
		memcpy(code, a, n);
		code[n] = '\0';
		if (!parse_u64(code, 65535, &st->n))
			usage("bad close code in '%s'", s);
		if (colon && !unescape(colon + 1, &st->data))
			usage("bad escape in '%s'", s);
	} else if (has_prefix(s, "raw:", &a)) {
		st->kind = S_RAW;
		if (!parse_hex(a, &st->data))
			usage("bad hex in '%s'", s);
	} else if (has_prefix(s, "chunk:", &a)) {
		st->kind = S_CHUNK;
		if (!parse_u64(a, 1u << 30, &st->n))
			usage("bad size in '%s'", s);
	} else if (strcmp(s, "recv") == 0 || has_prefix(s, "recv:", &a)) {
		st->kind = S_RECV;
		st->n = 1;
		if (s[4] && (!parse_u64(a, 1u << 30, &st->n) || st->n == 0))
			usage("bad count in '%s'", s);
	} else if (strcmp(s, "wait") == 0) {
		st->kind = S_WAIT;
	} else if (has_prefix(s, "sleep:", &a)) {
		st->kind = S_SLEEP;
		if (!parse_u64(a, 3600000, &st->n))
			usage("bad time in '%s'", s);
	} else if (strcmp(s, "shut") == 0) {
		st->kind = S_SHUT;
	} else if (strcmp(s, "quit") == 0) {
		st->kind = S_QUIT;
	} else if (strcmp(s, "reset") == 0) {
		st->kind = S_RESET;
	} else if (has_prefix(s, "mark:", &a) || has_prefix(s, "until:", &a)) {
		st->kind = s[0] == 'm' ? S_MARK : S_UNTIL;
		if (!*a)
			usage("no file in '%s'", s);
		bytes_add(&st->data, a, strlen(a) + 1);
	} else {
		usage("unknown step '%s'", s);
	}
}

/* ---- the socket ---- */

static const char *unix_path; /* --unix */
static int rcvbuf;	      /* --rcvbuf, 0: the system's */

static void connect_unix(void)
{
	struct sockaddr_un sa = {0};
	sa.sun_family = AF_UNIX;
	if (strlen(unix_path) >= sizeof sa.sun_path)
		usage("--unix path too long");
	strcpy(sa.sun_path, unix_path);
	C.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (C.fd < 0)
		die_errno("socket");
	if (connect(C.fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die_errno("connect");
}

static void connect_to(const char *host, const char *port)
{
	if (unix_path) {
		connect_unix();
		int fl = fcntl(C.fd, F_GETFL);
		if (fl < 0 || fcntl(C.fd, F_SETFL, fl | O_NONBLOCK) < 0)
			die_errno("O_NONBLOCK");
		return;
	}
	struct addrinfo hints = {0}, *res, *ai;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "wsclient: %s port %s: %s\n", host, port,
			gai_strerror(rc));
		exit(EX_PEER);
	}
	int err = 0;
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
				ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (rcvbuf && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
					 sizeof rcvbuf) < 0)
			die_errno("SO_RCVBUF");
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			C.fd = fd;
			break;
		}
		err = errno;
		close(fd);
	}
	freeaddrinfo(res);
	if (C.fd < 0) {
		errno = err;
		die_errno("connect");
	}
	int one = 1;
	if (setsockopt(C.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
		die_errno("TCP_NODELAY");
	int fl = fcntl(C.fd, F_GETFL);
	if (fl < 0 || fcntl(C.fd, F_SETFL, fl | O_NONBLOCK) < 0)
		die_errno("O_NONBLOCK");
}

static void need_socket(void)
{
	if (C.fd < 0)
		usage("a step after quit needs the socket");
}

/* Reads what is there into the input buffer. Returns 1 if bytes came, 0 at
 * EOF (a reset counts as EOF), -1 if none are ready. */
static int pump_in(void)
{
	if (C.eof)
		return 0;
	if (C.cap - C.len < 65536) {
		if (C.off > 0) {
			memmove(C.buf, C.buf + C.off, C.len - C.off);
			C.len -= C.off;
			C.off = 0;
		}
		if (C.cap - C.len < 65536) {
			C.cap = C.cap ? C.cap * 2 : 131072;
			C.buf = xrealloc(C.buf, C.cap);
		}
	}
	ssize_t r = read(C.fd, C.buf + C.len, C.cap - C.len);
	if (r > 0) {
		C.len += (size_t)r;
		return 1;
	}
	if (r == 0 || errno == ECONNRESET) {
		C.eof = true;
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return -1;
	die_errno("read");
}

/* Waits until n unread bytes are buffered. Returns false at EOF first; exits
 * with "timeout" if nothing arrives for timeout_ms. */
static bool need(size_t n)
{
	while (C.len - C.off < n) {
		int r = pump_in();
		if (r == 0)
			return false;
		if (r > 0)
			continue;
		struct pollfd pfd = {C.fd, POLLIN, 0};
		int k = poll(&pfd, 1, C.timeout_ms);
		if (k == 0)
			timed_out();
		if (k < 0 && errno != EINTR)
			die_errno("poll");
	}
	return true;
}

static void write_piece(const unsigned char *p, size_t n)
{
	while (n > 0 && !C.wdead) {
		ssize_t w = write(C.fd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			fprintf(stderr, "wsclient: write: %s\n",
				strerror(errno));
			C.wdead = true;
			return;
		}
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			die_errno("write");
		/* Blocked: keep reading while waiting, or a server that
		 * stops reading until we read would never unblock us. */
		struct pollfd pfd = {
		    C.fd, (short)(POLLOUT | (C.eof ? 0 : POLLIN)), 0};
		int k = poll(&pfd, 1, C.timeout_ms);
		if (k == 0)
			timed_out();
		if (k < 0 && errno != EINTR)
			die_errno("poll");
		if (k > 0 && (pfd.revents & POLLIN))
			pump_in();
	}
}

/* Writes n bytes, in pieces of C.chunk with ~1 ms between them if set. */
static void out_write(const unsigned char *p, size_t n)
{
	need_socket();
	while (n > 0 && !C.wdead) {
		size_t k = C.chunk && C.chunk < n ? C.chunk : n;
		write_piece(p, k);
		p += k;
		n -= k;
		if (C.chunk && n > 0)
			nap_ms(1);
	}
}

static void send_frame(unsigned op, bool fin, unsigned rsv, bool mask,
		       bool has_len, uint64_t len, const unsigned char *p,
		       size_t n)
{
	unsigned char h[14];
	size_t hl = 0;
	uint64_t l = has_len ? len : n;
	unsigned char m = mask ? 0x80 : 0;
	h[hl++] =
	    (unsigned char)((fin ? 0x80u : 0u) | (rsv & 7u) << 4 | (op & 15u));
	if (l <= 125) {
		h[hl++] = (unsigned char)(m | l);
	} else if (l <= 0xffff) {
		h[hl++] = (unsigned char)(m | 126);
		h[hl++] = (unsigned char)(l >> 8);
		h[hl++] = (unsigned char)l;
	} else {
		h[hl++] = (unsigned char)(m | 127);
		for (int i = 7; i >= 0; i--)
			h[hl++] = (unsigned char)(l >> (8 * i));
	}
	struct bytes f = {0};
	bytes_add(&f, h, hl);
	if (mask) {
		unsigned char key[4];
		random_bytes(key, sizeof key);
		bytes_add(&f, key, sizeof key);
		size_t at = f.len;
		bytes_add(&f, p, n);
		for (size_t i = 0; i < n; i++)
			f.p[at + i] ^= key[i & 3];
	} else {
		bytes_add(&f, p, n);
	}
	out_write(f.p, f.len);
	bytes_free(&f);
}

static void send_close(int code, const struct bytes *reason)
{
	struct bytes pl = {0};
	if (code >= 0) {
		unsigned char c[2] = {(unsigned char)(code >> 8),
				      (unsigned char)code};
		bytes_add(&pl, c, 2);
		if (reason)
			bytes_add(&pl, reason->p, reason->len);
	}
	send_frame(OP_CLOSE, true, 0, true, false, 0, pl.p, pl.len);
	bytes_free(&pl);
	C.sent_close = true;
}

/* ---- reading frames and messages ---- */

static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i], cp, min;
		size_t k;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			k = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			unsigned d = s[i + j];
			if ((d & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (d & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

struct frame {
	unsigned op;
	bool fin;
	struct bytes pl;
};

/* Reads one frame and checks what RFC 6455 section 5 asks of a server's
 * frame. Returns false at EOF on a frame boundary. */
static bool read_frame(struct frame *f)
{
	*f = (struct frame){0};
	if (!need(2)) {
		if (C.len == C.off)
			return false;
		proto_error("eof inside a frame header");
	}
	unsigned b0 = C.buf[C.off], b1 = C.buf[C.off + 1];
	f->fin = b0 & 0x80;
	f->op = b0 & 0x0f;
	if (b0 & 0x70)
		proto_error("reserved bits set (0x%02x)", b0);
	if (b1 & 0x80)
		proto_error("masked frame from the server");
	if (f->op > 2 && f->op < 8)
		proto_error("bad opcode %u", f->op);
	if (f->op > 10)
		proto_error("bad opcode %u", f->op);
	uint64_t len = b1 & 0x7f;
	size_t hl = len == 126 ? 4 : len == 127 ? 10 : 2;
	if (!need(hl))
		proto_error("eof inside a frame header");
	const unsigned char *h = C.buf + C.off;
	if (len == 126) {
		len = (uint64_t)h[2] << 8 | h[3];
		if (len < 126)
			proto_error("non-minimal length %llu",
				    (unsigned long long)len);
	} else if (len == 127) {
		len = 0;
		for (int i = 2; i < 10; i++)
			len = len << 8 | h[i];
		if (len >> 63)
			proto_error("64-bit length with the top bit set");
		if (len < 65536)
			proto_error("non-minimal length %llu",
				    (unsigned long long)len);
	}
	if (f->op >= 8 && !f->fin)
		proto_error("fragmented control frame (opcode %u)", f->op);
	if (f->op >= 8 && len > 125)
		proto_error("control frame of %llu bytes",
			    (unsigned long long)len);
	if (len > MAX_FRAME)
		proto_error("frame of %llu bytes is beyond this client",
			    (unsigned long long)len);
	if (!need(hl + (size_t)len))
		proto_error("eof inside a frame payload");
	bytes_add(&f->pl, C.buf + C.off + hl, (size_t)len);
	C.off += hl + (size_t)len;
	return true;
}

static void check_close_payload(const struct bytes *pl)
{
	if (pl->len == 0)
		return;
	if (pl->len == 1)
		proto_error("close payload of 1 byte");
	unsigned code = (unsigned)pl->p[0] << 8 | pl->p[1];
	bool ok = (code >= 1000 && code <= 1003) ||
		  (code >= 1007 && code <= 1014) ||
		  (code >= 3000 && code <= 4999);
	if (!ok)
		proto_error("close code %u is not allowed on the wire", code);
	if (!utf8_valid(pl->p + 2, pl->len - 2))
		proto_error("close reason is not UTF-8");
}

enum item_kind { I_EOF, I_FRAME, I_MSG };

struct item {
	enum item_kind kind;
	unsigned op;   /* the frame's or the message's opcode */
	unsigned type; /* the message type a frame belongs to (for printing) */
	bool fin;
	struct bytes pl;
};

/* Returns the next frame (frames) or message (otherwise); control frames are
 * items of their own either way. The caller frees it->pl. */
static void next_item(bool frames, struct item *it)
{
	*it = (struct item){0};
	for (;;) {
		struct frame f;
		if (!read_frame(&f)) {
			it->kind = I_EOF;
			return;
		}
		if (C.got_close)
			proto_error("frame (opcode %u) after Close", f.op);
		if (f.op >= 8) {
			if (f.op == OP_CLOSE) {
				check_close_payload(&f.pl);
				C.got_close = true;
				C.close_code =
				    f.pl.len ? (f.pl.p[0] << 8 | f.pl.p[1])
					     : -1;
			}
			it->kind = frames ? I_FRAME : I_MSG;
			it->op = it->type = f.op;
			it->fin = true;
			it->pl = f.pl;
			return;
		}
		if (f.op == OP_CONT && msg_op == 0)
			proto_error("continuation frame outside a message");
		if (f.op != OP_CONT && msg_op != 0)
			proto_error(
			    "new data frame inside a fragmented message");
		if (f.op != OP_CONT) {
			msg_op = f.op;
			msg.len = 0;
		}
		bytes_add(&msg, f.pl.p, f.pl.len);
		if (f.fin && msg_op == OP_TEXT && !utf8_valid(msg.p, msg.len))
			proto_error("invalid UTF-8 in a text message");
		unsigned type = msg_op;
		if (f.fin)
			msg_op = 0;
		if (frames) {
			it->kind = I_FRAME;
			it->op = f.op;
			it->type = type;
			it->fin = f.fin;
			it->pl = f.pl;
			return;
		}
		bytes_free(&f.pl);
		if (f.fin) {
			it->kind = I_MSG;
			it->op = it->type = type;
			it->fin = true;
			it->pl = msg;
			msg = (struct bytes){0};
			return;
		}
	}
}

/* ---- printing ---- */

static void put_escaped(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f)
			putchar(p[i]);
		else
			printf("\\x%02x", p[i]);
	}
}

/* Writes " PAYLOAD" as the message type prints it, or nothing if empty. */
static void put_payload(unsigned type, const struct bytes *b)
{
	if (b->len == 0)
		return;
	putchar(' ');
	if (type == OP_BIN) {
		if (b->len > 100) {
			printf("<%zu bytes>", b->len);
			return;
		}
		for (size_t i = 0; i < b->len; i++)
			printf("%02x", b->p[i]);
	} else if (type == OP_CLOSE && b->len >= 2) {
		printf("%u", (unsigned)b->p[0] << 8 | b->p[1]);
		if (b->len > 2) {
			putchar(' ');
			put_escaped(b->p + 2, b->len - 2);
		}
	} else if (b->len > 200) {
		printf("<%zu bytes>", b->len);
	} else {
		put_escaped(b->p, b->len);
	}
}

static const char *op_name(unsigned op)
{
	switch (op) {
	case OP_TEXT:
		return "text";
	case OP_BIN:
		return "binary";
	case OP_CLOSE:
		return "close";
	case OP_PING:
		return "ping";
	case OP_PONG:
		return "pong";
	default:
		return "?";
	}
}

static void print_item(const struct item *it)
{
	if (it->kind == I_EOF) {
		printf("eof\n");
		return;
	}
	if (it->kind == I_FRAME)
		printf("frame op=%u fin=%d len=%zu", it->op, it->fin ? 1 : 0,
		       it->pl.len);
	else if (it->op == OP_CLOSE && it->pl.len == 0)
		printf("close none");
	else
		printf("%s", op_name(it->op));
	put_payload(it->type, &it->pl);
	putchar('\n');
}

/* ---- running the steps ---- */

static void pattern(size_t n, struct bytes *out)
{
	static const char alphabet[] =
	    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	out->len = 0;
	for (size_t i = 0; i < n; i++)
		bytes_add(out, &alphabet[i % (sizeof alphabet - 1)], 1);
}

static void step_echo(size_t n)
{
	struct bytes want = {0};
	pattern(n, &want);
	send_frame(OP_TEXT, true, 0, true, false, 0, want.p, want.len);
	for (;;) {
		struct item it;
		next_item(false, &it);
		if (it.kind == I_EOF || it.op >= 8) {
			print_item(&it);
			if (it.kind == I_EOF || it.op == OP_CLOSE) {
				printf("echo %zu mismatch (got %s)\n", n,
				       it.kind == I_EOF ? "eof" : "close");
				bytes_free(&it.pl);
				break;
			}
			bytes_free(&it.pl);
			continue;
		}
		if (it.op == OP_TEXT && it.pl.len == n &&
		    (n == 0 || memcmp(it.pl.p, want.p, n) == 0)) {
			printf("echo %zu ok\n", n);
		} else if (it.pl.len == n) {
			size_t at = 0;
			while (at < n && it.pl.p[at] == want.p[at])
				at++;
			printf("echo %zu mismatch (got %zu bytes of %s, first "
			       "difference at %zu)\n",
			       n, it.pl.len, op_name(it.op), at);
		} else {
			printf("echo %zu mismatch (got %zu bytes)\n", n,
			       it.pl.len);
		}
		bytes_free(&it.pl);
		break;
	}
	bytes_free(&want);
}

/* Reads and prints until the server's Close (answered with the same code)
 * and then until EOF. */
static void step_wait(void)
{
	while (!C.got_close) {
		struct item it;
		next_item(C.frames, &it);
		print_item(&it);
		bytes_free(&it.pl);
		if (it.kind == I_EOF)
			return;
	}
	if (!C.sent_close)
		send_close(C.close_code, NULL);
	for (;;) {
		struct item it;
		next_item(C.frames, &it);
		print_item(&it);
		bytes_free(&it.pl);
		if (it.kind == I_EOF)
			return;
	}
}

static void run_step(const struct step *st)
{
	struct bytes b = {0};
	switch (st->kind) {
	case S_TEXT:
	case S_BIN:
	case S_PING:
	case S_PONG: {
		unsigned op = st->kind == S_TEXT   ? OP_TEXT
			      : st->kind == S_BIN  ? OP_BIN
			      : st->kind == S_PING ? OP_PING
						   : OP_PONG;
		send_frame(op, true, 0, true, false, 0, st->data.p,
			   st->data.len);
		break;
	}
	case S_TEXTN:
		pattern((size_t)st->n, &b);
		send_frame(OP_TEXT, true, 0, true, false, 0, b.p, b.len);
		bytes_free(&b);
		break;
	case S_ECHO:
		step_echo((size_t)st->n);
		break;
	case S_FRAME:
		send_frame(st->op, st->fin, st->rsv, st->mask, st->has_len,
			   st->len, st->data.p, st->data.len);
		break;
	case S_CLOSE:
		send_close(st->has_n ? (int)st->n : -1, &st->data);
		break;
	case S_RAW:
		out_write(st->data.p, st->data.len);
		break;
	case S_CHUNK:
		C.chunk = (size_t)st->n;
		break;
	case S_RECV:
		need_socket();
		for (uint64_t i = 0; i < st->n; i++) {
			struct item it;
			next_item(C.frames, &it);
			print_item(&it);
			bytes_free(&it.pl);
			if (it.kind == I_EOF)
				break;
		}
		break;
	case S_WAIT:
		need_socket();
		step_wait();
		break;
	case S_SLEEP:
		nap_ms((long)st->n);
		break;
	case S_SHUT:
		need_socket();
		shutdown(C.fd, SHUT_WR);
		C.wdead = true;
		break;
	case S_QUIT:
		need_socket();
		close(C.fd);
		C.fd = -1;
		break;
	case S_RESET: {
		/* SO_LINGER 0: close(2) sends a TCP reset. */
		struct linger lg = { 1, 0 };
		need_socket();
		setsockopt(C.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		close(C.fd);
		C.fd = -1;
		break;
	}
	case S_MARK: {
		int fd = open((const char *)st->data.p,
			      O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			die_errno((const char *)st->data.p);
		close(fd);
		break;
	}
	case S_UNTIL:
		/* Stays connected, reading nothing, so that what the server
		 * sends piles up in its queue. */
		for (long waited = 0; access((const char *)st->data.p, F_OK) < 0;
		     waited += 10) {
			if (waited >= C.timeout_ms)
				timed_out();
			nap_ms(10);
		}
		break;
	}
}

/* ---- the opening handshake ---- */

/* Finds the end of a response head (after the blank line) in p[0..n), or 0. */
static size_t head_end(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (p[i] == '\n' && p[i + 1] == '\n')
			return i + 2;
		if (i + 3 < n && memcmp(p + i, "\r\n\r\n", 4) == 0)
			return i + 4;
	}
	return 0;
}

/* Waits for a whole response head; returns its length, 0 at EOF first. */
static size_t read_head(void)
{
	size_t scanned = 0;
	for (;;) {
		size_t n = C.len - C.off;
		size_t from = scanned > 3 ? scanned - 3 : 0;
		size_t end =
		    n > from ? head_end(C.buf + C.off + from, n - from) : 0;
		if (end)
			return from + end;
		scanned = n;
		if (n > MAX_HEAD)
			proto_error("response head over %d bytes", MAX_HEAD);
		if (!need(n + 1))
			return 0;
	}
}

static bool header_is(const char *line, size_t n, const char *name,
		      const char **val, size_t *vlen)
{
	size_t k = strlen(name);
	if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
		return false;
	size_t i = k + 1;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	size_t j = n;
	while (j > i && (line[j - 1] == ' ' || line[j - 1] == '\t'))
		j--;
	*val = line + i;
	*vlen = j - i;
	return true;
}

/* Does the comma-separated list v[0..n) hold token (case-insensitive)? */
static bool has_token(const char *v, size_t n, const char *token)
{
	size_t k = strlen(token), i = 0;
	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t j = i;
		while (j < n && v[j] != ',')
			j++;
		size_t e = j;
		while (e > i && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - i == k && strncasecmp(v + i, token, k) == 0)
			return true;
		i = j;
	}
	return false;
}

static bool user_has(char **hdrs, size_t nh, const char *name)
{
	size_t k = strlen(name);
	for (size_t i = 0; i < nh; i++) {
		if (strncasecmp(hdrs[i], name, k) == 0 && hdrs[i][k] == ':')
			return true;
	}
	return false;
}

static void handshake(const char *host, const char *port, const char *path,
		      char **hdrs, size_t nh)
{
	unsigned char raw[16];
	char key[BASE64_ENCODED_LEN(16) + 1];
	random_bytes(raw, sizeof raw);
	key[base64_encode(raw, sizeof raw, key)] = '\0';

	struct bytes req = {0};
	char line[1024];
	int k = snprintf(line, sizeof line, "GET %s HTTP/1.1\r\n", path);
	if (k < 0 || (size_t)k >= sizeof line)
		usage("path too long");
	bytes_add(&req, line, (size_t)k);
	bool v6 = strchr(host, ':') != NULL;
	const char *defaults[][2] = {
	    {"Host", NULL},
	    {"Upgrade", "websocket"},
	    {"Connection", "Upgrade"},
	    {"Sec-WebSocket-Key", key},
	    {"Sec-WebSocket-Version", "13"},
	};
	for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
		if (user_has(hdrs, nh, defaults[i][0]))
			continue;
		if (i == 0)
			k = snprintf(line, sizeof line, "Host: %s%s%s:%s\r\n",
				     v6 ? "[" : "", host, v6 ? "]" : "", port);
		else
			k = snprintf(line, sizeof line, "%s: %s\r\n",
				     defaults[i][0], defaults[i][1]);
		if (k < 0 || (size_t)k >= sizeof line)
			usage("host too long");
		bytes_add(&req, line, (size_t)k);
	}
	for (size_t i = 0; i < nh; i++) {
		bytes_add(&req, hdrs[i], strlen(hdrs[i]));
		bytes_add(&req, "\r\n", 2);
	}
	bytes_add(&req, "\r\n", 2);
	out_write(req.p, req.len);
	bytes_free(&req);

	size_t n = read_head();
	if (n == 0) {
		printf("eof\n");
		exit(EX_PEER);
	}
	const char *h = (const char *)C.buf + C.off;
	if (n < 12 || strncmp(h, "HTTP/1.1 ", 9) != 0 || h[9] < '0' ||
	    h[9] > '9' || h[10] < '0' || h[10] > '9' || h[11] < '0' ||
	    h[11] > '9')
		proto_error("bad status line");
	int status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
	if (status != 101) {
		printf("status %d\n", status);
		exit(EX_PEER);
	}

	struct sha1 s;
	uint8_t digest[SHA1_LEN];
	char want[BASE64_ENCODED_LEN(SHA1_LEN)];
	sha1_init(&s);
	sha1_update(&s, key, strlen(key));
	sha1_update(&s, ws_guid, strlen(ws_guid));
	sha1_final(&s, digest);
	size_t wlen = base64_encode(digest, SHA1_LEN, want);

	int accepts = 0;
	bool upgrade = false, connection = false;
	const char *end = h + n;
	const char *p = (const char *)memchr(h, '\n', n) + 1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)(nl - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		const char *v;
		size_t vl;
		if (header_is(p, len, "Sec-WebSocket-Accept", &v, &vl)) {
			accepts++;
			if (vl != wlen || memcmp(v, want, wlen) != 0)
				proto_error(
				    "bad handshake: Sec-WebSocket-Accept %.*s, "
				    "want %.*s",
				    (int)vl, v, (int)wlen, want);
		} else if (header_is(p, len, "Upgrade", &v, &vl)) {
			upgrade = upgrade || has_token(v, vl, "websocket");
		} else if (header_is(p, len, "Connection", &v, &vl)) {
			connection = connection || has_token(v, vl, "upgrade");
		} else if (header_is(p, len, "Sec-WebSocket-Extensions", &v,
				     &vl)) {
			proto_error(
			    "bad handshake: an extension nobody asked for");
		}
		p = nl + 1;
	}
	if (accepts != 1)
		proto_error("bad handshake: %d Sec-WebSocket-Accept headers",
			    accepts);
	if (!upgrade)
		proto_error("bad handshake: no Upgrade: websocket");
	if (!connection)
		proto_error("bad handshake: no Connection: Upgrade");
	C.off += n;
}

/* --http: writes REQUEST, prints the response head and "eof" if the server
 * then closes within the timeout. */
static int http_mode(const char *host, const char *port, const char *request)
{
	struct bytes req = {0};
	if (!unescape(request, &req))
		usage("bad escape in the request");
	connect_to(host, port);
	out_write(req.p, req.len);
	bytes_free(&req);
	size_t n = read_head();
	size_t shown = n ? n : C.len - C.off;
	for (size_t i = 0; i < shown; i++) {
		unsigned char c = C.buf[C.off + i];
		if (c == '\r' && i + 1 < shown && C.buf[C.off + i + 1] == '\n')
			continue;
		putchar(c);
	}
	if (n == 0) {
		if (shown && C.buf[C.off + shown - 1] != '\n')
			putchar('\n');
		printf("eof\n");
		return shown ? EX_OK : EX_PEER;
	}
	fflush(stdout);
	/* The rest (a body) is not shown; only whether the server closes. */
	for (;;) {
		C.off = C.len;
		int r = pump_in();
		if (r == 0) {
			printf("eof\n");
			return EX_OK;
		}
		if (r > 0)
			continue;
		struct pollfd pfd = {C.fd, POLLIN, 0};
		int k = poll(&pfd, 1, C.timeout_ms);
		if (k == 0)
			return EX_OK;
		if (k < 0 && errno != EINTR)
			die_errno("poll");
	}
}

int main(int argc, char **argv)
{
	char *hdrs[MAX_HEADERS];
	size_t nh = 0;
	const char *pos[3];
	int npos = 0, i = 1;
	bool http = false, dashdash = false;
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Options may come anywhere before PATH (or REQUEST), so that a test
	 * helper that supplies HOST and PORT can still take them. */
	for (; i < argc && npos < 3; i++) {
		const char *a = argv[i];
		if (dashdash || a[0] != '-' || a[1] == '\0') {
			pos[npos++] = a;
		} else if (strcmp(a, "--") == 0) {
			dashdash = true;
		} else if (strcmp(a, "-t") == 0 && i + 1 < argc) {
			uint64_t ms;
			if (!parse_u64(argv[++i], 3600000, &ms) || ms == 0)
				usage("bad -t '%s'", argv[i]);
			C.timeout_ms = (int)ms;
		} else if (strcmp(a, "-H") == 0 && i + 1 < argc) {
			if (nh == MAX_HEADERS)
				usage("too many -H");
			if (!strchr(argv[i + 1], ':'))
				usage("-H wants 'Name: value', not '%s'",
				      argv[i + 1]);
			hdrs[nh++] = argv[++i];
		} else if (strcmp(a, "--frames") == 0) {
			C.frames = true;
		} else if (strcmp(a, "--http") == 0) {
			http = true;
		} else if (strcmp(a, "--unix") == 0 && i + 1 < argc) {
			unix_path = argv[++i];
		} else if (strcmp(a, "--rcvbuf") == 0 && i + 1 < argc) {
			uint64_t n;
			if (!parse_u64(argv[++i], 1u << 30, &n) || n == 0)
				usage("bad --rcvbuf '%s'", argv[i]);
			rcvbuf = (int)n;
		} else {
			usage("unknown or incomplete option '%s'", a);
		}
	}
	if (http) {
		if (npos != 3 || i != argc)
			usage("--http wants HOST PORT REQUEST");
		return http_mode(pos[0], pos[1], pos[2]);
	}
	if (npos != 3)
		usage("HOST PORT PATH missing");
	size_t nsteps = (size_t)(argc - i);
	struct step *steps = xrealloc(NULL, nsteps * sizeof *steps);
	for (size_t s = 0; s < nsteps; s++)
		parse_step(argv[i + (int)s], &steps[s]);

	connect_to(pos[0], pos[1]);
	handshake(pos[0], pos[1], pos[2], hdrs, nh);
	for (size_t s = 0; s < nsteps; s++) {
		run_step(&steps[s]);
		bytes_free(&steps[s].data);
	}
	free(steps);
	if (C.fd >= 0)
		close(C.fd);
	return EX_OK;
}
