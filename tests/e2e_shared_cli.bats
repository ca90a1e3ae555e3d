#!/usr/bin/env bats
# The command line of shared routes (issue 12, man portal-gw SHARED ROUTES):
# --broadcast, --hub and their limits are in --help; a PATH is declared
# once across kinds; --binary cannot be used with them; bad values are
# usage errors naming the flag.

load helpers

# The gateway must not start serving in these tests; if it does, timeout
# ends it (status 124) instead of hanging the suite.
gw() {
	timeout 5 "$PORTAL_GW" --address 127.0.0.1 --port 0 "$@"
}

# expect_usage WORD...: status 2 and a single line that mentions each WORD.
expect_usage() {
	expect_status 2
	local w
	if [ "${#lines[@]}" -ne 1 ]; then
		echo "want one line, got:" >&2
		printf '  |%s\n' "${lines[@]}" >&2
		return 1
	fi
	for w in "$@"; do
		[[ $output == *"$w"* ]] || {
			echo "want a line naming '$w', got: $output" >&2
			return 1
		}
	done
}

@test "--help lists the shared-route flags with their text and defaults" {
	run "$PORTAL_GW" --help
	expect_status 0
	[[ $output == *"shared routes (man portal-gw, SHARED ROUTES):"* ]]
	local want
	for want in \
		"  --broadcast /PATH=COMMAND  one COMMAND for all clients of PATH: each line it" \
		"  --hub /PATH=COMMAND   one COMMAND for all clients of PATH that sees who" \
		"  --history N           a client joining a broadcast route first gets the" \
		"  --linger MS           end a shared program this long after its last" \
		"client left (0: at once; -1: never) (default 5000)" \
		"  --maxclients N        at most N clients per shared route; 503 beyond" \
		"  --maxconns N          at most N connections of every kind at once; 503" \
		"  --maxqueue BYTES      bytes queued for one client of a shared route;" \
		"beyond, it is closed (1008) (default 1048576)" \
		"  --hub-header LIST     request headers passed to a hub as '=ID Name value'"; do
		[[ $output == *"$want"* ]] || { echo "not in --help: $want" >&2; false; }
	done
}

@test "a PATH given twice across resources, --broadcast and --hub is a usage error naming it" {
	run gw --broadcast /chat=cat /chat=cat
	expect_usage /chat
	run gw /chat=cat --hub /chat=cat
	expect_usage /chat
	run gw --broadcast /chat=cat --hub /chat/=cat
	expect_usage /chat
	run gw --hub /room=cat --hub /room=cat
	expect_usage /room
}

@test "--binary with a shared route is a usage error that points to --framed" {
	run gw --binary --broadcast /chat=cat
	expect_usage "--binary cannot be used with --broadcast/--hub" "--framed"
	run gw --hub /room=cat --binary /echo=cat
	expect_usage "--binary cannot be used with --broadcast/--hub"
	# --binary alone stays websocketd's binary mode.
	start_gw --binary /echo=cat
	stop_gw
}

@test "--broadcast and --hub want /PATH=COMMAND" {
	run gw --broadcast cat
	expect_usage "--broadcast" "cat"
	run gw --hub /room
	expect_usage "--hub" "/room"
	run gw --hub
	expect_usage "--hub"
	run gw --broadcast /chat=
	expect_usage "no command" "/chat="
	run gw --broadcast "/chat=cat 'unterminated"
	expect_usage "unterminated quote"
	run gw --hub "/a b=cat"
	expect_usage "bad resource path"
}

@test "a shared route whose program cannot run fails at start with status 1" {
	run gw --broadcast /chat=/nonexistent/portal-gw-program
	expect_status 1
	[[ $output == *"/chat: cannot run /nonexistent/portal-gw-program"* ]]
	run gw --hub /room=no-such-portal-gw-program
	expect_status 1
	[[ $output == *no-such-portal-gw-program* ]]
}

@test "bad values of the shared-route limits are usage errors naming the flag" {
	local f v
	while read -r f v; do
		run gw "--$f" "$v" /echo=cat
		expect_usage "--$f" "'$v'"
	done <<'EOF_'
linger -2
linger soon
history -1
history 10001
maxclients -1
maxclients many
maxconns -1
maxqueue 0
maxqueue 1M
hub-header Bad_Name:x
EOF_
	run gw --hub-header "Bad Name" /echo=cat
	expect_usage "--hub-header" "'Bad Name'"
}

@test "the limits take their whole range; with no shared route the gateway serves as before" {
	start_gw --linger -1 --history 10000 --maxclients 1000000 --maxconns 64 \
		--maxqueue 0x10000 --hub-header Cookie,Authorization \
		--hub-header X-User /echo=cat
	run ws /echo text:hi recv close:1000 wait
	expect_status 0
	expect_lines "text hi" "close 1000*" "eof"
	stop_gw
	start_gw --linger 0 /echo=cat
}
