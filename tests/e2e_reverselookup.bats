#!/usr/bin/env bats
# --reverselookup (issue 10): REMOTE_HOST is the client's name, looked up
# in a helper thread, never on the event loop; the child starts once the
# name is known, or with the address after LOOKUP_MS (2 s).

load helpers

# lookup_gw [ARGS...]: starts the gateway with tests/preload/slowlookup.c,
# whose getnameinfo waits for $GATE and answers $SLOWLOOKUP_NAME.
lookup_gw() {
	local so=$BATS_TEST_TMPDIR/slowlookup.so
	"${CC:-cc}" -shared -fPIC -o "$so" "$BATS_TEST_DIRNAME/preload/slowlookup.c" -ldl ||
		skip "cannot build an LD_PRELOAD library"
	GATE=$BATS_TEST_TMPDIR/gate
	LD_PRELOAD=$so SLOWLOOKUP_GATE=$GATE SLOWLOOKUP_NAME=client.example \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
		start_gw --loglevel debug --reverselookup "$@" /env=env
}

@test "--reverselookup: REMOTE_HOST is the client's name (websocketd: localhost for 127.0.0.1)" {
	local name
	name=$(getent hosts 127.0.0.1 | awk '{ print $2; exit }')
	[ -n "$name" ] || skip "127.0.0.1 has no name here"
	start_gw --reverselookup /env=env
	run ws /env wait
	expect_status 0
	expect_env REMOTE_HOST "$name"
	expect_env REMOTE_ADDR 127.0.0.1
}

@test "--reverselookup on the default listener: an IPv4 client of [::] is named like one of 127.0.0.1" {
	local name line
	name=$(getent hosts 127.0.0.1 | awk '{ print $2; exit }')
	[ -n "$name" ] || skip "127.0.0.1 has no name here"
	# No --address: the IPv6 wildcard, where the peer is ::ffff:127.0.0.1.
	gw_launch 'listening on \[::\]:[0-9]+' "$PORTAL_GW" --port 0 --reverselookup /env=env
	line=$(grep -m1 -o 'listening on \[::\]:[0-9][0-9]*' "$BATS_TEST_TMPDIR/gw.log")
	PORT=${line##*:}
	run ws /env wait
	expect_status 0
	expect_env REMOTE_HOST "$name"
	expect_env REMOTE_ADDR 127.0.0.1
}

@test "--reverselookup=false and no flag: REMOTE_HOST is the address; a bad value is a usage error" {
	start_gw --reverselookup=false /env=env
	run ws /env wait
	expect_status 0
	expect_env REMOTE_HOST 127.0.0.1
	run "$PORTAL_GW" --reverselookup=maybe /env=env
	expect_status 2
}

@test "the name a lookup finds becomes REMOTE_HOST" {
	lookup_gw
	touch "$GATE"
	run ws /env wait
	expect_status 0
	expect_env REMOTE_HOST client.example
	expect_env REMOTE_ADDR 127.0.0.1
	wait_log "#1 client's name: client.example"
}

@test "a slow lookup blocks nothing; after 2 s the child starts with the address as REMOTE_HOST" {
	lookup_gw
	local t0
	t0=$(now_ms)
	bg_client slow -t 10000 /env wait
	local cpid=$BG_PID
	wait_log "#1 looking up the client's name"
	# The loop answers others meanwhile: a plain request, at once.
	run ws -t 1000 --http "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n"
	expect_status 0
	[[ ${lines[0]} == "HTTP/1.1 4"* ]]
	[ "$(($(now_ms) - t0))" -lt 1800 ]
	bg_result "$cpid" slow
	expect_status 0
	local elapsed=$(($(now_ms) - t0))
	echo "session started after ${elapsed} ms" >&2
	[ "$elapsed" -ge 2000 ]
	expect_env REMOTE_HOST 127.0.0.1
	touch "$GATE" # the helper thread may finish
}

@test "a client gone during its lookup starts no child, and the lookup is forgotten" {
	lookup_gw
	run ws -t 300 /env
	expect_status 3
	wait_log "#1 client went away during its lookup"
	touch "$GATE"
	# The next session is served as usual.
	run ws /env wait
	expect_status 0
	expect_env REMOTE_HOST client.example
	# Only the second session started a child.
	[ "$(grep -c 'connected to /env' "$BATS_TEST_TMPDIR/gw.log")" -eq 1 ]
	grep -q "#2 .* connected to /env" "$BATS_TEST_TMPDIR/gw.log"
	wait_no_zombie
}
