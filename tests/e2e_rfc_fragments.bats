#!/usr/bin/env bats
# Autobahn|Testsuite category 5 (fragmentation) and 6.1 (empty fragments),
# reproduced against a line echo (cat): a fragmented text message reaches
# the child as one line whatever its fragments, pings between them are
# answered at once, and broken fragmentation fails with 1002.

load helpers

setup() {
	start_gw /echo=cat
}

# fragments N TEXT: the frame: steps that send TEXT as a text message in N
# fragments, one a line (the last ones are empty when N exceeds its
# length). awk, because bash loops are slow under bats.
fragments() {
	awk -v n="$1" -v text="$2" 'BEGIN {
		size = int((length(text) + n - 1) / n)
		for (i = 0; i < n; i++) {
			piece = substr(text, i * size + 1, size)
			printf "frame:op=%d,fin=%d%s\n", i ? 0 : 1, i == n - 1,
				piece == "" ? "" : ",text=" piece
		}
	}'
}

@test "5.3, 6.1 a text message in 1 to 40 fragments comes back as one message" {
	local msg=a-fragmented-message-of-37-characters n steps want=()
	mapfile -t steps < <(for n in $(seq 1 40); do
		fragments "$n" "$msg"
		echo recv
	done)
	for n in $(seq 1 40); do want+=("text $msg"); done
	run ws /echo "${steps[@]}" close:1000 wait
	expect_status 0
	expect_lines "${want[@]}" "close 1000*" "eof"
}

@test "5.4 fragments written one byte at a time come back as one message" {
	local f
	mapfile -t f < <(fragments 5 fragment1fragment2fragment3)
	run ws /echo chunk:1 "${f[@]}" recv chunk:0 close:1000 wait
	expect_status 0
	expect_lines "text fragment1fragment2fragment3" "close 1000*" "eof"
}

@test "5.5 fragments sent with pauses between them come back as one message" {
	run ws /echo frame:op=1,fin=0,text=fragment1 sleep:50 \
		frame:op=0,fin=0,text=fragment2 sleep:50 frame:op=0,text=fragment3 \
		recv close:1000 wait
	expect_status 0
	expect_lines "text fragment1fragment2fragment3" "close 1000*" "eof"
}

@test "5.6-5.8 a ping between fragments is answered at once" {
	run ws /echo frame:op=1,fin=0,text=fragment1 ping:between recv \
		frame:op=0,text=fragment2 recv close:1000 wait
	expect_status 0
	expect_lines "pong between" "text fragment1fragment2" "close 1000*" "eof"
	run ws /echo chunk:1 frame:op=1,fin=0,text=fragment1 ping:between \
		frame:op=0,text=fragment2 recv:2 chunk:0 close:1000 wait
	expect_status 0
	expect_lines "pong between" "text fragment1fragment2" "close 1000*" "eof"
}

@test "5.19-5.20 pings between five fragments, with a pause: pongs at once, one message" {
	run ws /echo frame:op=1,fin=0,text=fragment1 frame:op=0,fin=0,text=fragment2 \
		ping:pongme-1 recv sleep:200 frame:op=0,fin=0,text=fragment3 \
		frame:op=0,fin=0,text=fragment4 ping:pongme-2 recv \
		frame:op=0,text=fragment5 recv close:1000 wait
	expect_status 0
	expect_lines "pong pongme-1" "pong pongme-2" \
		"text fragment1fragment2fragment3fragment4fragment5" "close 1000*" "eof"
	# 5.20: the same without waiting for the pongs.
	run ws /echo frame:op=1,fin=0,text=fragment1 frame:op=0,fin=0,text=fragment2 \
		ping:pongme-1 sleep:200 frame:op=0,fin=0,text=fragment3 \
		frame:op=0,fin=0,text=fragment4 ping:pongme-2 \
		frame:op=0,text=fragment5 recv:3 close:1000 wait
	expect_status 0
	expect_lines "pong pongme-1" "pong pongme-2" \
		"text fragment1fragment2fragment3fragment4fragment5" "close 1000*" "eof"
}

@test "5.1-5.2 fragmented ping, pong and close close with 1002" {
	local op p
	for op in 9 10 8; do
		p=text=fragment1
		[ "$op" != 8 ] || p=hex=03e8
		run ws /echo "frame:op=$op,fin=0,$p" "frame:op=0,fin=1,text=fragment2" wait
		expect_case "op=$op fin=0" "close 1002*" "eof"
		# inside a fragmented text message, too
		run ws /echo frame:op=1,fin=0,text=a "frame:op=$op,fin=0,$p" \
			frame:op=0,text=b wait
		expect_case "op=$op fin=0 in a message" "close 1002*" "eof"
	done
	all_cases_passed
}

@test "5.9-5.14, 5.16-5.17 continuation frames with nothing to continue close with 1002" {
	local c fin
	for fin in 1 0; do
		for c in 0 1 997; do
			run ws /echo "chunk:$c" "frame:op=0,fin=$fin,text=non-continuation payload" \
				text:Hello wait
			expect_case "fin=$fin chunk=$c" "close 1002*" "eof"
		done
		run ws /echo "frame:op=0,fin=$fin" wait
		expect_case "empty fin=$fin" "close 1002*" "eof"
		# 5.16-5.17: the same after a complete fragmented message
		run ws /echo frame:op=1,fin=0,text=fragment1 frame:op=0,text=fragment2 recv \
			"frame:op=0,fin=$fin,text=fragment3" wait
		expect_case "after a message fin=$fin" "text fragment1fragment2" "close 1002*" "eof"
	done
	all_cases_passed
}

@test "5.18 a new text or binary frame inside a fragmented message closes with 1002" {
	local f
	for f in frame:op=1,fin=1,text=fragment2 frame:op=1,fin=0,text=fragment2 \
		frame:op=2,fin=1,text=fragment2 frame:op=1,fin=1; do
		run ws /echo frame:op=1,fin=0,text=fragment1 "$f" wait
		expect_case "$f" "close 1002*" "eof"
	done
	all_cases_passed
}

@test "6.1.1-6.1.3 empty messages and empty fragments" {
	run ws /echo text: recv frame:op=1,fin=0 frame:op=0,fin=0 frame:op=0,fin=1 recv \
		frame:op=1,fin=0 frame:op=0,fin=0,text=middle frame:op=0,fin=1 recv \
		frame:op=1,fin=0,text=first frame:op=0,fin=0 ping:p frame:op=0,fin=0 \
		frame:op=0,fin=1 recv:2 close:1000 wait
	expect_status 0
	expect_lines "text" "text" "text middle" "pong p" "text first" "close 1000*" "eof"
}

@test "a fragmented message then an unfragmented one, many times, in order" {
	local i steps=() want=()
	for i in $(seq 1 20); do
		steps+=("frame:op=1,fin=0,text=frag-$i-" "frame:op=0,text=end" "text:whole-$i")
		want+=("text frag-$i-end" "text whole-$i")
	done
	run ws /echo "${steps[@]}" recv:40 close:1000 wait
	expect_status 0
	expect_lines "${want[@]}" "close 1000*" "eof"
}
