#!/usr/bin/env bats
# RFC 6455 violations by the client close the connection with the code of
# section 7.4.1; the client answers the Close and then sees EOF.

load helpers

setup() {
	start_gw /echo=cat
}

@test "an unmasked frame closes with 1002" {
	run ws /echo frame:mask=0,text=hi wait
	expect_status 0
	expect_lines "close 1002*" "eof"
}

@test "reserved bits set close with 1002" {
	run ws /echo frame:rsv=4,text=hi wait
	expect_status 0
	expect_lines "close 1002*" "eof"
}

@test "an unknown opcode closes with 1002" {
	run ws /echo frame:op=3,text=hi wait
	expect_status 0
	expect_lines "close 1002*" "eof"
}

@test "a continuation frame without a message closes with 1002" {
	run ws /echo frame:op=0,text=hi wait
	expect_status 0
	expect_lines "close 1002*" "eof"
}

@test "a new text frame inside a fragmented message closes with 1002" {
	run ws /echo frame:op=1,fin=0,text=a text:b wait
	expect_status 0
	expect_lines "close 1002*" "eof"
}

@test "a fragmented ping closes with 1002" {
	run ws /echo frame:op=9,fin=0,text=hi wait
	expect_status 0
	expect_lines "close 1002*" "eof"
}

@test "a ping of 126 bytes closes with 1002" {
	run ws /echo "frame:op=9,text=$(printf 'p%.0s' $(seq 126))" wait
	expect_status 0
	expect_lines "close 1002*" "eof"
}

@test "a Close with a 1-byte payload closes with 1002" {
	run ws /echo frame:op=8,hex=03 wait
	expect_status 0
	expect_lines "close 1002*" "eof"
}

@test "a Close with code 1005 closes with 1002" {
	run ws /echo close:1005 wait
	expect_status 0
	expect_lines "close 1002*" "eof"
}

@test "invalid UTF-8 in a text message closes with 1007" {
	run ws /echo 'text:a\xffb' wait
	expect_status 0
	expect_lines "close 1007*" "eof"
}

@test "invalid UTF-8 split across fragments closes with 1007" {
	run ws /echo frame:op=1,fin=0,hex=e2 frame:op=0,hex=28a1 wait
	expect_status 0
	expect_lines "close 1007*" "eof"
}

@test "a text message ending inside a UTF-8 sequence closes with 1007" {
	run ws /echo frame:op=1,hex=61e282 wait
	expect_status 0
	expect_lines "close 1007*" "eof"
}

@test "a binary message in line mode closes with 1003" {
	run ws /echo bin:0102 wait
	expect_status 0
	expect_lines "close 1003*" "eof"
}

@test "a message of exactly --max-message bytes is accepted" {
	stop_gw
	start_gw --max-message 1000 /echo=cat
	run ws /echo echo:1000
	expect_status 0
	expect_lines "echo 1000 ok"
}

@test "a message over --max-message closes with 1009" {
	stop_gw
	start_gw --max-message 1000 /echo=cat
	run ws /echo textn:1001 wait
	expect_status 0
	expect_lines "close 1009*" "eof"
}

@test "fragments adding up to more than --max-message close with 1009" {
	stop_gw
	start_gw --max-message 1000 /echo=cat
	local half
	half=$(printf 'f%.0s' $(seq 600))
	run ws /echo "frame:op=1,fin=0,text=$half" "frame:op=0,text=$half" wait
	expect_status 0
	expect_lines "close 1009*" "eof"
}

@test "a frame announcing more than --max-message closes with 1009 before its payload" {
	stop_gw
	start_gw --max-message 1000 /echo=cat
	run ws /echo frame:op=1,len=2000000,text=x wait
	expect_status 0
	expect_lines "close 1009*" "eof"
}
