# Shell helpers shared by run.sh, nginx.sh and redis.sh (sourced).

# now_ms: milliseconds of the wall clock.
now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((10#$t / 1000))
}

# alive PID: the process exists and is not a zombie.
alive() {
	local stat
	[ -r "/proc/$1/stat" ] || return 1
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# For a script with checks of its own (nginx.sh, redis.sh), named $SUITE:
# note PASS|FAIL WHAT counts and prints one; summary prints the counts and
# exits, 1 if any failed.
pass=0
fail=0
note() {
	echo "$1 $SUITE: $2"
	if [ "$1" = PASS ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}
summary() {
	echo "$SUITE: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}

# stop PID: SIGTERM, 5 s, then SIGKILL; returns the exit status (or 137).
stop() {
	local end=$(($(now_ms) + 5000))
	kill -TERM "$1" 2>/dev/null
	while alive "$1" && [ "$(now_ms)" -lt "$end" ]; do sleep 0.02; done
	alive "$1" && kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# wait_until DESC CMD...: retries CMD every 20 ms for DEADLINE_MS
# (set by the caller).
wait_until() {
	local desc=$1 end=$(($(now_ms) + DEADLINE_MS))
	shift
	until "$@" >/dev/null 2>&1; do
		if [ "$(now_ms)" -ge "$end" ]; then
			echo "# timed out waiting for $desc" >&2
			return 1
		fi
		sleep 0.02
	done
}

# free_port: a TCP port of 127.0.0.1 free now ($PY: a python3).
free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_open() { # port_open PORT
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
