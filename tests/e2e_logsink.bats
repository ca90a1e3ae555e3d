#!/usr/bin/env bats
# The gateway never waits on its log: with its stderr on a FIFO that nobody
# reads, or that is read at about 1 KiB/s, while a child floods its own
# stderr, new sessions still get their 101 and echoes in normal time,
# SIGTERM still ends it with exit 0 within --drain-timeout, --metrics counts
# the dropped lines by kind, and the log says how many were dropped once a
# reader keeps up again.

load helpers

# A child that writes 2 MiB of 1000-byte lines to stderr, then echoes.
flood_script() {
	mkscript flood.sh <<'EOF'
#!/bin/sh
head -c 2097152 /dev/zero | tr '\0' x | fold -w 999 >&2
exec cat
EOF
}

# start_gw_fifo READER ARGS...: starts the gateway with its stderr on a FIFO
# that the shell command READER reads (its stdout is gw.log, so wait_log
# works while it reads); sets PORT, GW_PID and READER_PID (READER execs
# what is to be paused with SIGSTOP).
start_gw_fifo() {
	local fifo=$BATS_TEST_TMPDIR/gw.fifo reader=$1 line
	shift
	mkfifo "$fifo"
	sh -c "$reader" <"$fifo" >"$BATS_TEST_TMPDIR/gw.log" 3>&- &
	READER_PID=$!
	gw_launch 'listening on 127\.0\.0\.1:[0-9]+' sh -c 'exec "$@" 2>"$0"' \
		"$fifo" "$PORTAL_GW" --address 127.0.0.1 --port 0 "$@" ||
		return 1
	line=$(grep -m1 -o 'listening on 127\.0\.0\.1:[0-9][0-9]*' \
		"$BATS_TEST_TMPDIR/gw.log")
	PORT=${line##*:}
}

# dropped KIND: --metrics counts dropped lines of KIND (fails while none).
dropped() {
	curl -sS --max-time 2 "http://127.0.0.1:$PORT/metrics" |
		grep -Eq "^portal_gw_log_dropped_total\{kind=\"$1\"\} [1-9]"
}

# echo_in_time PATH: a new session on PATH gets its 101 and the echo of a
# message within 2 s (a gateway stuck on its log would give neither).
echo_in_time() {
	local t0 t1
	t0=$(now_ms)
	run "$WSCLIENT" -t 2000 127.0.0.1 "$PORT" "$1" text:ping recv close
	t1=$(now_ms)
	expect_status 0
	[ "${lines[0]}" = "text ping" ] || {
		printf 'no echo: |%s\n' "${lines[@]}" >&2
		return 1
	}
	[ $((t1 - t0)) -lt 2000 ] || {
		echo "echo took $((t1 - t0)) ms" >&2
		return 1
	}
}

@test "stderr on a FIFO nobody reads: sessions go on, drops are counted, then reported once it is read" {
	local flood
	flood=$(flood_script)
	start_gw_fifo 'exec cat' --metrics /metrics /flood="$flood" /echo=cat
	kill -STOP "$READER_PID"
	bg_client flood /flood text:hi recv close
	wait_for "dropped child stderr lines in --metrics" dropped stderr
	bg_result "$BG_PID" flood
	[ "$status" -eq 0 ] && [ "${lines[0]}" = "text hi" ]
	for _ in 1 2 3; do echo_in_time /echo; done
	echo_in_time /flood
	# The FIFO's file status flags, shared with whoever else holds it,
	# are as they were: no O_NONBLOCK.
	local flags
	flags=$(awk '/^flags:/ { print $2 }' "/proc/$GW_PID/fdinfo/2")
	[ $((8#$flags & 8#4000)) -eq 0 ]
	# A reader again: the backlog goes out, then one line with the count.
	kill -CONT "$READER_PID"
	wait_log 'error [0-9]+ log lines dropped \(stderr [0-9]+'
	# Every line written is whole: none was cut by the sink.
	! grep -vE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z [a-z]+ ' "$BATS_TEST_TMPDIR/gw.log"
}

@test "stderr on a FIFO nobody reads: SIGTERM still drains and exits 0 within --drain-timeout" {
	local flood t0 t1
	flood=$(flood_script)
	start_gw_fifo 'exec cat' --drain-timeout 1500 --metrics /metrics /flood="$flood"
	kill -STOP "$READER_PID"
	bg_client flood /flood text:hi recv wait
	wait_for "dropped child stderr lines in --metrics" dropped stderr
	wait_for "the echo after the flood" grep -qx 'text hi' "$BATS_TEST_TMPDIR/flood.out"
	t0=$(now_ms)
	kill -TERM "$GW_PID"
	wait_gw_exit
	t1=$(now_ms)
	[ "$GW_STATUS" -eq 0 ]
	[ $((t1 - t0)) -lt 3000 ] || {
		echo "exit took $((t1 - t0)) ms" >&2
		return 1
	}
	bg_result "$BG_PID" flood
	[ "${lines[0]}" = "text hi" ]
	[[ "${lines[1]}" == "close 1001"* ]]
	kill -CONT "$READER_PID"
}

@test "stderr read at about 1 KiB/s: sessions go on, SIGTERM exits 0, drops reported once the reader keeps up" {
	local flood T=$BATS_TEST_TMPDIR t0 t1
	flood=$(flood_script)
	# 1 KiB a second until $T/fast exists, then as fast as it comes.
	start_gw_fifo "while [ ! -e '$T/fast' ]; do dd bs=1024 count=1 status=none; sleep 1; done; exec cat" \
		--drain-timeout 1500 --metrics /metrics /flood="$flood" /echo=cat
	bg_client flood /flood text:hi recv close
	wait_for "dropped child stderr lines in --metrics" dropped stderr
	bg_result "$BG_PID" flood
	[ "$status" -eq 0 ] && [ "${lines[0]}" = "text hi" ]
	for _ in 1 2 3; do echo_in_time /echo; done
	touch "$T/fast"
	wait_log 'error [0-9]+ log lines dropped \(stderr [0-9]+'
	t0=$(now_ms)
	stop_gw
	t1=$(now_ms)
	[ "$GW_STATUS" -eq 0 ] && [ $((t1 - t0)) -lt 3000 ]
}

@test "stderr read at about 1 KiB/s: SIGTERM with the backlog unread exits 0 within --drain-timeout" {
	local flood t0 t1
	flood=$(flood_script)
	start_gw_fifo "while :; do dd bs=1024 count=1 status=none; sleep 1; done" \
		--drain-timeout 1500 --metrics /metrics /flood="$flood"
	bg_client flood /flood text:hi recv wait
	wait_for "dropped child stderr lines in --metrics" dropped stderr
	wait_for "the echo after the flood" grep -qx 'text hi' "$BATS_TEST_TMPDIR/flood.out"
	t0=$(now_ms)
	kill -TERM "$GW_PID"
	wait_gw_exit
	t1=$(now_ms)
	[ "$GW_STATUS" -eq 0 ]
	[ $((t1 - t0)) -lt 3000 ]
	bg_result "$BG_PID" flood
	[ "${lines[0]}" = "text hi" ]
	kill "$READER_PID" # it reads on at EOF
	wait "$READER_PID" 2>/dev/null || true
}

@test "stderr on a socket nobody reads: sessions go on, then the drops are reported once it is read" {
	command -v python3 >/dev/null || skip "python3 not installed"
	local flood T=$BATS_TEST_TMPDIR line
	flood=$(flood_script)
	# The gateway's stderr is one end of a socket pair; a reader forked
	# before its exec copies the other end to gw.log, and stops reading
	# while $T/stall exists.
	mkscript sock-launch.py >/dev/null <<EOF_
import os, socket, sys, time
a, b = socket.socketpair()
if os.fork() == 0:
    a.close()
    log = os.open("$T/gw.log", os.O_WRONLY | os.O_APPEND)
    while True:
        if os.path.exists("$T/stall"):
            time.sleep(0.02)
            continue
        d = b.recv(65536)
        if not d:
            os._exit(0)
        os.write(log, d)
b.close()
os.dup2(a.fileno(), 2)
os.execv(sys.argv[1], sys.argv[1:])
EOF_
	gw_launch 'listening on 127\.0\.0\.1:[0-9]+' python3 "$T/sock-launch.py" \
		"$PORTAL_GW" --address 127.0.0.1 --port 0 --metrics /metrics \
		/flood="$flood" /echo=cat
	line=$(grep -m1 -o 'listening on 127\.0\.0\.1:[0-9][0-9]*' "$T/gw.log")
	PORT=${line##*:}
	touch "$T/stall"
	bg_client flood /flood text:hi recv close
	wait_for "dropped child stderr lines in --metrics" dropped stderr
	bg_result "$BG_PID" flood
	[ "$status" -eq 0 ] && [ "${lines[0]}" = "text hi" ]
	for _ in 1 2 3; do echo_in_time /echo; done
	rm "$T/stall"
	wait_log 'error [0-9]+ log lines dropped \(stderr [0-9]+'
}

@test "a child flooding stderr without end: its own echoes and other sessions' still come in time" {
	local endless t0 t1
	endless=$(mkscript endless.sh <<'EOF'
#!/bin/sh
yes 'a line of stderr that never ends, over and over and over again' >&2 &
exec cat
EOF
)
	# The reader keeps all but the child's lines, as fast as they come.
	start_gw_fifo "exec grep --line-buffered -v ' stderr: '" \
		/endless="$endless" /echo=cat
	bg_client endless /endless sleep:1000 text:one recv text:two recv \
		text:three recv close
	for _ in 1 2 3 4 5; do echo_in_time /echo; done
	t0=$(now_ms)
	bg_result "$BG_PID" endless
	t1=$(now_ms)
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "text one" ] && [ "${lines[1]}" = "text two" ] &&
		[ "${lines[2]}" = "text three" ]
	[ $((t1 - t0)) -lt 2000 ]
}

@test "--metrics: portal_gw_log_dropped_total only once lines were dropped" {
	start_gw --metrics /metrics /echo=cat
	run curl -sS --max-time 5 "http://127.0.0.1:$PORT/metrics"
	expect_status 0
	expect_line_re '^# TYPE portal_gw_log_dropped_total counter$'
	! expect_line_re '^portal_gw_log_dropped_total' 2>/dev/null
}
