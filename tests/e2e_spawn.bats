#!/usr/bin/env bats
# How a child is started (issue 5): the event loop forks and goes on, and
# the 101 is sent only once the exec is known to have worked (start
# failures are in e2e_ops_children.bats). The child still gets a clean
# start: default signal dispositions, an empty mask, a group of its own.

load helpers

@test "the child starts with an empty signal mask, default dispositions and its own process group" {
	local cmd
	cmd='awk '\''/^Sig(Blk|Ign|Cgt):/ { print $1, $2 } /^NSpid:/ { p = $2 }'
	cmd+=' /^NSpgid:/ { g = $2 } END { print (p == g ? "own group" : "shared group") }'\'
	cmd+=' /proc/self/status'
	# The gateway itself starts with SIGQUIT and SIGUSR1 ignored, as under
	# nohup or as a shell's background job: the child must not inherit it.
	trap '' QUIT USR1
	start_gw "/sig=$cmd"
	trap - QUIT USR1
	grep -q '^SigIgn:.*[1-9a-f]' "/proc/$GW_PID/status"
	run ws /sig wait
	expect_status 0
	# Signals 1 to 31 (the low 31 bits): 32 and up belong to libc (glibc
	# keeps 32 and 33 for itself, and its sigaction refuses them), and
	# whatever started the tests may have set them.
	expect_lines "text SigBlk: 0000000000000000" "text SigIgn: *" \
		"text SigCgt: *" "text own group" "close 1000*" "eof"
	expect_line_re '^text SigIgn: [0-9a-f]{8}[08]0{7}$'
	expect_line_re '^text SigCgt: [0-9a-f]{8}[08]0{7}$'
}

@test "a message sent in the same packet as the upgrade request reaches the child once it runs" {
	start_gw /echo=cat
	local req
	req="$(upgrade /echo)"
	exec 4<>"/dev/tcp/127.0.0.1/$PORT"
	# The request head, then a masked text frame "hi" (mask key 0), then a
	# Close 1000 (masked), all in one write.
	printf "$req"'\x81\x82\x00\x00\x00\x00hi\x88\x82\x00\x00\x00\x00\x03\xe8' >&4
	local line got=
	while IFS= read -r -t 5 -u 4 line; do
		[ "$line" != $'\r' ] || break
		got+="$line|"
	done
	[[ $got == "HTTP/1.1 101 "* ]]
	# The echo: an unmasked text frame "hi", then the Close echoed.
	local frame
	LC_ALL=C IFS= read -r -t 5 -N 4 -u 4 frame
	[ "${frame:2}" = "hi" ]
	[ "$(printf '%s' "${frame:0:2}" | od -An -tx1 | tr -d ' ')" = "8102" ]
	LC_ALL=C IFS= read -r -t 5 -N 4 -u 4 frame
	[ "$(printf '%s' "$frame" | od -An -tx1 | tr -d ' ')" = "880203e8" ]
	exec 4<&-
	wait_log 'access #[0-9]+ .* in=1/2B out=1/2B close=1000'
}

@test "many sessions started back to back all get their 101 and their echo" {
	start_gw /echo=cat
	local i pids=() T=$BATS_TEST_TMPDIR
	for i in $(seq 20); do
		"$WSCLIENT" 127.0.0.1 "$PORT" /echo "text:m$i" recv close:1000 recv \
			>"$T/c$i.out" 2>&1 3>&- &
		pids+=($!)
	done
	for i in $(seq 20); do
		wait "${pids[$((i - 1))]}"
		output=$(cat "$T/c$i.out")
		expect_lines "text m$i" "close 1000*"
	done
	wait_for "20 sessions logged" \
		eval '[ "$(grep -c "access #.*close=1000 exit=0" "$T/gw.log")" -eq 20 ]'
	[ -z "$(children "$GW_PID")" ]
}

@test "the gateway raises its descriptor limit to the hard limit; its children get the original one" {
	local hard
	hard=$(ulimit -Hn)
	[ "$hard" != unlimited ] && [ "$hard" -gt 256 ] || skip "hard limit $hard"
	ulimit -Sn 256
	start_gw "/lim=awk '/^Max open files/ { print \$4, \$5 }' /proc/self/limits"
	ulimit -Sn "$hard"
	run awk '/^Max open files/ { print $4, $5 }' "/proc/$GW_PID/limits"
	[ "$output" = "$hard $hard" ]
	run ws /lim wait
	expect_status 0
	expect_lines "text 256 $hard" "close 1000*" "eof"
}

@test "the child's stdin, stdout and stderr are blocking, though the gateway's ends are not" {
	# fdinfo flags are octal; O_NONBLOCK is 04000.
	start_gw "/blk=awk '/^flags/ { d = substr(\$2, length(\$2) - 3, 1); print (d >= 4 ? \"non-blocking\" : \"blocking\") }' /proc/self/fdinfo/0 /proc/self/fdinfo/1 /proc/self/fdinfo/2"
	run ws /blk wait
	expect_status 0
	expect_lines "text blocking" "text blocking" "text blocking" "close 1000*" "eof"
}

# --- while the exec is pending ----------------------------------------
# tests/preload/slowexec.c holds the exec of a program named slow* until
# a gate file exists: the session stays in its wait for the exec.

slow_gw() {
	local so=$BATS_TEST_TMPDIR/slowexec.so
	"${CC:-cc}" -shared -fPIC -o "$so" "$BATS_TEST_DIRNAME/preload/slowexec.c" -ldl ||
		skip "cannot build an LD_PRELOAD library"
	SLOW=$(mkscript slow.sh <<'EOF_'
#!/bin/sh
exec cat
EOF_
)
	GATE=$BATS_TEST_TMPDIR/gate
	# An ASan build wants its runtime first; the preload is loaded before.
	LD_PRELOAD=$so SLOWEXEC_GATE=$GATE \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
		start_gw "$@" "/slow=$SLOW"
}

@test "SIGTERM while a child's exec is pending: 503 to that client, the child ended, exit 0" {
	slow_gw
	local T=$BATS_TEST_TMPDIR cpid
	"$WSCLIENT" 127.0.0.1 "$PORT" /slow text:hi recv >"$T/client.out" 2>&1 3>&- &
	cpid=$!
	wait_for "the child to be forked" eval '[ -n "$(children "$GW_PID")" ]'
	kill -TERM "$GW_PID"
	wait_for "the client to finish" eval "! alive $cpid"
	run cat "$T/client.out"
	expect_lines "status 503"
	wait_gw_exit
	[ "$GW_STATUS" = 0 ]
	grep -q '503 "shutting down"' "$T/gw.log"
}

@test "an exec not done within --handshake-timeout: 503, a log line, the child killed and reaped" {
	slow_gw --handshake-timeout 300
	run ws /slow wait
	expect_status 1
	expect_lines "status 503"
	wait_log "#[0-9]+ .*slow\.sh: exec not done in time"
	wait_for "no child left" eval '[ -z "$(children "$GW_PID")" ]'
	# The gateway goes on serving: the next exec is let through.
	touch "$GATE"
	run ws /slow text:after recv close:1000 recv
	expect_status 0
	expect_lines "text after" "close 1000*"
}

@test "a client that leaves while its child's exec is pending: the session ends cleanly once it runs" {
	slow_gw
	local T=$BATS_TEST_TMPDIR cpid before
	before=$(fd_count "$GW_PID")
	"$WSCLIENT" 127.0.0.1 "$PORT" /slow text:hi recv >"$T/client.out" 2>&1 3>&- &
	cpid=$!
	wait_for "the child to be forked" eval '[ -n "$(children "$GW_PID")" ]'
	kill -KILL "$cpid"
	touch "$GATE"
	wait_log "access #1 .*/slow .*exit=0"
	wait_for "no child left" eval '[ -z "$(children "$GW_PID")" ]'
	wait_for "portal-gw to be back to $before descriptors" \
		eval '[ "$(fd_count "$GW_PID")" -eq "$before" ]'

}

@test "seven execs held at once: other sessions are still served, and all seven open once the execs go on" {
	# More held execs than portal-gw has spawner threads (4): the rest
	# are forked from the event loop, which is never the one waiting.
	slow_gw /echo=cat
	local i pids=()
	for i in 1 2 3 4 5 6 7; do
		bg_client "slow$i" -t 20000 /slow "text:hi $i" recv close:1000 recv
		pids+=("$BG_PID")
	done
	wait_for "seven children waiting to exec" \
		eval '[ "$(children "$GW_PID" | wc -l)" -ge 7 ]'
	# The loop and the four spawner threads, each held by an exec.
	grep -qx 'Threads:[[:space:]]*5' "/proc/$GW_PID/status"
	run ws /echo text:meanwhile recv close:1000 recv
	expect_status 0
	expect_lines "text meanwhile" "close 1000*"
	touch "$GATE"
	for i in 1 2 3 4 5 6 7; do
		bg_result "${pids[i - 1]}" "slow$i"
		expect_status 0
		expect_lines "text hi $i" "close 1000*"
	done
	wait_for "no child left" eval '[ -z "$(children "$GW_PID")" ]'
}

@test "the user's process limit reached: 503 with Retry-After, and new sessions start again once a child ends" {
	[ "$(id -u)" = 0 ] || skip "needs root to run portal-gw as another user"
	command -v setpriv >/dev/null && command -v prlimit >/dev/null ||
		skip "needs setpriv and prlimit (util-linux)"
	# RLIMIT_NPROC counts a user's processes and threads, but never
	# root's: portal-gw runs as an unused uid allowed 3, which are
	# portal-gw, its spawner thread and the first session's child.
	local d
	d=$(mktemp -d)
	chmod 755 "$d"
	cp "$PORTAL_GW" "$d/portal-gw"
	gw_launch 'listening on 127\.0\.0\.1:[0-9]+' prlimit --nproc=3:3 -- \
		setpriv --reuid=61234 --regid=61234 --clear-groups -- \
		"$d/portal-gw" --address 127.0.0.1 --port 0 /echo=cat
	PORT=$(grep -m1 -o 'listening on 127\.0\.0\.1:[0-9]*' "$BATS_TEST_TMPDIR/gw.log")
	PORT=${PORT##*:}
	bg_client first -t 10000 /echo text:one recv wait
	local first=$BG_PID
	wait_for "the first echo" grep -qx "text one" "$BATS_TEST_TMPDIR/first.out"
	run ws -t 3000 --http "$(upgrade /echo)"
	expect_status 0
	expect_first "HTTP/1.1 503 Service Unavailable"
	expect_line_re '^[Rr]etry-[Aa]fter: *1$'
	wait_log 'cannot start .*cat: Resource temporarily unavailable'
	kill -KILL "$first"
	wait "$first" 2>/dev/null || true
	wait_log 'access #1 .*close='
	wait_for "its child to be reaped" eval '[ -z "$(children "$GW_PID")" ]'
	run ws /echo text:three recv close:1000 recv
	expect_status 0
	expect_lines "text three" "close 1000*"
	rm -r "$d"
}

@test "a child killed before it can tell its pid: the session ends with 1011 and the gateway serves on" {
	local so=$BATS_TEST_TMPDIR/diebeforepid.so arm=$BATS_TEST_TMPDIR/arm
	"${CC:-cc}" -shared -fPIC -o "$so" "$BATS_TEST_DIRNAME/preload/diebeforepid.c" -ldl ||
		skip "cannot build an LD_PRELOAD library"
	touch "$arm"
	LD_PRELOAD=$so DIEBEFOREPID_ARM=$arm \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
		start_gw /echo=cat
	# Without the spawner thread writing the pid in its place, the
	# gateway would wait for it for ever.
	run ws -t 5000 /echo text:lost recv
	expect_status 0
	expect_lines "close 1011 killed by signal SIGKILL"
	wait_log 'access #1 .*signal=SIGKILL'
	wait_for "no child left" eval '[ -z "$(children "$GW_PID")" ]'
	rm "$arm"
	run ws /echo text:after recv close:1000 recv
	expect_status 0
	expect_lines "text after" "close 1000*"
}

# null_fds: how many of the gateway's descriptors above 2 are /dev/null.
null_fds() {
	local f n=0
	for f in /proc/"$GW_PID"/fd/*; do
		[ "${f##*/}" -gt 2 ] && [ "$(readlink "$f")" = /dev/null ] && n=$((n + 1))
	done
	echo "$n"
}

@test "with a descriptor limit of 1024 or more, 17 low descriptors are kept on /dev/null for spawning; under it, none" {
	GW_ULIMIT_N=1024 start_gw /echo=cat
	[ "$(null_fds)" -eq 17 ]
	run ws /echo text:hi recv close:1000 recv
	expect_lines "text hi" "close 1000*"
	stop_gw
	GW_ULIMIT_N=1023 start_gw /echo=cat
	[ "$(null_fds)" -eq 0 ]
	run ws /echo text:hi recv close:1000 recv
	expect_lines "text hi" "close 1000*"
}
