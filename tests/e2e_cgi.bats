#!/usr/bin/env bats
# --cgidir: plain HTTP requests answered by CGI/1.1 scripts (RFC 3875), as
# websocketd's --cgidir does: the status and headers from the script's
# head, its body streamed, the request body on its stdin; bad heads are a
# 502; the script is ended when the client leaves.

load helpers

# get [CURL-ARGS...] PATH: curl's response head and body, CRs dropped; the
# path is sent as written.
get() {
	local p=${*: -1}
	curl -sS -i --path-as-is --max-time 5 "${@:1:$#-1}" \
		"http://127.0.0.1:$PORT$p" | tr -d '\r'
}

# raw REQUEST: writes REQUEST (printf %b escapes) on a new connection and
# prints everything the server sends until it closes (5 s at most).
raw() {
	timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; printf "%b" "$2" >&3; cat <&3' \
		_ "$PORT" "$1" | tr -d '\r'
}

body() {
	printf '%s\n' "$output" | sed '1,/^$/d'
}

# cgi NAME: writes stdin to an executable script $CGI/NAME.
cgi() {
	mkdir -p "$CGI/$(dirname "$1")"
	cat >"$CGI/$1"
	chmod +x "$CGI/$1"
}

no_children() {
	[ -z "$(children "$GW_PID")" ]
}

setup() {
	CGI=$BATS_TEST_TMPDIR/cgi
	mkdir -p "$CGI"
}

@test "GET: the script's Status, reason and headers, its body chunked; the CGI environment" {
	cgi hello.sh <<'EOF'
#!/bin/sh
printf 'Status: 201 Made Here\r\nContent-Type: text/plain\r\nX-Foo: bar\r\n\r\n'
for v in GATEWAY_INTERFACE REQUEST_METHOD SCRIPT_NAME PATH_INFO QUERY_STRING \
	REQUEST_URI SERVER_PROTOCOL SERVER_NAME HTTP_X_TEST CONTENT_LENGTH; do
	eval "echo $v=\${$v-unset}"
done
echo "SCRIPT_FILENAME=$SCRIPT_FILENAME"
EOF
	start_gw --cgidir "$CGI"
	run get -H 'X-Test: yes' "/hello.sh?a=1&b=2"
	expect_first "HTTP/1.1 201 Made Here"
	expect_header Content-Type text/plain
	expect_header X-Foo bar
	expect_header Transfer-Encoding chunked
	expect_header Connection close
	run body
	expect_lines GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET \
		SCRIPT_NAME=/hello.sh PATH_INFO= "QUERY_STRING=a=1&b=2" \
		"REQUEST_URI=/hello.sh?a=1&b=2" SERVER_PROTOCOL=HTTP/1.1 \
		SERVER_NAME=127.0.0.1 HTTP_X_TEST=yes CONTENT_LENGTH=unset \
		"SCRIPT_FILENAME=$(realpath "$CGI")/hello.sh"
	wait_log "access #[0-9]+ [^ ]+ GET /hello.sh 201 \"CGI\" .* pid=[0-9]+ "
}

@test "Location without Status is a 302; a sub-directory's script; Content-Length passed and kept to; --header-http added" {
	cgi loc.sh <<'EOF'
#!/bin/sh
printf 'Location: http://example.com/x\n\n'
EOF
	cgi sub/len.sh <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\nContent-Length: 3\n\nabcdef'
EOF
	start_gw --cgidir "$CGI" --header-http 'X-Gw: yes'
	run get /loc.sh
	expect_first "HTTP/1.1 302 Found"
	expect_header Location http://example.com/x
	expect_header X-Gw yes
	run get /sub/len.sh
	expect_first "HTTP/1.1 200 OK"
	expect_header Content-Length 3
	no_header Transfer-Encoding
	[ "$(body)" = abc ]
	wait_log "script wrote more than its Content-Length"
}

@test "POST: the body on the script's stdin with CONTENT_LENGTH and CONTENT_TYPE; chunked is 411" {
	cgi echo.sh <<'EOF'
#!/bin/sh
printf 'Content-Type: application/octet-stream\n\n'
echo "$REQUEST_METHOD $CONTENT_LENGTH $CONTENT_TYPE"
cat
EOF
	start_gw --cgidir "$CGI"
	run get -X POST -H 'Content-Type: text/x-test' --data-binary 'abc 123' /echo.sh
	expect_first "HTTP/1.1 200 OK"
	run body
	expect_lines "POST 7 text/x-test" "abc 123"
	run get -X PUT -H 'Transfer-Encoding: chunked' --data-binary 'abc' /echo.sh
	expect_first "HTTP/1.1 411 Length Required"
	run get -H 'Content-Length: x' /echo.sh
	expect_first "HTTP/1.1 400 Bad Request"
}

@test "a few MiB each way, byte-exact: a GET of a big body and a POST echoed back" {
	head -c 3000000 /dev/urandom >"$BATS_TEST_TMPDIR/big"
	cgi big.sh <<EOF
#!/bin/sh
printf 'Content-Type: application/octet-stream\n\n'
exec cat "$BATS_TEST_TMPDIR/big"
EOF
	cgi echo.sh <<'EOF'
#!/bin/sh
printf 'Content-Type: application/octet-stream\n\n'
exec cat
EOF
	start_gw --cgidir "$CGI"
	curl -sS --max-time 20 -o "$BATS_TEST_TMPDIR/got" "http://127.0.0.1:$PORT/big.sh"
	cmp "$BATS_TEST_TMPDIR/got" "$BATS_TEST_TMPDIR/big"
	curl -sS --max-time 20 --data-binary @"$BATS_TEST_TMPDIR/big" \
		-o "$BATS_TEST_TMPDIR/echoed" "http://127.0.0.1:$PORT/echo.sh"
	cmp "$BATS_TEST_TMPDIR/echoed" "$BATS_TEST_TMPDIR/big"
	# A script that reads none of the body still answers; the body is
	# taken from the client and dropped.
	cgi deaf.sh <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\n\ndeaf\n'
EOF
	run curl -sS --max-time 20 --data-binary @"$BATS_TEST_TMPDIR/big" \
		"http://127.0.0.1:$PORT/deaf.sh"
	[ "$output" = deaf ]
}

@test "HEAD gets the head only; HTTP/1.0 gets the body unchunked, up to the close" {
	cgi hi.sh <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\n\n'
echo "hi $REQUEST_METHOD"
EOF
	start_gw --cgidir "$CGI"
	run raw 'HEAD /hi.sh HTTP/1.1\r\nHost: x\r\n\r\n'
	expect_first "HTTP/1.1 200 OK"
	no_header Transfer-Encoding
	[ -z "$(body)" ]
	run raw 'GET /hi.sh HTTP/1.0\r\n\r\n'
	expect_first "HTTP/1.1 200 OK"
	no_header Transfer-Encoding
	[ "$(body)" = "hi GET" ]
}

@test "a script without a usable CGI head is a 502 that says why; its stderr is logged" {
	cgi fail.sh <<'EOF'
#!/bin/sh
echo "it broke" >&2
exit 3
EOF
	cgi plain.sh <<'EOF'
#!/bin/sh
echo hello world
EOF
	cgi notype.sh <<'EOF'
#!/bin/sh
printf 'X-A: 1\n\nbody\n'
EOF
	cgi badstatus.sh <<'EOF'
#!/bin/sh
printf 'Status: abc\nContent-Type: text/plain\n\nx\n'
EOF
	cgi huge.sh <<'EOF'
#!/bin/sh
while :; do echo "X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"; done
EOF
	start_gw --cgidir "$CGI"
	run get /fail.sh
	expect_first "HTTP/1.1 502 Bad Gateway"
	[ "$(body)" = "502 Bad Gateway: script wrote no CGI head (exit status 3)" ]
	wait_log "#[0-9]+ stderr: it broke"
	run get /plain.sh
	expect_first "HTTP/1.1 502 Bad Gateway"
	run get /notype.sh
	expect_first "HTTP/1.1 502 Bad Gateway"
	[[ $(body) == *"no Content-Type, Status or Location"* ]]
	run get /badstatus.sh
	expect_first "HTTP/1.1 502 Bad Gateway"
	[[ $(body) == *"bad Status"* ]]
	cgi badinterp.sh <<'EOF'
#!/nonexistent/interpreter
EOF
	run get /huge.sh
	expect_first "HTTP/1.1 502 Bad Gateway"
	run get /badinterp.sh
	expect_first "HTTP/1.1 500 Internal Server Error"
	wait_log "cannot start /badinterp.sh"
	wait_for "the endless head's script to be ended" no_children
}

@test "missing, directory, '..', %2e%2e, dotfiles and symlinks out: 404, never run; not executable: 403" {
	local marker=$BATS_TEST_TMPDIR/ran
	mkdir -p "$CGI/dir" "$BATS_TEST_TMPDIR/out"
	for f in "$BATS_TEST_TMPDIR/out/x.sh" "$CGI/.hidden.sh"; do
		printf '#!/bin/sh\ntouch %s\nprintf "Content-Type: text/plain\\n\\nran\\n"\n' \
			"$marker" >"$f"
		chmod +x "$f"
	done
	ln -s "$BATS_TEST_TMPDIR/out/x.sh" "$CGI/link.sh"
	ln -s "$BATS_TEST_TMPDIR/out" "$CGI/outdir"
	printf 'echo no\n' >"$CGI/noexec.sh"
	start_gw --cgidir "$CGI"
	local p
	for p in /missing.sh /dir /dir/ /../out/x.sh /%2e%2e/out/x.sh /.hidden.sh \
		/link.sh /outdir/x.sh /dir/..%2f..%2fout/x.sh; do
		run get "$p"
		expect_first "HTTP/1.1 404 Not Found"
	done
	[ ! -e "$marker" ]
	run get -X POST -d x /missing.sh
	expect_first "HTTP/1.1 404 Not Found"
	run get /noexec.sh
	expect_first "HTTP/1.1 403 Forbidden"
}

@test "precedence: a script wins over --staticdir's file; a directory or a miss falls to --staticdir; an upgrade goes to the resource" {
	local W=$BATS_TEST_TMPDIR/www
	mkdir -p "$W/dir" "$CGI/dir"
	printf 'static\n' >"$W/both.sh"
	printf 'static only\n' >"$W/only.txt"
	printf 'index\n' >"$W/dir/index.html"
	cgi both.sh <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\n\ncgi\n'
EOF
	cgi echo <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\n\ncgi echo\n'
EOF
	start_gw --cgidir "$CGI" --staticdir "$W" /echo=cat
	run get /both.sh
	[ "$(body)" = cgi ]
	run get /only.txt
	[ "$(body)" = "static only" ]
	run get /dir/
	[ "$(body)" = index ]
	run get /echo
	[ "$(body)" = "cgi echo" ]
	run ws /echo text:hi recv close:1000 wait
	expect_status 0
	expect_lines "text hi" "close 1000*" eof
}

@test "a client that leaves mid-body: the script is ended, no child or zombie left" {
	cgi yes.sh <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\n\n'
exec yes
EOF
	start_gw --cgidir "$CGI"
	curl -sS --max-time 5 "http://127.0.0.1:$PORT/yes.sh" 2>/dev/null | head -c 200000 >/dev/null
	wait_for "the script to be ended and reaped" no_children
	# The gateway still serves.
	cgi ok.sh <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\n\nok\n'
EOF
	run get /ok.sh
	[ "$(body)" = ok ]
}

@test "a script that hangs (and ignores SIGTERM) is ended when the client leaves" {
	cgi hang.sh <<'EOF'
#!/bin/sh
trap '' TERM
printf 'Content-Type: text/plain\n\nstarted\n'
while :; do sleep 1; done
EOF
	cgi hang_head.sh <<'EOF'
#!/bin/sh
exec sleep 1000
EOF
	start_gw --cgidir "$CGI"
	run curl -sS --max-time 1 "http://127.0.0.1:$PORT/hang.sh"
	[[ $output == *started* ]]
	run curl -sS --max-time 1 "http://127.0.0.1:$PORT/hang_head.sh"
	wait_for "both scripts to be ended and reaped" no_children
}

@test "SIGTERM to the gateway ends a running script and the gateway exits 0" {
	cgi hang.sh <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\n\nstarted\n'
exec sleep 1000
EOF
	start_gw --cgidir "$CGI"
	curl -sS --max-time 5 "http://127.0.0.1:$PORT/hang.sh" >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	wait_for "the script to start" eval '[ -n "$(children "$GW_PID")" ]'
	stop_gw
	[ "$GW_STATUS" = 0 ]
}

@test "--maxforks counts scripts: 503 with Retry-After when reached" {
	cgi hang.sh <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\n\nstarted\n'
exec sleep 1000
EOF
	start_gw --cgidir "$CGI" --maxforks 1
	curl -sS --max-time 5 "http://127.0.0.1:$PORT/hang.sh" >/dev/null 2>&1 3>&- &
	wait_for "the script to start" eval '[ -n "$(children "$GW_PID")" ]'
	run get /hang.sh
	expect_first "HTTP/1.1 503 Service Unavailable"
	expect_header Retry-After 1
}

@test "--cgidir alone is enough to start; a --cgidir that is not a directory is refused" {
	run "$PORTAL_GW" --port 0 --cgidir "$BATS_TEST_TMPDIR/nope"
	[ "$status" -eq 1 ]
	[[ $output == *"--cgidir"*"nope"* ]]
	touch "$BATS_TEST_TMPDIR/file"
	run "$PORTAL_GW" --port 0 --cgidir "$BATS_TEST_TMPDIR/file"
	[ "$status" -eq 1 ]
	cgi ok.sh <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\n\nok\n'
EOF
	start_gw --cgidir "$CGI"
	run get /ok.sh
	[ "$(body)" = ok ]
}
