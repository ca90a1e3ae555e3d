#!/usr/bin/env bats
# Autobahn|Testsuite category 7 (close handling), reproduced against a line
# echo: the closing handshake, close payload sizes, every close code (valid
# ones echoed, the others refused with 1002), close reasons, and what
# happens to frames after a Close.

load helpers

setup() {
	start_gw "/echo=tee -a $BATS_TEST_TMPDIR/child.in"
}

# child_got TEXT: once the gateway has stopped (and so its children), the
# child's stdin was exactly TEXT.
child_got() {
	stop_gw
	local got
	got=$(od -An -c "$BATS_TEST_TMPDIR/child.in" | tr -s ' \n' ' ')
	local want
	want=$(printf '%b' "$1" | od -An -c | tr -s ' \n' ' ')
	if [ "$got" != "$want" ]; then
		echo "child's stdin: [$got], want [$want]" >&2
		return 1
	fi
}

@test "7.1.1 an echoed message, then a normal close" {
	run ws /echo text:Hello recv close:1000 wait
	expect_status 0
	expect_lines "text Hello" "close 1000*" "eof"
	child_got 'Hello\n'
}

@test "7.1.2-7.1.4 frames after Close are ignored and the connection ends" {
	local f
	for f in close:1000 ping:after-close text:after-close \
		frame:op=1,fin=0,text=after-close frame:op=5 frame:rsv=1,text=x; do
		run ws /echo text:before recv close:1000 "$f" wait
		expect_case "close then $f" "text before" "close 1000*" "eof"
	done
	all_cases_passed
	child_got 'before\nbefore\nbefore\nbefore\nbefore\nbefore\n'
}

@test "7.1.5 a Close inside a fragmented message ends it; the continuation is ignored" {
	run ws /echo frame:op=1,fin=0,text=fragment1 close:1000 \
		frame:op=0,text=fragment2 wait
	expect_status 0
	expect_lines "close 1000*" "eof"
	# The man page: a message cut short by the client's Close is not
	# delivered.
	child_got ''
}

@test "7.1.6 a large message, then Close, then a ping: the echo comes before the Close, no pong" {
	# Autobahn rates this informational; the man page (CLOSE CODES) says
	# what the child prints for messages already received is sent first.
	run ws /echo textn:262144 close:1000 ping:after-close wait
	expect_status 0
	expect_lines "text <262144 bytes>" "close 1000*" "eof"
}

@test "messages sent just before Close are all echoed before the Close" {
	local i steps=() want=()
	for i in $(seq 1 20); do
		steps+=("text:message $i")
		want+=("text message $i")
	done
	run ws /echo "${steps[@]}" frame:op=1,fin=0,text=cut-short close:1001 wait
	expect_status 0
	expect_lines "${want[@]}" "close 1001*" "eof"
}

@test "after the gateway's own Close, a ping gets no pong and the client's Close ends it" {
	stop_gw
	start_gw /quick=true
	run ws /quick recv ping:late text:late close:1000 wait
	expect_status 0
	expect_lines "close 1000*" "eof"
}

@test "7.3.1-7.3.6 close payloads: empty, 1 byte, code, code and reason, 123 and 124 bytes of reason" {
	local r123 r124
	r123=$(head -c 123 /dev/zero | tr '\0' r)
	r124=${r123}r
	run ws /echo close wait
	expect_case "empty" "close none" "eof"
	run ws /echo frame:op=8,hex=03 wait
	expect_case "1 byte" "close 1002*" "eof"
	run ws /echo close:1000 wait
	expect_case "code only" "close 1000*" "eof"
	run ws /echo "close:1000:Hello World!" wait
	expect_case "code and reason" "close 1000*" "eof"
	run ws /echo "close:1000:$r123" wait
	expect_case "123-byte reason" "close 1000*" "eof"
	run ws /echo "close:1000:$r124" wait
	expect_case "124-byte reason" "close 1002*" "eof"
	all_cases_passed
}

@test "7.5.1 a close reason that is not UTF-8 closes with 1007" {
	local r
	for r in '\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited' \
		'\xff' 'ok\xc2' '\xc0\xaf' '\xf4\x90\x80\x80' '\x80'; do
		run ws /echo "close:1000:$r" wait
		expect_case "reason $r" "close 1007*" "eof"
	done
	all_cases_passed
}

@test "a close reason in valid UTF-8 is accepted" {
	local r
	for r in '\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5' '\xf4\x8f\xbf\xbf' \
		'\xef\xbf\xbe' 'a\x00b'; do
		run ws /echo "close:1000:$r" wait
		expect_case "reason $r" "close 1000*" "eof"
	done
	all_cases_passed
}

@test "7.7.1-7.7.13 every valid close code is echoed" {
	local code
	for code in 1000 1001 1002 1003 1007 1008 1009 1010 1011 1012 1013 1014 \
		3000 3999 4000 4999; do
		run ws /echo "close:$code" wait
		expect_case "$code" "close $code" "eof"
		run ws /echo "close:$code:reason" wait
		expect_case "$code with a reason" "close $code*" "eof"
	done
	all_cases_passed
}

@test "7.9.1-7.9.13, 7.13 every invalid close code closes with 1002" {
	local code
	for code in 0 1 999 1004 1005 1006 1015 1016 1100 2000 2999 5000 \
		65535; do
		run ws /echo "close:$code" wait
		expect_case "$code" "close 1002*" "eof"
	done
	all_cases_passed
}

@test "a Close answers only the first Close; the connection then ends" {
	run ws /echo close:1000 close:1001 ping:x wait
	expect_status 0
	expect_lines "close 1000*" "eof"
}

@test "a client that closes its side after Close still gets the Close and EOF" {
	run ws /echo text:x recv close:1000 shut wait
	expect_status 0
	expect_lines "text x" "close 1000*" "eof"
}
