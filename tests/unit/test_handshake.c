/* handshake: RFC 6455 4.2.1 checks, Sec-WebSocket-Accept, responses. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "handshake.h"
#include "http.h"

#define MAXH 16

#define RL   "GET /chat HTTP/1.1\r\n"
#define HOST "Host: server.example.com\r\n"
#define UPG  "Upgrade: websocket\r\n"
#define CONN "Connection: Upgrade\r\n"
#define KEY  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
#define VER  "Sec-WebSocket-Version: 13\r\n"

/* One line per case: a request head and the status hs_check must give. */
static const struct {
	const char *req;
	int want;
} cases[] = {
	{RL HOST UPG CONN KEY VER "\r\n", 0},
	{RL VER KEY CONN UPG HOST "\r\n", 0},
	{RL HOST "Upgrade: WebSocket\r\n" CONN KEY VER "\r\n", 0},
	{RL HOST UPG "Connection: keep-alive, Upgrade\r\n" KEY VER "\r\n", 0},
	{RL HOST UPG "Connection: keep-alive\r\nConnection: upgrade\r\n" KEY VER
	 "\r\n", 0},
	{RL HOST "Upgrade: h2c, websocket\r\n" CONN KEY VER "\r\n", 0},
	{RL "host: h\r\nupgrade: websocket\r\nconnection: upgrade\r\n"
	    "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "sec-websocket-version: 13\r\n\r\n", 0},
	{"GET /chat HTTP/1.2\r\n" HOST UPG CONN KEY VER "\r\n", 0},
	{RL "Host:\r\n" UPG CONN KEY VER "\r\n", 0},
	{RL HOST UPG CONN "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n" VER
	 "\r\n", 0},
	/* 405: the method */
	{"POST /chat HTTP/1.1\r\n" HOST UPG CONN KEY VER "\r\n", 405},
	{"get /chat HTTP/1.1\r\n" HOST UPG CONN KEY VER "\r\n", 405},
	{"GETS /chat HTTP/1.1\r\n" HOST UPG CONN KEY VER "\r\n", 405},
	{"POST /chat HTTP/1.0\r\n\r\n", 405},
	/* 400: the request line */
	{"GET * HTTP/1.1\r\n" HOST UPG CONN KEY VER "\r\n", 400},
	{"GET http://h/chat HTTP/1.1\r\n" HOST UPG CONN KEY VER "\r\n", 400},
	{"GET chat HTTP/1.1\r\n" HOST UPG CONN KEY VER "\r\n", 400},
	{"GET /chat HTTP/1.0\r\n" HOST UPG CONN KEY VER "\r\n", 400},
	{"GET /chat HTTP/0.9\r\n" HOST UPG CONN KEY VER "\r\n", 400},
	{"GET /chat HTTP/2.0\r\n" HOST UPG CONN KEY VER "\r\n", 400},
	/* 400: Host */
	{RL UPG CONN KEY VER "\r\n", 400},
	{RL HOST UPG CONN KEY VER "Host: other\r\n\r\n", 400},
	/* 400: Upgrade */
	{RL HOST CONN KEY VER "\r\n", 400},
	{RL HOST "Upgrade: h2c\r\n" CONN KEY VER "\r\n", 400},
	{RL HOST "Upgrade: websocket/13\r\n" CONN KEY VER "\r\n", 400},
	{RL HOST "Upgrade: websockets\r\n" CONN KEY VER "\r\n", 400},
	{RL HOST "Connection: websocket\r\n" CONN KEY VER "\r\n", 400},
	/* 400: Connection */
	{RL HOST UPG KEY VER "\r\n", 400},
	{RL HOST UPG "Connection: keep-alive\r\n" KEY VER "\r\n", 400},
	{RL HOST UPG "Connection: upgraded\r\n" KEY VER "\r\n", 400},
	{RL HOST UPG "Upgrade: upgrade\r\n" KEY VER "\r\n", 400},
	/* 400: Sec-WebSocket-Key */
	{RL HOST UPG CONN VER "\r\n", 400},
	{RL HOST UPG CONN KEY KEY VER "\r\n", 400},
	{RL HOST UPG CONN "Sec-WebSocket-Key:\r\n" VER "\r\n", 400},
	{RL HOST UPG CONN "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA\r\n" VER
	 "\r\n", 400},
	{RL HOST UPG CONN "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAA=\r\n" VER
	 "\r\n", 400},
	{RL HOST UPG CONN "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ\r\n" VER
	 "\r\n", 400},
	{RL HOST UPG CONN "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==\r\n" VER
	 "\r\n", 400},
	{RL HOST UPG CONN "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j!Q==\r\n" VER
	 "\r\n", 400},
	{RL HOST UPG CONN "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==AAAA\r\n"
	    VER "\r\n", 400},
	/* 426: Sec-WebSocket-Version, checked after everything else */
	{RL HOST UPG CONN KEY "\r\n", 426},
	{RL HOST UPG CONN KEY "Sec-WebSocket-Version: 8\r\n\r\n", 426},
	{RL HOST UPG CONN KEY "Sec-WebSocket-Version: 013\r\n\r\n", 426},
	{RL HOST UPG CONN KEY "Sec-WebSocket-Version: 13, 8\r\n\r\n", 426},
	{RL HOST UPG CONN KEY VER VER "\r\n", 426},
	{RL HOST CONN KEY "Sec-WebSocket-Version: 8\r\n\r\n", 400},
};

/* Parses req (which must be a complete head) into *r with headers in hs. */
static void parse(const char *req, struct http_request *r,
		  struct http_header *hs)
{
	size_t n = strlen(req);
	CHECK_INT(http_parse_request(req, n, r, hs, MAXH), n);
}

static void test_check(void)
{
	struct http_header hs[MAXH];
	struct http_request req;
	struct hs_info info;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		parse(cases[i].req, &req, hs);
		int r = hs_check(&req, &info);
		if (!check_at(r == cases[i].want, __FILE__, __LINE__,
			      "hs_check case"))
			fprintf(stderr, "    case %zu: got %d, want %d\n", i, r,
				cases[i].want);
	}

	/* The views, on RFC 6455 1.2's example. */
	parse("GET /chat?a=1&b HTTP/1.1\r\n"
	      "Host: server.example.com\r\n"
	      "Upgrade: websocket\r\n"
	      "Connection: Upgrade\r\n"
	      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	      "Origin: http://example.com\r\n"
	      "Sec-WebSocket-Protocol: chat, superchat\r\n"
	      "Sec-WebSocket-Version: 13\r\n\r\n",
	      &req, hs);
	memset(&info, 0xa5, sizeof info);
	CHECK_INT(hs_check(&req, &info), 0);
	CHECK_MEM(info.path, info.path_len, "/chat", 5);
	CHECK_MEM(info.query, info.query_len, "a=1&b", 5);
	CHECK_MEM(info.key, info.key_len, "dGhlIHNhbXBsZSBub25jZQ==", 24);
	CHECK_MEM(info.origin, info.origin_len, "http://example.com", 18);
	CHECK_MEM(info.host, info.host_len, "server.example.com", 18);
	CHECK(info.path == req.target);

	/* No '?': no query, and no Origin. */
	parse(RL HOST UPG CONN KEY VER "\r\n", &req, hs);
	memset(&info, 0xa5, sizeof info);
	CHECK_INT(hs_check(&req, &info), 0);
	CHECK_MEM(info.path, info.path_len, "/chat", 5);
	CHECK(info.query == NULL && info.query_len == 0);
	CHECK(info.origin == NULL && info.origin_len == 0);

	/* An empty query; a path split at the first '?' only. */
	parse("GET /a? HTTP/1.1\r\n" HOST UPG CONN KEY VER "\r\n", &req, hs);
	CHECK_INT(hs_check(&req, &info), 0);
	CHECK_MEM(info.path, info.path_len, "/a", 2);
	CHECK(info.query != NULL && info.query_len == 0);
	parse("GET /a?b?c HTTP/1.1\r\n" HOST UPG CONN KEY VER "\r\n", &req, hs);
	CHECK_INT(hs_check(&req, &info), 0);
	CHECK_MEM(info.path, info.path_len, "/a", 2);
	CHECK_MEM(info.query, info.query_len, "b?c", 3);
}

static void test_accept(void)
{
	char out[HS_ACCEPT_LEN];

	/* RFC 6455 1.3 */
	hs_accept("dGhlIHNhbXBsZSBub25jZQ==", 24, out);
	CHECK_MEM(out, sizeof out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", 28);
	hs_accept("x3JJHMbDL1EzLkh9GBhXDw==", 24, out);
	CHECK_MEM(out, sizeof out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=", 28);
}

/* Every cap below the response's length gives 0 and writes nothing past
 * cap (the output ends at a guard page); the exact length fits. */
static void check_caps_101(const char *extra, size_t want)
{
	static const char zeros[512];
	for (size_t cap = 0; cap <= want; cap++) {
		char *g = check_guarded(zeros, cap);
		size_t n = hs_response_101(g, cap, "dGhlIHNhbXBsZSBub25jZQ==", 24,
					   extra);
		CHECK_INT(n, cap == want ? want : 0);
		check_unguard(g, cap);
	}
}

static void check_caps_error(int status, size_t want)
{
	static const char zeros[512];
	for (size_t cap = 0; cap <= want; cap++) {
		char *g = check_guarded(zeros, cap);
		CHECK_INT(hs_response_error(g, cap, status, NULL),
			  cap == want ? want : 0);
		check_unguard(g, cap);
	}
}

static void test_101(void)
{
	static const char want[] = "HTTP/1.1 101 Switching Protocols\r\n"
				   "Upgrade: websocket\r\n"
				   "Connection: Upgrade\r\n"
				   "Sec-WebSocket-Accept: "
				   "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
				   "\r\n";
	static const char want_extra[] = "HTTP/1.1 101 Switching Protocols\r\n"
					 "Upgrade: websocket\r\n"
					 "Connection: Upgrade\r\n"
					 "Sec-WebSocket-Accept: "
					 "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
					 "Sec-WebSocket-Protocol: chat\r\n"
					 "X-A: b\r\n"
					 "\r\n";
	static const char extra[] = "Sec-WebSocket-Protocol: chat\r\nX-A: b\r\n";
	char out[512];

	size_t n = hs_response_101(out, sizeof out, "dGhlIHNhbXBsZSBub25jZQ==",
				   24, NULL);
	CHECK_MEM(out, n, want, sizeof want - 1);
	n = hs_response_101(out, sizeof out, "dGhlIHNhbXBsZSBub25jZQ==", 24,
			    extra);
	CHECK_MEM(out, n, want_extra, sizeof want_extra - 1);
	check_caps_101(NULL, sizeof want - 1);
	check_caps_101(extra, sizeof want_extra - 1);
}

/* Returns the header block of resp[0..n) (status line to the blank line,
 * NUL-terminated in buf) and its body. */
static void split(const char *resp, size_t n, char *buf, const char **body,
		  size_t *body_len)
{
	memcpy(buf, resp, n);
	buf[n] = '\0';
	char *end = strstr(buf, "\r\n\r\n");
	CHECK(end != NULL);
	if (!end) {
		*body = buf + n;
		*body_len = 0;
		return;
	}
	end[2] = '\0';
	*body = end + 4;
	*body_len = n - (size_t)(*body - buf);
}

static void test_error(void)
{
	static const int statuses[] = {400, 403, 404, 405, 408,
				       426, 431, 500, 503};
	char out[512], head[513];
	const char *body;
	size_t body_len;

	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
		int st = statuses[i];
		size_t n = hs_response_error(out, sizeof out, st, NULL);
		CHECK(n > 0);
		split(out, n, head, &body, &body_len);

		char line[64], len_line[64], first[64];
		snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n", st,
			 hs_reason(st));
		snprintf(len_line, sizeof len_line,
			 "\r\nContent-Length: %zu\r\n", body_len);
		snprintf(first, sizeof first, "%d %s: ", st, hs_reason(st));
		CHECK(strncmp(head, line, strlen(line)) == 0);
		CHECK(strstr(head, len_line) != NULL);
		CHECK(strstr(head, "\r\nContent-Type: text/plain; "
				   "charset=utf-8\r\n") != NULL);
		CHECK(strstr(head, "\r\nConnection: close\r\n") != NULL);
		CHECK((strstr(head, "\r\nAllow: GET\r\n") != NULL) ==
		      (st == 405));
		CHECK((strstr(head, "\r\nSec-WebSocket-Version: 13\r\n") !=
		       NULL) == (st == 426));
		/* one line naming the status and the problem */
		CHECK(body_len > strlen(first) + 1 &&
		      strncmp(body, first, strlen(first)) == 0);
		CHECK(memchr(body, '\n', body_len) == body + body_len - 1);
		check_caps_error(st, n);
	}

	static const char want404[] = "HTTP/1.1 404 Not Found\r\n"
				      "Content-Type: text/plain; charset=utf-8\r\n"
				      "Content-Length: 40\r\n"
				      "Connection: close\r\n"
				      "\r\n"
				      "404 Not Found: no resource at this path\n";
	size_t n = hs_response_error(out, sizeof out, 404, NULL);
	CHECK_MEM(out, n, want404, sizeof want404 - 1);

	/* extra goes last among the headers */
	static const char want503[] = "HTTP/1.1 503 Service Unavailable\r\n"
				      "Content-Type: text/plain; charset=utf-8\r\n"
				      "Content-Length: 54\r\n"
				      "Connection: close\r\n"
				      "Retry-After: 5\r\n"
				      "\r\n"
				      "503 Service Unavailable: server busy, try "
				      "again later\n";
	n = hs_response_error(out, sizeof out, 503, "Retry-After: 5\r\n");
	CHECK_MEM(out, n, want503, sizeof want503 - 1);

	/* An unknown status still makes a well-formed response; one that
	 * cannot go on a status line becomes 500. */
	n = hs_response_error(out, sizeof out, 418, NULL);
	split(out, n, head, &body, &body_len);
	CHECK(strncmp(head, "HTTP/1.1 418 Error\r\n", 20) == 0);
	CHECK(strstr(head, "\r\nContent-Length: 10\r\n") != NULL);
	CHECK_MEM(body, body_len, "418 Error\n", 10);
	n = hs_response_error(out, sizeof out, -1, NULL);
	CHECK(n > 0 && strncmp(out, "HTTP/1.1 500 ", 13) == 0);
	n = hs_response_error(out, sizeof out, 1000, NULL);
	CHECK(n > 0 && strncmp(out, "HTTP/1.1 500 ", 13) == 0);
}

static void test_reason(void)
{
	CHECK(strcmp(hs_reason(101), "Switching Protocols") == 0);
	CHECK(strcmp(hs_reason(400), "Bad Request") == 0);
	CHECK(strcmp(hs_reason(403), "Forbidden") == 0);
	CHECK(strcmp(hs_reason(404), "Not Found") == 0);
	CHECK(strcmp(hs_reason(405), "Method Not Allowed") == 0);
	CHECK(strcmp(hs_reason(408), "Request Timeout") == 0);
	CHECK(strcmp(hs_reason(426), "Upgrade Required") == 0);
	CHECK(strcmp(hs_reason(431), "Request Header Fields Too Large") == 0);
	CHECK(strcmp(hs_reason(500), "Internal Server Error") == 0);
	CHECK(strcmp(hs_reason(503), "Service Unavailable") == 0);
	CHECK(strcmp(hs_reason(418), "Error") == 0);
	CHECK(strcmp(hs_reason(0), "Error") == 0);
}

/* One line per case: the client's Sec-WebSocket-Protocol lines and the
 * index hs_select_protocol gives for the server's list "chat", "v2.json",
 * "Echo" (-1: none). The client's order decides. */
static const struct {
	const char *lines;
	int want;
} proto_cases[] = {
	{"", -1},
	{"Sec-WebSocket-Protocol: chat\r\n", 0},
	{"Sec-WebSocket-Protocol: v2.json\r\n", 1},
	{"Sec-WebSocket-Protocol: v2.json, chat\r\n", 1},
	{"Sec-WebSocket-Protocol: chat, v2.json\r\n", 0},
	{"Sec-WebSocket-Protocol: other, Echo\r\n", 2},
	{"Sec-WebSocket-Protocol: other\r\n", -1},
	{"Sec-WebSocket-Protocol: other\r\nSec-WebSocket-Protocol: chat\r\n",
	 0},
	{"Sec-WebSocket-Protocol: x\r\nX-B: chat\r\n"
	 "sec-websocket-protocol: y,v2.json\r\n", 1},
	{"Sec-WebSocket-Protocol: \t , ,chat \t\r\n", 0},
	{"Sec-WebSocket-Protocol:\r\n", -1},
	{"Sec-WebSocket-Protocol: ,\r\n", -1},
	{"Sec-WebSocket-Protocol: CHAT, echo\r\n", -1},
	{"Sec-WebSocket-Protocol: cha, chatt, chat.x, v2\r\n", -1},
	{"Sec-WebSocket-Protocol: chat v2.json\r\n", -1},
	{"X-Sec-WebSocket-Protocol: chat\r\n", -1},
};

static void test_protocol(void)
{
	static const char *const names[] = {"chat", "v2.json", "Echo"};
	struct http_header hs[MAXH];
	struct http_request req;
	char head[512];

	for (size_t i = 0; i < sizeof proto_cases / sizeof proto_cases[0]; i++) {
		int len = snprintf(head, sizeof head, "%s%s\r\n",
				   RL HOST UPG CONN KEY VER, proto_cases[i].lines);
		/* Against a guard page: no read past the head. */
		char *g = check_guarded(head, (size_t)len);
		CHECK_INT(http_parse_request(g, (size_t)len, &req, hs, MAXH), len);
		int k = hs_select_protocol(&req, names, 3);
		if (!check_at(k == proto_cases[i].want, __FILE__, __LINE__,
			      "hs_select_protocol case"))
			fprintf(stderr, "    case %zu: got %d, want %d\n", i, k,
				proto_cases[i].want);
		CHECK_INT(hs_select_protocol(&req, names, 0), -1);
		check_unguard(g, (size_t)len);
	}
}

int main(void)
{
	test_check();
	test_accept();
	test_101();
	test_protocol();
	test_error();
	test_reason();
	return check_report("handshake");
}
