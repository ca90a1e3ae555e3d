#!/usr/bin/env bats
# Plain HTTP: --staticdir files, --health, --metrics and the --devconsole
# page, asked for with curl (and raw sockets where curl would hide what the
# server sent).

load helpers

# get [CURL-ARGS...] PATH: curl's response head and body for PATH, with
# CRs dropped; the path is sent as written (no ".." folding).
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

# body: the body of a response in $output (after the first empty line).
body() {
	printf '%s\n' "$output" | sed '1,/^$/d'
}

# A static directory with a few typed files, a subdirectory with an
# index, one without, dotfiles and symlinks both ways.
make_www() {
	local W=$BATS_TEST_TMPDIR/www
	mkdir -p "$W/sub" "$W/noindex" "$W/.git" "$BATS_TEST_TMPDIR/outside"
	printf '<h1>home</h1>\n' >"$W/index.html"
	printf 'body{}\n' >"$W/style.css"
	printf 'let x = 1;\n' >"$W/app.js"
	printf '{"a":1}\n' >"$W/data.json"
	printf '\x89PNG\r\n\x1a\n' >"$W/pic.png"
	printf 'plain\n' >"$W/notes.txt"
	printf 'raw\n' >"$W/blob"
	printf '<p>sub</p>\n' >"$W/sub/index.html"
	printf 'x\n' >"$W/noindex/x.txt"
	printf 'SECRET\n' >"$W/.env"
	printf 'SECRET\n' >"$W/.git/config"
	printf 'SECRET\n' >"$W/sub/.hidden"
	printf 'SECRET\n' >"$BATS_TEST_TMPDIR/outside/secret.txt"
	ln -s "$BATS_TEST_TMPDIR/outside/secret.txt" "$W/escape.txt"
	ln -s "$BATS_TEST_TMPDIR/outside" "$W/outdir"
	ln -s ../.env "$W/sub/env.txt"
	ln -s style.css "$W/alias.css"
	echo "$W"
}

@test "static files: Content-Type, Content-Length, Last-Modified and the bytes; query ignored" {
	local W
	W=$(make_www)
	touch -d '2024-03-01 12:00:00 UTC' "$W/style.css"
	start_gw --staticdir "$W" /echo=cat
	local f want
	for f in index.html:text/html style.css:text/css app.js:text/javascript \
		data.json:application/json pic.png:image/png notes.txt:text/plain \
		blob:application/octet-stream; do
		want=${f#*:}
		f=${f%%:*}
		curl -sS --path-as-is --max-time 5 -D "$BATS_TEST_TMPDIR/h" \
			-o "$BATS_TEST_TMPDIR/b" "http://127.0.0.1:$PORT/$f?v=1"
		cmp "$BATS_TEST_TMPDIR/b" "$W/$f"
		run tr -d '\r' <"$BATS_TEST_TMPDIR/h"
		expect_first "HTTP/1.1 200 OK"
		expect_line_re "^Content-Type: $want(; charset=utf-8)?\$"
		expect_header Content-Length "$(stat -c %s "$W/$f")"
		expect_header Connection close
	done
	run get /style.css
	expect_header Last-Modified "Fri, 01 Mar 2024 12:00:00 GMT"
	run get /alias.css
	expect_first "HTTP/1.1 200 OK"
	[ "$(body)" = "body{}" ]
	wait_log "access #[0-9]+ [^ ]+ GET /style.css 200 \"file, 7 bytes\""
}

@test "HEAD: the head a GET gets, and no body" {
	local W
	W=$(make_www)
	start_gw --staticdir "$W" /echo=cat
	run raw 'HEAD /notes.txt HTTP/1.1\r\nHost: x\r\n\r\n'
	expect_first "HTTP/1.1 200 OK"
	expect_header Content-Length 6
	expect_header Content-Type "text/plain; charset=utf-8"
	[ "${lines[-1]}" != plain ]
	[ -z "$(body)" ]
	run raw 'GET /notes.txt HTTP/1.1\r\nHost: x\r\n\r\n'
	[ "$(body)" = plain ]
}

@test "If-Modified-Since: 304 at or after the file's time, 200 before it or when unparsable" {
	local W
	W=$(make_www)
	touch -d '2024-03-01 12:00:00 UTC' "$W/notes.txt"
	start_gw --staticdir "$W" /echo=cat
	run get -H 'If-Modified-Since: Fri, 01 Mar 2024 12:00:00 GMT' /notes.txt
	expect_first "HTTP/1.1 304 Not Modified"
	expect_header Last-Modified "Fri, 01 Mar 2024 12:00:00 GMT"
	[ -z "$(body)" ]
	run get -H 'If-Modified-Since: Sunday, 01-Dec-24 00:00:00 GMT' /notes.txt
	expect_first "HTTP/1.1 304 Not Modified"
	run get -H 'If-Modified-Since: Fri Mar  1 12:00:00 2024' /notes.txt
	expect_first "HTTP/1.1 304 Not Modified"
	run get -H 'If-Modified-Since: Fri, 01 Mar 2024 11:59:59 GMT' /notes.txt
	expect_first "HTTP/1.1 200 OK"
	[ "$(body)" = plain ]
	run get -H 'If-Modified-Since: yesterday' /notes.txt
	expect_first "HTTP/1.1 200 OK"
	wait_log "access #[0-9]+ [^ ]+ GET /notes.txt 304 \"not modified\""
}

@test "a directory: its index.html, 301 to its '/' form, 404 without index.html (no listing)" {
	local W
	W=$(make_www)
	start_gw --staticdir "$W" /echo=cat
	run get /
	expect_first "HTTP/1.1 200 OK"
	expect_header Content-Type "text/html; charset=utf-8"
	[ "$(body)" = "<h1>home</h1>" ]
	run get /sub/
	[ "$(body)" = "<p>sub</p>" ]
	run get "/sub?a=b"
	expect_first "HTTP/1.1 301 Moved Permanently"
	expect_header Location "/sub/?a=b"
	run get /noindex/
	expect_first "HTTP/1.1 404 Not Found"
	[[ $output != *x.txt* ]]
	run get /noindex
	expect_first "HTTP/1.1 301 Moved Permanently"
	run get /noindex/x.txt
	expect_first "HTTP/1.1 200 OK"
}

@test "dotfiles, '..', %2e%2e, %2f, %00 and symlinks out of the directory: 404, never the file" {
	local W p
	W=$(make_www)
	start_gw --staticdir "$W" /echo=cat
	for p in /.env /.git/config /sub/.hidden /sub/env.txt /escape.txt \
		/outdir/secret.txt /../outside/secret.txt /sub/../../outside/secret.txt \
		/%2e%2e/outside/secret.txt /%2E%2E/outside/secret.txt /%2eenv \
		/sub%2f..%2f.env /sub%2Findex.html /notes.txt%00 /%zz /notes.txt%; do
		run get "$p"
		expect_first "HTTP/1.1 404 Not Found"
		[[ $output != *SECRET* ]]
	done
	run raw 'GET /../outside/secret.txt HTTP/1.1\r\nHost: x\r\n\r\n'
	expect_first "HTTP/1.1 404 Not Found"
	[[ $output != *SECRET* ]]
	wait_log "/%2e%2e/outside/secret.txt 404 \"not served: a segment starts with '.'\""
	wait_log "/notes.txt%00 404 \"not served: bad %-escape in path\""
	wait_log "/escape.txt 404 \"no such file\""
}

@test "other methods on a file, health or metrics path: 405 with Allow: GET, HEAD" {
	local W
	W=$(make_www)
	start_gw --staticdir "$W" --health /healthz --metrics /metrics /echo=cat
	for p in /notes.txt /healthz /metrics; do
		run get -X POST -d x "$p"
		expect_first "HTTP/1.1 405 Method Not Allowed"
		expect_header Allow "GET, HEAD"
	done
	run get -X DELETE /healthz
	expect_first "HTTP/1.1 405 Method Not Allowed"
}

@test "a 6 MiB file arrives byte-exact" {
	local W=$BATS_TEST_TMPDIR/www
	mkdir -p "$W"
	head -c $((6 * 1024 * 1024 + 17)) /dev/urandom >"$W/big.bin"
	start_gw --staticdir "$W" /echo=cat
	curl -sS --max-time 10 -D "$BATS_TEST_TMPDIR/h" -o "$BATS_TEST_TMPDIR/got" \
		"http://127.0.0.1:$PORT/big.bin"
	cmp "$W/big.bin" "$BATS_TEST_TMPDIR/got"
	run tr -d '\r' <"$BATS_TEST_TMPDIR/h"
	expect_header Content-Length $((6 * 1024 * 1024 + 17))
	expect_header Content-Type application/octet-stream
}

@test "a client that half-closes after its request still gets the whole file" {
	local W=$BATS_TEST_TMPDIR/www
	mkdir -p "$W"
	head -c $((3 * 1024 * 1024)) /dev/urandom >"$W/big.bin"
	start_gw --staticdir "$W" /echo=cat
	timeout 10 perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $ARGV[0]) or die;
		print $s "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n";
		$s->shutdown(1);
		binmode STDOUT;
		my $buf;
		print $buf while sysread($s, $buf, 65536);
	' "$PORT" >"$BATS_TEST_TMPDIR/resp"
	sed '1,/^\r$/d' "$BATS_TEST_TMPDIR/resp" >"$BATS_TEST_TMPDIR/got"
	cmp "$W/big.bin" "$BATS_TEST_TMPDIR/got"
}

@test "a client that vanishes mid-body: the file is closed, the gateway serves on" {
	local W=$BATS_TEST_TMPDIR/www
	mkdir -p "$W"
	head -c $((32 * 1024 * 1024)) /dev/zero >"$W/huge.bin"
	printf 'small\n' >"$W/small.txt"
	start_gw --staticdir "$W" /echo=cat
	local base
	base=$(fd_count "$GW_PID")
	timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"
		printf "GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n" >&3
		head -c 100000 <&3 >/dev/null' _ "$PORT"
	wait_log "access #1 [^ ]+ GET /huge.bin 200"
	wait_for "the gateway to close the socket and the file" \
		eval '[ "$(fd_count "$GW_PID")" -eq "$base" ]'
	run get /small.txt
	[ "$(body)" = small ]
	run ws /echo text:still recv close:1000 wait
	expect_lines "text still" "close 1000*" "eof"
}

@test "--health: 200 ok while serving; 503 during the drain after SIGTERM, upgrades 503 too" {
	start_gw --health /healthz /echo=cat
	run get /healthz
	expect_first "HTTP/1.1 200 OK"
	expect_header Cache-Control no-store
	expect_header Content-Type "text/plain; charset=utf-8"
	[ "$(body)" = ok ]
	run get "/healthz?probe=1"
	expect_first "HTTP/1.1 200 OK"
	run raw 'HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n'
	expect_first "HTTP/1.1 200 OK"
	[ -z "$(body)" ]
	wait_log "access #[0-9]+ [^ ]+ GET /healthz 200 \"health\""

	# A client that does not answer our Close keeps the drain going.
	ws /echo text:hold recv sleep:4000 >"$BATS_TEST_TMPDIR/held.out" 2>&1 &
	wait_log "connected to /echo"
	kill -TERM "$GW_PID"
	wait_log "shutting down"
	run get /healthz
	expect_first "HTTP/1.1 503 Service Unavailable"
	[ "$(body)" = draining ]
	run ws /echo
	expect_status 1
	expect_lines "status 503"
	wait_gw_exit
	[ "$GW_STATUS" -eq 0 ]
}

# metric NAME: the value of sample NAME (with labels, as written) now.
metric() {
	curl -sS --max-time 5 "http://127.0.0.1:$PORT/metrics" |
		awk -v n="$1" '$1 == n { print $2 }'
}

# metric_is NAME VALUE: for wait_for, which runs it anew each time.
metric_is() {
	[ "$(metric "$1")" = "$2" ]
}

@test "--metrics: values after sessions with known messages, failures and exit codes" {
	local s
	s=$(mkscript fail.sh <<'EOF_'
#!/bin/sh
read -r line
echo "got $line"
exit 3
EOF_
)
	start_gw --metrics /metrics /echo=cat "/fail=$s"
	[ "$(metric portal_gw_sessions_total)" = 0 ]
	run ws /echo text:hello text:hi recv recv close:1000 wait
	expect_lines "text hello" "text hi" "close 1000*" "eof"
	run ws /fail text:x wait
	expect_lines "text got x" "close 1011 exit status 3" "eof"
	run ws /nope
	expect_lines "status 404"
	run ws -H 'Sec-WebSocket-Version: 8' /echo
	expect_lines "status 426"
	wait_for "both children to be reaped" metric_is portal_gw_children_running 0
	wait_for "both sessions to end" metric_is portal_gw_sessions_open 0

	# One session still open counts too: its messages so far.
	ws /echo text:live recv sleep:3000 close:1000 wait >/dev/null 2>&1 &
	wait_for "the live session's echo" metric_is portal_gw_messages_sent_total 4
	[ "$(metric portal_gw_sessions_open)" = 1 ]
	[ "$(metric portal_gw_children_running)" = 1 ]

	curl -sS --max-time 5 -D "$BATS_TEST_TMPDIR/h" -o "$BATS_TEST_TMPDIR/m" \
		"http://127.0.0.1:$PORT/metrics"
	run tr -d '\r' <"$BATS_TEST_TMPDIR/h"
	expect_header Content-Type "text/plain; version=0.0.4; charset=utf-8"
	expect_header Cache-Control no-store
	run cat "$BATS_TEST_TMPDIR/m"
	local want
	for want in "portal_gw_sessions_total 3" "portal_gw_sessions_open 1" \
		"portal_gw_messages_received_total 4" "portal_gw_received_bytes_total 12" \
		"portal_gw_messages_sent_total 4" "portal_gw_sent_bytes_total 16" \
		'portal_gw_handshake_failures_total{status="404"} 1' \
		'portal_gw_handshake_failures_total{status="426"} 1' \
		'portal_gw_session_closes_total{code="1000"} 1' \
		'portal_gw_session_closes_total{code="1011"} 1' \
		'portal_gw_child_exits_total{status="3"} 1'; do
		expect_line_re "^${want//[\{\}]/.}\$"
	done
	# Two children were reaped: the failing one and cat (exit 0, or
	# SIGTERM if it was slow to see EOF).
	[ "$(awk '/^portal_gw_child_exits_total/ { n += $2 } END { print n }' \
		"$BATS_TEST_TMPDIR/m")" = 2 ]
}

@test "--metrics: the text parses as Prometheus exposition format 0.0.4" {
	start_gw --metrics /metrics /echo=cat
	run ws /echo text:a recv close:4001 wait
	run ws /nope
	curl -sS --max-time 5 -o "$BATS_TEST_TMPDIR/m" "http://127.0.0.1:$PORT/metrics"
	local line name type typed=" " nsamples=0
	while IFS= read -r line; do
		if [[ $line =~ ^#\ (HELP|TYPE)\ (portal_gw_[a-z_]+)\ (.+)$ ]]; then
			name=${BASH_REMATCH[2]}
			if [ "${BASH_REMATCH[1]}" = TYPE ]; then
				type=${BASH_REMATCH[3]}
				[[ $type = gauge || ($type = counter && $name = *_total) ]]
				typed+="$name "
			fi
		elif [[ $line =~ ^(portal_gw_[a-z_]+)(\{[a-z_]+=\"[^\"]*\"\})?\ [0-9]+$ ]]; then
			# A sample follows its metric's TYPE line.
			[[ $typed == *" ${BASH_REMATCH[1]} "* ]] || {
				echo "untyped sample: $line" >&2
				return 1
			}
			nsamples=$((nsamples + 1))
		else
			echo "not exposition format: '$line'" >&2
			return 1
		fi
	done <"$BATS_TEST_TMPDIR/m"
	[ "$nsamples" -ge 12 ]
	grep -qx 'portal_gw_session_closes_total{code="4001"} 1' "$BATS_TEST_TMPDIR/m"
	grep -q '^portal_gw_start_time_seconds [0-9]' "$BATS_TEST_TMPDIR/m"
	grep -q '^portal_gw_uptime_seconds [0-9]' "$BATS_TEST_TMPDIR/m"
}

@test "--devconsole: a plain GET to a resource path gets the page; upgrades there still work" {
	start_gw --devconsole /echo=cat
	curl -sS --max-time 5 -D "$BATS_TEST_TMPDIR/h" -o "$BATS_TEST_TMPDIR/page" \
		"http://127.0.0.1:$PORT/echo"
	run tr -d '\r' <"$BATS_TEST_TMPDIR/h"
	expect_first "HTTP/1.1 200 OK"
	expect_header Content-Type "text/html; charset=utf-8"
	expect_header Cache-Control no-store
	expect_header Content-Length "$(stat -c %s "$BATS_TEST_TMPDIR/page")"
	# Nothing but the page itself and a WebSocket to its own origin.
	expect_header Content-Security-Policy "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'"
	expect_header X-Content-Type-Options nosniff
	grep -qi '<html' "$BATS_TEST_TMPDIR/page"
	run get "/echo/sub?x=1"
	expect_first "HTTP/1.1 200 OK"
	run ws /echo text:hi recv close:1000 wait
	expect_lines "text hi" "close 1000*" "eof"
	run get /nope
	expect_first "HTTP/1.1 404 Not Found"
	wait_log "access #1 [^ ]+ GET /echo 200 \"console\""
}

@test "without --devconsole a plain GET to a resource is still a bad handshake" {
	start_gw /echo=cat
	run get /echo
	expect_first "HTTP/1.1 400 Bad Request"
}

@test "precedence: health, metrics, then a file, then the console, then 404" {
	local W=$BATS_TEST_TMPDIR/www
	mkdir -p "$W/echo"
	printf 'file\n' >"$W/healthz"
	printf 'file\n' >"$W/metrics"
	printf 'file\n' >"$W/echo/page.txt"
	start_gw --staticdir "$W" --devconsole --health /healthz --metrics /metrics \
		--header 'X-All: 1' --header-http 'X-Plain: 2' /echo=cat
	run get /healthz
	[ "$(body)" = ok ]
	expect_header X-All 1
	expect_header X-Plain 2
	run get /metrics
	expect_line_re '^portal_gw_sessions_total 0$'
	run get /echo/page.txt
	[ "$(body)" = file ]
	expect_header X-Plain 2
	run get /echo/other
	expect_header Content-Type "text/html; charset=utf-8"
	run get /missing
	expect_first "HTTP/1.1 404 Not Found"
	expect_header X-Plain 2
	wait_log "access #[0-9]+ [^ ]+ GET /missing 404 \"no such file\""
	run ws /echo text:hi recv close:1000 wait
	expect_lines "text hi" "close 1000*" "eof"
}

@test "a FIFO or a device under --staticdir is never opened: 404" {
	local W=$BATS_TEST_TMPDIR/www
	mkdir -p "$W"
	mkfifo "$W/pipe"
	ln -s /dev/zero "$W/zero"
	start_gw --staticdir "$W" /echo=cat
	run get /pipe
	expect_first "HTTP/1.1 404 Not Found"
	run get /zero
	expect_first "HTTP/1.1 404 Not Found"
}

@test "out of descriptors for the file: 503 each time, nothing leaked" {
	local W=$BATS_TEST_TMPDIR/www base
	mkdir -p "$W"
	printf 'hello\n' >"$W/a.txt"
	# Under 1024 (as below), no descriptors are kept for spawning.
	GW_ULIMIT_N=1000 start_gw --staticdir "$W" /echo=cat
	base=$(fd_count "$GW_PID")
	stop_gw
	# Room for the accepted socket, none for the file.
	GW_ULIMIT_N=$((base + 1)) start_gw --staticdir "$W" /echo=cat
	run get /a.txt
	expect_first "HTTP/1.1 503 Service Unavailable"
	wait_log "/a.txt 503 \"cannot open file: out of descriptors or memory\""
	run get /a.txt
	expect_first "HTTP/1.1 503 Service Unavailable"
	wait_for "the connections' descriptors to be closed" \
		eval '[ "$(fd_count "$GW_PID")" -eq "$base" ]'
}
