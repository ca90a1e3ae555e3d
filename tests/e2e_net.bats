#!/usr/bin/env bats
# Behind a proxy and on the network (issue 6, item 5): --unix, systemd
# socket activation, --trust-proxy, --protocol, and the extra headers.

load helpers

# run_gw_fails ARGS...: runs portal-gw ARGS in the foreground (5 s at most);
# sets status and output (its stderr) like `run`.
run_gw_fails() {
	run timeout 5 "$PORTAL_GW" "$@"
}

# wsu SOCKET ARGS...: wsclient over the Unix socket SOCKET.
wsu() {
	local s=$1
	shift
	"$WSCLIENT" --unix "$s" localhost 80 "$@"
}

# activator: writes a launcher that does what systemd does for a socket
# unit: binds SPEC (tcp:HOST or unix:PATH) as descriptor 3, sets
# LISTEN_FDS=1, LISTEN_PID to its own pid (which exec keeps) and
# LISTEN_FDNAMES, then execs the rest of its arguments. Prints its path.
activator() {
	mkscript activate.py <<'EOF_'
#!/usr/bin/python3
import os, socket, sys
kind, _, where = sys.argv[1].partition(":")
if kind == "tcp":
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((where, 0))
else:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(where)
s.listen(16)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.environ["LISTEN_FDS"] = "1"
os.environ["LISTEN_PID"] = str(os.getpid())
os.environ["LISTEN_FDNAMES"] = "portal"
os.execv(sys.argv[2], sys.argv[2:])
EOF_
}

# fd3_script: a child that says whether it has descriptor 3 and which
# LISTEN_* variables it sees (--passenv asks for them).
fd3_script() {
	mkscript fd3.sh <<'EOF_'
#!/bin/sh
if [ -e /proc/$$/fd/3 ]; then echo fd3 open; else echo fd3 closed; fi
echo "LISTEN=${LISTEN_PID-unset}/${LISTEN_FDS-unset}/${LISTEN_FDNAMES-unset}"
EOF_
}

# --- --unix -----------------------------------------------------------

@test "--unix alone: serves over the socket, no TCP, REMOTE_ADDR=unix, file removed at exit" {
	local s="$BATS_TEST_TMPDIR/gw.sock"
	gw_launch 'listening on unix:' "$PORTAL_GW" --unix "$s" /env=env /echo=cat
	[ -S "$s" ]
	run grep -c 'listening on' "$BATS_TEST_TMPDIR/gw.log"
	[ "$output" = 1 ]
	run wsu "$s" /echo text:hello recv close:1000 wait
	expect_status 0
	expect_lines "text hello" "close 1000*" "eof"
	run wsu "$s" /env wait
	expect_status 0
	expect_env REMOTE_ADDR unix
	expect_env REMOTE_HOST unix
	expect_env REMOTE_PORT 0
	expect_env SERVER_PORT 0
	expect_env HTTP_HOST localhost:80
	wait_log 'access #2 unix GET /env '
	stop_gw
	[ "$GW_STATUS" = 0 ]
	[ ! -e "$s" ]
}

@test "--unix: on SIGTERM the socket file goes at once, while sessions drain" {
	local s="$BATS_TEST_TMPDIR/gw.sock"
	# A child that outlives its stdin and ignores SIGINT and SIGTERM: the
	# drain lasts until SIGKILL, 100 + 200 + 300 ms and three times
	# --closems after the Close.
	gw_launch 'listening on unix:' "$PORTAL_GW" --unix "$s" --closems 1000 \
		'/hold=sh -c "trap \"\" INT TERM; cat; exec sleep 30"'
	wsu "$s" -t 10000 /hold wait >"$BATS_TEST_TMPDIR/client.out" 2>&1 &
	wait_log 'connected to /hold'
	kill -TERM "$GW_PID"
	wait_log 'shutting down: 1 session'
	wait_for "the socket file to go" test ! -e "$s"
	alive "$GW_PID"
	# A successor can take the path while this one drains. --foreground:
	# SIGTERM to portal-gw only, not to timeout's process group, where it
	# once caught LeakSanitizer's exit-time tracer and hung the run.
	run timeout --foreground -s TERM 0.5 "$PORTAL_GW" --unix "$s" /echo=cat
	expect_line_re "listening on unix:$s\$"
	[[ $output != *stale* ]] || false
	wait_gw_exit
	[ "$GW_STATUS" = 0 ]
}

@test "--unix: the socket's mode follows the umask" {
	local s="$BATS_TEST_TMPDIR/gw.sock"
	gw_launch 'listening on unix:' sh -c 'umask 077; exec "$@"' sh \
		"$PORTAL_GW" --unix "$s" /echo=cat
	[ "$(stat -c %a "$s")" = 700 ]
}

@test "--unix with --port and --address: Unix and TCP both serve" {
	local s="$BATS_TEST_TMPDIR/gw.sock" t="$BATS_TEST_TMPDIR/b.sock"
	start_gw --unix "$s" --unix "$t" /echo=cat
	run wsu "$s" /echo text:unix recv close:1000 wait
	expect_status 0
	expect_lines "text unix" "close 1000*" "eof"
	run wsu "$t" /echo text:second recv close:1000 wait
	expect_lines "text second" "close 1000*" "eof"
	run ws /echo text:tcp recv close:1000 wait
	expect_status 0
	expect_lines "text tcp" "close 1000*" "eof"
}

@test "--unix: a stale socket file (nobody listening) is removed and replaced" {
	local s="$BATS_TEST_TMPDIR/gw.sock"
	# A socket file left behind by a process that did not clean up.
	/usr/bin/python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$s"
	[ -S "$s" ]
	gw_launch 'listening on unix:' "$PORTAL_GW" --unix "$s" /echo=cat
	grep -q "removed the stale socket $s" "$BATS_TEST_TMPDIR/gw.log"
	run wsu "$s" /echo text:hi recv close:1000 wait
	expect_lines "text hi" "close 1000*" "eof"
}

@test "--unix: a socket someone listens on is refused (exit 1) and left alone" {
	local s="$BATS_TEST_TMPDIR/gw.sock"
	gw_launch 'listening on unix:' "$PORTAL_GW" --unix "$s" /echo=cat
	run_gw_fails --unix "$s" /echo=cat
	expect_status 1
	expect_line_re "cannot listen on unix:$s: in use: another process listens on it"
	# The first gateway still serves on it.
	run wsu "$s" /echo text:still recv close:1000 wait
	expect_lines "text still" "close 1000*" "eof"
}

@test "--unix: a file that is not a socket is refused (exit 1) and kept" {
	local s="$BATS_TEST_TMPDIR/notasocket"
	echo precious >"$s"
	run_gw_fails --unix "$s" /echo=cat
	expect_status 1
	expect_line_re "cannot listen on unix:$s: exists and is not a socket"
	[ "$(cat "$s")" = precious ]
	mkdir "$BATS_TEST_TMPDIR/dir.sock"
	run_gw_fails --unix "$BATS_TEST_TMPDIR/dir.sock" /echo=cat
	expect_status 1
	expect_line_re "exists and is not a socket"
}

@test "--unix: unusable paths fail at start with exit 1 and the reason" {
	run_gw_fails --unix "$BATS_TEST_TMPDIR/no/such/dir/s" /echo=cat
	expect_status 1
	expect_line_re "cannot listen on unix:.*: No such file or directory"
	run_gw_fails --unix "/$(printf 'x%.0s' {1..120})" /echo=cat
	expect_status 1
	expect_line_re "cannot listen on unix:/x+: path longer than 107 bytes"
	# A later listener failing removes the socket an earlier one made.
	run_gw_fails --unix "$BATS_TEST_TMPDIR/ok.sock" --address 192.0.2.1 --port 0 /echo=cat
	expect_status 1
	[ ! -e "$BATS_TEST_TMPDIR/ok.sock" ]
	run_gw_fails --unix '' /echo=cat
	expect_status 2
}

# --- socket activation --------------------------------------------------

@test "socket activation: a TCP socket on fd 3 is the only listener; children see neither it nor LISTEN_*" {
	local act fd3 line port
	act=$(activator)
	fd3=$(fd3_script)
	gw_launch 'listening on .*LISTEN_FDS' "$act" tcp:127.0.0.1 "$PORTAL_GW" \
		--passenv LISTEN_PID,LISTEN_FDS,LISTEN_FDNAMES /fd3="$fd3" /echo=cat
	line=$(grep -o 'listening on 127\.0\.0\.1:[0-9]* (fd 3 from LISTEN_FDS)' "$BATS_TEST_TMPDIR/gw.log")
	port=${line#*127.0.0.1:}
	PORT=${port%% *}
	run grep -c 'listening on' "$BATS_TEST_TMPDIR/gw.log"
	[ "$output" = 1 ]
	run ws /echo text:activated recv close:1000 wait
	expect_status 0
	expect_lines "text activated" "close 1000*" "eof"
	run ws /fd3 wait
	expect_status 0
	expect_lines "text fd3 closed" "text LISTEN=unset/unset/unset" "close 1000*" "eof"
}

@test "socket activation: a Unix socket from the manager serves, and is not removed at exit" {
	local act s="$BATS_TEST_TMPDIR/act.sock"
	act=$(activator)
	gw_launch "listening on unix:$s \\(fd 3 from LISTEN_FDS\\)" "$act" "unix:$s" \
		"$PORTAL_GW" /echo=cat
	run wsu "$s" /echo text:hi recv close:1000 wait
	expect_status 0
	expect_lines "text hi" "close 1000*" "eof"
	stop_gw
	[ "$GW_STATUS" = 0 ]
	[ -S "$s" ]
}

@test "socket activation: with --port and --address, TCP is bound as well" {
	local act
	act=$(activator)
	gw_launch 'listening on 127\.0\.0\.1:[0-9]+$' "$act" "unix:$BATS_TEST_TMPDIR/a.sock" \
		"$PORTAL_GW" --address 127.0.0.1 --port 0 /echo=cat
	local line
	line=$(grep -Eo 'listening on 127\.0\.0\.1:[0-9]+$' "$BATS_TEST_TMPDIR/gw.log")
	PORT=${line##*:}
	run ws /echo text:tcp recv close:1000 wait
	expect_lines "text tcp" "close 1000*" "eof"
	run wsu "$BATS_TEST_TMPDIR/a.sock" /echo text:unix recv close:1000 wait
	expect_lines "text unix" "close 1000*" "eof"
}

@test "socket activation: LISTEN_PID of another process is ignored" {
	local s="$BATS_TEST_TMPDIR/gw.sock"
	LISTEN_PID=1 LISTEN_FDS=1 gw_launch 'listening on unix:' "$PORTAL_GW" --unix "$s" /echo=cat
	run grep -c 'listening on' "$BATS_TEST_TMPDIR/gw.log"
	[ "$output" = 1 ]
}

@test "socket activation: a bad LISTEN_FDS or a descriptor that is no listener: exit 1" {
	# LISTEN_PID is the shell's pid, which exec keeps.
	run env LISTEN_FDS=x sh -c 'export LISTEN_PID=$$; exec "$0" "$@"' "$PORTAL_GW" /echo=cat
	expect_status 1
	expect_line_re "socket activation: LISTEN_FDS=x is not a count of descriptors"
	run env LISTEN_FDS=1 sh -c 'export LISTEN_PID=$$; exec "$0" "$@" 3</dev/null' "$PORTAL_GW" /echo=cat
	expect_status 1
	expect_line_re "socket activation: descriptor 3 of LISTEN_FDS is not a stream socket"
	run env LISTEN_FDS=1 sh -c 'export LISTEN_PID=$$; exec "$0" "$@" 3<&-' "$PORTAL_GW" /echo=cat
	expect_status 1
	expect_line_re "descriptor 3 of LISTEN_FDS is not a stream socket"
}

# --- --trust-proxy ------------------------------------------------------

@test "without --trust-proxy, X-Forwarded-* only reach the child as HTTP_X_FORWARDED_*" {
	start_gw /env=env
	run ws -H 'X-Forwarded-For: 203.0.113.7' -H 'X-Forwarded-Proto: https' /env wait
	expect_status 0
	expect_env REMOTE_ADDR 127.0.0.1
	no_env REQUEST_SCHEME
	no_env HTTPS
	expect_env HTTP_X_FORWARDED_FOR 203.0.113.7
	expect_env HTTP_X_FORWARDED_PROTO https
	wait_log 'access #1 127\.0\.0\.1:[0-9]+ GET /env '
}

@test "--trust-proxy: REMOTE_ADDR from the rightmost X-Forwarded-For, HTTPS from X-Forwarded-Proto, in the log too" {
	start_gw --trust-proxy /env=env
	run ws -H 'X-Forwarded-For: 198.51.100.1, 203.0.113.7' -H 'X-Forwarded-Proto: https' /env wait
	expect_status 0
	expect_env REMOTE_ADDR 203.0.113.7
	expect_env REMOTE_HOST 203.0.113.7
	expect_env REMOTE_PORT 0
	expect_env HTTPS on
	expect_env REQUEST_SCHEME https
	expect_env HTTP_X_FORWARDED_FOR '198.51.100.1, 203.0.113.7'
	wait_log 'access #1 127\.0\.0\.1:[0-9]+ GET /env 101 - fwd=203\.0\.113\.7 '
	wait_log '#1 203\.0\.113\.7 connected to /env'

	# IPv6, and of several lines the last one counts.
	run ws -H 'X-Forwarded-For: 192.0.2.9' -H 'X-Forwarded-For: 2001:db8::1' \
		-H 'X-Forwarded-Proto: http' /env wait
	expect_env REMOTE_ADDR 2001:db8::1
	expect_env REQUEST_SCHEME http
	no_env HTTPS
	wait_log 'access #2 127\.0\.0\.1:[0-9]+ GET /env 101 - fwd=2001:db8::1 '

	# No X-Forwarded-For: the peer's own address.
	run ws /env wait
	expect_env REMOTE_ADDR 127.0.0.1
	no_env HTTPS
}

@test "--trust-proxy: a rightmost X-Forwarded-For that is no IP address is ignored" {
	start_gw --trust-proxy /env=env
	local v
	for v in 'unknown' '203.0.113.7, garbage' '1.2.3.4:80' '999.1.1.1' \
		'2001:db8::1 x' '' '203.0.113.7,' '$(reboot)'; do
		run ws -H "X-Forwarded-For: $v" /env wait
		expect_status 0
		expect_env REMOTE_ADDR 127.0.0.1
		expect_env REMOTE_HOST 127.0.0.1
	done
	wait_log "X-Forwarded-For: 'unknown' is not an IP address; using the peer's"
	run ws -H 'X-Forwarded-Proto: ftp' /env wait
	no_env HTTPS
	expect_env REQUEST_SCHEME http
}

@test "--trust-proxy over --unix: the forwarded address replaces 'unix'" {
	local s="$BATS_TEST_TMPDIR/gw.sock"
	gw_launch 'listening on unix:' "$PORTAL_GW" --trust-proxy --unix "$s" /env=env
	run wsu "$s" -H 'X-Forwarded-For: 192.0.2.44' -H 'X-Forwarded-Proto: https' /env wait
	expect_status 0
	expect_env REMOTE_ADDR 192.0.2.44
	expect_env HTTPS on
}

@test "--trust-proxy: SERVER_NAME and SERVER_PORT from X-Forwarded-Host/-Port/-Proto, else Host" {
	start_gw --trust-proxy /env=env
	# nginx's Host $http_host: the host as the client wrote it, the
	# port of the scheme when it wrote none.
	run ws -H 'Host: example.com' -H 'X-Forwarded-Proto: https' /env wait
	expect_status 0
	expect_env SERVER_NAME example.com
	expect_env SERVER_PORT 443
	run ws -H 'Host: example.com:8443' -H 'X-Forwarded-Proto: https' /env wait
	expect_env SERVER_PORT 8443

	# X-Forwarded-Host over Host, its own port or the scheme's (not
	# Host's: that one named the upstream), the last element.
	run ws -H 'Host: 127.0.0.1:8080' -H 'X-Forwarded-Host: evil.example, gw.example' \
		-H 'X-Forwarded-Proto: https' /env wait
	expect_env SERVER_NAME gw.example
	expect_env SERVER_PORT 443
	run ws -H 'Host: 127.0.0.1:8080' -H 'X-Forwarded-Host: [2001:db8::5]:9000' /env wait
	expect_env SERVER_NAME '[2001:db8::5]'
	expect_env SERVER_PORT 9000

	# X-Forwarded-Port over any port of a host; one that is no port
	# number is ignored.
	run ws -H 'Host: 127.0.0.1:8080' -H 'X-Forwarded-Host: gw.example:1' \
		-H 'X-Forwarded-Port: 8443' -H 'X-Forwarded-Proto: https' /env wait
	expect_env SERVER_NAME gw.example
	expect_env SERVER_PORT 8443
	run ws -H 'X-Forwarded-Host: gw.example' -H 'X-Forwarded-Port: 99999' /env wait
	expect_env SERVER_PORT 80
}

@test "without --trust-proxy, X-Forwarded-Host and -Port leave SERVER_NAME and SERVER_PORT to Host" {
	start_gw /env=env
	run ws -H 'X-Forwarded-Host: gw.example:1' -H 'X-Forwarded-Port: 8443' /env wait
	expect_status 0
	expect_env SERVER_NAME 127.0.0.1
	expect_env SERVER_PORT "$PORT"
}

@test "--trust-proxy over --unix: SERVER_PORT is the forwarded one, not 0" {
	local s="$BATS_TEST_TMPDIR/gw.sock"
	gw_launch 'listening on unix:' "$PORTAL_GW" --trust-proxy --unix "$s" /env=env
	run wsu "$s" -H 'Host: example.com' -H 'X-Forwarded-Proto: https' /env wait
	expect_status 0
	expect_env SERVER_NAME example.com
	expect_env SERVER_PORT 443
	run wsu "$s" -H 'Host: example.com' -H 'X-Forwarded-Port: 8080' /env wait
	expect_env SERVER_PORT 8080
}

# --- --protocol ---------------------------------------------------------

@test "--protocol: the first client-offered one in the list is answered and given to the child" {
	start_gw --protocol chat,v2.json /env=env
	run ws -t 300 --http "$(upgrade /env 'Sec-WebSocket-Protocol: x, chat, v2.json')"
	[[ ${lines[0]} == "HTTP/1.1 101"* ]]
	expect_header Sec-WebSocket-Protocol chat
	# The client's order decides, not the list's.
	run ws -t 300 --http "$(upgrade /env 'Sec-WebSocket-Protocol: v2.json, chat')"
	expect_header Sec-WebSocket-Protocol v2.json
	run ws -H 'Sec-WebSocket-Protocol: x, chat' /env wait
	expect_status 0
	expect_env WEBSOCKET_PROTOCOL chat
	expect_env HTTP_SEC_WEBSOCKET_PROTOCOL 'x, chat'
}

@test "--protocol: several Sec-WebSocket-Protocol lines form one list" {
	start_gw --protocol a --protocol b /env=env
	run ws -t 300 --http "$(upgrade /env 'Sec-WebSocket-Protocol: x' 'Sec-WebSocket-Protocol: y, b' 'Sec-WebSocket-Protocol: a')"
	[[ ${lines[0]} == "HTTP/1.1 101"* ]]
	expect_header Sec-WebSocket-Protocol b
}

@test "--protocol: no match or none offered: 101 without the header, no WEBSOCKET_PROTOCOL" {
	start_gw --protocol chat /env=env
	run ws -t 300 --http "$(upgrade /env 'Sec-WebSocket-Protocol: Chat, other')"
	[[ ${lines[0]} == "HTTP/1.1 101"* ]]
	no_header Sec-WebSocket-Protocol
	run ws -t 300 --http "$(upgrade /env)"
	[[ ${lines[0]} == "HTTP/1.1 101"* ]]
	no_header Sec-WebSocket-Protocol
	run ws -H 'Sec-WebSocket-Protocol: other' /env wait
	expect_status 0
	no_env WEBSOCKET_PROTOCOL
	expect_env HTTP_SEC_WEBSOCKET_PROTOCOL other
}

@test "without --protocol the 101 never names a subprotocol" {
	start_gw /env=env
	run ws -t 300 --http "$(upgrade /env 'Sec-WebSocket-Protocol: chat')"
	[[ ${lines[0]} == "HTTP/1.1 101"* ]]
	no_header Sec-WebSocket-Protocol
	run ws -H 'Sec-WebSocket-Protocol: chat' /env wait
	no_env WEBSOCKET_PROTOCOL
}

@test "--protocol: a name that is not a token is a usage error" {
	run_gw_fails --protocol 'a b' /echo=cat
	expect_status 2
	expect_line_re "invalid value 'a b' for --protocol"
	run_gw_fails --protocol 'a,"b"' /echo=cat
	expect_status 2
}

# --- --header, --header-ws, --header-http (as websocketd's) -------------

@test "--header: repeatable, on the 101 and on every error response" {
	start_gw --header 'X-One: 1' --header 'X-Two: two words' --maxforks 1 /echo=cat
	run ws -t 300 --http "$(upgrade /echo)"
	[[ ${lines[0]} == "HTTP/1.1 101"* ]]
	expect_header X-One 1
	expect_header X-Two 'two words'
	run ws -t 2000 --http "$(upgrade /nope)"
	[[ ${lines[0]} == "HTTP/1.1 404"* ]]
	expect_header X-One 1
	expect_header X-Two 'two words'
	run ws -t 2000 --http 'POST /echo HTTP/1.1\r\nHost: x\r\n\r\n'
	[[ ${lines[0]} == "HTTP/1.1 405"* ]]
	expect_header X-One 1
}

@test "--header-ws: only on successful upgrades, next to --protocol's header" {
	start_gw --header-ws 'X-WS: yes' --protocol chat /echo=cat
	run ws -t 300 --http "$(upgrade /echo 'Sec-WebSocket-Protocol: chat')"
	[[ ${lines[0]} == "HTTP/1.1 101"* ]]
	expect_header X-WS yes
	expect_header Sec-WebSocket-Protocol chat
	run ws -t 2000 --http "$(upgrade /nope)"
	[[ ${lines[0]} == "HTTP/1.1 404"* ]]
	no_header X-WS
}

@test "--header-http: on every response but the 101" {
	start_gw --header-http 'Cache-Control: no-store' /echo=cat
	run ws -t 300 --http "$(upgrade /echo)"
	[[ ${lines[0]} == "HTTP/1.1 101"* ]]
	no_header Cache-Control
	run ws -t 2000 --http "$(upgrade /echo 'Sec-WebSocket-Version: 8')"
	[[ ${lines[0]} == "HTTP/1.1 "* ]] && [[ ${lines[0]} != "HTTP/1.1 101"* ]]
	expect_header Cache-Control no-store
}

@test "--header*: a value without ':' is ignored with a warning, as websocketd; a bad name is a usage error" {
	local f
	for f in --header --header-ws --header-http; do
		run_gw_fails "$f" 'Bad Name: v' /echo=cat
		expect_status 2
		expect_line_re "invalid value 'Bad Name: v' for $f"
	done
	start_gw --header 'no colon' --header-http 'X-Kept: 1' /echo=cat
	wait_log "error --header 'no colon' has no ':', ignored"
	run ws /echo text:hi recv close:1000 wait
	expect_status 0
	expect_lines "text hi" "close 1000" "eof"
}
