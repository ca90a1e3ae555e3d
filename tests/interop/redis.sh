#!/bin/bash
# Interop: one room across two gateways, through Redis (issue 14).
#
#   tests/interop/redis.sh PORTAL_GW          (run.sh's client "redis")
#
# Starts Debian's redis-server on a free port, two gateways with
#   --trust-proxy --header-ws 'X-Instance: a' (b for the other)
#   --broadcast '/chat=examples/redis-bridge.py redis://127.0.0.1:PORT/0 ...'
# and an unprivileged nginx whose server block is examples/nginx/
# portal-gw.conf with both gateways in its upstream under least_conn (as
# README.md, "Shared routes across instances", shows). redis_client.py then
# checks, over wss:// through nginx: clients on both gateways see every
# message once, in each sender's order; SIGTERM to one gateway gives its
# clients 1001 and, coming back through nginx, they land on the other and
# chat on; redis-server restarted, the bridge says it lost Redis and that it
# reconnected (on stderr: the gateway's log), and the room works again.
#
# Only when PORTAL_GW has --broadcast (issue 12); otherwise it says so and
# passes. Prints PASS/FAIL lines and "redis: N passed, N failed"; exits 1 if
# anything failed. Every process started here is ended on the way out, and
# every wait has a deadline.

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
GW=${1:?usage: redis.sh PORTAL_GW}
PY=/usr/bin/python3
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
REDIS=$(command -v redis-server || echo /usr/bin/redis-server)
DEADLINE_MS=10000
CLIENT_DEADLINE=120

if ! "$GW" --help 2>&1 | grep -q -- --broadcast; then
	echo "redis bridge: skipped, no --broadcast in this build"
	echo "redis: 0 passed, 0 failed"
	exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/portal-gw-redis.XXXXXX")
GW_A= GW_B= NGINX_PID=
SUITE=redis
# now_ms, alive, note, stop, summary, wait_until, free_port, port_open
. "$here/lib.sh"

cleanup() {
	local p
	[ -z "$NGINX_PID" ] || stop "$NGINX_PID"
	[ -z "$GW_A" ] || stop "$GW_A"
	[ -z "$GW_B" ] || stop "$GW_B"
	# The client restarts redis-server: the pid of the one running is in
	# redis.pid (not a child of this shell then).
	p=$(cat "$tmp/redis.pid" 2>/dev/null)
	[ -z "$p" ] || kill -TERM "$p" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

missing=
[ -x "$NGINX" ] || missing+=" nginx"
[ -x "$REDIS" ] || missing+=" redis-server"
command -v openssl >/dev/null || missing+=" openssl"
"$PY" -c 'import websockets' 2>/dev/null || missing+=" python3-websockets"
"$PY" -c 'import redis' 2>/dev/null || missing+=" python3-redis"
if [ -n "$missing" ]; then
	note FAIL "tools available (missing:$missing; .ci/interop.sh installs them)"
	summary
fi

if ! openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-addext "subjectAltName=DNS:localhost" \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" >"$tmp/openssl.log" 2>&1; then
	cat "$tmp/openssl.log"
	note FAIL "openssl makes a self-signed certificate"
	summary
fi

# redis-server: no persistence, everything in tmp. The client restarts it
# with the same command line (redis.cmd).
rport=$(free_port)
printf '%s\n' "$REDIS" --port "$rport" --bind 127.0.0.1 --save '' \
	--appendonly no --dir "$tmp" --logfile "$tmp/redis.log" >"$tmp/redis.cmd"
mapfile -t rcmd <"$tmp/redis.cmd"
"${rcmd[@]}" </dev/null >/dev/null 2>&1 &
echo $! >"$tmp/redis.pid"
if ! wait_until "redis-server on port $rport" port_open "$rport"; then
	cat "$tmp/redis.log" 2>/dev/null
	note FAIL "redis-server starts"
	summary
fi

# start_gw NAME: a gateway with the bridge on /chat; sets GW_LAST (its pid)
# and GW_PORT.
start_gw() {
	local log="$tmp/gw-$1.log" line
	"$GW" --trust-proxy --address 127.0.0.1 --port 0 \
		--header-ws "X-Instance: $1" \
		--broadcast "/chat=$top/examples/redis-bridge.py redis://127.0.0.1:$rport/0 interop-chat" \
		</dev/null >"$tmp/gw-$1.out" 2>"$log" &
	GW_LAST=$!
	if ! wait_until "portal-gw $1 to listen" grep -q 'listening on 127' "$log"; then
		cat "$log"
		note FAIL "portal-gw $1 starts"
		stop "$GW_LAST"
		return 1
	fi
	line=$(grep -m1 -o 'listening on 127\.0\.0\.1:[0-9][0-9]*' "$log")
	GW_PORT=${line##*:}
}
start_gw a || summary
GW_A=$GW_LAST
port_a=$GW_PORT
start_gw b || summary
GW_B=$GW_LAST
port_b=$GW_PORT

# The recipe, its one upstream server replaced with both gateways under
# least_conn.
nport=$(free_port)
sed -e "s|^\(\t*\)server 127\.0\.0\.1:8080;|\1least_conn;\n\1server 127.0.0.1:$port_a;\n\1server 127.0.0.1:$port_b;|" \
	-e "s|listen 443 ssl;|listen 127.0.0.1:$nport ssl;|" \
	-e '/listen \[::\]:443 ssl;/d' \
	-e 's|server_name example\.com;|server_name localhost;|' \
	-e "s|/etc/ssl/certs/example\.com\.pem|$tmp/cert.pem|" \
	-e "s|/etc/ssl/private/example\.com\.key|$tmp/key.pem|" \
	"$top/examples/nginx/portal-gw.conf" >"$tmp/portal-gw.conf"
grep -q "server 127.0.0.1:$port_b;" "$tmp/portal-gw.conf" ||
	note FAIL "the recipe's upstream line was found and replaced"
user=
[ "$(id -u)" != 0 ] || user="user root;"
cat >"$tmp/nginx.conf" <<EOF
$user
worker_processes 1;
error_log $tmp/nginx-error.log info;
events { worker_connections 64; }
http {
	access_log $tmp/nginx-access.log;
	client_body_temp_path $tmp/client_body;
	proxy_temp_path $tmp/proxy;
	fastcgi_temp_path $tmp/fastcgi;
	uwsgi_temp_path $tmp/uwsgi;
	scgi_temp_path $tmp/scgi;
	include $tmp/portal-gw.conf;
}
EOF
"$NGINX" -p "$tmp/" -e "$tmp/nginx-error.log" -c "$tmp/nginx.conf" \
	-g "daemon off; pid $tmp/nginx.pid;" </dev/null >"$tmp/nginx.out" 2>&1 &
NGINX_PID=$!
if ! wait_until "nginx on port $nport" port_open "$nport"; then
	cat "$tmp/nginx.out" "$tmp/nginx-error.log" 2>/dev/null
	note FAIL "nginx starts with the recipe (two gateways, least_conn)"
	summary
fi

echo "=== redis $("$REDIS" --version | grep -o 'v=[0-9.]*'), two gateways behind nginx on 127.0.0.1:$nport"
out="$tmp/client.out"
timeout -k 10 "$CLIENT_DEADLINE" "$PY" "$here/redis_client.py" "$nport" \
	"$tmp/cert.pem" "$GW_A" "$tmp/gw-a.log" "$tmp/gw-b.log" "$tmp" \
	</dev/null >"$out" 2>&1
rc=$?
cat "$out"
line=$(grep -E '^redis-client: [0-9]+ passed, [0-9]+ failed$' "$out" | tail -n1)
if [ -z "$line" ]; then
	note FAIL "client printed its summary (exit status $rc)"
else
	line=${line#*: }
	pass=$((pass + ${line%% passed*}))
	f=${line#*passed, }
	fail=$((fail + ${f%% failed}))
fi

# The client sent gateway a SIGTERM: it must have exited 0 by now.
end=$(($(now_ms) + 5000))
while alive "$GW_A" && [ "$(now_ms)" -lt "$end" ]; do sleep 0.02; done
if alive "$GW_A"; then
	note FAIL "gateway a exits after SIGTERM"
else
	wait "$GW_A"
	rc=$?
	if [ "$rc" = 0 ]; then note PASS "gateway a exits 0 after SIGTERM"; else note FAIL "gateway a exits 0 after SIGTERM (got $rc)"; fi
fi
GW_A=
stop "$NGINX_PID"
NGINX_PID=
stop "$GW_B"
rc=$?
GW_B=
if [ "$rc" = 0 ]; then note PASS "gateway b exits 0 on SIGTERM"; else note FAIL "gateway b exits 0 on SIGTERM (got $rc)"; fi
for g in a b; do
	if grep -qE 'Sanitizer|runtime error:' "$tmp/gw-$g.log"; then note FAIL "no sanitizer report in gateway $g's log"; fi
done
if [ "$fail" != 0 ]; then
	for g in a b; do
		echo "--- gateway $g log"
		cat "$tmp/gw-$g.log"
	done
	echo "--- nginx error log"
	cat "$tmp/nginx-error.log" 2>/dev/null
	echo "---"
fi
summary
