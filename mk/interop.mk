# make interop: portal-gw against WebSocket clients nobody here wrote:
# Python's websockets (Debian python3-websockets), Node.js (npm `ws`, pinned
# in tests/interop/package-lock.json and installed there with npm ci; also
# Node's built-in WebSocket where Node has one), headless Chromium driven
# through the DevTools protocol, which also uses the --devconsole page as a
# user would, and headless Firefox ESR driven through the Marionette
# protocol (the --devconsole page too: devconsole-firefox); the shared
# routes' chat rooms (--broadcast, --hub) in two Chromium tabs (chat; skipped
# on a build without --broadcast); and Debian's
# nginx in front, terminating TLS, with the recipe
# examples/nginx/portal-gw.conf; and two gateways sharing one --broadcast
# room through Debian's redis-server (examples/redis-bridge.py) behind that
# nginx (skipped like chat). Not part of `make test`; .ci/interop.sh installs
# the packages and runs it. INTEROP_CLIENTS="python node-ws node-builtin
# chromium firefox devconsole devconsole-firefox chat nginx redis" picks
# clients. See tests/interop/run.sh.

INTEROP_CLIENTS ?=

interop: $(O)/portal-gw
	bash tests/interop/run.sh $(O)/portal-gw $(INTEROP_CLIENTS)

.PHONY: interop
