#!/usr/bin/env bats
# Autobahn|Testsuite category 6 (UTF-8 handling), reproduced against a line
# echo (cat) with Markus Kuhn's test sequences as Autobahn uses them: valid
# text comes back byte for byte, whole and split into fragments at every
# byte; invalid text fails with 1007, whole, embedded and split, and as soon
# as the first invalid byte arrives.

load helpers

setup() {
	start_gw /echo=cat
}

# Valid UTF-8 (no 0a or 0d: a line echo would split or trim there).
VALID='
48656c6c6f2dc2b540c39fc3b6c3a4c3bcc3a0c3a12d5554462d382121	6.2 Hello-µ@ßöäüàá-UTF-8!!
cebae1bdb9cf83cebcceb5	6.5.1 kosme
00	6.7.1 U+0000
c280	6.7.2 U+0080 first of 2 bytes
e0a080	6.7.3 U+0800 first of 3 bytes
f0908080	6.7.4 U+10000 first of 4 bytes
7f	6.8 U+007F last of 1 byte
dfbf	6.8.1 U+07FF last of 2 bytes
efbfbf	6.8.2 U+FFFF last of 3 bytes
f48fbfbf	6.9 U+10FFFF the last code point
ed9fbf	6.9.1 U+D7FF before the surrogates
ee8080	6.9.2 U+E000 after the surrogates
efbfbd	6.9.3 U+FFFD
efbfbe	6.22 U+FFFE noncharacter
efb790	6.22 U+FDD0 noncharacter
efb7af	6.22 U+FDEF noncharacter
f09fbfbe	6.22 U+1FFFE noncharacter
f48fbfbe	6.22 U+10FFFE noncharacter
e282ac	U+20AC euro
61f09d849e62	a U+1D11E b
'

# Invalid UTF-8. Those marked "byte" are invalid at a byte, not only at
# the end of the message (for the fail-fast test).
INVALID='
80	6.10.1 lone continuation byte	byte
bf	6.10.2 lone continuation byte	byte
80bf	6.10.3 two continuation bytes	byte
80bf80bf80	6.10.4 five continuation bytes	byte
c020	6.12 lonely start of 2 + space	byte
e020	6.13 lonely start of 3 + space	byte
f020	6.14 lonely start of 4 + space	byte
c2	6.14.1 last byte of 2 missing	end
e0a0	6.14.2 last byte of 3 missing	end
f09080	6.14.3 last byte of 4 missing	end
df	6.14.4 last byte of U+07FF missing	end
efbf	6.14.5 last byte of U+FFFF missing	end
f48fbf	6.14.6 last byte of U+10FFFF missing	end
e080	truncated overlong	byte
c0	6.16 impossible byte c0	byte
c1	6.16 impossible byte c1	byte
f5	6.16 impossible byte f5	byte
fe	6.16.1 impossible byte fe	byte
ff	6.16.2 impossible byte ff	byte
fefeffff	6.16.3 fe fe ff ff	byte
c0af	6.17.1 overlong / in 2 bytes	byte
e080af	6.17.2 overlong / in 3 bytes	byte
f08080af	6.17.3 overlong / in 4 bytes	byte
f8808080af	6.17.4 overlong / in 5 bytes	byte
fc80808080af	6.17.5 overlong / in 6 bytes	byte
c1bf	6.18.1 largest overlong of 2	byte
e09fbf	6.18.2 largest overlong of 3	byte
f08fbfbf	6.18.3 largest overlong of 4	byte
c080	6.19.1 overlong NUL in 2	byte
e08080	6.19.2 overlong NUL in 3	byte
f0808080	6.19.3 overlong NUL in 4	byte
eda080	6.20.1 surrogate U+D800	byte
edadbf	6.20.2 surrogate U+DB7F	byte
edae80	6.20.3 surrogate U+DB80	byte
edafbf	6.20.4 surrogate U+DBFF	byte
edb080	6.20.5 surrogate U+DC00	byte
edbe80	6.20.6 surrogate U+DF80	byte
edbfbf	6.20.7 surrogate U+DFFF	byte
eda080edb080	6.21.1 surrogate pair U+D800 U+DC00	byte
edafbfedbfbf	6.21.8 surrogate pair U+DBFF U+DFFF	byte
f4908080	6.4 U+110000	byte
f7bfbfbf	U+1FFFFF	byte
f888808080	5-byte sequence	byte
fbbfbfbfbf	5-byte U+3FFFFFF	byte
fc8480808080	6-byte sequence	byte
fdbfbfbfbfbf	6-byte U+7FFFFFFF	byte
cebae1bdb9cf83cebcceb5eda080656469746564	6.3.1 kosme, surrogate, edited	byte
'

# utf8_gen MODE < TABLE: writes, for each row (HEX<TAB>NAME...) of a table,
# what MODE asks for (awk, because bash loops are slow under bats):
#   whole      S text:BYTES / S recv / W text SHOWN
#   bytes      the same, with every byte a fragment of its own
#   splits     the same, two fragments, split after each byte in turn
#   invalid    NAME<TAB>STEPS... lines: whole, embedded ("a" HEX "z") and
#              a fragment per byte after an "a" one, ending with an empty
#              final fragment
#   failfast   NAME<TAB>STEPS for rows marked "byte": the bad byte inside
#              a first fragment, and inside a frame whose rest never comes
gen() {
	awk -F '\t' -v mode="$1" '
	function byte(h, i) { return substr(h, 2 * i - 1, 2) }
	function nb(h) { return length(h) / 2 }
	function esc(h,   s, i) {
		for (i = 1; i <= nb(h); i++)
			s = s "\\x" byte(h, i)
		return s
	}
	function shown(h,   s, i, b) {
		for (i = 1; i <= nb(h); i++) {
			b = (index("0123456789abcdef", substr(h, 2 * i - 1, 1)) - 1) * 16 + \
			    index("0123456789abcdef", substr(h, 2 * i, 1)) - 1
			s = s (b >= 32 && b < 127 ? sprintf("%c", b) : "\\x" byte(h, i))
		}
		return s
	}
	$1 == "" { next }
	mode == "whole" {
		print "S text:" esc($1); print "S recv"; print "W text " shown($1)
	}
	mode == "bytes" {
		for (i = 1; i <= nb($1); i++)
			printf "S frame:op=%d,fin=%d,hex=%s\n", i == 1, i == nb($1), byte($1, i)
		print "S recv"; print "W text " shown($1)
	}
	mode == "splits" {
		for (k = 1; k < nb($1); k++) {
			print "S frame:op=1,fin=0,hex=" substr($1, 1, 2 * k)
			print "S frame:op=0,fin=1,hex=" substr($1, 2 * k + 1)
			print "S recv"; print "W text " shown($1)
		}
	}
	mode == "invalid" {
		print "whole " $2 "\ttext:" esc($1)
		print "embedded " $2 "\ttext:a" esc($1) "z"
		s = "bytes " $2 "\tframe:op=1,fin=0,text=a"
		for (i = 1; i <= nb($1); i++)
			s = s "\tframe:op=0,fin=0,hex=" byte($1, i)
		print s "\tframe:op=0,fin=1"
	}
	mode == "failfast" && $3 == "byte" {
		k = "cebae1bdb9cf83cebcceb5" $1 "656469746564"
		print "first fragment " $2 "\tframe:op=1,fin=0,hex=" k "\trecv"
		print "unfinished frame " $2 "\tframe:op=1,len=" nb(k) + 100 ",hex=" k "\trecv"
	}'
}

# run_gen MODE TABLE: runs one client through the S steps of utf8_gen and
# checks that it printed the W lines, then closes.
run_gen() {
	local l steps=() want=()
	while IFS= read -r l; do
		case $l in
		S\ *) steps+=("${l#S }") ;;
		W\ *) want+=("${l#W }") ;;
		esac
	done < <(gen "$1" <<<"$2")
	[ "${#want[@]}" -gt 0 ]
	run ws /echo "${steps[@]}" close:1000 wait
	expect_status 0
	expect_lines "${want[@]}" "close 1000*" "eof"
}

@test "6.2, 6.5, 6.7-6.9, 6.22 valid UTF-8 comes back byte for byte" {
	run_gen whole "$VALID"
}

@test "6.2.4 valid UTF-8 with every byte a fragment of its own comes back byte for byte" {
	run_gen bytes "$VALID"
}

@test "6.6 valid UTF-8 split into two fragments after every byte comes back byte for byte" {
	run_gen splits "$VALID"
}

@test "6.2.3 valid UTF-8 written one byte at a time comes back byte for byte" {
	run ws /echo chunk:1 'text:Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!' \
		'text:\xf4\x8f\xbf\xbf' recv:2 chunk:0
	expect_status 0
	expect_lines 'text Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!' \
		'text \xf4\x8f\xbf\xbf'
}

@test "6.3, 6.10-6.21 invalid UTF-8 closes with 1007: whole, embedded, a fragment per byte" {
	local -a c
	local n=0
	while IFS=$'\t' read -r -a c; do
		run ws /echo "${c[@]:1}" ping:after wait
		expect_case "${c[0]}" "close 1007*" "eof"
		n=$((n + 1))
	done < <(gen invalid <<<"$INVALID")
	[ "$n" -gt 120 ]
	all_cases_passed
}

@test "6.4.1, 6.4.3 fail fast: an invalid byte in a first fragment closes before the rest is sent" {
	# -t 2000: a gateway that waits for the rest makes recv time out.
	local -a c
	local n=0
	while IFS=$'\t' read -r -a c; do
		run ws -t 2000 /echo "${c[@]:1}" wait
		expect_case "${c[0]}" "close 1007*" "eof"
		n=$((n + 1))
	done < <(gen failfast <<<"$INVALID")
	[ "$n" -gt 60 ]
	all_cases_passed
}

@test "6.4.2, 6.4.4 fail fast: an invalid second fragment closes before the third is sent" {
	run ws -t 2000 /echo frame:op=1,fin=0,hex=cebae1bdb9cf83cebcceb5 sleep:50 \
		frame:op=0,fin=0,hex=f4908080 recv frame:op=0,hex=656469746564 wait
	expect_status 0
	expect_lines "close 1007*" "eof"
	run ws -t 2000 /echo chunk:1 frame:op=1,fin=0,hex=cebae1bdb9cf83cebcceb5 \
		frame:op=0,fin=0,len=20,hex=f490 recv
	expect_status 0
	expect_lines "close 1007*"
}

@test "invalid UTF-8 after valid messages: the earlier ones are echoed, then 1007" {
	run ws /echo 'text:\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5' recv \
		'text:\xed\xa0\x80' wait
	expect_status 0
	expect_lines 'text \xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5' "close 1007*" "eof"
}

@test "no part of a message with invalid UTF-8 reaches the child, the messages before it do" {
	stop_gw
	start_gw "/echo=tee -a $BATS_TEST_TMPDIR/child.in"
	run ws -t 2000 /echo text:first recv \
		'frame:op=1,fin=0,text=valid \xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5' \
		'frame:op=0,fin=0,text=more' 'frame:op=0,fin=0,hex=f4908080' recv \
		frame:op=0,text=rest wait
	expect_status 0
	expect_lines "text first" "close 1007*" "eof"
	stop_gw
	[ "$(cat "$BATS_TEST_TMPDIR/child.in")" = first ]
}
