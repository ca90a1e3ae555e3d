#!/usr/bin/env bats
# How a child is ended (issue 10): stdin EOF, then SIGINT, SIGTERM and
# SIGKILL to its process group, as websocketd (which skips no step: a
# Python child cleans up on SIGINT but dies at once on SIGTERM).

load helpers

@test "a Python child that cleans up on SIGINT (KeyboardInterrupt, finally) gets to run it" {
	command -v python3 >/dev/null || skip "no python3"
	local T=$BATS_TEST_TMPDIR s
	s=$(mkscript py-child <<EOF_
#!/usr/bin/env python3
import os, sys, time
open("$T/child.pid", "w").write(str(os.getpid()))
print("ready", flush=True)
try:
    while True:  # deaf to stdin's end
        time.sleep(0.02)
except KeyboardInterrupt:
    open("$T/interrupted", "w").write("yes")
finally:
    open("$T/cleaned", "w").write("yes")
EOF_
)
	start_gw --loglevel debug "/py=$s"
	run ws -t 10000 /py recv close:1000 wait
	expect_status 0
	expect_lines "text ready" "close 1000*" "eof"
	wait_log 'access #[0-9]+ .* exit=0$'
	[ -f "$T/interrupted" ]
	[ -f "$T/cleaned" ]
	grep -Eq "child [0-9]+ still running; SIGINT" "$BATS_TEST_TMPDIR/gw.log"
	! grep -q "SIGTERM" "$BATS_TEST_TMPDIR/gw.log"
	wait_no_zombie
}

@test "a sh child with trap ... INT runs its trap, and no SIGTERM follows" {
	local T=$BATS_TEST_TMPDIR s
	s=$(mkscript trap-int.sh <<EOF_
#!/bin/sh
trap 'echo cleaned >"$T/cleaned"; exit 3' INT
echo ready
exec </dev/null
while :; do sleep 0.02; done
EOF_
)
	start_gw --loglevel debug "/s=$s"
	run ws /s recv close:1000 wait
	expect_status 0
	expect_lines "text ready" "close 1000*" "eof"
	wait_log 'access #[0-9]+ .* exit=3$'
	[ "$(cat "$T/cleaned")" = cleaned ]
	! grep -q "SIGTERM" "$BATS_TEST_TMPDIR/gw.log"
}

@test "the signals come in order, EOF, SIGINT, SIGTERM, SIGKILL, each --closems later, and no zombie is left" {
	local T=$BATS_TEST_TMPDIR s
	s=$(mkscript stubborn.sh <<EOF_
#!/bin/sh
trap 'echo int >>"$T/seen"' INT
trap 'echo term >>"$T/seen"' TERM
echo \$\$ >"$T/child.pid"
echo ready
exec </dev/null
while :; do sleep 0.02; done
EOF_
)
	start_gw --loglevel debug --closems 200 "/s=$s"
	local t0
	t0=$(now_ms)
	run ws /s recv close:1000 wait
	expect_status 0
	local pid
	pid=$(cat "$T/child.pid")
	wait_for "child $pid to be killed" eval "! alive $pid"
	local elapsed=$(($(now_ms) - t0))
	echo "killed after ${elapsed} ms" >&2
	# 100 + 200 + 300 ms, and 3 x 200 ms of --closems.
	[ "$elapsed" -ge 1100 ]
	[ "$elapsed" -lt 3000 ]
	[ "$(tr '\n' ' ' <"$T/seen")" = "int term " ]
	wait_log "access #[0-9]+ .*signal=SIGKILL"
	local order
	order=$(grep -Eo "SIGINT|SIGTERM; SIGKILL|SIGTERM$" "$BATS_TEST_TMPDIR/gw.log" | tr '\n' ,)
	[ "$order" = "SIGINT,SIGTERM,SIGTERM; SIGKILL," ]
	wait_no_zombie
}

@test "a background job that ignores SIGINT and SIGTERM outlives its leader, and the group is still SIGKILLed" {
	local T=$BATS_TEST_TMPDIR s job
	# A shell's background job ignores SIGINT, and here SIGTERM too, so
	# the leader dies of SIGINT and leaves it behind in the group.
	s=$(mkscript stray.sh <<EOF_
#!/bin/sh
trap '' TERM
sleep 30 &
echo \$! >"$T/job.pid"
echo up
wait
EOF_
)
	start_gw "/s=$s"
	run ws -t 10000 /s recv close:1000 wait
	expect_status 0
	expect_lines "text up" "close 1000*" "eof"
	wait_log 'access #[0-9]+ .* GET /s 101 .* signal=SIGINT$'
	job=$(cat "$T/job.pid")
	wait_for "the background job $job to be gone" bash -c "! kill -0 $job"
	wait_log "process group [0-9]+ outlived its session and SIGTERM; SIGKILL"
	wait_no_zombie
}
