#!/bin/sh
# Runs the fuzz targets built by mk/fuzz.mk.
#
#   run.sh fuzz DIR SECONDS TARGET...   libFuzzer: DIR/fuzz_TARGET for
#                                       SECONDS each on DIR/corpus-TARGET, a
#                                       fresh copy of the corpus and crashers;
#                                       FUZZ_JOBS targets at once (default 1)
#   run.sh replay DIR TARGET...         DIR/replay_TARGET over the corpus and
#                                       the crashers, in place
#
# Prints one line per target (executions for fuzz); exits 1 if any target
# crashed, with the crashing input left in DIR/artifacts-TARGET/.
set -u
mode=$1 dir=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
rel=tests/fuzz
fail=0

inputs() { # the committed inputs of target $1
	echo "$here/corpus/$1"
	if [ -d "$here/regress/$1" ]; then echo "$here/regress/$1"; fi
}

count() { # files in directory $1
	find "$1" -type f | wc -l | tr -d ' '
}

stat() { # the value of libFuzzer's final stat $1 in log $2
	sed -n "s/^stat::$1: *//p" "$2" | tail -n 1
}

# fuzz_one TARGET SECONDS: one libFuzzer run; its summary line goes to
# DIR/fuzz_TARGET.result, its status is the run's.
fuzz_one() {
	t=$1 secs=$2
	corpus=$dir/corpus-$t art=$dir/artifacts-$t log=$dir/fuzz_$t.log
	rm -rf "$corpus" "$art"
	mkdir -p "$corpus" "$art"
	for d in $(inputs "$t"); do
		find "$d" -type f ! -name '.*' -exec cp {} "$corpus/" \;
	done
	seeds=$(count "$corpus")
	echo "fuzz: $t for ${secs}s (log: $log)"
	# -timeout: a hang is a finding too; ASan finds leaks.
	# -use_value_profile: comparisons guide the search (lengths,
	# close codes).
	# shellcheck disable=SC2086
	if "$dir/fuzz_$t" -max_total_time="$secs" -timeout=10 \
		-use_value_profile=1 \
		-print_final_stats=1 -artifact_prefix="$art/" \
		${FUZZ_FLAGS:-} "$corpus" >"$log" 2>&1; then
		result=ok rc=0
	else
		result=FAILED rc=1
		tail -n 60 "$log"
		for a in "$art"/*; do
			[ -e "$a" ] || continue
			echo "fuzz: $t: crashing input $a;" \
				"keep it in $rel/regress/$t/"
		done
	fi
	execs=$(stat number_of_executed_units "$log")
	rate=$(stat average_exec_per_sec "$log")
	printf '%-6s %-6s %12s executions (%s/s), corpus %s -> %s\n' \
		"$t" "$result" "${execs:-?}" "${rate:-?}" "$seeds" \
		"$(count "$corpus")" >"$dir/fuzz_$t.result"
	return $rc
}

case $mode in
fuzz)
	secs=$1
	shift
	# FUZZ_JOBS targets run at once (default 1): each libFuzzer run
	# is one process on one core.
	jobs=${FUZZ_JOBS:-1}
	rm -f "$dir"/fuzz_*.result
	while [ $# -gt 0 ]; do
		pids=
		i=0
		while [ $# -gt 0 ] && [ $i -lt "$jobs" ]; do
			fuzz_one "$1" "$secs" &
			pids="$pids $!"
			shift
			i=$((i + 1))
		done
		for p in $pids; do
			wait "$p" || fail=1
		done
	done
	printf '\nfuzz: %ss per target, %s at once\n' "$secs" "$jobs"
	cat "$dir"/fuzz_*.result
	;;
replay)
	for t in "$@"; do
		log=$dir/replay_$t.log
		# shellcheck disable=SC2046
		if "$dir/replay_$t" $(inputs "$t") >"$log" 2>&1; then
			tail -n 1 "$log"
		else
			tail -n 30 "$log"
			echo "fuzz-replay: $t FAILED (log: $log)"
			fail=1
		fi
	done
	;;
*)
	echo "usage: $0 fuzz DIR SECONDS TARGET... | replay DIR TARGET..." >&2
	exit 2
	;;
esac
exit $fail
