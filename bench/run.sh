#!/usr/bin/env bash
# bench/run.sh [BUILD_DIR]: portal-gw against websocketd on the same load.
#
# Both serve `cat` on 127.0.0.1. Every measurement gets a fresh server, runs
# one wsbench mode, waits for the server's children to exit and stops it.
# Each round runs every figure on both servers, alternating which goes
# first; the table shows the median of the rounds, portal-gw/websocketd,
# and the target from issue 5. Installs nothing: a missing websocketd or
# musl-gcc is reported and its column left empty.
#
# Knobs (environment):
#   ROUNDS=3      rounds per figure
#   DUR=2         measured seconds per run (WARM=0.5 s before)
#   IDLE_N=10000  idle sessions asked for (capped by RLIMIT_NOFILE)
#   CHURN_P=8     concurrent sessions in churn (also the spawn floor's -P)
#   BUSY_N=2000   open sessions held beside the churn_busy figure's churn
#   ONLY="..."    only these figures: throughput latency_busy latency
#                 large64 large1m churn churn_busy idle floors
#   WEBSOCKETD=path  the websocketd to compare with (default: from PATH)
# Raw results: $BUILD_DIR/bench/results.txt, the table in table.md, server
# logs next to them.
set -u

O=${1:-build}
GW=$O/portal-gw
WB=$O/wsbench
ROUNDS=${ROUNDS:-3}
DUR=${DUR:-2}
WARM=${WARM:-0.5}
IDLE_N=${IDLE_N:-10000}
CHURN_P=${CHURN_P:-8}
BUSY_N=${BUSY_N:-2000}
ONLY=${ONLY:-throughput latency_busy latency large64 large1m churn churn_busy idle floors}
OUT=$O/bench
RES=$OUT/results.txt

for f in "$GW" "$WB"; do
	[ -x "$f" ] || { echo "bench: $f missing (run make bench)" >&2; exit 1; }
done
mkdir -p "$OUT"
: >"$RES"
rm -f "$OUT"/*.log

WSD=${WEBSOCKETD:-$(command -v websocketd || true)}
IMPLS="portal-gw"
if [ -n "$WSD" ] && [ -x "$WSD" ]; then
	IMPLS="portal-gw websocketd"
else
	WSD=""
	echo "bench: websocketd not found (Debian/Ubuntu: apt-get install" \
		"websocketd; or set WEBSOCKETD=path); its column stays empty"
fi

# Idle sessions need descriptors: the gateway holds 4 per session (socket,
# child's stdin, stdout, stderr), the client 1.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
NOFILE=$(ulimit -n)
IDLE_CAP=$((NOFILE * 9 / 10 / 4)) # a margin for the servers' own descriptors
IDLE_NOTE=""
if [ "$IDLE_N" -gt "$IDLE_CAP" ]; then
	IDLE_NOTE="RLIMIT_NOFILE hard limit is $NOFILE: at 4 descriptors per session the gateway can hold ~$IDLE_CAP; $IDLE_N needs ulimit -n >= $((IDLE_N * 4 + 100)) (root, LimitNOFILE=, docker --ulimit nofile=)"
	IDLE_N=$IDLE_CAP
fi

want() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }

# start_server IMPL: sets SPID and SPORT, or returns 1.
start_server() {
	local log=$OUT/current.log i
	: >"$log"
	SPORT=""
	case $1 in
	portal-gw) "$GW" --address 127.0.0.1 --port 0 cat 2>"$log" & ;;
	websocketd)
		SPORT=$("$WB" freeport)
		"$WSD" --port="$SPORT" --address=127.0.0.1 cat >"$log" 2>&1 &
		;;
	relay) "$WB" relay --port 0 2>"$log" & ;;
	esac
	SPID=$!
	for i in $(seq 100); do
		if [ -z "$SPORT" ]; then
			SPORT=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$log" |
				head -1 | cut -d: -f2)
		elif grep -q 'Starting WebSocket server' "$log"; then
			return 0
		fi
		[ -n "$SPORT" ] && [ "$1" != websocketd ] && return 0
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.05
	done
	echo "bench: $1 did not start; see $OUT/$1.log" >&2
	cat "$log" >>"$OUT/$1.log"
	return 1
}

# stop_server IMPL: lets the children finish (sessions end when wsbench
# closes its sockets), then TERM, then KILL after 3 s.
stop_server() {
	local i
	for i in $(seq 200); do
		[ -z "$(pgrep -P "$SPID")" ] && break
		sleep 0.05
	done
	kill -TERM "$SPID" 2>/dev/null
	for i in $(seq 60); do
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	cat "$OUT/current.log" >>"$OUT/$1.log"
}

# measure IMPL FIGURE ROUND WSBENCH-ARGS...: one run on a fresh server.
measure() {
	local impl=$1 fig=$2 round=$3 line deadline
	shift 3
	start_server "$impl" || {
		echo "$impl $fig $round error=\"no server\"" >>"$RES"
		return
	}
	deadline=$(awk -v d="$DUR" -v m="$1" 'BEGIN { print d + (m == "idle" ? 120 : 40) }')
	line=$(timeout $((${deadline%.*} + 60)) "$WB" "$@" --port "$SPORT" \
		-p "$SPID" -d "$DUR" -w "$WARM" -D "$deadline")
	[ -n "$line" ] || line="error=\"wsbench died or timed out\""
	stop_server "$impl"
	echo "$impl $fig $round $line" >>"$RES"
	printf '  %-10s %-14s round %s: %s\n' "$impl" "$fig" "$round" "$line"
}

# measure_busy IMPL ROUND: churn while an idle client holds BUSY_N sessions
# open, so that every spawn happens beside a large descriptor table.
measure_busy() {
	local impl=$1 round=$2 hold line n=0 i
	start_server "$impl" || {
		echo "$impl churn_busy $round error=\"no server\"" >>"$RES"
		return
	}
	"$WB" idle -n "$BUSY_N" -P 64 --hold 600 --port "$SPORT" -p "$SPID" \
		-D 700 >/dev/null 2>&1 &
	hold=$!
	for i in $(seq 600); do
		n=$(pgrep -c -P "$SPID")
		[ "$n" -ge "$BUSY_N" ] && break
		sleep 0.1
	done
	if [ "$n" -ge "$BUSY_N" ]; then
		line=$(timeout 100 "$WB" churn -P "$CHURN_P" --port "$SPORT" \
			-p "$SPID" -d "$DUR" -w "$WARM" -D 60)
		[ -n "$line" ] || line="error=\"wsbench died or timed out\""
	else
		line="error=\"only $n of $BUSY_N sessions opened in 60 s\""
	fi
	kill "$hold" 2>/dev/null
	wait "$hold" 2>/dev/null
	stop_server "$impl"
	echo "$impl churn_busy $round $line" >>"$RES"
	printf '  %-10s %-14s round %s: %s\n' "$impl" churn_busy "$round" "$line"
}

# Each figure: name and wsbench arguments.
FIGS=()
want throughput && FIGS+=("throughput|throughput -c 50 -k 8 -s 32")
want latency_busy && FIGS+=("latency_busy|latency -b -s 32")
want latency && FIGS+=("latency|latency -s 32")
want large64 && FIGS+=("large64|large -c 10 -k 4 -s 65536")
want large1m && FIGS+=("large1m|large -c 10 -k 4 -s 1048576")
want churn && FIGS+=("churn|churn -P $CHURN_P")
want idle && FIGS+=("idle|idle -n $IDLE_N -P 64 --hold 1")

CAT=$(command -v cat)
NCPU=$(nproc)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench: $ROUNDS rounds, $DUR s per run; results in $RES; load average $LOAD0"
for round in $(seq "$ROUNDS"); do
	order=$IMPLS
	[ $((round % 2)) -eq 0 ] && order=$(echo "$IMPLS" | tr ' ' '\n' | tac | tr '\n' ' ')
	for f in "${FIGS[@]}"; do
		fig=${f%%|*}
		for impl in $order; do
			measure "$impl" "$fig" "$round" ${f#*|}
		done
	done
	if want churn_busy; then
		for impl in $order; do
			measure_busy "$impl" "$round"
		done
	fi
	if want large64 && [[ " $IMPLS " == *" websocketd "* ]]; then
		# websocketd's best working setting for 64 KiB messages.
		for k in 2 1; do
			measure websocketd "large64_k$k" "$round" large -c 10 -k $k -s 65536
		done
	fi
	if want floors; then
		echo "floors $round $("$WB" spawn -P "$CHURN_P" --prog "$CAT" -d "$DUR" -w "$WARM")" >>"$RES"
		tail -1 "$RES" | sed 's/^/  /'
		echo "floorsT $round $("$WB" spawn -P "$CHURN_P" -T "$NCPU" --prog "$CAT" -d "$DUR" -w "$WARM")" >>"$RES"
		tail -1 "$RES" | sed 's/^/  /'
		measure relay relay_tput "$round" throughput --raw -c 50 -k 8 -s 32
		measure relay relay_large "$round" large --raw -c 10 -k 4 -s 65536
	fi
done

# ---- the table ----------------------------------------------------------

# vals IMPL FIGURE KEY: the round values of KEY, from runs that neither
# failed nor stalled.
vals() {
	grep "^$1 $2 " "$RES" | grep -v 'error=' | grep -v 'stall=1' |
		grep -o " $3=[0-9.]*" | cut -d= -f2
}
median() {
	sort -g | awk '{ a[NR] = $1 } END {
		if (NR == 0) exit
		if (NR % 2) print a[(NR + 1) / 2]
		else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
# med IMPL FIGURE KEY: the median, or why there is none.
med() {
	local m n_stall n_err
	m=$(vals "$1" "$2" "$3" | median)
	n_stall=$(grep -c "^$1 $2 .*stall=1" "$RES")
	n_err=$(grep "^$1 $2 " "$RES" | grep -c 'error=')
	if [ -z "$m" ]; then
		if [ "$n_stall" -gt 0 ]; then echo "stall"
		elif [ "$n_err" -gt 0 ]; then echo "error"
		else echo "-"; fi
		return
	fi
	if [ "$n_stall" -gt 0 ]; then
		echo "$m (stall $n_stall/$ROUNDS)"
	else
		echo "$m"
	fi
}
isnum() { [[ $1 =~ ^[0-9.]+$ ]]; }
ratio() {
	if isnum "$1" && isnum "$2" && awk -v b="$2" 'BEGIN { exit !(b > 0) }'; then
		awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
	else
		echo "-"
	fi
}
# verdict VALUE OP LIMIT: yes/NO, or "-" when VALUE is not a number.
verdict() {
	isnum "$1" || { echo "-"; return; }
	awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
		ok = op == ">=" ? v >= l : v <= l; print ok ? "yes" : "NO" }'
}
fmt() {
	if isnum "$1"; then
		awk -v v="$1" 'BEGIN { printf(v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v) }'
	else
		echo "$1"
	fi
}

ROWS=()
# row FIGURE-LABEL GW OTHER RATIO TARGET MET
row() { ROWS+=("$1|$(fmt "$2")|$(fmt "$3")|$4|$5|$6"); }

# cmp LABEL FIGURE KEY OP LIMIT TARGET-TEXT: portal-gw vs websocketd.
cmp() {
	local g w r
	g=$(med portal-gw "$2" "$3")
	w=$(med websocketd "$2" "$3")
	r=$(ratio "$g" "$w")
	if [ -n "$4" ]; then row "$1" "$g" "$w" "$r" "$6" "$(verdict "$r" "$4" "$5")"
	else row "$1" "$g" "$w" "$r" "$6" "-"; fi
}

if want throughput; then
	cmp "throughput 50 conn x 8 in flight, 32 B (msg/s)" throughput msgs_per_s ">=" 2 ">= 2x"
	cmp "  its round trip p50 under load (us)" throughput p50_us "" "" ""
fi
if want latency_busy; then
	cmp "latency p50, busy-polling client (us)" latency_busy p50_us "<=" 0.7 "<= 0.7x"
	cmp "latency p99, busy-polling client (us)" latency_busy p99_us "<=" 0.7 "<= 0.7x"
fi
if want latency; then
	cmp "latency p50, sleeping client (us)" latency p50_us "" "" ""
	cmp "latency p99, sleeping client (us)" latency p99_us "" "" ""
fi
if want large64; then
	g=$(med portal-gw large64 mb_per_s)
	w=$(med websocketd large64 mb_per_s)
	best=""
	for k in 4 2 1; do
		fig=large64_k$k
		[ $k = 4 ] && fig=large64
		v=$(med websocketd $fig mb_per_s)
		if isnum "$v" && { [ -z "$best" ] || awk -v a="$v" -v b="$best" 'BEGIN { exit !(a > b) }'; }; then
			best=$v
			bestk=$k
		fi
	done
	row "large 64 KiB, 10 conn x 4 in flight (MB/s)" "$g" "$w" "$(ratio "$g" "$w")" "no stall" \
		"$(if isnum "$g"; then echo yes; else echo NO; fi)"
	if [ -n "$best" ]; then
		r=$(ratio "$g" "$best")
		row "  vs websocketd's best working setting (k=$bestk)" "$g" "$best" "$r" ">= 3x" "$(verdict "$r" ">=" 3)"
	fi
fi
if want large1m; then
	cmp "large 1 MiB, 10 conn x 4 in flight (MB/s)" large1m mb_per_s "" "" ""
fi
if want churn; then
	cmp "churn: connect+echo+close, $CHURN_P at once (sessions/s)" churn sessions_per_s ">=" 1.5 ">= 1.5x"
fi
if want churn_busy; then
	cmp "churn next to $BUSY_N open sessions (sessions/s)" churn_busy sessions_per_s "" "" ""
fi
if want idle; then
	g=$(med portal-gw idle kib_per_session)
	w=$(med websocketd idle kib_per_session)
	row "idle: server RSS per open session (KiB)" "$g" "$w" "$(ratio "$g" "$w")" "<= 4 KiB" "$(verdict "$g" "<=" 4)"
	g=$(med portal-gw idle held)
	w=$(med websocketd idle held)
	row "idle: sessions held (of $IDLE_N asked)" "$g" "$w" "-" ">= 10000" "$(verdict "$g" ">=" 10000)"
fi
if want floors; then
	sp=$(vals floors "[0-9]*" spawns_per_s | median)
	spT=$(vals floorsT "[0-9]*" spawns_per_s | median)
	rt=$(med relay relay_tput msgs_per_s)
	rl=$(med relay relay_large mb_per_s)
	if want churn; then
		g=$(med portal-gw churn sessions_per_s)
		r=$(ratio "$g" "$sp")
		row "churn vs spawn+wait floor, 1 spawner (/s)" "$g" "floor ${sp:-?}" "$r" ">= 0.85x" "$(verdict "$r" ">=" 0.85)"
		w=$(med websocketd churn sessions_per_s)
		isnum "$w" && row "  websocketd vs the same floor" "$w" "floor ${sp:-?}" "$(ratio "$w" "$sp")" "" "-"
		row "  vs the floor with $NCPU spawning processes" "$g" "floor ${spT:-?}" "$(ratio "$g" "$spT")" "" "-"
	fi
	if want throughput; then
		g=$(med portal-gw throughput msgs_per_s)
		row "throughput vs bare TCP+pipes relay (msg/s)" "$g" "floor $(fmt "$rt")" "$(ratio "$g" "$rt")" "" "-"
	fi
	if want large64; then
		g=$(med portal-gw large64 mb_per_s)
		r=$(ratio "$g" "$rl")
		row "large 64 KiB vs bare relay (MB/s)" "$g" "floor $(fmt "$rl")" "$r" ">= 0.5x" "$(verdict "$r" ">=" 0.5)"
	fi
fi

# What each server spends (all its threads, user + system; /proc/PID/stat
# and /proc/PID/io): CPU and read/write syscalls per message or session.
if want throughput; then
	cmp "server CPU per 32 B message (us)" throughput srv_cpu_us_per_op "" "" ""
	cmp "server read+write calls per 32 B message" throughput srv_rw_per_op "" "" ""
fi
if want large64; then
	cmp "server CPU per 64 KiB message (us)" large64 srv_cpu_us_per_op "" "" ""
	cmp "server read+write calls per 64 KiB message" large64 srv_rw_per_op "" "" ""
fi
if want churn; then
	cmp "server CPU per churn session (us)" churn srv_cpu_us_per_op "" "" ""
	cmp "server read+write calls per churn session" churn srv_rw_per_op "" "" ""
fi
if want churn_busy; then
	cmp "server CPU per churn session, $BUSY_N open (us)" churn_busy srv_cpu_us_per_op "" "" ""
fi

# Binary size: a stripped copy of each.
strip_kib() {
	local tmp=$OUT/stripped
	cp "$1" "$tmp" && strip "$tmp" 2>/dev/null &&
		awk -v b="$(wc -c <"$tmp")" 'BEGIN { printf "%.1f", b / 1024 }'
	rm -f "$tmp"
}
g=$(strip_kib "$GW")
w="-"
[ -n "$WSD" ] && [ -x "$WSD" ] && w=$(strip_kib "$WSD")
row "binary size, stripped, dynamic (KiB)" "$g" "$w" "$(ratio "$g" "$w")" "<= 150 KiB" "$(verdict "$g" "<=" 150)"
if [ -x "$OUT/portal-gw.musl" ]; then
	g=$(strip_kib "$OUT/portal-gw.musl")
	row "binary size, stripped, static musl (KiB)" "$g" "" "-" "<= 250 KiB" "$(verdict "$g" "<=" 250)"
else
	row "binary size, stripped, static musl (KiB)" "n/a: no musl-gcc" "" "-" "<= 250 KiB" "-"
fi

{
echo
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')," \
	"$(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)," \
	"RLIMIT_NOFILE $NOFILE"
echo "servers: portal-gw $("$GW" --version 2>&1 | head -1 | awk '{ print $NF }')," \
	"websocketd: ${WSD:-not installed}; both serve cat on 127.0.0.1;" \
	"$ROUNDS rounds x $DUR s, medians; ratio = portal-gw / other column"
[ -n "$IDLE_NOTE" ] && want idle && echo "idle: $IDLE_NOTE"
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average before: $LOAD0, after: $LOAD1 (wsbench and the servers add about 2)"
awk -v l="${LOAD0%% *}" -v n="$NCPU" 'BEGIN { exit !(l > n / 2) }' &&
	echo "WARNING: the machine was busy before the run started; absolute figures are low and noisy, ratios less so"
echo
{
	echo "figure|portal-gw|websocketd|ratio|target|met"
	echo "-|-|-|-|-|-"
	printf '%s\n' "${ROWS[@]}"
} | awk -F'|' '
	{ for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n = NR; nf = NF }
	END {
		for (r = 1; r <= n; r++) {
			line = "|"
			for (i = 1; i <= nf; i++) {
				v = c[r, i]
				if (v == "-" && r == 2) { s = ""; for (j = 0; j < w[i]; j++) s = s "-"; v = s }
				line = line sprintf(" %-" w[i] "s |", v)
			}
			print line
		}
	}'
} | tee "$OUT/table.md"
