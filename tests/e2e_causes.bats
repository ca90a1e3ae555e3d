#!/usr/bin/env bats
# Errors that name their cause (issue 11): a program that cannot start is
# refused at start with the reason (a CRLF "#!" line, a missing
# interpreter, a directory, a route without its '/'); a --dir file that
# cannot run is logged once; an exec that fails at connection time logs the
# real cause; and with --log-format json every start-up error is a JSON line.

load helpers

# start_fails ARGS...: runs portal-gw with ARGS (on a free loopback port),
# which must exit 1; its output (stderr) is in $output.
start_fails() {
	run "$PORTAL_GW" --address 127.0.0.1 --port 0 "$@"
	expect_status 1
}

# only_json: every line of $output is one JSON object with level "fatal".
only_json() {
	printf '%s\n' "$output" | /usr/bin/python3 -c '
import json, sys
lines = sys.stdin.read().splitlines()
assert lines, "no output"
for l in lines:
    o = json.loads(l)
    assert o["level"] == "fatal" and o["msg"], o
'
}

crlf_script() {
	printf '#!/bin/sh\r\necho hi\r\n' >"$BATS_TEST_TMPDIR/crlf.sh"
	chmod +x "$BATS_TEST_TMPDIR/crlf.sh"
	echo "$BATS_TEST_TMPDIR/crlf.sh"
}

# --- refused at start ---------------------------------------------------

@test "a script with CRLF line endings is refused at start with the hint" {
	local s
	s=$(crlf_script)
	start_fails "/x=$s"
	[[ $output == *" fatal /x: cannot run $s: its interpreter /bin/sh\\r does not exist (CRLF line endings?)" ]]
	# Also through env, where the kernel finds the interpreter.
	printf '#!/usr/bin/env sh\r\necho hi\r\n' >"$s"
	start_fails "/x=$s"
	[[ $output == *"its #! line ends in \\r (CRLF line endings?)" ]]
}

@test "a script whose interpreter does not exist is refused at start" {
	local s
	s=$(mkscript nointerp.sh <<'EOF_'
#!/nonexistent/bin/sh
echo hi
EOF_
)
	start_fails "/x=$s"
	[[ $output == *"cannot run $s: its interpreter /nonexistent/bin/sh does not exist" ]]
	# The websocketd form too.
	start_fails "$s"
	[[ $output == *"its interpreter /nonexistent/bin/sh does not exist" ]]
}

@test "a directory given as a command is refused at start" {
	start_fails "/x=$BATS_TEST_TMPDIR"
	[[ $output == *"cannot run $BATS_TEST_TMPDIR: it is a directory" ]]
}

@test "a route written without its leading / gets the hint" {
	start_fails e=cat
	[[ $output == *"cannot run e=cat: not found in PATH; routes start with /: did you mean /e=cat?" ]]
}

@test "json: missing program, bad --dir, bad --staticdir, CRLF script and cannot bind are JSON lines" {
	start_fails --log-format json /x=/nonexistent/prog
	only_json
	[[ $output == *'"msg":"/x: cannot run /nonexistent/prog: no such file"'* ]]
	start_fails --log-format json --dir /nonexistent/dir /x=cat
	only_json
	[[ $output == *'"msg":"--dir /nonexistent/dir: No such file or directory"'* ]]
	start_fails --log-format json --staticdir /etc/passwd /x=cat
	only_json
	[[ $output == *'"msg":"--staticdir /etc/passwd: Not a directory"'* ]]
	start_fails --log-format=json "/x=$(crlf_script)"
	only_json
	[[ $output == *'CRLF line endings?'* ]]
	start_gw /e=cat
	run "$PORTAL_GW" --log-format json --address 127.0.0.1 --port "$PORT" /e=cat
	expect_status 1
	only_json
	[[ $output == *'"msg":"cannot listen on 127.0.0.1 port '"$PORT"': '* ]]
}

@test "a usage error stays one plain line with status 2, --log-format json or not" {
	run "$PORTAL_GW" --log-format json --port 0 --no-such-flag /e=cat
	expect_status 2
	[ "${#lines[@]}" -eq 1 ]
	[[ ${lines[0]} == "portal-gw: unknown flag '--no-such-flag' (see portal-gw --help)" ]]
}

@test "an error before --log-format json is seen is plain text" {
	start_fails /x=/nonexistent/prog --log-format json
	[[ $output == *" fatal /x: cannot run /nonexistent/prog: no such file" ]]
}

# --- at connection time -------------------------------------------------

@test "an exec that fails at connection time logs the real cause: CRLF, not executable, removed" {
	local s
	s=$(mkscript ok.sh <<'EOF_'
#!/bin/sh
echo hi
EOF_
)
	start_gw "/x=$s"
	printf '#!/bin/sh\r\necho hi\r\n' >"$s"
	run ws /x wait
	expect_lines "status 500"
	wait_log "#1 cannot start $s: its interpreter /bin/sh\\\\r does not exist \(CRLF line endings\?\)$"
	wait_log 'access #1 [^ ]+ GET /x 500 "cannot start program" .* exit=127$'

	chmod 644 "$s"
	run ws /x wait
	expect_lines "status 500"
	wait_log "#2 cannot start $s: it is not executable \(mode 0644\)$"

	rm "$s"
	run ws /x wait
	expect_lines "status 500"
	wait_log "#3 cannot start $s: no such file$"

	mkdir "$s"
	run ws /x wait
	expect_lines "status 500"
	wait_log "#4 cannot start $s: it is a directory$"
}

# --- --dir ----------------------------------------------------------------

@test "--dir: a file that is not executable gets 404 and is logged once with the reason" {
	local d=$BATS_TEST_TMPDIR/progs
	mkdir "$d"
	printf '#!/bin/sh\necho hi\n' >"$d/data.sh"
	chmod 644 "$d/data.sh"
	start_gw --dir "$d"
	run ws /data.sh wait
	expect_lines "status 404"
	run ws /data.sh wait
	expect_lines "status 404"
	wait_log 'access #2 '
	[ "$(grep -c "error --dir: $d/data.sh is not served: it is not executable (mode 0644)$" "$BATS_TEST_TMPDIR/gw.log")" -eq 1 ]
	# Made executable, it runs; nothing more is logged about it.
	chmod 755 "$d/data.sh"
	run ws /data.sh wait
	expect_lines "text hi" "close 1000" "eof"
	[ "$(grep -c -- "--dir: " "$BATS_TEST_TMPDIR/gw.log")" -eq 1 ]
}

@test "--dir: a CRLF script is warned about once, and each start names the cause" {
	local d=$BATS_TEST_TMPDIR/progs
	mkdir "$d"
	printf '#!/bin/sh\r\necho hi\r\n' >"$d/crlf.sh"
	chmod 755 "$d/crlf.sh"
	start_gw --dir "$d"
	run ws /crlf.sh wait
	expect_lines "status 500"
	run ws /crlf.sh wait
	expect_lines "status 500"
	wait_log 'access #2 '
	local log=$BATS_TEST_TMPDIR/gw.log
	[ "$(grep -c "error --dir: $d/crlf.sh cannot start: its interpreter /bin/sh\\\\r does not exist (CRLF line endings?)$" "$log")" -eq 1 ]
	[ "$(grep -c "cannot start $d/crlf.sh: its interpreter /bin/sh\\\\r does not exist (CRLF line endings?)$" "$log")" -eq 2 ]
}
