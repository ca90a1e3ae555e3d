#!/bin/bash
# Interop: portal-gw behind Debian's nginx, which terminates TLS.
#
#   tests/interop/nginx.sh PORTAL_GW          (run.sh's client "nginx")
#
# Makes a self-signed certificate with openssl, starts one gateway with
#   --trust-proxy --protocol chat,v2 --sameorigin --max-message 2000000
#   --address 127.0.0.1 --port 0 --unix SOCKET   /echo=cat /fail /env=env
# and then, once proxying over TCP and once over the Unix socket, an
# unprivileged nginx (no daemon, every path in a temp dir) whose server block
# is examples/nginx/portal-gw.conf with its ports, paths and upstream
# replaced. nginx_client.py drives each with python3-websockets over wss://.
# Prints the clients' PASS/FAIL lines, this script's own, and
# "nginx: N passed, N failed"; exits 1 if anything failed.
#
# nginx cannot bind port 0: free_port asks the kernel for a free one and
# releases it for nginx (a race with other programs, lost only in theory on
# a test machine; nginx then fails to start and the run says so). Every
# process started here is ended on the way out, and every wait has a
# deadline.

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
GW=${1:?usage: nginx.sh PORTAL_GW}
PY=/usr/bin/python3
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
DEADLINE_MS=10000
CLIENT_DEADLINE=120

tmp=$(mktemp -d "${TMPDIR:-/tmp}/portal-gw-nginx.XXXXXX")
GW_PID=
NGINX_PID=
SUITE=nginx
# now_ms, alive, note, stop, summary, wait_until, free_port, port_open
. "$here/lib.sh"

cleanup() {
	[ -z "$NGINX_PID" ] || stop "$NGINX_PID"
	[ -z "$GW_PID" ] || stop "$GW_PID"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

missing=
[ -x "$NGINX" ] || missing+=" nginx"
command -v openssl >/dev/null || missing+=" openssl"
"$PY" -c 'import websockets' 2>/dev/null || missing+=" python3-websockets"
if [ -n "$missing" ]; then
	note FAIL "tools available (missing:$missing; .ci/interop.sh installs them)"
	summary
fi

# A certificate for "localhost", valid for a day, as in the recipe's README.
if ! openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-addext "subjectAltName=DNS:localhost" \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" >"$tmp/openssl.log" 2>&1; then
	cat "$tmp/openssl.log"
	note FAIL "openssl makes a self-signed certificate"
	summary
fi

sock="$tmp/gw.sock"
"$GW" --trust-proxy --protocol chat,v2 --sameorigin --max-message 2000000 \
	--address 127.0.0.1 --port 0 --unix "$sock" \
	/echo=cat '/fail=sh -c "echo bye; exit 3"' /env=env \
	</dev/null >"$tmp/gw.out" 2>"$tmp/gw.log" &
GW_PID=$!
if ! wait_until "portal-gw to listen" grep -q 'listening on unix:' "$tmp/gw.log"; then
	cat "$tmp/gw.log"
	note FAIL "portal-gw starts"
	summary
fi
line=$(grep -m1 -o 'listening on 127\.0\.0\.1:[0-9][0-9]*' "$tmp/gw.log")
gw_port=${line##*:}

# nginx_conf KIND PORT: the main configuration, with the recipe templated
# into it; KIND tcp or unix picks the upstream.
nginx_conf() {
	local upstream
	if [ "$1" = tcp ]; then upstream="127.0.0.1:$gw_port"; else upstream="unix:$sock"; fi
	sed -e "s|^\(\t*\)server 127\.0\.0\.1:8080;|\1server $upstream;|" \
		-e "s|listen 443 ssl;|listen 127.0.0.1:$2 ssl;|" \
		-e '/listen \[::\]:443 ssl;/d' \
		-e 's|server_name example\.com;|server_name localhost;|' \
		-e "s|/etc/ssl/certs/example\.com\.pem|$tmp/cert.pem|" \
		-e "s|/etc/ssl/private/example\.com\.key|$tmp/key.pem|" \
		"$top/examples/nginx/portal-gw.conf" >"$tmp/portal-gw-$1.conf"
	# As root, nginx would switch its workers to "nobody", who cannot
	# enter this private directory; as anyone else it stays that user.
	local user=
	[ "$(id -u)" != 0 ] || user="user root;"
	cat >"$tmp/nginx-$1.conf" <<EOF
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
	include $tmp/portal-gw-$1.conf;
}
EOF
}

for kind in tcp unix; do
	port=$(free_port)
	nginx_conf "$kind" "$port"
	grep -q "server 127.0.0.1:$gw_port;\|server unix:$sock;" "$tmp/portal-gw-$kind.conf" ||
		note FAIL "the recipe's upstream line was found and replaced ($kind)"
	"$NGINX" -p "$tmp/" -e "$tmp/nginx-error.log" -c "$tmp/nginx-$kind.conf" \
		-g "daemon off; pid $tmp/nginx.pid;" </dev/null >"$tmp/nginx.out" 2>&1 &
	NGINX_PID=$!
	if ! wait_until "nginx on port $port" port_open "$port"; then
		cat "$tmp/nginx.out" "$tmp/nginx-error.log" 2>/dev/null
		note FAIL "nginx starts with the recipe ($kind upstream)"
		stop "$NGINX_PID"
		NGINX_PID=
		continue
	fi
	echo "=== nginx $("$NGINX" -v 2>&1 | sed 's|.*/||') on 127.0.0.1:$port, upstream $kind"
	out="$tmp/client-$kind.out"
	timeout -k 10 "$CLIENT_DEADLINE" "$PY" "$here/nginx_client.py" "nginx-$kind" "$port" \
		"$tmp/cert.pem" </dev/null >"$out" 2>&1
	rc=$?
	cat "$out"
	line=$(grep -E '^nginx-[a-z]+: [0-9]+ passed, [0-9]+ failed$' "$out" | tail -n1)
	if [ -z "$line" ]; then
		note FAIL "client ($kind) printed its summary (exit status $rc)"
	else
		line=${line#*: }
		pass=$((pass + ${line%% passed*}))
		f=${line#*passed, }
		fail=$((fail + ${f%% failed}))
	fi
	stop "$NGINX_PID"
	NGINX_PID=
	if grep -q '\[\(alert\|emerg\|crit\)\]' "$tmp/nginx-error.log"; then
		note FAIL "no alert in nginx's error log ($kind)"
		grep '\[\(alert\|emerg\|crit\)\]' "$tmp/nginx-error.log"
	fi
done

stop "$GW_PID"
rc=$?
GW_PID=
if [ "$rc" = 0 ]; then note PASS "portal-gw exits 0 on SIGTERM"; else note FAIL "portal-gw exits 0 on SIGTERM (got $rc)"; fi
if [ -e "$sock" ]; then note FAIL "portal-gw removed its Unix socket at exit"; else note PASS "portal-gw removed its Unix socket at exit"; fi
if grep -E '^[^ ]+ access #' "$tmp/gw.log" | sort | uniq -d | grep -q .; then
	note FAIL "portal-gw logs each session once (an access line repeats)"
fi
if grep -qE 'Sanitizer|runtime error:' "$tmp/gw.log"; then note FAIL "no sanitizer report in the portal-gw log"; fi
if [ "$fail" != 0 ]; then
	echo "--- portal-gw log"
	cat "$tmp/gw.log"
	echo "--- nginx error log"
	cat "$tmp/nginx-error.log" 2>/dev/null
	echo "---"
fi
summary
