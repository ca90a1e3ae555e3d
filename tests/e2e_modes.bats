#!/usr/bin/env bats
# --framed mode and accept(2) running out of descriptors.

load helpers

@test "--framed with cat is an exact echo server for text and binary" {
	start_gw --framed --max-message 3000000 /cat=cat
	run ws /cat 'text:two\nlines\r\n and a \\ backslash' 'bin:000a0d5c54200a' \
		'bin:' 'text:' 'frame:op=2,fin=0,hex=0102' 'frame:op=0,fin=0,hex=03' \
		'frame:op=0,fin=1,hex=0405' recv:5 echo:100000 echo:2000000 close:1000 wait
	expect_lines 'text two\x0alines\x0d\x0a and a \ backslash' \
		'binary 000a0d5c54200a' 'binary' 'text' 'binary 0102030405' \
		'echo 100000 ok' 'echo 2000000 ok' 'close 1000' 'eof'
}

@test "--framed: the child sees one 'T '/'B ' line per message" {
	local seen="$BATS_TEST_TMPDIR/seen"
	start_gw --framed "/tee=tee $seen"
	run ws /tee 'text:a\nb' 'bin:ff00' recv:2 close:1000 wait
	expect_status 0
	wait_for "tee's file" test -s "$seen"
	[ "$(cat "$seen")" = "$(printf 'T a\\nb\nB /wA=')" ]
}

@test "--framed: a child line without a type prefix is sent as text, and logged once" {
	start_gw --framed '/raw=sh -c "echo plain; echo T typed; echo also plain"'
	run ws /raw wait
	expect_lines "text plain" "text typed" "text also plain" "close 1000" "eof"
	[ "$(grep -c "without 'T ' or 'B '" "$BATS_TEST_TMPDIR/gw.log")" -eq 1 ]
}

@test "out of descriptors, accept pauses instead of spinning, and recovers" {
	local pids=() i
	# Few descriptors: the gateway runs out after a handful of clients.
	GW_ULIMIT_N=24 start_gw /echo=cat
	for i in $(seq 1 30); do
		"$WSCLIENT" -t 8000 --http 127.0.0.1 "$PORT" 'GET /echo HTTP/1.1\r\n' \
			>/dev/null 2>&1 &
		pids+=($!)
	done
	wait_log 'accept: .*pausing'
	# Not spinning: well under half a CPU over half a second.
	local t0 t1
	t0=$(awk '{print $14 + $15}' "/proc/$GW_PID/stat")
	sleep 0.5
	t1=$(awk '{print $14 + $15}' "/proc/$GW_PID/stat")
	[ $((t1 - t0)) -lt 25 ]
	kill "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
	# Until the dead connections are gone a child may not fit (503 with
	# Retry-After, as a client should then do); soon one is served again.
	served() { ws /echo text:back recv close:1000 wait | grep -qx "text back"; }
	wait_for "a client served again" served
}
