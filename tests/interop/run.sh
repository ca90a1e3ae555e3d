#!/bin/bash
# Interop: portal-gw against WebSocket clients nobody here wrote.
#
#   tests/interop/run.sh PORTAL_GW [CLIENT ...]      (make interop)
#
# CLIENTs: python (Debian's python3-websockets), node-ws (npm `ws`, installed
# into tests/interop/node_modules from package-lock.json with npm ci),
# node-builtin (Node's own WebSocket; skipped if this Node has none),
# chromium (headless, driven through the DevTools protocol), firefox
# (Debian's firefox-esr, headless, driven through the Marionette protocol;
# FIREFOX names another), devconsole (the --devconsole page, used through
# headless Chromium as a user would), devconsole-firefox (the same page in
# headless Firefox through Marionette), chat (two tabs of headless Chromium
# talking through the shared routes --broadcast /chat=cat and
# --hub /room=examples/chat-hub.sh: chat_chromium.py; skipped, and passing, when the
# portal-gw under test has no --broadcast), nginx (Debian's nginx
# terminating TLS in front of the gateway, driven by python3-websockets over
# wss://; nginx.sh, which starts its own gateway) and redis (two gateways
# sharing one --broadcast room through Redis, behind nginx: redis.sh, which
# starts its own; skipped like chat). Default: all.
# INTEROP_CLIENTS may also name them.
#
# Each client gets its own gateway on a free port of 127.0.0.1 serving
#   /echo=cat   /ok: prints "hi", exits 0   /fail: prints "bye", exits 3
#   /linger: cat, then sleeps when its stdin ends (for the browsers' tab close)
# with --max-message 2000000 (a 1 MiB message plus overhead), and prints one
# PASS/FAIL line per check and "N passed, N failed" (devconsole's gateway
# also has --devconsole). A client that is missing, hangs past its deadline
# or ends without that line counts as a failure. Exits 1 if anything
# failed; the last line sums up all clients.
#
# Every process started here is ended on the way out (trap), and every
# wait has a deadline. Gateway logs are printed for a client that failed.

set -u

here=$(cd "$(dirname "$0")" && pwd)
GW=${1:-}
[ -n "$GW" ] || { echo "usage: $0 PORTAL_GW [CLIENT ...]" >&2; exit 2; }
GW=$(cd "$(dirname "$GW")" && pwd)/$(basename "$GW")
[ -x "$GW" ] || { echo "interop: $GW is not an executable" >&2; exit 2; }
shift
clients=("$@")
if [ ${#clients[@]} -eq 0 ]; then
	read -r -a clients <<<"${INTEROP_CLIENTS:-python node-ws node-builtin chromium firefox devconsole devconsole-firefox chat nginx redis}"
fi

PY=/usr/bin/python3       # Debian's: it sees python3-websockets
CLIENT_DEADLINE=${INTEROP_CLIENT_DEADLINE:-240}  # seconds per client
START_DEADLINE_MS=5000

tmp=$(mktemp -d "${TMPDIR:-/tmp}/portal-gw-interop.XXXXXX")
GW_PID=
CLIENT_PID=
CLIENT_OUT=

cleanup() {
	if [ -n "$CLIENT_PID" ]; then
		# timeout(1) passes the signal on; the client ends what it started.
		kill -TERM "$CLIENT_PID" 2>/dev/null
		wait "$CLIENT_PID" 2>/dev/null
		cat "$CLIENT_OUT" 2>/dev/null
		echo "interop: interrupted"
	fi
	stop_gw
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# now_ms, alive
. "$here/lib.sh"

total_pass=0
total_fail=0
total_skip=0
summary=()

# fail_line NAME WHAT: one failure the runner itself saw.
fail_line() {
	echo "FAIL $1: $2"
	total_fail=$((total_fail + 1))
}

# start_gw NAME [FLAG ...]: starts a gateway, with the FLAGs, logging to
# $tmp/NAME.gw.log; sets PORT and GW_PID.
start_gw() {
	local log="$tmp/$1.gw.log" line end
	shift
	: >"$log"
	# The child commands run under the gateway, not a shell: the quoting
	# is the gateway's own (see COMMAND in the man page).
	"$GW" --address 127.0.0.1 --port 0 --max-message 2000000 "$@" \
		/echo=cat '/ok=sh -c "echo hi"' '/fail=sh -c "echo bye; exit 3"' \
		'/linger=sh -c "cat; exec sleep 600"' \
		</dev/null >"${log%.log}.out" 2>"$log" &
	GW_PID=$!
	end=$(($(now_ms) + START_DEADLINE_MS))
	while :; do
		line=$(grep -m1 -o 'listening on 127\.0\.0\.1:[0-9][0-9]*' "$log")
		if [ -n "$line" ]; then
			PORT=${line##*:}
			return 0
		fi
		if ! alive "$GW_PID"; then
			wait "$GW_PID"
			echo "# portal-gw exited with status $? before listening" >&2
			GW_PID=
			return 1
		fi
		if [ "$(now_ms)" -ge "$end" ]; then
			echo "# portal-gw did not log 'listening on' within ${START_DEADLINE_MS} ms" >&2
			return 1
		fi
		sleep 0.02
	done
}

# stop_gw: SIGTERM, up to 5 s, then SIGKILL. Sets GW_RC to the gateway's
# exit status, or "killed".
GW_RC=
stop_gw() {
	GW_RC=
	[ -n "$GW_PID" ] || return 0
	local end=$(($(now_ms) + 5000))
	kill -TERM "$GW_PID" 2>/dev/null
	while alive "$GW_PID" && [ "$(now_ms)" -lt "$end" ]; do sleep 0.02; done
	if alive "$GW_PID"; then
		kill -KILL "$GW_PID" 2>/dev/null
		wait "$GW_PID" 2>/dev/null
		GW_PID=
		GW_RC=killed
		return 1
	fi
	wait "$GW_PID"
	GW_RC=$?
	GW_PID=
}

# node_ws_ready: installs the npm `ws` of package-lock.json if need be.
node_ws_ready() {
	local want have
	want=$(sed -n 's/^ *"ws": "\(.*\)".*/\1/p' "$here/package.json")
	have=$(sed -n 's/^ *"version": "\(.*\)".*/\1/p' "$here/node_modules/ws/package.json" 2>/dev/null)
	[ -n "$have" ] && [ "$have" = "$want" ] && return 0
	command -v npm >/dev/null || { echo "# no npm to install ws" >&2; return 1; }
	echo "# node-ws: npm ci (ws $want)"
	(cd "$here" && timeout 300 npm ci --no-audit --no-fund --loglevel=error) >&2
}

# builtin_flags: prints the node flags that give a global WebSocket;
# fails if this Node has none.
builtin_flags() {
	local f
	for f in "" "--experimental-websocket"; do
		# shellcheck disable=SC2086
		if timeout 20 node $f -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)' 2>/dev/null; then
			echo "$f"
			return 0
		fi
	done
	return 1
}

# run_client NAME: prepares NAME's client and runs it against a gateway of
# its own.
run_client() {
	local name=$1 cmd=() gw_flags=() flags out rc line p f own= args=()
	case $name in
	python)
		if ! [ -x "$PY" ] || ! "$PY" -c 'import websockets' 2>/dev/null; then
			fail_line python-websockets "client available (no python3-websockets for $PY; .ci/interop.sh installs it)"
			summary+=("python: missing")
			return
		fi
		cmd=("$PY" "$here/python_client.py")
		;;
	node-ws)
		if ! command -v node >/dev/null; then
			fail_line node-ws "client available (no node; .ci/interop.sh installs nodejs)"
			summary+=("node-ws: missing")
			return
		fi
		if ! node_ws_ready; then
			fail_line node-ws "client available (npm ci failed in tests/interop)"
			summary+=("node-ws: missing")
			return
		fi
		cmd=(node "$here/node_client.js" ws)
		;;
	node-builtin)
		if ! command -v node >/dev/null || ! flags=$(builtin_flags); then
			echo "SKIP node-builtin: this Node has no built-in WebSocket"
			summary+=("node-builtin: skipped")
			return
		fi
		# shellcheck disable=SC2206
		cmd=(node $flags "$here/node_client.js" builtin)
		;;
	chromium)
		cmd=("$PY" "$here/chromium_client.py")
		;;
	firefox)
		if [ -z "${FIREFOX:-}" ] && ! command -v firefox-esr >/dev/null && ! command -v firefox >/dev/null; then
			fail_line firefox "client available (no firefox-esr or firefox; .ci/interop.sh installs firefox-esr)"
			summary+=("firefox: missing")
			return
		fi
		cmd=("$PY" "$here/firefox_client.py")
		;;
	devconsole)
		# It starts a --binary gateway of its own from PORTAL_GW.
		cmd=(env PORTAL_GW="$GW" "$PY" "$here/devconsole_client.py")
		gw_flags=(--devconsole)
		;;
	devconsole-firefox)
		if [ -z "${FIREFOX:-}" ] && ! command -v firefox-esr >/dev/null && ! command -v firefox >/dev/null; then
			fail_line devconsole-firefox "client available (no firefox-esr or firefox; .ci/interop.sh installs firefox-esr)"
			summary+=("devconsole-firefox: missing")
			return
		fi
		cmd=(env PORTAL_GW="$GW" "$PY" "$here/devconsole_firefox.py")
		gw_flags=(--devconsole)
		;;
	chat)
		if ! "$GW" --help 2>&1 | grep -q -- --broadcast; then
			echo "chat: skipped, no --broadcast in this build"
			summary+=("chat: skipped")
			total_skip=$((total_skip + 1))
			return
		fi
		cmd=("$PY" "$here/chat_chromium.py")
		# The gateway's own quoting (see COMMAND in the man page).
		gw_flags=(--broadcast /chat=cat
			  --hub "/room='$here/../../examples/chat-hub.sh'")
		;;
	nginx)
		# Starts and checks its own gateway and nginx (and prints
		# their logs when something failed).
		cmd=("$here/nginx.sh" "$GW")
		own=1
		: >"$tmp/$name.gw.log"
		;;
	redis)
		if ! "$GW" --help 2>&1 | grep -q -- --broadcast; then
			echo "redis bridge: skipped, no --broadcast in this build"
			summary+=("redis: skipped (no --broadcast)")
			total_skip=$((total_skip + 1))
			return
		fi
		# Starts and checks its own gateways, redis-server and nginx.
		cmd=("$here/redis.sh" "$GW")
		own=1
		: >"$tmp/$name.gw.log"
		;;
	*)
		fail_line "$name" "unknown client (python, node-ws, node-builtin, chromium, firefox, devconsole, devconsole-firefox, chat, nginx, redis)"
		return
		;;
	esac

	echo "=== $name"
	if [ -z "$own" ] && ! start_gw "$name" "${gw_flags[@]}"; then
		fail_line "$name" "start portal-gw"
		cat "$tmp/$name.gw.log" >&2
		summary+=("$name: no gateway")
		stop_gw
		return
	fi
	out="$tmp/$name.out"
	CLIENT_OUT=$out
	[ -n "$own" ] || args=("ws://127.0.0.1:$PORT")
	timeout -k 10 "$CLIENT_DEADLINE" "${cmd[@]}" "${args[@]}" </dev/null >"$out" 2>&1 &
	CLIENT_PID=$!
	wait "$CLIENT_PID"
	rc=$?
	CLIENT_PID=
	cat "$out"
	stop_gw

	# The client's own count, then what the runner saw besides.
	line=$(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed$' "$out" | tail -n1)
	p=0
	f=0
	if [ -n "$line" ]; then
		line=${line#*: }
		p=${line%% passed*}
		f=${line#*passed, }
		f=${f%% failed}
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		fail_line "$name" "client finished within ${CLIENT_DEADLINE}s (timed out)"
		f=$((f + 1))
	elif [ -z "$line" ]; then
		fail_line "$name" "client printed its summary (exit status $rc)"
		f=$((f + 1))
	elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		fail_line "$name" "client exit status 0 (got $rc)"
		f=$((f + 1))
	fi
	if [ -n "$own" ]; then
		: # the client checked its own gateway
	elif [ "$GW_RC" != 0 ]; then
		fail_line "$name" "portal-gw exits 0 on SIGTERM (got $GW_RC)"
		f=$((f + 1))
	fi
	if grep -E '^[^ ]+ access #' "$tmp/$name.gw.log" | sort | uniq -d | grep -q .; then
		fail_line "$name" "portal-gw logs each session once (an access line repeats)"
		f=$((f + 1))
	fi
	# For a sanitizer build (make interop O=build/asan ...).
	if grep -qE 'Sanitizer|runtime error:' "$tmp/$name.gw.log"; then
		fail_line "$name" "no sanitizer report in the portal-gw log"
		f=$((f + 1))
	fi
	summary+=("$name: $p passed, $f failed")
	if [ "$f" != 0 ]; then
		echo "--- portal-gw log for $name"
		cat "$tmp/$name.gw.log"
		echo "---"
	fi
}

start=$(now_ms)
for c in "${clients[@]}"; do
	run_client "$c"
done

echo
echo "=== interop summary ($(( ($(now_ms) - start) / 1000 )) s)"
for s in "${summary[@]}"; do echo "  $s"; done
echo "interop: $total_pass passed, $total_fail failed"
# A run of skipped clients only (chat on a build without shared routes)
# passes; a run that checked nothing at all does not.
[ "$total_fail" -eq 0 ] && [ $((total_pass + total_skip)) -gt 0 ]
