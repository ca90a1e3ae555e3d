#!/usr/bin/env bats
# Several portal-gw processes on one port (issue 14): --reuseport, and a
# rolling restart that refuses no new connection.

load helpers

# Each instance K logs to $BATS_TEST_TMPDIR/gwK.log; INST[K] is its pid.
INST=()

# inst_start K READY_PORT ARGS...: starts instance K on 127.0.0.1 port
# READY_PORT (0: any; then PORT is set from its log) with ARGS, as gw_launch
# starts the one of helpers.bash, and waits for its "listening on" line.
inst_start() {
	local k=$1 port=$2 log="$BATS_TEST_TMPDIR/gw$1.log" end line
	shift 2
	: >"$log"
	(
		for f in /proc/$BASHPID/fd/*; do
			f=${f##*/}
			[ "$f" -gt 2 ] || continue
			eval "exec $f>&-"
		done
		exec "$PORTAL_GW" --address 127.0.0.1 --port "$port" "$@" \
			>/dev/null 2>"$log"
	) &
	INST[k]=$!
	end=$(($(now_ms) + DEADLINE_MS))
	until grep -Eq 'listening on 127\.0\.0\.1:[0-9]+' "$log"; do
		if ! alive "${INST[k]}" || [ "$(now_ms)" -ge "$end" ]; then
			echo "instance $k did not start; gw$k.log:" >&2
			cat "$log" >&2
			return 1
		fi
		sleep 0.02
	done
	line=$(grep -m1 -o 'listening on 127\.0\.0\.1:[0-9][0-9]*' "$log")
	[ "$port" != 0 ] || PORT=${line##*:}
}

# inst_stop K: SIGTERM to instance K, then waits (5 s) for it to exit 0.
inst_stop() {
	local pid=${INST[$1]} rc=0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	wait_for "instance $1 (pid $pid) to exit" eval '! alive '"$pid" || return 1
	wait "$pid" || rc=$?
	INST[$1]=
	[ "$rc" -eq 0 ] || { echo "instance $1 exited $rc" >&2; return 1; }
}

# sessions K: how many sessions instance K has logged (access lines of 101s).
sessions() {
	grep -c 'access #.* 101 ' "$BATS_TEST_TMPDIR/gw$1.log" || true
}

# Both instances' logs name sessions: the kernel spread the connections.
both_served() {
	[ "$(sessions 1)" -gt 0 ] && [ "$(sessions 2)" -gt 0 ]
}

eval "helpers_teardown() $(declare -f teardown | tail -n +2)"
teardown() {
	local k bad=
	for k in "${!INST[@]}"; do
		inst_stop "$k" || bad=1
	done
	if grep -qE 'Sanitizer|runtime error:' "$BATS_TEST_TMPDIR"/gw[0-9].log 2>/dev/null; then
		echo "teardown: sanitizer report in an instance's log" >&2
		bad=1
	fi
	if [ -z "${BATS_TEST_COMPLETED:-}" ] || [ -n "$bad" ]; then
		for k in 1 2; do
			[ -s "$BATS_TEST_TMPDIR/gw$k.log" ] || continue
			echo "--- gw$k.log" >&2
			tail -n 40 "$BATS_TEST_TMPDIR/gw$k.log" >&2
		done
	fi
	helpers_teardown
	[ -z "$bad" ]
}

@test "two instances with --reuseport share a port and both serve clients" {
	inst_start 1 0 --reuseport /echo=cat
	inst_start 2 "$PORT" --reuseport /echo=cat
	# The kernel picks an instance by a hash of the client's port: connect
	# until both have served one (each client is checked), 5 s at most.
	local end=$(($(now_ms) + DEADLINE_MS)) n=0
	until both_served; do
		[ "$(now_ms)" -lt "$end" ] || {
			echo "after $n clients: $(sessions 1) and $(sessions 2) sessions" >&2
			false
		}
		run ws /echo text:hi recv close wait
		expect_status 0
		expect_lines "text hi" "close*" "eof"
		n=$((n + 1))
		wait_for "the access line of client $n" \
			eval '[ $(($(sessions 1) + $(sessions 2))) -ge '$n' ]'
	done
}

@test "without --reuseport a second instance cannot bind the port: address in use, exit 1" {
	inst_start 1 0 --reuseport /echo=cat
	run timeout 5 "$PORTAL_GW" --address 127.0.0.1 --port "$PORT" /echo=cat
	[ "$status" -eq 1 ]
	expect_line_re "cannot listen on 127\.0\.0\.1 port $PORT: Address already in use \(another process listens on it; --reuseport shares"
	inst_stop 1
	inst_start 1 0 /echo=cat
	run timeout 5 "$PORTAL_GW" --address 127.0.0.1 --port "$PORT" --reuseport /echo=cat
	[ "$status" -eq 1 ]
	expect_line_re "Address already in use \(by a process without --reuseport"
}

# refused PORT: a connection to 127.0.0.1:PORT is refused (nobody listens).
refused() {
	run "$WSCLIENT" -t 1000 --http 127.0.0.1 "$1" 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n'
	[ "$status" -eq 1 ] && [[ $output == *"Connection refused"* ]]
}

@test "--reuseport: SIGTERM closes the listener at once, even with --health" {
	# A child that ignores the drain's signals holds the instance for
	# --closems: meanwhile the port must be closed, not answering 503
	# (which a client would count as refused).
	local s
	s=$(mkscript stubborn.sh <<'EOF_'
#!/bin/sh
trap '' INT TERM HUP
cat
exec sleep 30
EOF_
)
	inst_start 1 0 --reuseport --health /health --closems 3000 "/s=$s"
	bg_client client /s text:hi recv wait
	wait_for "the client's echo" grep -qx "text hi" "$BATS_TEST_TMPDIR/client.out"
	kill -TERM "${INST[1]}"
	wait_for "the client's close 1001" grep -q "close 1001" "$BATS_TEST_TMPDIR/client.out"
	refused "$PORT"
	alive "${INST[1]}"
	grep -q "shutting down" "$BATS_TEST_TMPDIR/gw1.log"
}

@test "without --reuseport, --health keeps the listener while draining (503)" {
	local s
	s=$(mkscript stubborn.sh <<'EOF_'
#!/bin/sh
trap '' INT TERM HUP
cat
exec sleep 30
EOF_
)
	inst_start 1 0 --health /health --closems 3000 "/s=$s"
	bg_client client /s text:hi recv wait
	wait_for "the client's echo" grep -qx "text hi" "$BATS_TEST_TMPDIR/client.out"
	kill -TERM "${INST[1]}"
	wait_for "the client's close 1001" grep -q "close 1001" "$BATS_TEST_TMPDIR/client.out"
	run "$WSCLIENT" -t 1000 --http 127.0.0.1 "$PORT" 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n'
	[[ ${lines[0]} == "HTTP/1.1 503"* ]]
}

# client_loop: connects again and again until the file stop exists, each
# client sending "hi" and waiting for its echo; one line per client in
# loop.out: ok, away (a 101, then Close 1001 from a draining instance
# before the echo) or refused (no 101: connection refused or reset, 503,
# closed unanswered) with wsclient's output.
client_loop() {
	local out rc
	while [ ! -e "$BATS_TEST_TMPDIR/stop" ]; do
		rc=0
		out=$("$WSCLIENT" -t 3000 127.0.0.1 "$PORT" /echo text:hi recv \
			close wait 2>&1) || rc=$?
		if [ "$rc" -eq 0 ] && [[ $out == "text hi"* ]]; then
			echo ok
		elif [[ $out == *"close 1001"* ]]; then
			echo away
		else
			echo "refused (exit $rc): ${out//$'\n'/ | }"
		fi
	done >>"$BATS_TEST_TMPDIR/loop.out"
}

# count WORD: lines of loop.out starting with WORD.
count() {
	grep -c "^$1" "$BATS_TEST_TMPDIR/loop.out" || true
}

# more_ok N: loop.out has N more "ok" lines than it had at the call.
wait_more_ok() {
	local want=$(($(count ok) + $1))
	wait_for "$1 more clients served" eval '[ "$(count ok)" -ge '$want' ]'
}

@test "rolling restart of two --reuseport instances: a client loop sees no refused connection" {
	inst_start 1 0 --reuseport /echo=cat
	inst_start 2 "$PORT" --reuseport /echo=cat
	# LOOPS clients at a time (default 2), ROUNDS restarts of each (1):
	# more of both measure the race of README.md, "Running many".
	local loops=() round k
	for k in $(seq "${LOOPS:-2}"); do
		client_loop 3>&- &
		loops+=($!)
	done
	wait_more_ok 20
	for round in $(seq "${ROUNDS:-1}"); do
		for k in 1 2; do
			inst_stop "$k"
			wait_more_ok 5 # only the other instance serves meanwhile
			inst_start "$k" "$PORT" --reuseport /echo=cat
			wait_more_ok 20
		done
	done
	touch "$BATS_TEST_TMPDIR/stop"
	wait "${loops[@]}"
	echo "clients: $(count ok) ok, $(count away) away, $(count refused) refused" >&3
	grep '^refused' "$BATS_TEST_TMPDIR/loop.out" >&2 || true
	[ "$(count refused)" -eq 0 ]
}

# upgrade_on FD: sends an upgrade request for /echo on the open descriptor
# FD and prints the status line of the answer (5 s at most).
upgrade_on() {
	local line=
	printf 'GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n' >&"$1"
	read -r -t 5 line <&"$1" || true
	echo "${line%$'\r'}"
}

@test "--reuseport SIGTERM: a connection accepted before, its request not yet read, gets its 101" {
	inst_start 1 0 --reuseport /echo=cat
	local pid=${INST[1]} n
	n=$(fd_count "$pid")
	exec 5<>"/dev/tcp/127.0.0.1/$PORT"
	wait_for "the gateway to accept the connection" \
		eval '[ "$(fd_count '"$pid"')" -gt '"$n"' ]'
	kill -TERM "$pid"
	[ "$(upgrade_on 5)" = "HTTP/1.1 101 Switching Protocols" ]
	exec 5>&-
	inst_stop 1
}

# queued_upgrades PID PORT N: stops PID, signals it SIGTERM (its handler
# runs once it goes on), queues N connections on its listener, lets it go
# on, then sends an upgrade request on each; prints how many got a 101.
queued_upgrades() {
	/usr/bin/python3 - "$@" <<'EOF_'
import os, signal, socket, sys
pid, port, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
os.kill(pid, signal.SIGSTOP)
os.kill(pid, signal.SIGTERM)
socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(n)]
os.kill(pid, signal.SIGCONT)
req = (b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
       b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
       b"Sec-WebSocket-Version: 13\r\n\r\n")
ok = 0
for s in socks:
    try:
        s.sendall(req)
        if s.recv(64).startswith(b"HTTP/1.1 101 "):
            ok += 1
    except OSError:
        pass
print(ok)
EOF_
}

@test "--reuseport SIGTERM: connections still queued on the listener get their 101 too" {
	# Several wake-ups' worth of accepts (64 each) wait in the queue when
	# the signal is handled: closing the listener would reset the rest.
	inst_start 1 0 --reuseport /echo=cat
	run queued_upgrades "${INST[1]}" "$PORT" 150
	[ "$output" = 150 ]
	inst_stop 1
}
