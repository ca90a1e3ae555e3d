#!/bin/bash
# CI: install what `make interop` needs, then run it: Debian's
# python3-websockets, chromium, firefox-esr, nginx, openssl, redis-server and
# python3-redis, and nodejs and npm only if there is no node. The npm package `ws` is installed by
# the run itself (npm ci in tests/interop). Extra arguments go to make
# (e.g. O=build/asan).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
/usr/bin/python3 -c 'import websockets' 2>/dev/null || need+=(python3-websockets)
command -v chromium >/dev/null || need+=(chromium)
command -v firefox-esr >/dev/null || command -v firefox >/dev/null || need+=(firefox-esr)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v openssl >/dev/null || need+=(openssl)
command -v redis-server >/dev/null || need+=(redis-server)
/usr/bin/python3 -c 'import redis' 2>/dev/null || need+=(python3-redis)
if ! command -v node >/dev/null; then
	need+=(nodejs)
	command -v npm >/dev/null || need+=(npm)
fi
if ((${#need[@]})); then
	echo "interop: installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${need[@]}" >/dev/null
fi

make interop "$@"
