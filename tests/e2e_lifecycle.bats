#!/usr/bin/env bats
# How sessions end, and what they leave behind: no child, no zombie, no
# descriptor; and how the gateway itself ends.

load helpers

@test "a client Close is echoed with its code, and the child sees EOF and is gone" {
	local s
	s=$(echo_marker_script)
	start_gw "/s=$s"
	run ws /s text:hi recv close:4001:bye wait
	expect_status 0
	expect_lines "text hi" "close 4001*" "eof"
	wait_for "the child to see EOF on stdin" test -f "$BATS_TEST_TMPDIR/eof.marker"
	local pid
	pid=$(cat "$BATS_TEST_TMPDIR/child.pid")
	wait_for "child $pid to be gone" eval "! alive $pid"
}

@test "a client that vanishes without Close: the child sees EOF and is gone" {
	local s
	s=$(echo_marker_script)
	start_gw "/s=$s"
	run ws /s text:hi recv quit
	expect_status 0
	expect_lines "text hi"
	wait_for "the child to see EOF on stdin" test -f "$BATS_TEST_TMPDIR/eof.marker"
	local pid
	pid=$(cat "$BATS_TEST_TMPDIR/child.pid")
	wait_for "child $pid to be gone" eval "! alive $pid"
}

@test "a child that ignores SIGTERM is killed, with its process group" {
	local T=$BATS_TEST_TMPDIR s
	s=$(mkscript stubborn.sh <<EOF_
#!/bin/sh
trap '' INT TERM
echo \$\$ >"$T/child.pid"
sleep 1000 >/dev/null 2>&1 &
echo \$! >"$T/grandchild.pid"
echo ready
wait
EOF_
)
	start_gw "/s=$s"
	run ws /s recv close:1000 wait
	expect_status 0
	expect_lines "text ready" "close 1000*" "eof"
	local pid gpid
	pid=$(cat "$T/child.pid")
	gpid=$(cat "$T/grandchild.pid")
	wait_for "stubborn child $pid to be killed" eval "! alive $pid"
	wait_for "its grandchild $gpid to be killed" eval "! alive $gpid"
}

@test "no zombies are left once all sessions end" {
	local s
	s=$(mkscript quick.sh <<'EOF_'
#!/bin/sh
echo quick
EOF_
)
	start_gw /echo=cat "/quick=$s"
	run ws /echo text:a recv close:1000 wait
	run ws /quick wait
	run ws /echo text:b recv quit
	run ws /echo text:c shut wait
	wait_for "every child of portal-gw to be reaped (no <defunct>)" \
		eval '[ -z "$(children "$GW_PID")" ]' || {
		ps -o pid,stat,args --ppid "$GW_PID" >&2 || true
		false
	}
}

@test "no descriptors leak across sessions" {
	local s
	s=$(mkscript quick.sh <<'EOF_'
#!/bin/sh
echo quick
EOF_
)
	start_gw /echo=cat "/quick=$s"
	# One session first, so that anything opened once on first use counts
	# as "before".
	run ws /echo text:warm recv close:1000 wait
	wait_for "the first session's child to be reaped" eval '[ -z "$(children "$GW_PID")" ]'
	local before
	before=$(fd_count "$GW_PID")
	run ws /echo text:a recv close:1000 wait
	run ws /quick wait
	run ws /echo text:b recv quit
	run ws /echo 'text:\xff' wait
	run ws --http -t 300 'GET /nope HTTP/1.1\r\nHost: x\r\n\r\n'
	wait_for "every child of portal-gw to be reaped" eval '[ -z "$(children "$GW_PID")" ]'
	wait_for "portal-gw to be back to $before descriptors" \
		eval '[ "$(fd_count "$GW_PID")" -eq "$before" ]' || {
		ls -l "/proc/$GW_PID/fd" >&2
		false
	}
}

@test "a child's only descriptors are 0, 1 and 2" {
	start_gw "/fds=ls /proc/self/fd"
	run ws /fds wait
	expect_status 0
	# 3 is the directory ls itself opens to list /proc/self/fd.
	expect_lines "text 0" "text 1" "text 2" "text 3" "close 1000*" "eof"
}

@test "descriptors the gateway inherits do not reach the child" {
	# A parent that leaks a descriptor (here 7) to portal-gw must not leak
	# it on to every child: DESIGN.md, "The child inherits no descriptor
	# but 0, 1, 2".
	exec 7</dev/null
	GW_KEEP_FDS=7 start_gw "/fds=ls /proc/self/fd"
	exec 7<&-
	[ -e "/proc/$GW_PID/fd/7" ]
	run ws /fds wait
	expect_status 0
	expect_lines "text 0" "text 1" "text 2" "text 3" "close 1000*" "eof"
}

@test "SIGTERM to the gateway sends close 1001 to a client and exits 0" {
	start_gw /echo=cat
	bg_client client /echo text:hi recv wait
	wait_for "the client's first echo" grep -qx "text hi" "$BATS_TEST_TMPDIR/client.out"
	kill -TERM "$GW_PID"
	bg_result "$BG_PID" client
	expect_status 0
	expect_lines "text hi" "close 1001*" "eof"
	wait_gw_exit
	[ "$GW_STATUS" -eq 0 ]
}

@test "a client that sends Close and then resets the connection ends its session once" {
	# Regression: the session used to be ended twice (logged twice, freed
	# twice) when the reset arrived while the child was still running.
	start_gw '/echo=sh -c "cat; exec sleep 600"'
	run ws /echo text:hello recv close:1001 sleep:50 reset
	expect_status 0
	wait_log 'access #1 '
	run ws /echo text:again recv close:1000 wait
	expect_lines "text again" "close 1000" "eof"
	[ "$(grep -c 'access #1 ' "$BATS_TEST_TMPDIR/gw.log")" -eq 1 ]
}

@test "a client that hangs up while its slow child holds its data is noticed" {
	# The child reads nothing, so portal-gw stops reading the socket; the
	# client's FIN must still end the session and the child. (The second
	# message is small enough for the kernel's buffers: a FIN queued behind
	# data the receiver never reads cannot arrive at all.)
	start_gw '/slow=sh -c "exec sleep 600"'
	run ws /slow textn:200000 textn:30000 sleep:100 quit
	wait_log 'access #1 '
	run ws /slow close:1000 wait
	expect_lines "close 1000" "eof"
}
