#!/usr/bin/env bats
# Autobahn|Testsuite categories 1 (framing) and 2 (pings and pongs),
# reproduced against a line echo (cat). Case numbers in the test names are
# Autobahn's; a loop covers many cases and names each one that fails.

load helpers

setup() {
	start_gw /echo=cat
}

# bytes_hex N SEED: N bytes (0x00-0xff, all kinds) as hex.
bytes_hex() {
	local i h=
	for ((i = 0; i < $1; i++)); do
		printf -v h '%s%02x' "$h" $((($2 * 37 + i * 11) & 255))
	done
	printf '%s' "$h"
}

# esc HEX: the bytes as a wsclient STRING (\xHH each).
esc() {
	local h=$1 s=
	while [ -n "$h" ]; do
		s+="\\x${h:0:2}"
		h=${h:2}
	done
	printf '%s' "$s"
}

# shown HEX: the bytes as wsclient prints a payload.
shown() {
	local h=$1 s= c b
	while [ -n "$h" ]; do
		b=$((16#${h:0:2}))
		if [ "$b" -ge 32 ] && [ "$b" -lt 127 ]; then
			printf -v c '%b' "\\x${h:0:2}"
			s+=$c
		else
			s+="\\x${h:0:2}"
		fi
		h=${h:2}
	done
	printf '%s' "$s"
}

# --- 1: framing -------------------------------------------------------

@test "1.1.1-1.1.6 text messages at every length boundary come back whole" {
	run ws /echo echo:0 echo:1 echo:125 echo:126 echo:127 echo:128 \
		echo:65535 echo:65536 close:1000 wait
	expect_status 0
	expect_lines "echo 0 ok" "echo 1 ok" "echo 125 ok" "echo 126 ok" \
		"echo 127 ok" "echo 128 ok" "echo 65535 ok" "echo 65536 ok" \
		"close 1000*" "eof"
}

@test "1.1.7-1.1.8 text messages written in 997-byte chops come back whole" {
	run ws /echo chunk:997 echo:65535 echo:65536 chunk:0 close:1000 wait
	expect_status 0
	expect_lines "echo 65535 ok" "echo 65536 ok" "close 1000*" "eof"
}

@test "messages written one byte at a time, 7-bit and 16-bit length forms, come back whole" {
	run ws /echo chunk:1 echo:125 echo:126 chunk:0
	expect_status 0
	expect_lines "echo 125 ok" "echo 126 ok"
}

@test "1.2.1-1.2.8 binary messages of every boundary length close with 1003 in line mode" {
	local n p
	for n in 0 1 125 126 127 128 65535 65536; do
		p=$(head -c "$n" /dev/zero | tr '\0' b)
		run ws /echo "frame:op=2,text=$p" wait
		expect_case "binary $n" "close 1003*" "eof"
	done
	all_cases_passed
}

@test "1.2 a binary message after a text message: the text is echoed, then 1003" {
	run ws /echo text:first recv bin:00ff wait
	expect_status 0
	expect_lines "text first" "close 1003*" "eof"
}

@test "RFC 6455 5.2 lengths in more bytes than needed or with the top bit set close with 1002" {
	# Headers alone (masked): the length decides before any payload.
	local h
	for h in 81fe0000 81fe007d 81ff0000000000000000 81ff000000000000007d \
		81ff000000000000ffff 81ff8000000000000001 81ffffffffffffffffff; do
		run ws /echo text:ok recv "raw:$h" wait
		expect_case "header $h" "text ok" "close 1002*" "eof"
	done
	all_cases_passed
}

@test "RFC 6455 5.2 the smallest length of each encoding is accepted" {
	# 126 in 16 bits and 65536 in 64 bits, as raw masked frames (zero
	# key) of "a"s.
	local a126 a32768
	a126=$(head -c 126 /dev/zero | tr '\0' a | od -An -v -tx1 | tr -d ' \n')
	a32768=$(head -c 32768 /dev/zero | tr '\0' a | od -An -v -tx1 | tr -d ' \n')
	run ws /echo "raw:81fe007e00000000$a126" recv \
		"raw:81ff000000000001000000000000" "raw:$a32768" "raw:$a32768" \
		recv close:1000 wait
	expect_status 0
	expect_lines "text $(head -c 126 /dev/zero | tr '\0' a)" "text <65536 bytes>" \
		"close 1000*" "eof"
}

# --- 2: pings and pongs -----------------------------------------------

@test "2.1-2.4 pings of 0 to 125 bytes (any byte values) get pongs with the same payload" {
	# awk writes, per size, the step and then the line it must bring back
	# (bash loops are slow under bats).
	local -a gen steps=() want=()
	local i
	mapfile -t gen < <(awk 'BEGIN {
		for (n = 0; n <= 125; n++) {
			step = "ping:"; shown = ""
			for (i = 0; i < n; i++) {
				b = (n * 37 + i * 11) % 256
				step = step sprintf("\\x%02x", b)
				if (b >= 32 && b < 127)
					shown = shown sprintf("%c", b)
				else
					shown = shown sprintf("\\x%02x", b)
			}
			print step
			print (n ? "pong " shown : "pong")
		}
	}')
	for ((i = 0; i < ${#gen[@]}; i += 2)); do
		steps+=("${gen[i]}" recv)
		want+=("${gen[i + 1]}")
	done
	[ "${#want[@]}" -eq 126 ]
	run ws /echo "${steps[@]}" close:1000 wait
	expect_status 0
	expect_lines "${want[@]}" "close 1000*" "eof"
}

@test "2.5 a ping of 126 bytes closes with 1002" {
	local p
	p=$(head -c 126 /dev/zero | tr '\0' p)
	run ws /echo "ping:$p" wait
	expect_status 0
	expect_lines "close 1002*" "eof"
}

@test "2.5 pings announcing more than 125 bytes in any length form close with 1002" {
	# 126 and 65536 announced; 125 in the 16- and 64-bit forms (masked,
	# with a zero key: the header alone must be refused); a pong of 126.
	local f
	for f in "frame:op=9,len=126,text=x" "frame:op=9,len=65536,text=x" \
		"raw:89fe007d00000000" "raw:89ff000000000000007d00000000" \
		"raw:8afe007e00000000"; do
		run ws /echo "$f" wait
		expect_case "$f" "close 1002*" "eof"
	done
	all_cases_passed
}

@test "2.6 a 125-byte ping written one byte at a time gets its pong" {
	local h
	h=$(bytes_hex 125 7)
	run ws /echo chunk:1 "ping:$(esc "$h")" recv chunk:0 close:1000 wait
	expect_status 0
	expect_lines "pong $(shown "$h")" "close 1000*" "eof"
}

@test "2.7-2.9 unsolicited pongs are ignored" {
	local p
	p=$(head -c 125 /dev/zero | tr '\0' q)
	run ws /echo pong: pong:unsolicited "pong:$p" ping:after recv \
		text:still-open recv close:1000 wait
	expect_status 0
	expect_lines "pong after" "text still-open" "close 1000*" "eof"
}

@test "2.10 ten pings in a row are answered in order" {
	local i steps=() want=()
	for i in $(seq 1 10); do
		steps+=("ping:payload-$i")
		want+=("pong payload-$i")
	done
	run ws /echo "${steps[@]}" recv:10 close:1000 wait
	expect_status 0
	expect_lines "${want[@]}" "close 1000*" "eof"
}

@test "2.11 ten pings in a row written one byte at a time are answered in order" {
	local i steps=() want=()
	for i in $(seq 1 10); do
		steps+=("ping:payload-$i")
		want+=("pong payload-$i")
	done
	run ws /echo chunk:1 "${steps[@]}" recv:10 chunk:0 close:1000 wait
	expect_status 0
	expect_lines "${want[@]}" "close 1000*" "eof"
}

@test "a ping while a long message is being received is answered before the echo" {
	local p
	p=$(head -c 70000 /dev/zero | tr '\0' m)
	run ws /echo "frame:op=1,fin=0,text=$p" ping:between recv \
		frame:op=0,text=end recv close:1000 wait
	expect_status 0
	expect_lines "pong between" "text <70003 bytes>" "close 1000*" "eof"
}
