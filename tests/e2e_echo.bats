#!/usr/bin/env bats
# Messages to the child and back: each text message is a line on the
# child's stdin, each line it prints is a text message.

load helpers

@test "cat echoes text messages in order" {
	start_gw /echo=cat
	run ws /echo text:hello recv "text:second message" recv close:1000 wait
	expect_status 0
	expect_lines "text hello" "text second message" "close 1000*" "eof"
}

@test "a while-read shell script echoes text messages" {
	local s
	s=$(mkscript echo.sh <<'EOF_'
#!/bin/sh
while IFS= read -r line; do
	printf '%s\n' "$line"
done
EOF_
)
	start_gw "/echo=$s"
	run ws /echo text:one recv text:two recv close:1000 wait
	expect_status 0
	expect_lines "text one" "text two" "close 1000*" "eof"
}

@test "messages of 0, 125 and 126 bytes come back whole" {
	start_gw /echo=cat
	run ws /echo echo:0 echo:125 echo:126
	expect_status 0
	expect_lines "echo 0 ok" "echo 125 ok" "echo 126 ok"
}

@test "messages of 65535 and 65536 bytes come back whole" {
	start_gw /echo=cat
	run ws /echo echo:65535 echo:65536
	expect_status 0
	expect_lines "echo 65535 ok" "echo 65536 ok"
}

@test "a message of 1 MiB (the default --max-message) comes back whole" {
	start_gw /echo=cat
	run ws /echo echo:1048576
	expect_status 0
	expect_lines "echo 1048576 ok"
}

@test "a fragmented text message reaches the child as one line" {
	start_gw /echo=cat
	run ws /echo frame:op=1,fin=0,text=hel 'frame:op=0,fin=0,text=lo\x2c' \
		'frame:op=0,fin=1,text=\x20world' recv
	expect_status 0
	expect_lines "text hello, world"
}

@test "UTF-8 split across fragments is accepted" {
	start_gw /echo=cat
	run ws /echo frame:op=1,fin=0,hex=e282 frame:op=0,hex=ac recv
	expect_status 0
	expect_lines 'text \xe2\x82\xac'
}

@test "a frame delivered one byte at a time is understood" {
	start_gw /echo=cat
	run ws /echo chunk:1 text:bytewise recv textn:300 chunk:0 text:after recv:2
	expect_status 0
	expect_lines "text bytewise" "text <300 bytes>" "text after"
}

@test "a ping is answered with a pong of the same payload" {
	start_gw /echo=cat
	run ws /echo ping:hello recv ping: recv
	expect_status 0
	expect_lines "pong hello" "pong"
}

@test "a ping between the fragments of a message is answered at once" {
	start_gw /echo=cat
	run ws /echo frame:op=1,fin=0,text=ab ping:mid recv frame:op=0,text=cd recv
	expect_status 0
	expect_lines "pong mid" "text abcd"
}

@test "50 concurrent clients each get only their own echoes" {
	start_gw /echo=cat
	local i pids=() T=$BATS_TEST_TMPDIR
	for i in $(seq 1 50); do
		"$WSCLIENT" 127.0.0.1 "$PORT" /echo "text:client $i first" recv \
			"text:client $i second" recv close:1000 wait \
			>"$T/client.$i" 2>&1 3>&- &
		pids+=($!)
	done
	# Each client ends by itself: every read it does has a 5 s deadline.
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || { echo "client $((i + 1)) failed" >&2; cat "$T/client.$((i + 1))" >&2; false; }
	done
	for i in $(seq 1 50); do
		output=$(cat "$T/client.$i")
		expect_lines "text client $i first" "text client $i second" "close 1000*" "eof"
	done
}
