#!/usr/bin/env bats
# The child's life as the client and the operator see it (issue 4, items 3
# to 7): start failures, its stderr, how its end closes the session, how it
# is ended, and that nothing it leaves behind outlives it, even with the
# gateway as PID 1.

load helpers

# --- start failures ---------------------------------------------------

@test "a program removed after start gets HTTP 500, not a 101, and a log line" {
	local s
	s=$(mkscript gone.sh <<'EOF_'
#!/bin/sh
echo hi
EOF_
)
	start_gw "/gone=$s"
	rm "$s"
	run ws /gone wait
	expect_status 1
	expect_lines "status 500"
	wait_log "#[0-9]+ cannot start .*gone\.sh"
	[ -z "$(children "$GW_PID")" ]
}

@test "a program made non-executable after start gets HTTP 500" {
	local s
	s=$(mkscript noexec.sh <<'EOF_'
#!/bin/sh
echo hi
EOF_
)
	start_gw "/noexec=$s"
	chmod -x "$s"
	run ws /noexec wait
	expect_status 1
	expect_lines "status 500"
	wait_log "#[0-9]+ cannot start .*noexec\.sh"
}

@test "a script whose interpreter does not exist gets HTTP 500" {
	# (One missing at start is refused then: e2e_causes.bats.)
	local s i=$BATS_TEST_TMPDIR/mysh
	cp /bin/sh "$i"
	s=$(mkscript badinterp.sh <<EOF_
#!$i
echo hi
EOF_
)
	start_gw "/bad=$s"
	rm "$i"
	run ws /bad wait
	expect_status 1
	expect_lines "status 500"
	wait_log "#[0-9]+ cannot start .*badinterp\.sh: its interpreter $i does not exist"
	# The gateway goes on serving.
	run ws /bad wait
	expect_lines "status 500"
}

# --- stderr -----------------------------------------------------------

# A child that writes a line on stderr, then waits for a message before
# its last stdout line (so the order on the wire is fixed).
stderr_script() {
	mkscript err.sh <<'EOF_'
#!/bin/sh
echo "err-line on stderr" >&2
IFS= read -r x
echo "out-after $x"
EOF_
}

@test "--stderr=send delivers each stderr line to the client, and not to the log" {
	local s
	s=$(stderr_script)
	start_gw --stderr=send "/err=$s"
	run ws /err recv text:go wait
	expect_status 0
	expect_lines "text err-line on stderr" "text out-after go" "close 1000*" "eof"
	wait_log 'access #[0-9]+ .*close=1000'
	run grep 'err-line' "$BATS_TEST_TMPDIR/gw.log"
	expect_status 1
}

@test "--stderr=both delivers each stderr line to the client and to the log" {
	local s
	s=$(stderr_script)
	start_gw --stderr both "/err=$s"
	run ws /err recv text:go wait
	expect_status 0
	expect_lines "text err-line on stderr" "text out-after go" "close 1000*" "eof"
	wait_log '#[0-9]+ stderr: err-line on stderr$'
}

@test "--stderr=log (the default) logs stderr lines and never sends them" {
	local s
	s=$(stderr_script)
	start_gw --stderr=log "/err=$s"
	run ws /err text:go wait
	expect_status 0
	expect_lines "text out-after go" "close 1000*" "eof"
	wait_log '#[0-9]+ stderr: err-line on stderr$'
}

@test "--stderr=ignore drops stderr, even a flood of it, without blocking the child" {
	local s
	s=$(mkscript flood.sh <<'EOF_'
#!/bin/sh
# 2 MB on stderr: far more than a pipe holds.
yes err-flood | head -n 200000 >&2
echo done
EOF_
)
	start_gw --stderr=ignore "/flood=$s"
	run ws /flood wait
	expect_status 0
	expect_lines "text done" "close 1000*" "eof"
	wait_log 'access #[0-9]+ .*close=1000'
	run grep -c 'err-flood' "$BATS_TEST_TMPDIR/gw.log"
	expect_status 1
}

# --- exit status -> Close ---------------------------------------------

@test "all output written just before a failing exit arrives before the Close" {
	local s
	s=$(mkscript burst.sh <<'EOF_'
#!/bin/sh
seq 1 5000
exit 7
EOF_
)
	start_gw "/burst=$s"
	run ws /burst wait
	expect_status 0
	# (diff rather than expect_lines: 5000 lines are slow in bash)
	diff <(printf '%s\n' "$output") <(
		seq 1 5000 | sed 's/^/text /'
		echo "close 1011 exit status 7"
		echo eof
	) >&2
}

@test "a child that closes stdout but keeps running keeps its session until it exits" {
	local T=$BATS_TEST_TMPDIR s
	s=$(mkscript closer.sh <<EOF_
#!/bin/sh
echo ready
exec >&-
# Still running, stdout closed: the session must stay open.
sleep 0.3
IFS= read -r line
echo "\$line" >"$T/got"
exit 4
EOF_
)
	start_gw "/c=$s"
	run ws /c recv text:still-delivered wait
	expect_status 0
	expect_lines "text ready" "close 1011 exit status 4" "eof"
	[ "$(cat "$T/got")" = still-delivered ]
}

@test "a grandchild holding stdout after the child exits: the session still ends with 1000 and the grandchild is gone" {
	local T=$BATS_TEST_TMPDIR s
	s=$(mkscript holder.sh <<EOF_
#!/bin/sh
sleep 30 &
echo \$! >"$T/grandchild.pid"
echo hi
EOF_
)
	start_gw "/h=$s"
	local t0 elapsed
	t0=$(now_ms)
	run ws /h wait
	elapsed=$(($(now_ms) - t0))
	expect_status 0
	expect_lines "text hi" "close 1000*" "eof"
	echo "session ended after ${elapsed} ms" >&2
	[ "$elapsed" -lt 1500 ]
	local g
	g=$(cat "$T/grandchild.pid")
	wait_for "grandchild $g to be gone" eval "! alive $g"
	wait_for "no zombie under the gateway" eval '[ -z "$(children "$GW_PID")" ]'
}

# --- ending children --------------------------------------------------

@test "a pipeline child leaves no process behind after the client closes" {
	start_gw "/p=sh -c 'sleep 600 | cat'"
	local T=$BATS_TEST_TMPDIR cpid pg procs
	"$WSCLIENT" -t 30000 127.0.0.1 "$PORT" /p recv >"$T/client.out" 2>&1 3>&- &
	cpid=$!
	wait_log '#[0-9]+ .* connected to /p, child [0-9]+'
	# The child leads its own process group.
	pg=$(grep -Eo 'connected to /p, child [0-9]+' "$BATS_TEST_TMPDIR/gw.log")
	pg=${pg##* }
	# sh, sleep and cat.
	wait_for "the pipeline to run" eval '[ "$(pgrep -g "$pg" | wc -l)" -ge 3 ]'
	procs=$(pgrep -g "$pg")
	kill -KILL "$cpid"
	wait "$cpid" 2>/dev/null || true
	local p
	for p in $procs; do
		wait_for "process $p of the pipeline to be gone" eval "! alive $p"
	done
	# sleep and cat were orphaned when sh died: the gateway, their
	# subreaper, reaps them within its 100 ms sweep, leaving the group empty.
	wait_for "process group $pg to be empty, zombies included" \
		eval '! pgrep -g "$pg"'
	[ -z "$(children "$GW_PID" Z)" ]
}

@test "a child that ignores SIGINT and SIGTERM is SIGKILLed about 600 ms after the client's Close" {
	local T=$BATS_TEST_TMPDIR s
	s=$(mkscript stubborn.sh <<EOF_
#!/bin/sh
trap '' INT TERM
echo \$\$ >"$T/child.pid"
echo ready
exec sleep 600
EOF_
)
	start_gw "/s=$s"
	local t0
	t0=$(now_ms)
	run ws /s recv close:1000 wait
	expect_status 0
	expect_lines "text ready" "close 1000*" "eof"
	local pid
	pid=$(cat "$T/child.pid")
	wait_for "stubborn child $pid to be killed" eval "! alive $pid"
	local elapsed=$(($(now_ms) - t0))
	echo "killed after ${elapsed} ms" >&2
	[ "$elapsed" -lt 2000 ]
	wait_log "#[0-9]+ child $pid ignored SIGTERM; SIGKILL"
	wait_log "access #[0-9]+ .*signal=SIGKILL"
}

# A child that takes 300 ms to finish after stdin EOF; it writes
# clean.marker when it ends by itself, int.marker on SIGINT, term.marker
# on SIGTERM.
slow_exit_script() {
	local T=$BATS_TEST_TMPDIR
	mkscript slow-exit.sh <<EOF_
#!/bin/sh
trap 'echo int >"$T/int.marker"; exit 130' INT
trap 'echo term >"$T/term.marker"; exit 143' TERM
echo ready
while IFS= read -r line; do :; done
sleep 0.3
echo clean >"$T/clean.marker"
EOF_
}

@test "--closems extends the grace: a child that needs 300 ms after EOF exits on its own" {
	local T=$BATS_TEST_TMPDIR s
	s=$(slow_exit_script)
	start_gw --closems 1000 "/s=$s"
	run ws /s recv close:1000 wait
	expect_status 0
	expect_lines "text ready" "close 1000*" "eof"
	wait_log 'access #[0-9]+ .* exit=0$'
	[ -f "$T/clean.marker" ]
	[ ! -e "$T/int.marker" ]
	[ ! -e "$T/term.marker" ]
}

@test "without --closems, a child still running 100 ms after EOF gets SIGINT" {
	local T=$BATS_TEST_TMPDIR s
	s=$(slow_exit_script)
	start_gw "/s=$s"
	run ws /s recv close:1000 wait
	expect_status 0
	expect_lines "text ready" "close 1000*" "eof"
	wait_log 'access #[0-9]+ .* exit=130$'
	[ -f "$T/int.marker" ]
	[ ! -e "$T/term.marker" ]
	[ ! -e "$T/clean.marker" ]
}

# --- reaping ----------------------------------------------------------

# ppid_of PID: the parent of PID, from /proc.
ppid_of() {
	local stat
	read -r stat <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	set -- $stat
	echo "$2"
}

@test "an orphan of a child lands on the gateway (subreaper) and is reaped: no zombie" {
	local T=$BATS_TEST_TMPDIR s
	s=$(orphan_script)
	start_gw "/o=$s"
	run ws /o wait
	expect_status 0
	expect_lines "text started" "close 1000*" "eof"
	local o
	o=$(cat "$T/orphan.pid")
	wait_for "orphan $o to be reparented to the gateway" \
		eval '[ "$(ppid_of "$o")" = "$GW_PID" ]'
	touch "$T/release"
	wait_for "orphan $o to be gone (reaped, not a zombie)" eval "[ ! -e /proc/$o ]"
	[ -z "$(children "$GW_PID" Z)" ]
}

@test "as PID 1 in a PID namespace, orphans are reaped and SIGTERM still stops it" {
	if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
		skip "unshare --pid --fork --mount-proc is not permitted here"
	fi
	local T=$BATS_TEST_TMPDIR s wrapper real=$PORTAL_GW
	s=$(orphan_script)
	wrapper=$(mkscript pid1.sh <<EOF_
#!/bin/sh
exec unshare --pid --fork --mount-proc "$real" "\$@"
EOF_
)
	PORTAL_GW=$wrapper start_gw "/o=$s" "/ps=ps -eo pid=,ppid=,stat=,comm="
	local inner
	inner=$(children "$GW_PID")
	[ -n "$inner" ]
	run ws /ps wait
	expect_status 0
	expect_line_re '^text +1 +0 +[^ ]+ +portal-gw$'

	expect_orphan_reaped_by_pid1

	# SIGTERM reaches PID 1 (it has handlers) and it exits 0.
	kill -TERM "$inner"
	wait_gw_exit
	[ "$GW_STATUS" -eq 0 ]
}
