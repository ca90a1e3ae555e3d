#!/usr/bin/env bats
# --log-format: every line of the log is one JSON object that Python's json
# module parses (hostile paths and stderr bytes included), every request gets
# one access line with each field the man page lists, whatever its status,
# and the text format keeps its shape.
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
		'assert a["forwarded_for"] is None and a["origin"] is None' \
		'assert a["method"] == "GET" and a["status"] == 101 and a["reason"] == "exit status 3"' \
		'assert isinstance(a["bytes_sent"], int) and a["bytes_sent"] > 129' \
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
	wait_log '"path":"/nowhere","status":404'
	stop_gw
	[ "$GW_STATUS" -eq 0 ]
	jsonlog \
		'assert len(access) == 2 and access[0]["path"] == "/e"' \
		'assert access[0]["msgs_in"] == 1 and access[0]["msgs_out"] == 1' \
		'assert access[0]["close_code"] is None and access[0]["status"] == 101' \
		'assert access[1]["status"] == 404 and access[1]["msgs_in"] is None' \
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

@test "text: the access line names peer, method, path, status, reason, bytes, pid, duration, counts, close and exit" {
	local s
	s=$(hostile_script)
	start_gw "/h=$s"
	run ws /h text:hello wait
	expect_status 0
	wait_log ' access #'
	grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z access #1 127\.0\.0\.1:[0-9]+ GET /h 101 "exit status 3" fwd=- origin=- sent=[0-9]+B ms=[0-9]+ pid=[0-9]+ in=1/5B out=1/5B close=1011 exit=3$' \
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
		'[ "$(grep -c "\"level\":\"access\".*\"status\":400" "$BATS_TEST_TMPDIR/gw.log")" -eq 3 ]'
	jsonlog \
		'assert [(a["status"], a["reason"], a["method"]) for a in access] == [(400, "malformed request", None)] * 3, access'
}

# --- one access line per request, whatever its status ------------------

# all_statuses [FLAGS...]: one request per status an access line can carry,
# each on its own connection, in this order: 101, 200, 304, 404 (HEAD),
# 403, 431, 408, 500 (the program was removed), 101 (held open), 503
# (--maxforks), 503 (draining: SIGTERM with --health keeps accepting), then
# the held session ends with 1001 and the gateway exits.
all_statuses() {
	local d=$BATS_TEST_TMPDIR/www gone hold
	mkdir -p "$d"
	echo hello >"$d/f.txt"
	gone=$(mkscript gone.sh <<'EOF_'
#!/bin/sh
echo hi
EOF_
)
	# Deaf to stdin's end, SIGINT and SIGTERM: the drain lasts until SIGKILL.
	hold=$(mkscript hold.sh <<'EOF_'
#!/bin/sh
trap '' INT TERM
echo up
exec sleep 30
EOF_
)
	start_gw "$@" --staticdir "$d" --origin http://ok.example --maxforks 1 \
		--max-head 1024 --handshake-timeout 300 --health /healthz \
		--closems 1000 /e=cat "/gone=$gone" "/hold=$hold"
	rm "$gone"
	run ws /e text:x recv close:1000 wait
	expect_lines "text x" "close 1000" "eof"
	run ws --http "GET /f.txt HTTP/1.1\r\nHost: x\r\n\r\n"
	expect_first "HTTP/1.1 200 OK"
	run ws --http "GET /f.txt HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\n\r\n"
	expect_first "HTTP/1.1 304 Not Modified"
	run ws --http "HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n"
	expect_first "HTTP/1.1 404 Not Found"
	run ws -H 'Origin: http://evil.example/"x' /e
	expect_lines "status 403"
	run ws --http "$(upgrade /e "X-Pad: $(head -c 2000 /dev/zero | tr '\0' p)")"
	expect_first "HTTP/1.1 431 Request Header Fields Too Large"
	run ws -t 3000 --http "GET /e HTTP/1.1\r\n"
	expect_first "HTTP/1.1 408 Request Timeout"
	run ws /gone wait
	expect_lines "status 500"
	bg_client hold /hold recv wait
	wait_log "connected to /hold"
	run ws /e
	expect_lines "status 503"
	kill -TERM "$GW_PID"
	wait_log "shutting down: 1 session"
	run ws /e
	expect_lines "status 503"
	bg_result "$BG_PID" hold
	wait_gw_exit
	[ "$GW_STATUS" -eq 0 ]
}

@test "text: every request gets one access line with every field, - for none" {
	all_statuses
	local log=$BATS_TEST_TMPDIR/gw.log ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z'
	local q='"([^"\\]|\\.)*"'
	[ "$(grep -c ' access ' "$log")" -eq 11 ] || { cat "$log" >&2; false; }
	# The shape of every one of them.
	[ -z "$(grep ' access ' "$log" | grep -Ev "^$ts access #[0-9]+ 127\.0\.0\.1:[0-9]+ (GET|HEAD|-) (/[^ ]*|-) [0-9]{3} ($q|-) fwd=- origin=($q|-) sent=[0-9]+B ms=[0-9]+ pid=([0-9]+|-) in=([0-9]+/[0-9]+B|-) out=([0-9]+/[0-9]+B|-) close=([0-9]+|-) (exit=([0-9]+|-)|signal=SIG[A-Z]+)\$")" ]
	local t='sent=[0-9]+B ms=[0-9]+'
	local none='pid=- in=- out=- close=- exit=-$'
	grep -Eq "access #1 [^ ]+ GET /e 101 - fwd=- origin=- $t pid=[0-9]+ in=1/1B out=1/1B close=1000 exit=0\$" "$log"
	grep -Eq "access #2 [^ ]+ GET /f.txt 200 \"file, 6 bytes\" fwd=- origin=- sent=[0-9]{3}B ms=[0-9]+ $none" "$log"
	grep -Eq "access #3 [^ ]+ GET /f.txt 304 \"not modified\" fwd=- origin=- $t $none" "$log"
	grep -Eq "access #4 [^ ]+ HEAD /nope 404 \"no such file\" fwd=- origin=- $t $none" "$log"
	grep -Eq "access #5 [^ ]+ GET /e 403 \"origin not allowed\" fwd=- origin=\"http://evil.example/\\\\\"x\" $t $none" "$log"
	grep -Eq "access #6 [^ ]+ - - 431 \"request head too large\" fwd=- origin=- $t $none" "$log"
	grep -Eq "access #7 [^ ]+ - - 408 \"request head not received in time\" fwd=- origin=- $t $none" "$log"
	grep -Eq "access #8 [^ ]+ GET /gone 500 \"cannot start program\" fwd=- origin=- $t pid=[0-9]+ in=- out=- close=- exit=127\$" "$log"
	grep -Eq "access #9 [^ ]+ GET /hold 101 \"server shutting down\" fwd=- origin=- $t pid=[0-9]+ in=0/0B out=1/2B close=1001 signal=SIGKILL\$" "$log"
	grep -Eq "access #10 [^ ]+ GET /e 503 \"--maxforks reached\" fwd=- origin=- $t $none" "$log"
	grep -Eq "access #11 [^ ]+ GET /e 503 \"shutting down\" fwd=- origin=- $t $none" "$log"
}

@test "json: every request gets one access line with every field, null for none" {
	all_statuses --log-format json
	jsonlog \
		'keys = ["time", "level", "id", "remote_addr", "remote_port", "forwarded_for", "method", "path", "status", "reason", "origin", "bytes_sent", "duration_ms", "pid", "msgs_in", "bytes_in", "msgs_out", "bytes_out", "close_code", "exit_code", "signal"]' \
		'assert all(list(a) == keys for a in access), access' \
		'assert len(access) == 11 and len([o for o in lines if o["level"] == "access"]) == 11' \
		'assert all(a["remote_addr"] == "127.0.0.1" and 0 < a["remote_port"] < 65536 and a["forwarded_for"] is None for a in access)' \
		'assert all(isinstance(a[k], int) and a[k] >= 0 for a in access for k in ("bytes_sent", "duration_ms"))' \
		'got = {a["id"]: (a["method"], a["path"], a["status"], a["reason"]) for a in access}' \
		'assert got == {1: ("GET", "/e", 101, None), 2: ("GET", "/f.txt", 200, "file, 6 bytes"), 3: ("GET", "/f.txt", 304, "not modified"), 4: ("HEAD", "/nope", 404, "no such file"), 5: ("GET", "/e", 403, "origin not allowed"), 6: (None, None, 431, "request head too large"), 7: (None, None, 408, "request head not received in time"), 8: ("GET", "/gone", 500, "cannot start program"), 9: ("GET", "/hold", 101, "server shutting down"), 10: ("GET", "/e", 503, "--maxforks reached"), 11: ("GET", "/e", 503, "shutting down")}, got' \
		'by = {a["id"]: a for a in access}' \
		'assert by[5]["origin"] == "http://evil.example/\"x" and all(a["origin"] is None for a in access if a["id"] != 5)' \
		'assert (by[1]["msgs_in"], by[1]["bytes_in"], by[1]["close_code"], by[1]["exit_code"], by[1]["signal"]) == (1, 1, 1000, 0, None)' \
		'assert (by[9]["msgs_out"], by[9]["close_code"], by[9]["exit_code"], by[9]["signal"]) == (1, 1001, None, "SIGKILL")' \
		'assert isinstance(by[8]["pid"], int) and by[8]["exit_code"] == 127 and by[8]["msgs_in"] is None and by[8]["close_code"] is None' \
		'none = ["pid", "msgs_in", "bytes_in", "msgs_out", "bytes_out", "close_code", "exit_code", "signal"]' \
		'assert all(a[k] is None for i in (2, 3, 4, 5, 6, 7, 10, 11) for a in [by[i]] for k in none), access' \
		'assert 100 < by[2]["bytes_sent"] < 1000 and by[4]["bytes_sent"] > 50'
}

@test "--trust-proxy: the access line has the proxy's address and the forwarded one, for a session and a plain request" {
	start_gw --trust-proxy --health /healthz /e=cat
	run ws -H 'X-Forwarded-For: 203.0.113.7' /e text:x recv close:1000 wait
	expect_status 0
	run ws --http "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 2001:db8::1\r\n\r\n"
	expect_first "HTTP/1.1 200 OK"
	wait_log 'access #2 '
	grep -Eq 'access #1 127\.0\.0\.1:[0-9]+ GET /e 101 - fwd=203\.0\.113\.7 ' "$BATS_TEST_TMPDIR/gw.log"
	grep -Eq 'access #2 127\.0\.0\.1:[0-9]+ GET /healthz 200 "health" fwd=2001:db8::1 ' "$BATS_TEST_TMPDIR/gw.log"
}

@test "json: a method other than GET or HEAD is logged as sent, with its 405" {
	start_gw --log-format json /e=cat
	run ws --http "PROPFIND /e HTTP/1.1\r\nHost: x\r\n\r\n"
	expect_first "HTTP/1.1 405 Method Not Allowed"
	wait_log '"status":405'
	jsonlog \
		'assert [(a["method"], a["path"], a["status"]) for a in access] == [("PROPFIND", "/e", 405)], access'
}
