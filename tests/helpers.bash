# Loaded by every e2e_*.bats: start and stop the gateway, talk to it with
# wsclient, and wait for events with a deadline (never a bare sleep).
#
# PORTAL_GW and WSCLIENT name the binaries; each test gets its own gateway,
# logging to $BATS_TEST_TMPDIR/gw.log, on a free port of 127.0.0.1.

PORTAL_GW="${PORTAL_GW:-$BATS_TEST_DIRNAME/../build/portal-gw}"
WSCLIENT="${WSCLIENT:-$BATS_TEST_DIRNAME/../build/wsclient}"

GW_PID=
GW_STATUS=
PORT=
DEADLINE_MS=5000

now_ms() {
	if [ -n "${EPOCHREALTIME:-}" ]; then
		local t=${EPOCHREALTIME/[.,]/}
		echo $((10#$t / 1000))
	else
		date +%s%3N
	fi
}

# alive PID: the process exists and is not a zombie.
alive() {
	local stat
	if [ -r "/proc/$1/stat" ]; then
		read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
		stat=${stat##*) }
		[ "${stat%% *}" != Z ]
	else
		kill -0 "$1" 2>/dev/null
	fi
}

# children PID [STATE]: the pids whose parent is PID (only those in STATE,
# e.g. Z, if given), one per line.
children() {
	local f stat rest
	for f in /proc/[0-9]*/stat; do
		read -r stat 2>/dev/null <"$f" || continue
		rest=${stat##*) }
		set -- "$1" "${2:-}" $rest
		if [ "$4" = "$1" ] && { [ -z "$2" ] || [ "$3" = "$2" ]; }; then
			f=${f#/proc/}
			echo "${f%/stat}"
		fi
	done
}

# descendants PID: every process below PID, one per line.
descendants() {
	local c
	for c in $(children "$1"); do
		echo "$c"
		descendants "$c"
	done
}

# fd_count PID: how many descriptors PID has open.
fd_count() {
	local n=0 f
	for f in /proc/"$1"/fd/*; do
		if [ -L "$f" ]; then n=$((n + 1)); fi
	done
	echo "$n"
}

# wait_for DESC CMD...: retries CMD every 20 ms until it succeeds; fails
# after 5 s, naming DESC.
wait_for() {
	local desc=$1
	shift
	local end=$(($(now_ms) + DEADLINE_MS))
	until "$@" >/dev/null 2>&1; do
		if [ "$(now_ms)" -ge "$end" ]; then
			echo "timed out after ${DEADLINE_MS} ms waiting for: $desc" >&2
			return 1
		fi
		sleep 0.02
	done
}

# wait_no_zombie: waits for the gateway to have no zombie child. A grandchild
# killed with its group is reparented to the gateway, which reaps such orphans
# in a sweep at most 100 ms later; a child is reaped on its SIGCHLD.
no_zombie() {
	[ -z "$(children "$GW_PID" Z)" ]
}
wait_no_zombie() {
	wait_for "the gateway to reap every child" no_zombie
}

# wait_log REGEX: waits for a line of gw.log matching the extended REGEX.
wait_log() {
	wait_for "a gw.log line matching /$1/" grep -Eq -- "$1" "$BATS_TEST_TMPDIR/gw.log"
}

# gw_launch READY_REGEX CMD...: runs CMD (portal-gw, or a launcher that
# execs it) in the background with only descriptors 0, 1 and 2, as from a
# service manager, not those bats keeps open (bats also waits for fd 3 to
# close); those listed in GW_KEEP_FDS are left open for it, and GW_ULIMIT_N
# sets its ulimit -n. Sets GW_PID and waits for a gw.log line matching
# READY_REGEX; fails if CMD exits first.
gw_launch() {
	local ready=$1 log="$BATS_TEST_TMPDIR/gw.log" end
	shift
	: >"$log"
	(
		for f in /proc/$BASHPID/fd/*; do
			f=${f##*/}
			[ "$f" -gt 2 ] || continue
			case " ${GW_KEEP_FDS:-} " in *" $f "*) continue ;; esac
			eval "exec $f>&-"
		done
		[ -z "${GW_ULIMIT_N:-}" ] || ulimit -n "$GW_ULIMIT_N"
		exec "$@" >"$BATS_TEST_TMPDIR/gw.out" 2>"$log"
	) &
	GW_PID=$!
	end=$(($(now_ms) + DEADLINE_MS))
	until grep -Eq -- "$ready" "$log"; do
		if ! alive "$GW_PID"; then
			GW_STATUS=0
			wait "$GW_PID" || GW_STATUS=$?
			GW_PID=
			echo "portal-gw exited with status $GW_STATUS; gw.log:" >&2
			cat "$log" >&2
			return 1
		fi
		if [ "$(now_ms)" -ge "$end" ]; then
			echo "no gw.log line matching /$ready/ within 5 s:" >&2
			cat "$log" >&2
			return 1
		fi
		sleep 0.02
	done
}

# start_gw ARGS...: starts the gateway on a free port of 127.0.0.1 through
# gw_launch; sets PORT and GW_PID.
start_gw() {
	local line
	gw_launch 'listening on 127\.0\.0\.1:[0-9]+' \
		"$PORTAL_GW" --address 127.0.0.1 --port 0 "$@" || return 1
	line=$(grep -m1 -o 'listening on 127\.0\.0\.1:[0-9][0-9]*' \
		"$BATS_TEST_TMPDIR/gw.log")
	PORT=${line##*:}
}

# wait_gw_exit: waits (5 s) for the gateway to exit; sets GW_STATUS.
wait_gw_exit() {
	if ! wait_for "portal-gw (pid $GW_PID) to exit" eval '! alive "$GW_PID"'; then
		kill -KILL "$GW_PID" 2>/dev/null
		wait "$GW_PID" 2>/dev/null
		GW_PID=
		return 1
	fi
	local rc=0
	wait "$GW_PID" || rc=$?
	GW_STATUS=$rc
	GW_PID=
}

# stop_gw: SIGTERM, then waits for the exit (5 s; then SIGKILL and fails).
stop_gw() {
	[ -n "$GW_PID" ] || return 0
	kill -TERM "$GW_PID" 2>/dev/null || true
	wait_gw_exit
}

# ws ARGS...: runs wsclient against the gateway; use with `run`.
ws() {
	"$WSCLIENT" 127.0.0.1 "$PORT" "$@"
}

# bg_client NAME STEPS...: runs wsclient in the background with its output
# in $BATS_TEST_TMPDIR/NAME.out; sets BG_PID.
bg_client() {
	local name=$1
	shift
	"$WSCLIENT" 127.0.0.1 "$PORT" "$@" >"$BATS_TEST_TMPDIR/$name.out" 2>&1 3>&- &
	BG_PID=$!
}

# bg_result PID NAME: waits for the background client; sets status and
# output (and lines) as `run` would.
bg_result() {
	wait_for "client $2 to finish" eval "! alive $1" || return 1
	status=0
	wait "$1" || status=$?
	output=$(cat "$BATS_TEST_TMPDIR/$2.out")
	mapfile -t lines <<<"$output"
}

# mkscript NAME: writes stdin to an executable $BATS_TEST_TMPDIR/NAME and
# prints its path. The child sees none of the test's environment, so a
# script must have any path it needs written into it.
mkscript() {
	local f="$BATS_TEST_TMPDIR/$1"
	cat >"$f"
	chmod +x "$f"
	echo "$f"
}

# expect_lines LINE...: $output (from `run`) is exactly these lines; a LINE
# ending in '*' only has to start with what comes before the '*'.
expect_lines() {
	local -a got=()
	local l i ok=1
	while IFS= read -r l; do got+=("$l"); done <<<"$output"
	[ -n "$output" ] || got=()
	[ "${#got[@]}" -eq "$#" ] || ok=0
	i=0
	for l in "$@"; do
		if [ "$ok" = 1 ]; then
			if [ "${l: -1}" = "*" ]; then
				[ "${got[$i]:0:${#l}-1}" = "${l%\*}" ] || ok=0
			else
				[ "${got[$i]}" = "$l" ] || ok=0
			fi
		fi
		i=$((i + 1))
	done
	if [ "$ok" = 0 ]; then
		echo "expected lines:" >&2
		printf '  |%s\n' "$@" >&2
		echo "got (status $status):" >&2
		printf '  |%s\n' "${got[@]}" >&2
		return 1
	fi
}

# expect_header NAME VALUE: the response head in $output (from ws --http)
# has the header NAME (any case) with exactly VALUE.
expect_header() {
	local l name v
	for l in "${lines[@]}"; do
		[[ $l == *:* ]] || continue
		name=${l%%:*}
		v=${l#*:}
		v=${v#"${v%%[! ]*}"}
		[ "${name,,}" = "${1,,}" ] && [ "$v" = "$2" ] && return 0
	done
	echo "no header '$1: $2'; output (status $status):" >&2
	printf '  |%s\n' "${lines[@]}" >&2
	return 1
}

# no_header NAME: the response head in $output has no header NAME.
no_header() {
	local l
	for l in "${lines[@]}"; do
		if [[ ${l,,} == "${1,,}:"* ]]; then
			echo "unexpected header: $l" >&2
			return 1
		fi
	done
}

# expect_status N: `run`'s status is N.
expect_status() {
	if [ "$status" -ne "$1" ]; then
		echo "expected status $1, got $status; output:" >&2
		printf '  |%s\n' "${lines[@]}" >&2
		return 1
	fi
}

# expect_first LINE: the first line of $output (a response's status line)
# is exactly LINE.
expect_first() {
	if [ "${lines[0]}" != "$1" ]; then
		echo "expected '$1', got:" >&2
		printf '  |%s\n' "${lines[@]}" >&2
		return 1
	fi
}

# expect_line_re REGEX: some line of $output matches the extended REGEX.
expect_line_re() {
	local l
	for l in "${lines[@]}"; do
		[[ $l =~ $1 ]] && return 0
	done
	echo "no line matches /$1/; output (status $status):" >&2
	printf '  |%s\n' "${lines[@]}" >&2
	return 1
}

teardown() {
	local pids= p
	# The gateway's whole tree is noted first: it would outlive a gateway
	# that fails to end it. Then the test's other background jobs (clients).
	[ -z "$GW_PID" ] || pids=$(descendants "$GW_PID")
	for p in $(jobs -p); do
		[ "$p" = "$GW_PID" ] || [ "$p" = "${BATS_killer_pid:-}" ] ||
			kill -KILL "$p" 2>/dev/null || true
	done
	local bad=
	if [ -n "$GW_PID" ]; then
		if ! stop_gw; then
			echo "teardown: portal-gw did not exit on SIGTERM" >&2
			bad=1
		elif [ "$GW_STATUS" != 0 ]; then
			echo "teardown: portal-gw exited $GW_STATUS after SIGTERM" >&2
			bad=1
		fi
	fi
	for p in $pids; do
		kill -KILL "$p" 2>/dev/null || true
	done
	# A sanitizer report anywhere in the log fails the test.
	if [ -s "$BATS_TEST_TMPDIR/gw.log" ] &&
		grep -qE 'Sanitizer|runtime error:' "$BATS_TEST_TMPDIR/gw.log"; then
		echo "teardown: sanitizer report in gw.log" >&2
		bad=1
	fi
	if { [ -z "${BATS_TEST_COMPLETED:-}" ] || [ -n "$bad" ]; } &&
		[ -s "$BATS_TEST_TMPDIR/gw.log" ]; then
		echo "--- gw.log" >&2
		cat "$BATS_TEST_TMPDIR/gw.log" >&2
	fi
	[ -z "$bad" ]
}

# Tables of cases in one test (tests/e2e_rfc_*.bats).
FAILED=()

# expect_case NAME LINE...: like expect_lines (and status 0), but a failure
# is noted under NAME and the loop goes on; all_cases_passed ends the test.
expect_case() {
	local name=$1
	shift
	if [ "$status" -ne 0 ] || ! expect_lines "$@" 2>"$BATS_TEST_TMPDIR/case.err"; then
		echo "--- case $name (status $status)" >&2
		cat "$BATS_TEST_TMPDIR/case.err" >&2
		[ -s "$BATS_TEST_TMPDIR/case.err" ] || printf '  |%s\n' "${lines[@]}" >&2
		FAILED+=("$name")
	fi
}

all_cases_passed() {
	[ "${#FAILED[@]}" -eq 0 ] || {
		echo "failed cases: ${FAILED[*]}" >&2
		return 1
	}
}

# upgrade PATH [HEADER...]: a valid upgrade request in wsclient's escapes.
upgrade() {
	local r="GET $1 HTTP/1.1\\r\\nHost: 127.0.0.1:$PORT\\r\\nUpgrade: websocket\\r\\n"
	r+="Connection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\n"
	r+="Sec-WebSocket-Version: 13\\r\\n"
	shift
	local h
	for h in "$@"; do r+="$h\\r\\n"; done
	printf '%s\\r\\n' "$r"
}

# A child that echoes, notes its pid, and writes a marker when its stdin
# ends; the paths are written in, as the child gets no test environment.
echo_marker_script() {
	local T=$BATS_TEST_TMPDIR
	mkscript echo-marker.sh <<EOF_
#!/bin/sh
echo \$\$ >"$T/child.pid"
while IFS= read -r line; do
	printf '%s\n' "\$line"
done
echo eof >"$T/eof.marker"
EOF_
}

# env_of NAME: the value of NAME in $output from `ws ... /env` (the child is
# env(1), one "text NAME=VALUE" line per variable); fails if NAME is absent.
env_of() {
	local l
	for l in "${lines[@]}"; do
		if [[ $l == "text $1="* ]]; then
			printf '%s\n' "${l#"text $1="}"
			return 0
		fi
	done
	echo "no $1 in the child's environment:" >&2
	printf '  |%s\n' "${lines[@]}" >&2
	return 1
}

# expect_env NAME VALUE
expect_env() {
	local v
	v=$(env_of "$1") || return 1
	[ "$v" = "$2" ] || {
		echo "$1 is '$v', expected '$2'" >&2
		return 1
	}
}

# no_env NAME: NAME is not in the child's environment.
no_env() {
	if env_of "$1" >/dev/null 2>&1; then
		echo "$1 should not be in the child's environment:" >&2
		printf '  |%s\n' "${lines[@]}" >&2
		return 1
	fi
}

# A child that starts work in a session of its own (out of reach of the
# group kill) and exits at once: the work is orphaned onto the gateway (or
# PID 1 of its namespace). The
# orphan writes its pid (as its own PID namespace numbers it) and runs until
# the test creates $BATS_TEST_TMPDIR/release.
orphan_script() {
	local T=$BATS_TEST_TMPDIR
	mkscript orphan.sh <<EOF_
#!/bin/sh
setsid sh -c 'echo \$\$ >"$T/orphan.pid"
while [ ! -e "$T/release" ]; do sleep 0.02; done' </dev/null >/dev/null 2>&1 &
while [ ! -s "$T/orphan.pid" ]; do sleep 0.01; done
echo started
EOF_
}

# expect_orphan_reaped_by_pid1: with the gateway as PID 1 of a PID namespace
# serving /o=$(orphan_script) and "/ps=ps -eo pid=,ppid=,stat=,comm=", the
# orphan is reparented to it and, once released, reaped: no zombie left.
expect_orphan_reaped_by_pid1() {
	local T=$BATS_TEST_TMPDIR o
	run ws /o wait
	expect_status 0
	expect_lines "text started" "close 1000*" "eof"
	o=$(cat "$T/orphan.pid")
	wait_for "orphan $o to be reparented to PID 1" \
		eval 'ws /ps wait | grep -Eq "^text +$o +1 +[^Z ]+ +sh$"'
	touch "$T/release"
	# Once it exits it must be reaped: gone from the list, not <defunct>.
	wait_for "orphan $o to be reaped inside the namespace" \
		eval '! ws /ps wait | grep -Eq "^text +$o "'
	run ws /ps wait
	expect_status 0
	if [[ $output =~ text\ +[0-9]+\ +[0-9]+\ +Z ]]; then
		echo "zombie in the namespace:" >&2
		printf '  |%s\n' "${lines[@]}" >&2
		return 1
	fi
}
