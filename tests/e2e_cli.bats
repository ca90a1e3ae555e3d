#!/usr/bin/env bats
# The command line: usage errors exit 2 with one line naming the culprit,
# a resource that cannot run exits 1 at start, --help and --version exit 0.

load helpers

# The gateway must not start serving in these tests; if it does, timeout
# ends it (status 124) instead of hanging the suite.
gw() {
	timeout 5 "$PORTAL_GW" "$@"
}

# expect_usage WORD: status 2 and a single line that mentions WORD.
expect_usage() {
	expect_status 2
	if [ "${#lines[@]}" -ne 1 ] || [[ $output != *"$1"* ]]; then
		echo "want one line naming '$1', got:" >&2
		printf '  |%s\n' "${lines[@]}" >&2
		return 1
	fi
}

@test "an unknown flag is a usage error naming it" {
	run gw --address 127.0.0.1 --port 0 --no-such-flag /echo=cat
	expect_usage --no-such-flag
}

@test "a port that is not a number is a usage error" {
	run gw --address 127.0.0.1 --port eighty /echo=cat
	expect_usage eighty
}

@test "a port above 65535 is a usage error" {
	run gw --address 127.0.0.1 --port 65536 /echo=cat
	expect_usage 65536
}

@test "a flag missing its value is a usage error naming the flag" {
	run gw /echo=cat --port
	expect_usage --port
}

@test "an unknown log level is a usage error" {
	run gw --address 127.0.0.1 --port 0 --loglevel chatty /echo=cat
	expect_usage chatty
}

@test "no resource at all is a usage error" {
	run gw --address 127.0.0.1 --port 0
	expect_status 2
	[ "${#lines[@]}" -eq 1 ]
}

@test "a resource whose program does not exist fails at start with status 1" {
	run gw --address 127.0.0.1 --port 0 /x=/nonexistent/portal-gw-program
	expect_status 1
	[[ $output == *"/nonexistent/portal-gw-program"* ]]
}

@test "a program not found in PATH fails at start with status 1" {
	run gw --address 127.0.0.1 --port 0 /x=no-such-portal-gw-program
	expect_status 1
	[[ $output == *no-such-portal-gw-program* ]]
}

@test "a program that is not executable fails at start with status 1" {
	local f="$BATS_TEST_TMPDIR/not-executable"
	printf '#!/bin/sh\necho hi\n' >"$f"
	chmod 644 "$f"
	run gw --address 127.0.0.1 --port 0 "/x=$f"
	expect_status 1
	[[ $output == *not-executable* ]]
}

@test "--help prints usage and exits 0" {
	run gw --help
	expect_status 0
	[[ $output == *usage* ]]
}

@test "--version prints the version and exits 0" {
	run gw --version
	expect_status 0
	[[ $output =~ [0-9]+\.[0-9]+ ]]
}

# --- websocketd's command line (issue 10) ---------------------------------

@test "--license prints the licence statement and exits 0" {
	run gw --license
	expect_status 0
	[[ $output == *"No licence has been stated for portal-gw"* ]]
}

@test "--help is made from the flag table: every websocketd flag, --stderr send says 'to the client only'" {
	run gw --help
	expect_status 0
	local f
	for f in address binary cgidir closems devconsole dir header header-http \
		header-ws license loglevel maxforks origin passenv port redirport \
		reverselookup sameorigin ssl sslcert sslkey staticdir version help; do
		[[ $output == *"  --$f"[\ $'\n']* ]] || { echo "--$f is not in --help" >&2; false; }
	done
	[[ $output == *"send (to the client only)"* ]]
	[[ $output == *"(default 32768)"* ]]
	# -h too, and --help=false still asks for help, as in Go.
	run gw -h
	expect_status 0
	[[ $output == *usage* ]]
	run gw --help=false /echo=cat
	expect_status 0
	[[ $output == *usage* ]]
}

@test "websocketd's TLS flags exit 2 with one line pointing to the TLS proxy recipe" {
	local a
	for a in --ssl --sslcert=cert.pem "--sslkey key.pem" --redirport=8081; do
		# shellcheck disable=SC2086 # "--sslkey key.pem" is two words
		run gw --address 127.0.0.1 --port 0 $a /echo=cat
		expect_usage "Behind nginx"
		[[ $output == *"${a%%[= ]*}"* ]]
	done
	# --ssl=false asks for nothing: the gateway starts.
	start_gw --ssl=false /echo=cat
	run ws /echo text:hi recv close:1000 wait
	expect_status 0
	expect_lines "text hi" "close 1000*" "eof"
}

@test "Go flag syntax: -flag, --flag=BOOL, base-0 numbers, -- ends the flags" {
	start_gw -sameorigin=false --binary=true --devconsole=false \
		-maxforks=0x10 --closems 010 -- cat
	run ws /anything bin:6869 recv close:1000 wait
	expect_status 0
	expect_lines "binary 6869" "close 1000*" "eof"
	stop_gw
	run gw --binary=yes /echo=cat
	expect_usage yes
	run gw ---port=8080 /echo=cat
	expect_usage ---port
	run gw --closems=-1 /echo=cat
	expect_usage -1
}

@test "--sameorigin false is the flag, then false as the PROGRAM (as websocketd)" {
	start_gw --sameorigin false ignored-argument
	wait_log 'serving / with .*/false'
}

@test "--maxforks -1 means no limit, as in websocketd" {
	start_gw --maxforks -1 /echo=cat
	run ws /echo text:a recv close:1000 wait
	expect_status 0
	expect_lines "text a" "close 1000*" "eof"
}

@test "--reverselookup and --reverselookup=false are taken" {
	start_gw --reverselookup /echo=cat
	run ws /echo text:a recv close:1000 wait
	expect_status 0
	stop_gw
	start_gw --reverselookup=false /echo=cat
	run ws /echo text:a recv close:1000 wait
	expect_status 0
}

@test "--cgidir takes a directory; a missing one fails at start with status 1" {
	start_gw --cgidir "$BATS_TEST_TMPDIR" /echo=cat
	run ws /echo text:a recv close:1000 wait
	expect_status 0
	stop_gw
	run gw --address 127.0.0.1 --port 0 --cgidir "$BATS_TEST_TMPDIR/none" /echo=cat
	expect_status 1
	[[ $output == *"--cgidir"*"none"* ]]
}

@test "--loglevel none logs nothing at all, and the gateway serves" {
	local T=$BATS_TEST_TMPDIR sock=$BATS_TEST_TMPDIR/gw.sock
	: >"$T/gw.log"
	"$PORTAL_GW" --loglevel none --unix "$sock" /echo=cat \
		>"$T/gw.out" 2>"$T/gw.log" 3>&- &
	GW_PID=$!
	wait_for "an echo over $sock" \
		"$WSCLIENT" --unix "$sock" 127.0.0.1 0 /echo text:hi recv close:1000 wait
	run "$WSCLIENT" --unix "$sock" 127.0.0.1 0 /echo text:hi recv close:1000 wait
	expect_lines "text hi" "close 1000*" "eof"
	stop_gw
	[ "$GW_STATUS" -eq 0 ]
	[ ! -s "$T/gw.log" ] || { cat "$T/gw.log" >&2; false; }
}

@test "--address takes a host name and listens on its addresses" {
	gw_launch 'listening on 127\.0\.0\.1:[0-9]+' \
		"$PORTAL_GW" --address localhost --port 0 /echo=cat
	local line
	line=$(grep -m1 -o 'listening on 127\.0\.0\.1:[0-9][0-9]*' "$BATS_TEST_TMPDIR/gw.log")
	PORT=${line##*:}
	run ws /echo text:hi recv close:1000 wait
	expect_status 0
	expect_lines "text hi" "close 1000*" "eof"
	stop_gw
	run gw --address no-such-host.invalid --port 0 /echo=cat
	expect_status 1
	[[ $output == *no-such-host.invalid* ]]
}

@test "the default --passenv is PATH,LD_LIBRARY_PATH; a given one replaces it" {
	LD_LIBRARY_PATH=/opt/lib FOO=foo start_gw /env=env
	run ws /env wait
	expect_status 0
	expect_env LD_LIBRARY_PATH /opt/lib
	no_env FOO
	stop_gw
	LD_LIBRARY_PATH=/opt/lib FOO=foo start_gw --passenv FOO /env=env
	run ws /env wait
	expect_status 0
	expect_env FOO foo
	no_env LD_LIBRARY_PATH
}

@test "--staticdir alone is a file server; --devconsole alone is a usage error" {
	local d=$BATS_TEST_TMPDIR/www
	mkdir "$d"
	printf 'hello\n' >"$d/index.html"
	start_gw --staticdir "$d"
	run ws --http 'GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n'
	expect_status 0
	expect_first "HTTP/1.1 200 OK"
	[[ $output == *"Content-Length: 6"* ]]
	run ws /echo text:hi
	expect_status 1
	[[ $output == *"status 404"* ]]
	run gw --address 127.0.0.1 --port 0 --devconsole
	expect_usage --staticdir
}

@test "a 12 KB Cookie and 100 header lines are served; a far larger head gets 431" {
	start_gw /echo=cat
	local cookie h=() i
	cookie=$(head -c 12288 /dev/zero | tr '\0' c)
	for i in $(seq 1 94); do h+=("X-H$i: value-$i"); done
	run ws -t 3000 --http "$(upgrade /echo "Cookie: s=$cookie" "${h[@]}")"
	expect_status 0
	expect_first "HTTP/1.1 101 Switching Protocols"
	cookie=$(head -c 40000 /dev/zero | tr '\0' c)
	run ws -t 3000 --http "$(upgrade /echo "Cookie: s=$cookie")"
	expect_status 0
	[[ ${lines[0]} == "HTTP/1.1 431"* ]] || { printf '  |%s\n' "${lines[@]}" >&2; false; }
}

@test "a request head sent one byte at a time is answered 101 (it is parsed once a line has ended)" {
	start_gw /echo=cat
	local req i line
	req=$(printf '%b' "$(upgrade /echo "X-Pad: $(head -c 2000 /dev/zero | tr '\0' p)")")
	exec 5<>"/dev/tcp/127.0.0.1/$PORT"
	# $(...) dropped the head's last LF: it goes last, on its own.
	for ((i = 0; i < ${#req}; i++)); do printf '%s' "${req:i:1}" >&5; done
	printf '\n' >&5
	IFS= read -r -t 5 line <&5
	exec 5>&-
	[[ $line == "HTTP/1.1 101"* ]] || { echo "got: $line" >&2; false; }
}
