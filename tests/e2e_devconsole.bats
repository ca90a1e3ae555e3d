#!/usr/bin/env bats
# --devconsole's server side: the console's subprotocol (each message of
# the child tagged 'o' stdout, 'e' stderr), what an ordinary client gets
# meanwhile, the "X-Portal-Console: why" explanation of a refused
# handshake, and the index at /. The page in a browser:
# tests/interop/devconsole_client.py.

load helpers

CONSOLE='Sec-WebSocket-Protocol: portal-gw.console'

# get [CURL-ARGS...] PATH: the response head and body, CRs dropped.
get() {
	local p=${*: -1}
	curl -sS -i --max-time 5 "${@:1:$#-1}" "http://127.0.0.1:$PORT$p" | tr -d '\r'
}

# why PATH: the explanation of this client's last refusal at PATH (body).
why() {
	curl -sS --max-time 5 -H 'X-Portal-Console: why' "http://127.0.0.1:$PORT$1"
}

# talker: one line to stderr, then one message per line read (stdout,
# stderr, an empty stdout line), so that the order is known.
talker() {
	mkscript talk <<'SH'
#!/bin/sh
echo err1 >&2
read -r x
echo "got $x"
read -r x
echo err2 >&2
read -r x
echo
exit 3
SH
}

@test "console subprotocol: stdout tagged o, stderr tagged e, in order; the log still has stderr" {
	local t
	t=$(talker)
	start_gw --devconsole "/t=$t"
	run ws -H "$CONSOLE" --frames /t recv text:hi recv text:y recv text:z recv wait
	# The tag is a fragment of its own; a browser sees "eerr1", "ogot hi".
	expect_lines "frame op=1 fin=0 len=1 e" "frame op=0 fin=1 len=4 err1" \
		"frame op=1 fin=0 len=1 o" "frame op=0 fin=1 len=6 got hi" \
		"frame op=1 fin=0 len=1 e" "frame op=0 fin=1 len=4 err2" \
		"frame op=1 fin=0 len=1 o" "frame op=0 fin=1 len=0" \
		"frame op=8 fin=1 len=15 1011 exit status 3" "eof"
	wait_log 'stderr.*err1'
	wait_log 'stderr.*err2'
}

@test "console subprotocol: answered in the 101 only with --devconsole, and only when offered" {
	start_gw --devconsole /echo=cat
	run "$WSCLIENT" --http 127.0.0.1 "$PORT" "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, portal-gw.console\r\n\r\n"
	expect_first "HTTP/1.1 101 Switching Protocols"
	expect_header Sec-WebSocket-Protocol portal-gw.console
	run ws /echo text:hi recv close:1000 wait
	expect_lines "text hi" "close 1000*" "eof"
	stop_gw
	start_gw /echo=cat
	run ws -H "$CONSOLE" /echo text:hi recv close:1000 wait
	expect_lines "text hi" "close 1000*" "eof"
	run "$WSCLIENT" --http 127.0.0.1 "$PORT" "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: portal-gw.console\r\n\r\n"
	expect_first "HTTP/1.1 101 Switching Protocols"
	no_header Sec-WebSocket-Protocol
}

@test "console subprotocol does not touch --protocol: an ordinary client gets its own choice and untagged messages; the child sees --protocol's" {
	local t
	t=$(mkscript p <<'SH'
#!/bin/sh
echo "proto=$WEBSOCKET_PROTOCOL"
exec cat
SH
)
	start_gw --devconsole --protocol chat "/p=$t"
	run ws -H 'Sec-WebSocket-Protocol: chat' /p recv text:x recv close:1000 wait
	expect_lines "text proto=chat" "text x" "close 1000*" "eof"
	run ws -H 'Sec-WebSocket-Protocol: portal-gw.console, chat' /p recv text:x recv close:1000 wait
	expect_lines "text oproto=chat" "text ox" "close 1000*" "eof"
}

@test "--stderr send with the console: each stderr line once, tagged e" {
	local t
	t=$(mkscript s <<'SH'
#!/bin/sh
echo oops >&2
echo done
SH
)
	start_gw --devconsole --stderr send "/s=$t"
	run ws -H "$CONSOLE" /s recv:2 wait
	[[ " ${lines[*]} " == *" text eoops "* && " ${lines[*]} " == *" text odone "* ]]
	[ "${#lines[@]}" = 4 ]
	run ws /s recv:2 wait
	[[ " ${lines[*]} " == *" text oops "* && " ${lines[*]} " == *" text done "* ]]
	[ "${#lines[@]}" = 4 ]
}

@test "why: a refused handshake is explained to the same client and path: 403, 404, 503, 500 with the exec's cause" {
	local D=$BATS_TEST_TMPDIR/d
	mkdir -p "$D"
	printf '#!/bin/sh\r\necho hi\r\n' >"$D/crlf"
	chmod +x "$D/crlf"
	start_gw --devconsole --origin good.example --maxforks 1 --dir "$D" /echo=cat \
		'/hold=sh -c "exec sleep 30"'
	[ "$(why /echo)" = '{"status":0,"reason":""}' ]
	run ws -H 'Origin: http://evil.example' /echo
	expect_lines "status 403"
	[ "$(why /echo)" = '{"status":403,"reason":"origin not allowed"}' ]
	[ "$(why /other)" = '{"status":0,"reason":""}' ]
	run ws /nope
	expect_lines "status 404"
	[ "$(why /nope)" = '{"status":404,"reason":"handshake refused"}' ]
	run ws /crlf
	expect_lines "status 500"
	run why /crlf
	[[ $output == '{"status":500,"reason":"cannot start program: '*'CRLF line endings?)"}' ]]
	bg_client hold /hold wait
	wait_log 'connected to /hold'
	run ws /echo
	expect_lines "status 503"
	[ "$(why /echo)" = '{"status":503,"reason":"--maxforks reached"}' ]
	run get -H 'X-Portal-Console: why' /echo
	expect_header Content-Type application/json
	expect_header Cache-Control no-store
	wait_log 'GET /echo 200 "console: why"'
	kill "$BG_PID" 2>/dev/null || true
}

@test "why: nothing without --devconsole" {
	start_gw --origin good.example /echo=cat
	run ws -H 'Origin: http://evil.example' /echo
	expect_lines "status 403"
	run get -H 'X-Portal-Console: why' /echo
	expect_first "HTTP/1.1 426 Upgrade Required"
	[[ $output != *origin* ]]
}

@test "index: GET / lists the resources and --dir's executables as links; none without --devconsole, none when / is a resource" {
	local D=$BATS_TEST_TMPDIR/d
	mkdir -p "$D/sub"
	printf '#!/bin/sh\n' >"$D/run.sh"
	printf 'data\n' >"$D/notes.txt"
	printf '#!/bin/sh\n' >"$D/.hidden"
	chmod +x "$D/run.sh" "$D/.hidden"
	start_gw --devconsole --dir "$D" /echo=cat '/a<b=cat'
	run get /
	expect_first "HTTP/1.1 200 OK"
	expect_header Content-Type "text/html; charset=utf-8"
	expect_header Content-Security-Policy "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'"
	[[ $output == *"<li><a href='/echo'>/echo</a>"* ]]
	[[ $output == *"<li><a href='/a%3Cb'>/a&lt;b</a>"* ]]
	[[ $output == *"<li><a href='/run.sh'>/run.sh</a>"* ]]
	[[ $output != *notes.txt* && $output != *hidden* && $output != *sub* ]]
	stop_gw
	start_gw /echo=cat
	run get /
	expect_first "HTTP/1.1 404 Not Found"
	stop_gw
	start_gw --devconsole /=cat
	run get /
	[[ $output == *"dev console"* ]]
}

@test "console subprotocol with --framed and --binary: text tagged o, binary as it is" {
	local t
	t=$(mkscript f <<'SH'
#!/bin/sh
echo "T hello"
read -r x
echo "B aGk="
SH
)
	start_gw --devconsole --framed "/f=$t"
	run ws -H "$CONSOLE" /f recv text:go recv wait
	expect_lines "text ohello" "binary 6869" "close 1000*" "eof"
	stop_gw
	start_gw --devconsole --binary '/b=sh -c "printf hi"'
	run ws -H "$CONSOLE" /b recv wait
	expect_lines "binary 6869" "close 1000*" "eof"
}
