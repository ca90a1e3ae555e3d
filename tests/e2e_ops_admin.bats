#!/usr/bin/env bats
# Running it as a service (issue 4, items 8 to 10): graceful shutdown, who
# is let in (--maxforks, --origin, --sameorigin), --binary, and the extra
# response headers.

load helpers

# A child that echoes, notes its pid, and writes eof.N when stdin ends.
marker_script() {
	local T=$BATS_TEST_TMPDIR
	mkscript marker.sh <<EOF_
#!/bin/sh
echo \$\$ >"$T/child.\$\$.pid"
while IFS= read -r line; do
	printf '%s\n' "\$line"
done
echo eof >"$T/eof.\$\$"
EOF_
}

# A child that ignores stdin EOF, SIGINT and SIGTERM.
stubborn_script() {
	local T=$BATS_TEST_TMPDIR
	mkscript stubborn.sh <<EOF_
#!/bin/sh
trap '' INT TERM
echo \$\$ >"$T/child.pid"
echo ready
exec sleep 600
EOF_
}

# --- graceful shutdown ------------------------------------------------

@test "SIGTERM with clients connected: each gets Close 1001, each child EOF, the gateway exits 0" {
	local T=$BATS_TEST_TMPDIR s p1 p2
	s=$(marker_script)
	start_gw "/s=$s"
	bg_client one /s text:one recv wait
	p1=$BG_PID
	bg_client two /s text:two recv wait
	p2=$BG_PID
	wait_for "both clients' echoes" eval \
		'grep -qx "text one" "$T/one.out" && grep -qx "text two" "$T/two.out"'
	kill -TERM "$GW_PID"
	bg_result "$p1" one
	expect_status 0
	expect_lines "text one" "close 1001*" "eof"
	bg_result "$p2" two
	expect_status 0
	expect_lines "text two" "close 1001*" "eof"
	wait_gw_exit
	[ "$GW_STATUS" -eq 0 ]
	local f n=0
	for f in "$T"/child.*.pid; do
		[ -f "$T/eof.$(cat "$f")" ] || { echo "child $(cat "$f") saw no EOF" >&2; false; }
		n=$((n + 1))
	done
	[ "$n" -eq 2 ]
}

@test "on SIGTERM a child that ignores EOF gets SIGINT and the gateway exits soon after" {
	local T=$BATS_TEST_TMPDIR s t0
	s=$(mkscript deaf.sh <<EOF_
#!/bin/sh
trap 'echo int >"$T/int.marker"; exit 130' INT
echo ready
exec </dev/null
while :; do sleep 0.05; done
EOF_
)
	start_gw "/s=$s"
	bg_client one /s recv wait
	local cpid=$BG_PID
	wait_for "the session to start" grep -qx "text ready" "$T/one.out"
	t0=$(now_ms)
	kill -TERM "$GW_PID"
	bg_result "$cpid" one
	expect_status 0
	expect_lines "text ready" "close 1001*" "eof"
	wait_gw_exit
	local elapsed=$(($(now_ms) - t0))
	echo "exited ${elapsed} ms after SIGTERM" >&2
	[ "$GW_STATUS" -eq 0 ]
	[ "$elapsed" -lt 1500 ]
	[ -f "$T/int.marker" ]
}

@test "after SIGTERM a new client is turned away and starts no child" {
	local s
	s=$(stubborn_script)
	start_gw --closems 5000 "/s=$s"
	bg_client held /s recv wait
	wait_for "the session to start" grep -qx "text ready" "$BATS_TEST_TMPDIR/held.out"
	kill -TERM "$GW_PID"
	wait_log 'shutting down'
	# The draining gateway is still up (its child ignores EOF and SIGTERM)...
	alive "$GW_PID"
	# ...but lets no one new in (connection refused, or 503).
	run ws -t 1000 /s
	expect_status 1
	[[ $output != *text* ]]
	[ "$(children "$GW_PID" | wc -l)" -eq 1 ]
	kill -TERM "$GW_PID"
	wait_gw_exit
}

@test "a second SIGTERM ends everything at once" {
	local s t0
	s=$(stubborn_script)
	# With --closems 5000 the child would get SIGKILL only after 5.6 s.
	start_gw --closems 5000 "/s=$s"
	bg_client held /s recv wait
	local cpid=$BG_PID
	wait_for "the session to start" grep -qx "text ready" "$BATS_TEST_TMPDIR/held.out"
	local pid
	pid=$(cat "$BATS_TEST_TMPDIR/child.pid")
	kill -TERM "$GW_PID"
	wait_log 'shutting down'
	# The client answers the Close 1001; the child lives on, and so does
	# the gateway.
	bg_result "$cpid" held
	expect_lines "text ready" "close 1001*" "eof"
	alive "$pid"
	alive "$GW_PID"
	t0=$(now_ms)
	kill -TERM "$GW_PID"
	wait_gw_exit
	local elapsed=$(($(now_ms) - t0))
	echo "exited ${elapsed} ms after the second SIGTERM (status $GW_STATUS)" >&2
	[ "$elapsed" -lt 1000 ]
	[ "$GW_STATUS" -eq 0 ]
	wait_for "child $pid to be gone" eval "! alive $pid"
	wait_log 'second signal'
}

@test "--drain-timeout: a client that never answers the Close and a stubborn child do not hold up the exit" {
	local s t0
	s=$(stubborn_script)
	# Without the drain timeout: the socket waits 2 s for the client's
	# Close, the child is killed only after 100 + 3000 + 500 + 3000 ms.
	start_gw --closems 3000 --drain-timeout 500 "/s=$s"
	# The client reads "ready" and then nothing: it never sees or answers
	# the Close.
	bg_client deaf -t 10000 /s recv sleep:8000
	wait_for "the session to start" grep -qx "text ready" "$BATS_TEST_TMPDIR/deaf.out"
	local pid
	pid=$(cat "$BATS_TEST_TMPDIR/child.pid")
	t0=$(now_ms)
	kill -TERM "$GW_PID"
	wait_gw_exit
	local elapsed=$(($(now_ms) - t0))
	echo "exited ${elapsed} ms after SIGTERM (status $GW_STATUS)" >&2
	[ "$elapsed" -ge 500 ]
	[ "$elapsed" -lt 1500 ]
	[ "$GW_STATUS" -eq 0 ]
	wait_for "child $pid to be gone" eval "! alive $pid"
	wait_log 'drain-timeout'
}

@test "SIGINT shuts down like SIGTERM: Close 1001 and exit 0" {
	start_gw /echo=cat
	bg_client one /echo text:one recv wait
	local cpid=$BG_PID
	wait_for "the client's echo" grep -qx "text one" "$BATS_TEST_TMPDIR/one.out"
	kill -INT "$GW_PID"
	bg_result "$cpid" one
	expect_status 0
	expect_lines "text one" "close 1001*" "eof"
	wait_gw_exit
	[ "$GW_STATUS" -eq 0 ]
}

@test "SIGTERM does not wait for a client still sending its request head" {
	# The handshake deadline (10 s by default) is not waited for.
	start_gw /echo=cat
	local T=$BATS_TEST_TMPDIR before cpid t0
	before=$(fd_count "$GW_PID")
	"$WSCLIENT" -t 10000 127.0.0.1 "$PORT" --http \
		'GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n' >"$T/slow.out" 2>&1 3>&- &
	cpid=$!
	wait_for "the gateway to accept the slow connection" \
		eval '[ "$(fd_count "$GW_PID")" -gt "$before" ]'
	t0=$(now_ms)
	kill -TERM "$GW_PID"
	wait_gw_exit
	local elapsed=$(($(now_ms) - t0))
	echo "exited ${elapsed} ms after SIGTERM" >&2
	[ "$elapsed" -lt 1000 ]
	[ "$GW_STATUS" -eq 0 ]
	wait_for "the slow client to see the connection end" eval "! alive $cpid"
}

# --- admission --------------------------------------------------------

@test "--maxforks 1: a second concurrent client gets 503 with Retry-After, a later one is accepted" {
	start_gw --maxforks 1 /echo=cat
	bg_client first -t 30000 /echo text:first recv recv
	local cpid=$BG_PID
	wait_for "the first session" grep -qx "text first" "$BATS_TEST_TMPDIR/first.out"
	run ws -t 3000 --http "$(upgrade /echo)"
	expect_status 0
	expect_first "HTTP/1.1 503 Service Unavailable"
	expect_line_re '^[Rr]etry-[Aa]fter: *[0-9]+$'
	run ws /echo text:x recv
	expect_status 1
	expect_lines "status 503"
	# The first client leaves; once its child is reaped there is room.
	kill -KILL "$cpid"
	wait "$cpid" 2>/dev/null || true
	wait_log 'access #1 .*close='
	run ws /echo text:second recv close:1000 wait
	expect_status 0
	expect_lines "text second" "close 1000*" "eof"
}

@test "--origin: a listed Origin is accepted, another gets 403, none is allowed, null gets 403" {
	start_gw --origin example.com,http://app.test:8000 /echo=cat
	run ws -H 'Origin: http://example.com' /echo text:a recv close:1000 wait
	expect_status 0
	expect_lines "text a" "close 1000*" "eof"
	run ws -H 'Origin: https://example.com:8443' /echo text:b recv close:1000 wait
	expect_status 0
	expect_lines "text b" "close 1000*" "eof"
	run ws -H 'Origin: http://app.test:8000' /echo text:c recv close:1000 wait
	expect_status 0
	expect_lines "text c" "close 1000*" "eof"
	# No Origin header: not a browser; allowed.
	run ws /echo text:d recv close:1000 wait
	expect_status 0
	expect_lines "text d" "close 1000*" "eof"

	run ws -H 'Origin: http://evil.test' /echo
	expect_status 1
	expect_lines "status 403"
	run ws -H 'Origin: http://example.com.evil.test' /echo
	expect_lines "status 403"
	# Wrong port, wrong scheme for an entry that names them.
	run ws -H 'Origin: http://app.test:9000' /echo
	expect_lines "status 403"
	run ws -H 'Origin: https://app.test:8000' /echo
	expect_lines "status 403"
	run ws -H 'Origin: null' /echo
	expect_lines "status 403"
	[ -z "$(children "$GW_PID")" ]
}

@test "--sameorigin: an Origin matching Host is accepted, any other gets 403" {
	start_gw --sameorigin /echo=cat
	run ws -H "Origin: http://127.0.0.1:$PORT" /echo text:a recv close:1000 wait
	expect_status 0
	expect_lines "text a" "close 1000*" "eof"
	run ws /echo text:none recv close:1000 wait
	expect_status 0
	expect_lines "text none" "close 1000*" "eof"

	run ws -H "Origin: http://localhost:$PORT" /echo
	expect_status 1
	expect_lines "status 403"
	run ws -H "Origin: http://127.0.0.1:1" /echo
	expect_lines "status 403"
	run ws -H 'Origin: null' /echo
	expect_lines "status 403"
}

# --- --binary ---------------------------------------------------------

@test "--binary: binary messages reach the child raw, text ones with a newline (websocketd)" {
	local T=$BATS_TEST_TMPDIR s
	s=$(mkscript sink.sh <<EOF_
#!/bin/sh
exec cat >"$T/got"
EOF_
)
	start_gw --binary "/sink=$s"
	bg_client sink -t 10000 /sink bin:00ff0a41 text:hi 'frame:op=1,fin=0,text=a' \
		'frame:op=0,fin=1,text=b' bin:42 recv
	local cpid=$BG_PID
	wait_for "11 bytes at the child" eval '[ "$(wc -c <"$T/got")" -eq 11 ]'
	[ "$(od -An -tx1 "$T/got" | tr -s ' \n' ' ')" = " 00 ff 0a 41 68 69 0a 61 62 0a 42 " ]
	kill -KILL "$cpid"
	wait "$cpid" 2>/dev/null || true
}

@test "--binary: each read from stdout goes out as one binary message" {
	local s
	s=$(mkscript chunks.sh <<'EOF_'
#!/bin/sh
printf 'abc'
# Wait for a byte from the client: 'abc' has been read by then.
dd bs=1 count=1 of=/dev/null 2>/dev/null
printf 'de\nf'
EOF_
)
	start_gw --binary "/c=$s"
	run ws /c recv bin:00 wait
	expect_status 0
	expect_lines "binary 616263" "binary 64650a66" "close 1000*" "eof"
}

@test "--binary with cat: binary and text messages both come back as binary" {
	start_gw --binary /cat=cat
	run ws /cat bin:0001fe recv text:hi recv close:1000 wait
	expect_status 0
	expect_lines "binary 0001fe" "binary 68690a" "close 1000*" "eof"
}

# --- extra headers ----------------------------------------------------

@test "--header goes on every response, --header-ws on 101s only, --header-http on errors only" {
	start_gw --origin example.com --header 'X-All: all' --header-ws 'X-WS: ws' \
		--header-http 'X-HTTP: http' /echo=cat
	run ws -t 200 --http "$(upgrade /echo)"
	expect_status 0
	[[ ${lines[0]} == "HTTP/1.1 101"* ]]
	expect_header X-All all
	expect_header X-WS ws
	no_header X-HTTP

	run ws -t 2000 --http "$(upgrade /nope)"
	expect_status 0
	[[ ${lines[0]} == "HTTP/1.1 404"* ]]
	expect_header X-All all
	expect_header X-HTTP http
	no_header X-WS

	run ws -t 2000 --http "$(upgrade /echo 'Origin: http://evil.test')"
	expect_status 0
	[[ ${lines[0]} == "HTTP/1.1 403"* ]]
	expect_header X-All all
	expect_header X-HTTP http
	no_header X-WS
}
