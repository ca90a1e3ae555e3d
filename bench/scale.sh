#!/usr/bin/env bash
# bench/scale.sh [BUILD_DIR]: several portal-gw processes on one port
# (--reuseport, issue 14). Run by `make bench` after bench/run.sh, or alone
# with `make bench-scale`.
#
# Figures, each run on fresh instances serving `cat` on 127.0.0.1:
#   throughput and churn (the wsbench modes of bench/run.sh, same
#   arguments) with 1 and with 2 instances on the same port, medians over
#   ROUNDS; and SCALE_IDLE_N idle sessions held by SCALE_IDLE_K instances on
#   one port: sessions held, and gateway memory per session (the growth of
#   the instances' VmRSS, summed, over the sessions held); and a rolling
#   restart: churn while each of 2 instances is restarted in turn, ROLL_N
#   times, counting the sessions refused.
#
# Knobs (environment): ROUNDS=3 DUR=2 WARM=0.5 CHURN_P=8 SCALE_IDLE_N=10000
# SCALE_IDLE_K=3 ROLL_N=10 ROLL_P=32. A level the host cannot run (descriptors: the client needs
# one per session, each instance four per session it holds; free pids for
# the children) is skipped with the reason, not failed. Raw lines go to
# $BUILD_DIR/bench/scale.txt, the table to scale.md, the logs next to them.
set -u

O=${1:-build}
GW=$O/portal-gw
WB=$O/wsbench
ROUNDS=${ROUNDS:-3}
DUR=${DUR:-2}
WARM=${WARM:-0.5}
CHURN_P=${CHURN_P:-8}
IDLE_N=${SCALE_IDLE_N:-10000}
IDLE_K=${SCALE_IDLE_K:-3}
OUT=$O/bench
RES=$OUT/scale.txt

for f in "$GW" "$WB"; do
	[ -x "$f" ] || { echo "bench-scale: $f missing (run make bench)" >&2; exit 1; }
done
"$GW" --help 2>&1 | grep -q -- --reuseport ||
	{ echo "bench-scale: $GW has no --reuseport" >&2; exit 1; }
mkdir -p "$OUT"
: >"$RES"
rm -f "$OUT"/scale-*.log

ulimit -n "$(ulimit -Hn)" 2>/dev/null
NOFILE=$(ulimit -n)

PIDS=()
NINST=0
SPORT=

# start_instances K: K instances of portal-gw --reuseport on one port (the
# first binds port 0, the others the port it got). Sets PIDS and SPORT.
start_instances() {
	local k log i
	PIDS=()
	NINST=$1
	SPORT=0
	for k in $(seq "$1"); do
		log=$OUT/scale-$k.log
		: >"$log"
		"$GW" --address 127.0.0.1 --port "$SPORT" --reuseport cat 2>"$log" &
		PIDS+=($!)
		for i in $(seq 100); do
			grep -q 'listening on 127\.0\.0\.1:' "$log" && break
			kill -0 "${PIDS[-1]}" 2>/dev/null || break
			sleep 0.05
		done
		if ! grep -q 'listening on 127\.0\.0\.1:' "$log"; then
			echo "bench-scale: instance $k did not start:" >&2
			cat "$log" >&2
			stop_instances
			return 1
		fi
		[ "$SPORT" != 0 ] || SPORT=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' \
			"$log" | head -1 | cut -d: -f2)
	done
}

# children_of_all: how many children the instances have.
children_of_all() {
	local p n=0
	for p in "${PIDS[@]}"; do
		n=$((n + $(pgrep -c -P "$p")))
	done
	echo "$n"
}

# rss_kib_all: the instances' VmRSS summed, KiB.
rss_kib_all() {
	local p n=0 v
	for p in "${PIDS[@]}"; do
		v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		n=$((n + ${v:-0}))
	done
	echo "$n"
}

# spread: sessions each instance of the last run served (its access lines
# of 101s), "a/b/c".
spread() {
	local k s=
	for k in $(seq "$NINST"); do
		s+=${s:+/}$(grep -c 'access #.* 101 ' "$OUT/scale-$k.log")
	done
	echo "$s"
}

# stop_instances: lets the children finish, then TERM, then KILL after 3 s.
stop_instances() {
	local i p
	for i in $(seq 600); do
		[ "$(children_of_all)" -eq 0 ] && break
		sleep 0.05
	done
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		for i in $(seq 60); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PIDS=()
}

# measure K FIGURE ROUND WSBENCH-ARGS...: one run on K fresh instances.
measure() {
	local k=$1 fig=$2 round=$3 line
	shift 3
	start_instances "$k" || {
		echo "$k $fig $round error=\"no server\"" >>"$RES"
		return
	}
	line=$(timeout 120 "$WB" "$@" --port "$SPORT" -d "$DUR" -w "$WARM" -D 60)
	[ -n "$line" ] || line="error=\"wsbench died or timed out\""
	stop_instances
	line="$line spread=$(spread)"
	echo "$k $fig $round $line" >>"$RES"
	printf '  %s instance(s) %-10s round %s: %s\n' "$k" "$fig" "$round" "$line"
}

# idle_room N K: why N idle sessions over K instances cannot run here, or
# nothing. The kernel's spread is uneven by a few percent: 20% margin.
idle_room() {
	local n=$1 k=$2 per free
	per=$(((n * 12 / 10 + k - 1) / k * 4 + 100))
	if [ $((n + 100)) -gt "$NOFILE" ]; then
		echo "the load client needs $((n + 100)) descriptors; RLIMIT_NOFILE is $NOFILE"
	elif [ "$per" -gt "$NOFILE" ]; then
		echo "each of $k instances needs about $per descriptors (4 per session); RLIMIT_NOFILE is $NOFILE: run more instances"
	fi
	free=$(($(cat /proc/sys/kernel/pid_max) - $(ls -d /proc/[0-9]* | wc -l)))
	if [ "$free" -lt $((n + 1000)) ]; then
		echo "$n children need $n pids; only $free are free (kernel.pid_max)"
	fi
}

# measure_idle N K: N idle sessions held by K instances on one port.
measure_idle() {
	local n=$1 k=$2 why base rss held=0 c last=-1 still=0 hold line
	why=$(idle_room "$n" "$k")
	if [ -n "$why" ]; then
		echo "idle $n over $k: skipped: $why" | tee -a "$RES"
		IDLE_WHY=$why
		return
	fi
	start_instances "$k" || {
		echo "idle $n over $k: error=\"no server\"" >>"$RES"
		return
	}
	base=$(rss_kib_all)
	"$WB" idle -n "$n" -P 64 --hold 30 --port "$SPORT" -p "${PIDS[0]}" \
		-D 300 >"$OUT/scale-idle.out" 2>&1 &
	hold=$!
	# Sampled once every session has its child, or once the count has not
	# moved for 5 s (some failed: wsbench says how many were held).
	while kill -0 "$hold" 2>/dev/null; do
		c=$(children_of_all)
		[ "$c" -ge "$n" ] && break
		if [ "$c" -eq "$last" ]; then
			still=$((still + 1))
			[ "$still" -ge 50 ] && break
		else
			still=0
			last=$c
		fi
		sleep 0.1
	done
	held=$(children_of_all)
	rss=$(rss_kib_all)
	kill "$hold" 2>/dev/null
	wait "$hold" 2>/dev/null
	line="asked=$n instances=$k held=$held rss_base_kib=$base rss_kib=$rss"
	line+=" kib_per_session=$(awk -v a="$rss" -v b="$base" -v h="$held" \
		'BEGIN { if (h > 0) printf "%.2f", (a - b) / h; else print "-" }')"
	stop_instances
	line+=" spread=$(spread)"
	echo "idle $line" >>"$RES"
	echo "  idle: $line"
}

echo "bench-scale: $ROUNDS rounds, $DUR s per run; results in $RES;" \
	"load average $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
	order="1 2"
	[ $((round % 2)) -eq 0 ] && order="2 1"
	for k in $order; do
		measure "$k" throughput "$round" throughput -c 50 -k 8 -s 32
		measure "$k" churn "$round" churn -P "$CHURN_P"
	done
done
IDLE_WHY=
measure_idle "$IDLE_N" "$IDLE_K"

# restart_one K: SIGTERM to instance K (index from 0), waits for its exit,
# starts it again on SPORT.
restart_one() {
	local k=$1 p=${PIDS[$1]} log=$OUT/scale-$(($1 + 1)).log i
	kill -TERM "$p" 2>/dev/null
	for i in $(seq 600); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.01
	done
	wait "$p" 2>/dev/null
	"$GW" --address 127.0.0.1 --port "$SPORT" --reuseport cat 2>>"$log" &
	PIDS[k]=$!
	for i in $(seq 100); do
		[ "$(grep -c 'listening on 127' "$log")" -ge 2 ] && break
		sleep 0.02
	done
}

# Rolling restart: churn (ROLL_P at once) against 2 instances while each is
# restarted in turn, ROLL_N times; every failed session's reason is sorted:
# Close 1001 (a session the draining instance had accepted: it reconnects)
# or refused (reset, refused, 503, closed unanswered).
ROLL_P=${ROLL_P:-32}
ROLL_N=${ROLL_N:-10}
if start_instances 2; then
	WSBENCH_WHY=1 timeout 300 "$WB" churn -P "$ROLL_P" --port "$SPORT" \
		-d $((ROLL_N * 2 + 2)) -w 0.2 -D 120 >"$OUT/scale-roll.out" \
		2>"$OUT/scale-roll.why" &
	roll=$!
	sleep 1
	for r in $(seq "$ROLL_N"); do
		for k in 0 1; do
			restart_one "$k"
			sleep 0.3
		done
	done
	wait "$roll"
	stop_instances
	line="restarts=$((ROLL_N * 2)) parallel=$ROLL_P"
	line+=" sessions_per_s=$(grep -o 'sessions_per_s=[0-9.]*' "$OUT/scale-roll.out" | cut -d= -f2)"
	line+=" away=$(grep -c '^why server sent Close 1001' "$OUT/scale-roll.why")"
	line+=" refused=$(grep '^why ' "$OUT/scale-roll.why" | grep -vc 'Close 1001')"
	echo "roll $line" >>"$RES"
	echo "  rolling restart: $line"
fi

# ---- the table ----------------------------------------------------------

med() {
	grep "^$1 $2 " "$RES" | grep -v 'error=' | grep -o " $3=[0-9.]*" |
		cut -d= -f2 | sort -g | awk '{ a[NR] = $1 } END {
		if (NR == 0) { print "-"; exit }
		if (NR % 2) print a[(NR + 1) / 2]
		else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.2f", a / b; else print "-" }'
}
idle_val() {
	grep '^idle asked=' "$RES" | grep -o " $1=[^ ]*" | cut -d= -f2
}

{
	echo
	echo "machine: $(nproc) CPUs, Linux $(uname -r), RLIMIT_NOFILE $NOFILE;" \
		"portal-gw --reuseport serving cat on 127.0.0.1; one wsbench client;" \
		"$ROUNDS rounds x $DUR s, medians"
	echo
	echo "| figure | 1 instance | 2 instances | ratio |"
	echo "| --- | --- | --- | --- |"
	for f in "throughput|msgs_per_s|throughput 50 conn x 8 in flight, 32 B (msg/s)" \
		"churn|sessions_per_s|churn: connect+echo+close, $CHURN_P at once (sessions/s)"; do
		IFS='|' read -r fig key label <<<"$f"
		a=$(med 1 "$fig" "$key")
		b=$(med 2 "$fig" "$key")
		echo "| $label | $a | $b | $(ratio "$b" "$a") |"
	done
	echo
	roll=$(grep '^roll ' "$RES")
	if [ -n "$roll" ]; then
		v() { echo "$roll" | grep -o " $1=[^ ]*" | cut -d= -f2; }
		echo "rolling restart: $(v restarts) restarts of 2 instances under churn," \
			"$(v parallel) at once, $(v sessions_per_s) sessions/s: $(v refused) refused," \
			"$(v away) closed with 1001 by the instance draining"
		echo
	fi
	if [ -n "$IDLE_WHY" ]; then
		echo "idle: $IDLE_N sessions over $IDLE_K instances not run: $IDLE_WHY"
	elif [ -n "$(idle_val held)" ]; then
		echo "| idle, $IDLE_K instances on one port | value |"
		echo "| --- | --- |"
		echo "| sessions held (of $IDLE_N asked) | $(idle_val held) |"
		echo "| sessions per instance | $(idle_val spread) |"
		echo "| gateway RSS per session, summed over the instances (KiB) | $(idle_val kib_per_session) |"
		echo "| gateway RSS, summed, before and while held (KiB) | $(idle_val rss_base_kib) -> $(idle_val rss_kib) |"
	fi
} | tee "$OUT/scale.md"
