#!/usr/bin/env bats
# --log-format: every line of the log is one JSON object that Python's json
# module parses (hostile paths and stderr bytes included), the access line
# has each field the man page lists, and the text format keeps its shape.
# (Paths reach the log only as the request line allows: 0x21-0x7e; the
# child's stderr is where control bytes and invalid UTF-8 come from.)

load helpers

# jsonlog PY...: parses every line of gw.log as strict UTF-8 JSON (a line
# that does not parse fails), checks time and level on each, then runs each
# PY statement with `lines` (all objects), `access` (the access lines) and
# `stderr` (the stderr lines) in scope; an assert that fails prints the log.
jsonlog() {
	/usr/bin/python3 - "$BATS_TEST_TMPDIR/gw.log" "$@" <<'EOF_'
import json, re, sys
raw = open(sys.argv[1], "rb").read()
assert raw.endswith(b"\n"), "log does not end with a newline"
lines = []
for n, b in enumerate(raw.split(b"\n")[:-1], 1):
    try:
        o = json.loads(b.decode("utf-8"))
    except Exception as e:
        sys.exit("line %d is not JSON (%s): %r" % (n, e, b))
    assert isinstance(o, dict), "line %d is not an object" % n
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["time"]), o
    assert o["level"] in ("debug", "trace", "access", "info", "error", "fatal"), o
    lines.append(o)
access = [o for o in lines if o["level"] == "access" and "path" in o]
stderr = [o for o in lines if "stderr" in o]
for stmt in sys.argv[2:]:
    try:
        exec(stmt)
    except AssertionError:
        sys.exit("failed: %s\naccess: %r\nstderr: %r" % (stmt, access, stderr))
EOF_
}

# A child that writes a hostile stderr line (quotes, backslash, control
# bytes, an escape sequence, invalid UTF-8, a NUL), echoes one line, exits 3.
hostile_script() {
	mkscript hostile.sh <<'EOF_'
#!/bin/sh
printf 'say "hi" \\ \001\033[31m \377\300\257 \303\251 \000end\n' >&2
IFS= read -r line
printf '%s\n' "$line"
exit 3
EOF_
}

@test "json: every line parses; the access line has every field, the stderr line its bytes" {
	local s
	s=$(hostile_script)
	start_gw --log-format json --loglevel debug "/h=$s"
	run ws '/h/q"u\ote' text:hello wait
	expect_status 0
	expect_lines "text hello" "close 1011 exit status 3" "eof"
	wait_log '"level":"access"'
	jsonlog \
		'assert len(access) == 1' \
		'a = access[0]' \
		'assert a["remote_addr"] == "127.0.0.1" and 0 < a["remote_port"] < 65536' \
		'assert a["path"] == "/h/q\"u\\ote", a["path"]' \
		'assert isinstance(a["pid"], int) and a["pid"] > 1' \
		'assert isinstance(a["duration_ms"], int) and a["duration_ms"] >= 0' \
		'assert (a["msgs_in"], a["bytes_in"], a["msgs_out"], a["bytes_out"]) == (1, 5, 1, 5)' \
		'assert a["close_code"] == 1011 and a["exit_code"] == 3 and a["signal"] is None' \
		'assert isinstance(a["id"], int)' \
		'assert len(stderr) == 1 and stderr[0]["id"] == a["id"]' \
		'assert stderr[0]["stderr"] == "say \"hi\" \\ \x01\x1b[31m \ufffd\ufffd\ufffd \u00e9 \x00end", repr(stderr[0])' \
		'assert any(o.get("id") == a["id"] and "msg" in o and "connected to" in o["msg"] for o in lines)' \
		'assert any(o["msg"].startswith("listening on 127.0.0.1:") for o in lines if "msg" in o)'
}

@test "json: a child killed by a signal has exit_code null and the signal's name" {
	local s
	s=$(mkscript killed.sh <<'EOF_'
#!/bin/sh
echo up
kill -KILL $$
EOF_
)
	start_gw --log-format json "/k=$s"
	run ws /k wait
	expect_status 0
	expect_lines "text up" "close 1011 killed by signal SIGKILL" "eof"
	wait_log '"level":"access"'
	jsonlog \
		'a = access[0]' \
		'assert a["exit_code"] is None and a["signal"] == "SIGKILL", a' \
		'assert a["close_code"] == 1011 and a["msgs_out"] == 1 and a["bytes_out"] == 2, a'
}

@test "json: a client that goes away, a 404 and shutdown lines all parse" {
	start_gw --log-format json --loglevel debug /e=cat
	run ws /e text:x recv reset
	expect_status 0
	run ws /nowhere
	expect_status 1
	wait_log '"level":"access".*"close_code"'
	wait_log '"msg":"/nowhere 404'
	stop_gw
	[ "$GW_STATUS" -eq 0 ]
	jsonlog \
		'assert len(access) == 1 and access[0]["path"] == "/e"' \
		'assert access[0]["msgs_in"] == 1 and access[0]["msgs_out"] == 1' \
		'assert any(o.get("msg") == "stopped" for o in lines)'
}

@test "json: a stderr line too long for one log line is cut and stays valid JSON" {
	local s
	# 4000 control bytes (one stderr line; pieces are 4096): each takes
	# six bytes escaped, more than a log line holds.
	s=$(mkscript long.sh <<'EOF_'
#!/bin/sh
head -c 4000 /dev/zero | tr '\0' '\001' >&2
echo >&2
echo done
EOF_
)
	start_gw --log-format json "/l=$s"
	run ws /l wait
	expect_status 0
	expect_lines "text done" "close 1000" "eof"
	wait_log '"level":"access"'
	jsonlog \
		'assert len(stderr) == 1 and stderr[0].get("truncated") is True, stderr' \
		'assert set(stderr[0]["stderr"]) == {"\x01"} and 2000 < len(stderr[0]["stderr"]) < 4000'
}

@test "text: the access line names peer, path, pid, duration, counts, close and exit" {
	local s
	s=$(hostile_script)
	start_gw "/h=$s"
	run ws /h text:hello wait
	expect_status 0
	wait_log ' access #'
	grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z access #1 127\.0\.0\.1:[0-9]+ /h pid=[0-9]+ ms=[0-9]+ in=1/5B out=1/5B close=1011 exit=3$' \
		"$BATS_TEST_TMPDIR/gw.log"
	grep -q ' info #1 stderr: say "hi" \\ ' "$BATS_TEST_TMPDIR/gw.log"
}

@test "--log-format with an unknown value is a usage error naming the flag" {
	run "$PORTAL_GW" --log-format xml /e=cat
	expect_status 2
	[[ $output == *--log-format* ]]
}

@test "json: a path with control bytes or invalid UTF-8 is refused with 400, and the log still parses" {
	start_gw --log-format json --loglevel debug /e=cat
	local t
	for t in '/e\x01x' '/e\xff\xc3' '/e\x1b[31m"x'; do
		run ws -t 1000 --http "GET $t HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
		expect_line_re '^HTTP/1.1 400 '
	done
	wait_for "three 400 access lines" eval \
		'[ "$(grep -c "\"level\":\"access\".*400" "$BATS_TEST_TMPDIR/gw.log")" -eq 3 ]'
	jsonlog \
		'assert sum(1 for o in lines if o["level"] == "access" and " 400 " in o.get("msg", "")) == 3, lines'
}
