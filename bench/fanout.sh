#!/usr/bin/env bash
# make bench-fanout: one program printing 64-byte lines as fast as it can
# to C clients of a broadcast route, on portal-gw (--broadcast) and on the
# Node.js server people write for this today (bench/node-fanout: npm `ws`,
# each line sent to every client in wss.clients), on the same load.
#
# Each run gets a fresh server whose program is `wsbench produce --go
# FILE`: it prints nothing until `wsbench fanout` has all C clients open
# and has read the server's RSS with them idle, then as fast as the pipe
# takes it. The client then warms up WARM s and counts DUR s: deliveries/s
# (lines x clients), the lag from the line's timestamp to its arrival
# (p50/p99), the server's CPU per delivery (/proc/PID/stat, all threads,
# not the producer) and its RSS per idle subscriber; every client must get
# every line in order (gaps are printed). At FANOUT_SLOW clients it runs
# again with one client that never reads, alternating with runs without,
# FANOUT_SLOW_ROUNDS times: the others' rate with it vs without. At
# FANOUT_LAG_C clients, one more run per server at FANOUT_LAG_RATE lines/s,
# a rate both keep up with: the lag of a server that is not saturated (in
# the runs as fast as it can, the lag is queueing: the lines buffered in
# the pipe and the server, divided by the rate, growing over the run).
# A figure from several runs is their mean. Last, the load client's floor:
# FANOUT_FLOOR_C clients of an ordinary portal-gw route, one producer each
# (no broadcast), to show how many deliveries/s the client can take.
#
# Knobs (environment):
#   DUR=2 WARM=0.5             seconds counted, warm-up (as in run.sh)
#   FANOUT_LEVELS="10 100 1000 5000"  clients per run
#   FANOUT_HOLD=1              seconds the idle clients are held before RSS
#   FANOUT_RATE=0              lines/s from the producer (0: as fast as it can)
#   FANOUT_SIZE=64             bytes per line (without its newline)
#   FANOUT_SLOW=1000           clients in the slow-subscriber runs ("" skips)
#   FANOUT_SLOW_ROUNDS=3       runs with and without the slow client, each
#   FANOUT_LAG_C=1000 FANOUT_LAG_RATE=50  the run at a fixed rate ("" skips)
#   FANOUT_FLOOR_C=100         clients in the load client's floor ("" skips)
#   FANOUT_GW_ARGS=""          more portal-gw flags (e.g. --maxqueue 4M)
#   FANOUT_SERVERS="node portal-gw"  servers to run
# Raw results: $O/bench/fanout/results.txt, the table in table.md, server
# logs next to them. Needs node and npm (bench/README.md); installs `ws`
# into bench/node-fanout/node_modules with npm ci, as tests/interop does.
set -u

O=${1:-build}
GW=$O/portal-gw
WB=$(cd "$O" 2>/dev/null && pwd)/wsbench
DUR=${DUR:-2}
WARM=${WARM:-0.5}
LEVELS=${FANOUT_LEVELS:-10 100 1000 5000}
HOLD=${FANOUT_HOLD:-1}
RATE=${FANOUT_RATE:-0}
SIZE=${FANOUT_SIZE:-64}
SLOW_C=${FANOUT_SLOW-1000}
SLOW_ROUNDS=${FANOUT_SLOW_ROUNDS:-3}
LAG_C=${FANOUT_LAG_C-1000}
LAG_RATE=${FANOUT_LAG_RATE:-50}
FLOOR_C=${FANOUT_FLOOR_C-100}
GW_ARGS=${FANOUT_GW_ARGS:-}
SERVERS=${FANOUT_SERVERS:-node portal-gw}
HERE=$(cd "$(dirname "$0")" && pwd)
NODE_DIR=$HERE/node-fanout
OUT=$(mkdir -p "$O/bench/fanout" && cd "$O/bench/fanout" && pwd)
RES=$OUT/results.txt
T0=$(date +%s)

for f in "$GW" "$WB"; do
	[ -x "$f" ] || { echo "fanout: $f missing (run make bench-fanout)" >&2; exit 1; }
done
: >"$RES"
rm -f "$OUT"/*.log
rm -rf "$OUT"/run.*

want() { case " $SERVERS " in *" $1 "*) return 0 ;; esac; return 1; }

# Which servers can run here, and why not.
IMPLS=""
NOTES=()
node_ready() {
	local pin have
	command -v node >/dev/null || { echo "no node (Debian: apt-get install nodejs npm)"; return 1; }
	pin=$(sed -n 's/^ *"ws": "\(.*\)".*/\1/p' "$NODE_DIR/package.json")
	have=$(sed -n 's/^ *"version": "\(.*\)".*/\1/p' "$NODE_DIR/node_modules/ws/package.json" 2>/dev/null)
	[ -n "$have" ] && [ "$have" = "$pin" ] && return 0
	command -v npm >/dev/null || { echo "no npm to install ws $pin"; return 1; }
	echo "fanout: npm ci in bench/node-fanout (ws $pin)" >&2
	(cd "$NODE_DIR" && timeout 300 npm ci --no-audit --no-fund --loglevel=error) >&2 ||
		{ echo "npm ci failed in bench/node-fanout"; return 1; }
}
if want node; then
	if why=$(node_ready); then IMPLS="node"; else NOTES+=("node: $why"); fi
fi
# gw_ready: portal-gw takes --broadcast and starts with it (a build may
# know the flag and still refuse to serve it); else says why.
gw_ready() {
	local log=$OUT/probe.log pid _ ok=1
	"$GW" --help 2>&1 | grep -q -- --broadcast ||
		{ echo "--broadcast not available in this build"; return 1; }
	"$GW" --address 127.0.0.1 --port 0 --broadcast /f=cat 2>"$log" &
	pid=$!
	for _ in $(seq 100); do
		grep -q 'listening on' "$log" && { ok=0; break; }
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ "$ok" = 0 ] || echo "--broadcast did not start: $(tail -1 "$log")"
	return $ok
}
if want portal-gw; then
	if why=$(gw_ready); then IMPLS="$IMPLS portal-gw"; else NOTES+=("portal-gw: $why"); fi
fi
for n in "${NOTES[@]}"; do echo "fanout: $n"; done
# Says why and succeeds, so that `make bench` goes on without Node.
[ -n "$IMPLS" ] || { echo "fanout: no server to measure"; exit 0; }

# Descriptors: the client holds one per connection, the server one per
# client and a few more; each is its own process with its own limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
NOFILE=$(ulimit -n)

RUNS=0
# start_server IMPL RUNDIR RATE: sets SPID and SPORT, or returns 1.
start_server() {
	local log=$OUT/current.log _
	local prod=("$WB" produce --go "$2/go" -s "$SIZE" -r "$3"
		-d "$(awk -v w="$WARM" -v d="$DUR" 'BEGIN { print w + d + 10 }')")
	: >"$log"
	SPORT=""
	# shellcheck disable=SC2086 # GW_ARGS is a list of flags
	case $1 in
	node) node "$NODE_DIR/server.js" 0 "${prod[@]}" 2>"$log" & ;;
	portal-gw) "$GW" --address 127.0.0.1 --port 0 $GW_ARGS \
		--broadcast "/f=${prod[*]}" 2>"$log" & ;;
	floor) "$GW" --address 127.0.0.1 --port 0 "/f=${prod[*]}" 2>"$log" & ;;
	esac
	SPID=$!
	for _ in $(seq 200); do
		SPORT=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$log" | head -1 | cut -d: -f2)
		[ -n "$SPORT" ] && return 0
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.05
	done
	echo "fanout: $1 did not start; see $OUT/$1.log" >&2
	cat "$log" >>"$OUT/$1.log"
	return 1
}

# stop_server IMPL: TERM, then KILL after 3 s. The producer ends by itself
# (EPIPE once its reader is gone, or its -d, or its parent gone).
stop_server() {
	local _
	kill -TERM "$SPID" 2>/dev/null
	for _ in $(seq 60); do
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	cat "$OUT/current.log" >>"$OUT/$1.log"
}

# measure IMPL CLIENTS SLOW RATE: one run on a fresh server, one result
# line "IMPL CLIENTS SLOW RATE key=value...".
measure() {
	local impl=$1 c=$2 slow=$3 rate=$4 line run need
	need=$((c + 64))
	if [ "$need" -gt "$NOFILE" ]; then
		line="error=\"$c clients need ulimit -n >= $need (hard limit $NOFILE)\""
	else
		RUNS=$((RUNS + 1))
		run=$OUT/run.$RUNS
		mkdir -p "$run"
		if start_server "$impl" "$run" "$rate"; then
			line=$(timeout $((60 + ${DUR%.*} + c / 100)) "$WB" fanout \
				-c "$c" --slow "$slow" -s "$SIZE" --path /f --port "$SPORT" \
				-p "$SPID" --go "$run/go" --hold "$HOLD" -d "$DUR" -w "$WARM" \
				-D $((50 + c / 100)))
			[ -n "$line" ] || line="error=\"wsbench died or timed out\""
			stop_server "$impl"
		else
			line="error=\"no server\""
		fi
		rm -rf "$run"
	fi
	echo "$impl $c $slow $rate $line" >>"$RES"
	printf '  %-9s %5s clients, %s slow, rate %s: %s\n' "$impl" "$c" "$slow" "$rate" "$line"
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "fanout: levels $LEVELS, $DUR s each after $WARM s warm-up; results in $RES; load average $LOAD0"
for c in $LEVELS; do
	for impl in $IMPLS; do
		measure "$impl" "$c" 0 "$RATE"
	done
done
if [ -n "$SLOW_C" ]; then
	for impl in $IMPLS; do
		for r in $(seq "$SLOW_ROUNDS"); do
			# The level's own run is the first one without.
			if [ "$r" -gt 1 ] || [[ " $LEVELS " != *" $SLOW_C "* ]]; then
				measure "$impl" "$SLOW_C" 0 "$RATE"
			fi
			measure "$impl" "$SLOW_C" 1 "$RATE"
		done
	done
fi
if [ -n "$LAG_C" ]; then
	for impl in $IMPLS; do
		measure "$impl" "$LAG_C" 0 "$LAG_RATE"
	done
fi
[ -n "$FLOOR_C" ] && measure floor "$FLOOR_C" 0 "$RATE"

# ---- the table ----------------------------------------------------------

# get IMPL CLIENTS SLOW KEY [RATE]: the mean over the runs that neither
# failed nor stalled, or "error"/"stall"/"-".
get() {
	local sel m
	sel=$(grep "^$1 $2 $3 ${5:-$RATE} " "$RES")
	if [ -z "$sel" ]; then echo "-"; return; fi
	m=$(echo "$sel" | grep -v 'error=' | grep -v 'stall=1' | grep -o " $4=[0-9.]*" |
		cut -d= -f2 | awk '{ s += $1 } END { if (NR) printf "%.2f", s / NR }')
	if [ -n "$m" ]; then echo "$m"; return; fi
	case $sel in
	*error=*) echo "error" ;;
	*stall=1*) echo "stall" ;;
	*) echo "-" ;;
	esac
}
why() { grep "^$1 $2 $3 ${4:-$RATE} " "$RES" | grep -o '\(error\|why\)="[^"]*"' | head -1; }
isnum() { [[ $1 =~ ^-?[0-9.]+$ ]]; }
ratio() {
	if isnum "$1" && isnum "$2" && awk -v b="$2" 'BEGIN { exit !(b > 0) }'; then
		awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
	else
		echo "-"
	fi
}
fmt() {
	if isnum "$1"; then
		awk -v v="$1" 'BEGIN { printf(v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v) }'
	else
		echo "$1"
	fi
}
ms() { if isnum "$1"; then fmt "$(awk -v v="$1" 'BEGIN { print v / 1000 }')"; else echo "$1"; fi; }

ROWS=()
NOTES2=()
for c in $LEVELS; do
	for impl in $IMPLS; do
		r=$(get "$impl" "$c" 0 msgs_per_s)
		if ! isnum "$r"; then
			ROWS+=("$impl|$c|$r|||||")
			NOTES2+=("$impl, $c clients: $(why "$impl" "$c" 0)")
			continue
		fi
		# Gaps and failures: summed over the runs, not averaged.
		gaps=$(grep "^$impl $c 0 $RATE " "$RES" | grep -o ' \(missing\|reordered\)=[0-9]*' |
			cut -d= -f2 | awk '{ s += $1 } END { print s + 0 }')
		gc=$(grep "^$impl $c 0 $RATE " "$RES" | grep -o ' gap_clients=[0-9]*' |
			cut -d= -f2 | awk '{ s += $1 } END { print s + 0 }')
		err=$(grep "^$impl $c 0 $RATE " "$RES" | grep -o ' errors=[0-9]*' |
			cut -d= -f2 | awk '{ s += $1 } END { print s + 0 }')
		ok="0"
		[ "$gaps" != 0 ] && ok="$gaps lines ($gc clients)"
		if [ "$err" != 0 ]; then
			ok="$ok; $err clients failed"
			NOTES2+=("$impl, $c clients: $(why "$impl" "$c" 0)")
		fi
		cli=$(get "$impl" "$c" 0 cli_cpu_pct)
		if isnum "$cli" && [ "${cli%.*}" -ge 90 ]; then
			NOTES2+=("$impl, $c clients: the load client used ${cli%.*}% of a CPU: it may be the limit, not the server")
		fi
		ROWS+=("$impl|$c|$(fmt "$r")|$(ms "$(get "$impl" "$c" 0 lag_p50_us)")|$(ms "$(get "$impl" "$c" 0 lag_p99_us)")|$(fmt "$(get "$impl" "$c" 0 srv_cpu_us_per_op)")|$(fmt "$(get "$impl" "$c" 0 kib_per_sub)")|$ok")
	done
	if [[ " $IMPLS " == *" node "* && " $IMPLS " == *" portal-gw "* ]]; then
		rr=()
		for k in msgs_per_s lag_p50_us lag_p99_us srv_cpu_us_per_op kib_per_sub; do
			rr+=("$(ratio "$(get portal-gw "$c" 0 $k)" "$(get node "$c" 0 $k)")")
		done
		ROWS+=("  ratio gw/node|$c|${rr[0]}|${rr[1]}|${rr[2]}|${rr[3]}|${rr[4]}|")
	fi
done

# Targets (issue 12), one line each per server that ran.
TGT=()
verdict() { isnum "$1" || { echo "-"; return; }; awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
	ok = op == ">=" ? v >= l : op == "<" ? v < l : v <= l; print ok ? "yes" : "NO" }'; }
if [[ " $IMPLS " == *" portal-gw "* ]]; then
	if [[ " $IMPLS " == *" node "* ]]; then
		r=$(ratio "$(get portal-gw 1000 0 msgs_per_s)" "$(get node 1000 0 msgs_per_s)")
		TGT+=("deliveries/s at 1000 clients, portal-gw / Node|$r|>= 3x|$(verdict "$r" ">=" 3)")
		r=$(ratio "$(get portal-gw 1000 0 lag_p99_us)" "$(get node 1000 0 lag_p99_us)")
		TGT+=("p99 lag at 1000 clients, portal-gw / Node|$r|< 1x|$(verdict "$r" "<" 1)")
	fi
fi
if [ -n "$LAG_C" ]; then
	for impl in $IMPLS; do
		TGT+=("$impl: lag p50 / p99 at $LAG_C clients, $LAG_RATE lines/s (ms)|$(ms "$(get "$impl" "$LAG_C" 0 lag_p50_us "$LAG_RATE")") / $(ms "$(get "$impl" "$LAG_C" 0 lag_p99_us "$LAG_RATE")")||-")
	done
	if [[ " $IMPLS " == *" node "* && " $IMPLS " == *" portal-gw "* ]]; then
		r=$(ratio "$(get portal-gw "$LAG_C" 0 lag_p99_us "$LAG_RATE")" "$(get node "$LAG_C" 0 lag_p99_us "$LAG_RATE")")
		TGT+=("p99 lag at $LAG_C clients, $LAG_RATE lines/s, portal-gw / Node|$r|< 1x|$(verdict "$r" "<" 1)")
	fi
fi
big=""
for impl in $IMPLS; do
	big=""
	for c in $LEVELS; do isnum "$(get "$impl" "$c" 0 kib_per_sub)" && big=$c; done
	if [ -n "$big" ]; then
		v=$(get "$impl" "$big" 0 kib_per_sub)
		TGT+=("$impl: KiB per idle subscriber ($big clients)|$(fmt "$v")|<= 4 KiB|$(verdict "$v" "<=" 4)")
	fi
	if [ -n "$SLOW_C" ]; then
		a=$(get "$impl" "$SLOW_C" 0 per_client_per_s)
		b=$(get "$impl" "$SLOW_C" 1 per_client_per_s)
		d=-
		if isnum "$a" && isnum "$b"; then
			d=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", (a - b) / a * 100 }')
		fi
		chg="${d}% drop"
		[[ $d == -* ]] && chg="no drop (${d#-}% more)"
		TGT+=("$impl: rate per reader, 1 of $SLOW_C not reading vs none (lines/s, $SLOW_ROUNDS runs each)|$(fmt "$b") vs $(fmt "$a"): $chg|< 5% drop|$(verdict "$d" "<" 5)")
		isnum "$b" || NOTES2+=("$impl, $SLOW_C clients, 1 slow: $(why "$impl" "$SLOW_C" 1)")
	fi
done

if [ -n "$FLOOR_C" ]; then
	TGT+=("load client floor: $FLOOR_C clients, one producer each, no broadcast (msg/s)|$(fmt "$(get floor "$FLOOR_C" 0 msgs_per_s)") at $(fmt "$(get floor "$FLOOR_C" 0 cli_cpu_pct)")% of a CPU||-")
fi

table() {
	awk -F'|' '
	{ for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n = NR; if (NF > nf) nf = NF }
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
}

{
echo
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')," \
	"Linux $(uname -r), RLIMIT_NOFILE $NOFILE"
rate="$RATE lines/s"
[ "$RATE" = 0 ] && rate="as fast as it can"
echo "fan-out: $SIZE-byte lines, producer: $rate;" \
	"$DUR s counted after $WARM s warm-up, 1 run per figure (at $SLOW_C clients: the mean of $SLOW_ROUNDS); node $(node --version 2>/dev/null || echo -)," \
	"ws $(sed -n 's/^ *"version": "\(.*\)".*/\1/p' "$NODE_DIR/node_modules/ws/package.json" 2>/dev/null)"
for n in "${NOTES[@]}"; do echo "$n"; done
if [ -n "$big" ]; then
	for impl in $IMPLS; do
		p=$(get "$impl" "$big" 0 prod_rss_kib)
		echo "$impl: the producer's own RSS (not in the figures below): $(fmt "$p") KiB at $big clients"
	done
fi
echo "load average before: $LOAD0, after: $(cut -d' ' -f1-3 /proc/loadavg); $(($(date +%s) - T0)) s"
awk -v l="${LOAD0%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }' &&
	echo "WARNING: the machine was busy before the run started; absolute figures are low and noisy, CPU per delivery less so"
echo
{
	echo "server|clients|delivered msg/s|p50 lag (ms)|p99 lag (ms)|server CPU per delivery (us)|KiB per idle subscriber|lines missing/out of order"
	echo "-|-|-|-|-|-|-|-"
	printf '%s\n' "${ROWS[@]}"
} | table
echo
{
	echo "target (issue 12)|measured|target|met"
	echo "-|-|-|-"
	printf '%s\n' "${TGT[@]}"
} | table
for n in "${NOTES2[@]}"; do echo "$n"; done
} | tee "$OUT/table.md"
