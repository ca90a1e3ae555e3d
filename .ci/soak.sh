#!/bin/bash
# CI: the short soak (make soak-short: 30 s, 300 concurrent clients, children
# that echo, crash, hang, flood and exit early, clients that vanish, stall and
# churn, the gateway's log read slowly; see mk/soak.mk and tests/soak/soak.c). Extra arguments go to make,
# e.g. .ci/soak.sh O=build/asan OPT='-O1 -g -fsanitize=address,undefined'.
# The driver cleans up the gateway and every child itself; the traps below
# only make sure that an interrupted CI job takes the whole run with it.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v make >/dev/null || need+=(make)
command -v gcc >/dev/null || need+=(gcc)
if ((${#need[@]})); then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Each session holds a socket on each side and three pipes: ask for as many
# descriptors as we may have.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "soak: ulimit -n $(ulimit -n)"

# make and the driver in a process group of their own (job control), so
# that a signal to this script can end exactly them.
set -m
make soak-short "$@" &
pid=$!
on_signal() {
	kill -TERM -- -"$pid" 2>/dev/null || true
	# make exits at once; the driver ends the gateway and every child
	# before it exits itself: wait for the whole group to go.
	for _ in $(seq 1 150); do
		kill -0 -- -"$pid" 2>/dev/null || break
		sleep 0.1
	done
	exit 130
}
trap on_signal INT TERM HUP
trap 'kill -KILL -- -"$pid" 2>/dev/null || true' EXIT
status=0
wait "$pid" || status=$?
exit "$status"
