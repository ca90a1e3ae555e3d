#!/bin/sh
# Prints the command that runs bats, installing bats first if need be:
# the one on PATH; else Debian's package (as root, with apt-get); else npm's
# under $HOME/.cache/portal-gw-bats. Messages go to stderr, the command alone
# to stdout. Exits 1 if nothing works.

if command -v bats >/dev/null 2>&1; then
	echo bats
	exit 0
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "find-bats: installing bats with apt-get" >&2
	if DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 &&
	   DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bats >/dev/null 2>&1 &&
	   command -v bats >/dev/null 2>&1; then
		echo bats
		exit 0
	fi
	echo "find-bats: apt-get could not install bats" >&2
fi

prefix="${HOME:-/tmp}/.cache/portal-gw-bats"
# npm does not link bats's "directories.bin", so name the script itself.
bin="$prefix/node_modules/bats/bin/bats"
if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi
if command -v npm >/dev/null 2>&1; then
	echo "find-bats: installing bats with npm under $prefix" >&2
	if npm install --silent --no-audit --no-fund --prefix "$prefix" bats >&2 &&
	   [ -x "$bin" ]; then
		echo "$bin"
		exit 0
	fi
	echo "find-bats: npm could not install bats" >&2
fi

echo "find-bats: no bats found and none could be installed (install bats, or apt-get/npm)" >&2
exit 1
