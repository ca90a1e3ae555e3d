#!/usr/bin/env bats
# make static: the musl binary, run as PID 1 of a new PID namespace, as a
# container runtime starts an ENTRYPOINT: it serves a session, reaps the
# orphans that land on it and ends with Close 1001 and status 0 on SIGTERM.
#
# The binary is PORTAL_GW_STATIC if set; else setup_file builds it with
# `make static` in build/ (the nested make is incremental; the flags of a
# calling make, such as a sanitizer OPT, are not passed on: musl has no
# sanitizer runtime). Needs root for unshare --pid (CI runs as root).

load helpers

setup_file() {
	if [ -z "${PORTAL_GW_STATIC:-}" ] && command -v musl-gcc >/dev/null; then
		local root
		root=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
		# A calling make exports its command-line variables (OPT with
		# sanitizer flags under CI) into the environment too.
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u OPT -u CC -u CFLAGS \
			-u LDFLAGS -u O -u LOOP \
			make -s -C "$root" O="$root/build" static >&2 3>&-
	fi
}

setup() {
	STATIC=${PORTAL_GW_STATIC:-$BATS_TEST_DIRNAME/../build/portal-gw-static}
	if [ ! -x "$STATIC" ]; then
		command -v musl-gcc >/dev/null ||
			skip "musl-gcc not installed (apt-get install musl-tools)"
		false # musl-gcc is there, so make static failed: see above
	fi
	[ "$(id -u)" = 0 ] || skip "unshare --pid needs root"
	unshare --pid --fork --mount-proc true ||
		skip "unshare --pid --fork --mount-proc is not permitted here"
}

# unshare ignores SIGTERM while it waits for its child, so the gateway's
# own pid (INNER) gets it; then helpers.bash's teardown checks the exit.
eval "$(declare -f teardown | sed '1s/^teardown/helpers_teardown/')"
teardown() {
	if [ -n "${INNER:-}" ] && [ -n "$GW_PID" ]; then
		kill -TERM "$INNER" 2>/dev/null || true
	fi
	helpers_teardown
}

# pid1 ARGS...: starts the static gateway as PID 1 of a new PID namespace
# (GW_PID is unshare's pid), and sets INNER to its pid as seen outside.
pid1() {
	local wrapper
	wrapper=$(mkscript pid1.sh <<EOF_
#!/bin/sh
exec unshare --pid --fork --mount-proc "$STATIC" "\$@"
EOF_
)
	PORTAL_GW=$wrapper start_gw "$@"
	INNER=$(children "$GW_PID")
	[ -n "$INNER" ]
}

@test "static: a static, stripped executable that needs no libc at run time" {
	run file -L "$STATIC"
	[[ $output == *"statically linked"* ]] || [[ $output == *"static-pie linked"* ]]
	[[ $output == *stripped* ]] && [[ $output != *"not stripped"* ]]
	run "$STATIC" --version
	expect_status 0
	[[ $output == portal-gw\ * ]]
}

@test "static as PID 1: serves an echo session" {
	pid1 /e=cat "/ps=ps -eo pid=,ppid=,comm="
	run ws /ps wait
	expect_status 0
	expect_line_re '^text +1 +0 +portal-gw'
	run ws /e text:hello recv text:again recv close:1000 wait
	expect_status 0
	expect_lines "text hello" "text again" "close 1000*" "eof"
}

@test "static as PID 1: a child's orphaned grandchild is reaped, no zombie" {
	local s
	s=$(orphan_script)
	pid1 "/o=$s" "/ps=ps -eo pid=,ppid=,stat=,comm="
	expect_orphan_reaped_by_pid1
}

@test "static as PID 1: SIGTERM sends Close 1001 to a client and exits 0" {
	pid1 /e=cat
	bg_client client /e text:hi recv wait
	wait_for "the client's first echo" grep -qx "text hi" "$BATS_TEST_TMPDIR/client.out"
	kill -TERM "$INNER"
	bg_result "$BG_PID" client
	expect_status 0
	expect_lines "text hi" "close 1001*" "eof"
	wait_gw_exit
	[ "$GW_STATUS" -eq 0 ]
}
