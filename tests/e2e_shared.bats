#!/usr/bin/env bats
# Shared routes end to end (issue 12; man portal-gw SHARED ROUTES), written
# to the contract before the bindings exist: every line of the broadcast and
# hub interface, the lifecycle (linger, exit, crash back-off, SIGTERM), the
# limits (--maxclients, --maxconns, the slow client cut off while another
# keeps receiving everything), --framed through both, the metrics, and the
# README's examples.

load helpers
ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)

# --- helpers ----------------------------------------------------------------

# client NAME STEPS...: a background client (wsclient -t 30000) whose output
# goes to $T/NAME.out; its pid in PID_NAME. A first step mark:$T/NAME.ready
# lets ready NAME wait for its 101.
client() {
	local name=$1
	shift
	bg_client "$name" -t 30000 "$@"
	printf -v "PID_$name" '%s' "$BG_PID"
}

# ready NAME...: waits for each client's mark:$T/NAME.ready.
ready() {
	local n
	for n in "$@"; do
		wait_for "client $n to be connected" test -e "$BATS_TEST_TMPDIR/$n.ready"
	done
}

# result NAME: waits for the client to end; sets status, output and lines.
result() {
	local v="PID_$1"
	bg_result "${!v}" "$1"
}

# numbered PREFIX N: "PREFIX1" ... "PREFIXN", one per line.
numbered() {
	local i
	for ((i = 1; i <= $2; i++)); do printf '%s%d\n' "$1" "$i"; done
}

# A hub that notes every line it reads in $T/hub.in and prints LINE for a
# message "say:LINE", so that a client can make it say anything.
say_hub() {
	local T=$BATS_TEST_TMPDIR
	mkscript hub.sh <<EOF_
#!/bin/sh
while IFS= read -r line; do
	printf '%s\n' "\$line" >>"$T/hub.in"
	case \$line in
	*' say:'*) printf '%s\n' "\${line#* say:}" ;;
	esac
done
echo eof >"$T/hub.eof"
EOF_
}

# hub_got REGEX: waits for a line of $T/hub.in matching REGEX.
hub_got() {
	wait_for "the hub to read /$1/" grep -Eq -- "$1" "$BATS_TEST_TMPDIR/hub.in"
}

# hub_id K: the ID of the K-th client that joined the hub.
hub_id() {
	hub_got "^\\+[0-9]+ " || return 1
	sed -n 's/^+\([0-9]*\) .*/\1/p' "$BATS_TEST_TMPDIR/hub.in" | sed -n "$1p"
}

# A program that notes its pid in $T/pids when it starts and writes
# $T/eof.marker when its stdin ends; it echoes each line, and a line
# ending in "exit N" makes it print "bye" and exit N.
life_script() {
	local T=$BATS_TEST_TMPDIR
	mkscript life.sh <<EOF_
#!/bin/sh
echo \$\$ >>"$T/pids"
while IFS= read -r line; do
	case \$line in
	*'exit '[0-9]*) echo bye; exit "\${line##*exit }" ;;
	esac
	printf '%s\n' "\$line"
done
echo eof >"$T/eof.marker"
EOF_
}

pids_count() {
	if [ -s "$BATS_TEST_TMPDIR/pids" ]; then
		wc -l <"$BATS_TEST_TMPDIR/pids" | tr -d ' '
	else
		echo 0
	fi
}

# --- broadcast ----------------------------------------------------------------

@test "broadcast: every line the program prints goes to every connected client, in order" {
	local T=$BATS_TEST_TMPDIR
	local p
	p=$(mkscript burst.sh <<'EOF_'
#!/bin/sh
while IFS= read -r l; do
	if [ "$l" = go ]; then
		i=1
		while [ $i -le 300 ]; do echo "line $i"; i=$((i + 1)); done
	fi
done
EOF_
)
	start_gw --broadcast "/b=$p"
	client A /b mark:"$T/A.ready" until:"$T/start" text:go recv:300 close:1000 wait
	ready A
	client B /b mark:"$T/B.ready" recv:300 close:1000 wait
	client C /b mark:"$T/C.ready" recv:300 close:1000 wait
	ready B C
	touch "$T/start"
	local -a want
	mapfile -t want < <(numbered "text line " 300)
	for n in A B C; do
		result $n
		expect_status 0
		expect_lines "${want[@]}" "close 1000*" "eof"
	done
}

@test "broadcast: every client's messages are lines on the program's stdin, each whole and in its order" {
	local T=$BATS_TEST_TMPDIR
	local p
	p=$(mkscript note.sh <<EOF_
#!/bin/sh
while IFS= read -r l; do printf '%s\n' "\$l" >>"$T/in"; done
EOF_
)
	start_gw --broadcast "/b=$p"
	local -a a b
	mapfile -t a < <(numbered "text:from-a-" 200)
	mapfile -t b < <(numbered "text:from-b-" 200)
	client A /b mark:"$T/A.ready" until:"$T/start" "${a[@]}" 'text:two\nlines' close:1000 wait
	client B /b mark:"$T/B.ready" until:"$T/start" "${b[@]}" close:1000 wait
	ready A B
	touch "$T/start"
	result A
	expect_status 0
	result B
	expect_status 0
	wait_for "402 lines on the program's stdin" eval '[ "$(wc -l <"$T/in")" -eq 402 ]'
	# Each client's lines in its order, whole, whatever the interleaving.
	diff <(grep '^from-a-' "$T/in") <(numbered from-a- 200)
	diff <(grep '^from-b-' "$T/in") <(numbered from-b- 200)
	grep -qx two "$T/in"
	grep -qx lines "$T/in"
	[ "$(grep -A1 -x two "$T/in" | tail -n 1)" = lines ]
}

@test "broadcast --history 3: a joining client first gets the last 3 lines, then the live ones" {
	local T=$BATS_TEST_TMPDIR
	start_gw --history 3 --broadcast /chat=cat
	client A /chat text:m1 text:m2 text:m3 text:m4 text:m5 recv:5 mark:"$T/A.sent" \
		until:"$T/B.ready" text:m6 recv close:1000 wait
	wait_for "A's five lines back" test -e "$T/A.sent"
	client B /chat mark:"$T/B.ready" recv:4 close:1000 wait
	result B
	expect_status 0
	expect_lines "text m3" "text m4" "text m5" "text m6" "close 1000*" "eof"
	result A
	expect_status 0
	expect_lines text\ m{1..6} "close 1000*" "eof"
}

@test "broadcast without --history: a joining client gets only what is printed after it joined" {
	local T=$BATS_TEST_TMPDIR
	start_gw --broadcast /chat=cat
	client A /chat text:old recv mark:"$T/A.sent" until:"$T/B.ready" text:new recv close:1000 wait
	wait_for "A's line back" test -e "$T/A.sent"
	client B /chat mark:"$T/B.ready" recv close:1000 wait
	result B
	expect_status 0
	expect_lines "text new" "close 1000*" "eof"
}

@test "broadcast: two clients chat through cat, each sees both messages in one order" {
	local T=$BATS_TEST_TMPDIR
	start_gw --broadcast /chat=cat
	client A /chat mark:"$T/A.ready" until:"$T/B.ready" "text:hi from a" recv:2 close:1000 wait
	ready A
	client B /chat mark:"$T/B.ready" recv "text:hi from b" recv close:1000 wait
	result A
	expect_status 0
	expect_lines "text hi from a" "text hi from b" "close 1000*" "eof"
	result B
	expect_status 0
	expect_lines "text hi from a" "text hi from b" "close 1000*" "eof"
}

@test "broadcast: the program gets the route's CGI variables, none of a client's; its stderr is logged with the route" {
	local p
	p=$(mkscript envdump.sh <<'EOF_'
#!/bin/sh
echo "to the log" >&2
read -r l
env
EOF_
)
	export PORTAL_TEST_VAR=yes
	start_gw --passenv PATH,PORTAL_TEST_VAR --broadcast "/b=$p"
	run ws -H 'X-Secret: s' '/b/more?q=1' text:env wait
	expect_status 0
	expect_env SCRIPT_NAME /b
	expect_env GATEWAY_INTERFACE CGI/1.1
	expect_env SERVER_PROTOCOL HTTP/1.1
	expect_env PORTAL_TEST_VAR yes
	env_of SERVER_SOFTWARE
	no_env REMOTE_ADDR
	no_env REMOTE_PORT
	no_env QUERY_STRING
	no_env HTTP_HOST
	no_env HTTP_X_SECRET
	expect_line_re '^close 1000'
	wait_log 'broadcast /b: to the log$'
}

@test "broadcast: a binary message without --framed closes that client with 1003; the others go on" {
	local T=$BATS_TEST_TMPDIR
	start_gw --broadcast /chat=cat
	client A /chat mark:"$T/A.ready" until:"$T/B.done" text:still recv close:1000 wait
	ready A
	run ws /chat bin:0102 wait
	expect_status 0
	expect_lines "close 1003*" "eof"
	touch "$T/B.done"
	result A
	expect_status 0
	expect_lines "text still" "close 1000*" "eof"
}

@test "broadcast --framed: text and binary messages exact both ways, in the framed form on the pipes" {
	local T=$BATS_TEST_TMPDIR
	local p
	p=$(mkscript framed.sh <<EOF_
#!/bin/sh
while IFS= read -r l; do
	printf '%s\n' "\$l" >>"$T/in"
	printf '%s\n' "\$l"
done
EOF_
)
	start_gw --framed --broadcast "/f=$p"
	client B /f mark:"$T/B.ready" recv:2 close:1000 wait
	ready B
	run ws /f 'text:a\nb\\c' bin:00ff0a0d recv:2 close:1000 wait
	expect_status 0
	expect_lines 'text a\x0ab\c' "binary 00ff0a0d" "close 1000*" "eof"
	result B
	expect_status 0
	expect_lines 'text a\x0ab\c' "binary 00ff0a0d" "close 1000*" "eof"
	[ "$(sed -n 1p "$T/in")" = 'T a\nb\\c' ]
	[ "$(sed -n 2p "$T/in")" = 'B AP8KDQ==' ]
}

@test "broadcast: a line longer than half of --maxqueue goes out as messages of that length, none lost" {
	local p
	p=$(mkscript long.sh <<'EOF_'
#!/bin/sh
read -r l
head -c 300000 /dev/zero | tr '\0' a
echo
echo after
EOF_
)
	start_gw --maxqueue 262144 --broadcast "/b=$p"
	run ws /b text:go recv:4 close:1000 wait
	expect_status 0
	expect_lines "text <131072 bytes>" "text <131072 bytes>" \
		"text <37856 bytes>" "text after" "close 1000*" "eof"
}

# --- hub ----------------------------------------------------------------------

@test "hub: +ID ADDR URI when a client joins; ID is the session number of its log lines" {
	local T=$BATS_TEST_TMPDIR
	start_gw --hub "/room=$(say_hub)"
	run ws '/room/x?name=a%20b&k=1' close:1000 wait
	expect_status 0
	hub_got '^\+[0-9]+ 127\.0\.0\.1 /room/x\?name=a%20b&k=1$'
	local id
	id=$(hub_id 1)
	wait_log "access #$id 127\\.0\\.0\\.1:[0-9]+ GET /room/x"
	hub_got "^-$id 1000$"
	# +ID comes first, -ID last.
	[ "$(head -n 1 "$T/hub.in")" = "+$id 127.0.0.1 /room/x?name=a%20b&k=1" ]
	[ "$(tail -n 1 "$T/hub.in")" = "-$id 1000" ]
}

@test "hub --hub-header: =ID Name value lines right after +ID, for the headers the client sent" {
	local T=$BATS_TEST_TMPDIR
	start_gw --hub-header Cookie,X-User --hub-header authorization \
		--hub "/room=$(say_hub)"
	run ws -H 'Cookie: a=1; b=2' -H 'Authorization: Bearer t0k' /room text:hi close:1000 wait
	expect_status 0
	local id
	id=$(hub_id 1)
	hub_got "^$id hi$"
	# Name as on the flag, value as sent; none for X-User, not sent.
	[ "$(sed -n 1p "$T/hub.in")" = "+$id 127.0.0.1 /room" ]
	diff <(sed -n 2,3p "$T/hub.in" | sort) \
		<(printf '%s\n' "=$id Cookie a=1; b=2" "=$id authorization Bearer t0k" | sort)
	[ "$(sed -n 4p "$T/hub.in")" = "$id hi" ]
	[ "$(grep -c '^=.* X-User' "$T/hub.in")" -eq 0 ]
}

@test "hub: ID TEXT for each line of a message, an empty message, spaces kept" {
	local T=$BATS_TEST_TMPDIR
	start_gw --hub "/room=$(say_hub)"
	run ws /room text:hello 'text:a\nb' text: 'text:  spaced  ' text:end close:1000 wait
	expect_status 0
	local id
	id=$(hub_id 1)
	hub_got "^$id end$"
	run sed -n '2,$p' "$T/hub.in"
	expect_lines "$id hello" "$id a" "$id b" "$id " "$id   spaced  " "$id end" "-$id 1000"
}

@test "hub: -ID CODE when a client leaves: its code, 1005 for a Close without one, 1006 when it vanishes" {
	local T=$BATS_TEST_TMPDIR
	start_gw --hub "/room=$(say_hub)"
	run ws /room close:1000 wait
	hub_got '^-[0-9]+ '
	run ws /room close:4001 wait
	run ws /room close wait
	hub_got '^-[0-9]+ 1005$'
	run ws /room reset
	run ws /room quit
	local a b c d e
	a=$(hub_id 1) b=$(hub_id 2) c=$(hub_id 3) d=$(hub_id 4) e=$(hub_id 5)
	hub_got "^-$a 1000$"
	hub_got "^-$b 4001$"
	hub_got "^-$c 1005$"
	hub_got "^-$d 1006$"
	hub_got "^-$e 1006$"
}

@test "hub: ID TEXT goes to that client only, * TEXT to every client of the route" {
	local T=$BATS_TEST_TMPDIR
	start_gw --hub "/room=$(say_hub)"
	client A /room mark:"$T/A.ready" recv close:1000 wait
	ready A
	client B /room mark:"$T/B.ready" recv:2 close:1000 wait
	ready B
	local b
	b=$(hub_id 2)
	run ws /room "text:say:$b to b only" "text:say:* to all" recv close:1000 wait
	expect_status 0
	expect_lines "text to all" "close 1000*" "eof"
	result A
	expect_status 0
	expect_lines "text to all" "close 1000*" "eof"
	result B
	expect_status 0
	expect_lines "text to b only" "text to all" "close 1000*" "eof"
}

@test "hub: -ID [CODE [TEXT]] closes that client: 1000 by default, a code, a reason cut to 123 bytes" {
	local T=$BATS_TEST_TMPDIR
	start_gw --hub "/room=$(say_hub)"
	local n
	for n in A B C D; do
		client $n /room mark:"$T/$n.ready" wait
		ready $n
	done
	local a b c d long
	a=$(hub_id 1) b=$(hub_id 2) c=$(hub_id 3) d=$(hub_id 4)
	long=$(printf 'r%.0s' {1..130})
	run ws /room "text:say:-$a" "text:say:-$b 4001" "text:say:-$c 3000 go away now" \
		"text:say:-$d 1000 $long" close:1000 wait
	expect_status 0
	result A
	expect_lines "close 1000" "eof"
	result B
	expect_lines "close 4001" "eof"
	result C
	expect_lines "close 3000 go away now" "eof"
	result D
	expect_lines "close 1000 ${long:0:123}" "eof"
	# Each one's leaving is told to the hub with the code it answered.
	hub_got "^-$b 4001$"
}

@test "hub: a line that breaks the protocol is logged as a protocol error and skipped; an unknown ID at debug" {
	local T=$BATS_TEST_TMPDIR
	start_gw --loglevel debug --hub "/room=$(say_hub)"
	run ws /room text:say:no-space "text:say:07 leading zero" "text:say:-1 1001" \
		"text:say:x y" "text:say:-1 3000x" "text:say:999999 nobody" \
		"text:say:* still here" recv close:1000 wait
	expect_status 0
	expect_lines "text still here" "close 1000*" "eof"
	local l
	for l in 'no-space' '07 leading zero' '-1 1001' 'x y' '-1 3000x'; do
		grep -qF "hub /room: protocol error: $l" "$T/gw.log" ||
			{ echo "no protocol error logged for '$l'" >&2; false; }
	done
	grep -E 'debug .*999999' "$T/gw.log"
	[ "$(grep -c 'protocol error: 999999' "$T/gw.log")" -eq 0 ]
}

@test "hub --framed: binary and multi-line text exact both ways; TEXT is the framed form" {
	local T=$BATS_TEST_TMPDIR
	local p
	p=$(mkscript fhub.sh <<EOF_
#!/bin/sh
while IFS= read -r line; do
	printf '%s\n' "\$line" >>"$T/hub.in"
	case \$line in
	*' T nl') printf '%s\n' '* T one\ntwo' ;;
	*' T bin') printf '%s\n' '* B AAEC/w==' ;;
	esac
done
EOF_
)
	start_gw --framed --hub "/room=$p"
	run ws /room bin:00ff0a0d 'text:a\nb\\' text:nl recv text:bin recv close:1000 wait
	expect_status 0
	expect_lines 'text one\x0atwo' "binary 000102ff" "close 1000*" "eof"
	local id
	id=$(hub_id 1)
	hub_got "^$id T bin$"
	run sed -n 2,3p "$T/hub.in"
	expect_lines "$id B AP8KDQ==" "$id T a\\nb\\\\"
	# Without --framed, a binary message ends that client with 1003.
	stop_gw
	start_gw --hub "/room=$p"
	run ws /room bin:01 wait
	expect_lines "close 1003*" "eof"
}

# --- lifecycle ----------------------------------------------------------------

@test "--linger 0: the program gets EOF as soon as its last client leaves" {
	local T=$BATS_TEST_TMPDIR
	start_gw --linger 0 --broadcast "/b=$(life_script)"
	run ws /b text:x recv close:1000 wait
	expect_status 0
	local t0
	t0=$(now_ms)
	wait_for "the program's EOF" test -e "$T/eof.marker"
	(($(now_ms) - t0 < 2000))
	[ "$(pids_count)" -eq 1 ]
}

@test "--linger default (5000): a client back within it finds the same program; EOF about 5 s after the last left" {
	local T=$BATS_TEST_TMPDIR
	DEADLINE_MS=15000
	start_gw --broadcast "/b=$(life_script)"
	run ws /b text:one recv close:1000 wait
	expect_status 0
	run ws /b text:two recv close:1000 wait
	expect_status 0
	expect_lines "text two" "close 1000*" "eof"
	[ "$(pids_count)" -eq 1 ]
	local t0
	t0=$(now_ms)
	[ ! -e "$T/eof.marker" ]
	wait_for "the program's EOF" test -e "$T/eof.marker"
	(($(now_ms) - t0 >= 3000))
	# Then the next client starts a new one.
	run ws /b text:three recv close:1000 wait
	expect_lines "text three" "close 1000*" "eof"
	[ "$(pids_count)" -eq 2 ]
}

@test "--linger -1: the program keeps running with no client" {
	local T=$BATS_TEST_TMPDIR
	start_gw --linger -1 --broadcast "/b=$(life_script)"
	run ws /b text:one recv close:1000 wait
	expect_status 0
	local pid
	pid=$(cat "$T/pids")
	# No event marks "still running": give a stop ample time to happen.
	sleep 1.5
	alive "$pid"
	[ ! -e "$T/eof.marker" ]
	run ws /b text:two recv close:1000 wait
	expect_lines "text two" "close 1000*" "eof"
	[ "$(pids_count)" -eq 1 ]
	# SIGTERM still ends it.
	stop_gw
	[ "$GW_STATUS" = 0 ]
	run alive "$pid"
	[ "$status" -ne 0 ]
}

@test "program exits 0: every client gets every line it printed, then Close 1000; the next client starts a new one" {
	local T=$BATS_TEST_TMPDIR
	start_gw --broadcast "/b=$(life_script)"
	local -a lines200
	mapfile -t lines200 < <(numbered "text:l" 200)
	client A /b mark:"$T/A.ready" until:"$T/B.ready" "${lines200[@]}" "text:exit 0" wait
	ready A
	client B /b mark:"$T/B.ready" wait
	local -a want
	mapfile -t want < <(numbered "text l" 200)
	result A
	expect_status 0
	expect_lines "${want[@]}" "text bye" "close 1000*" "eof"
	result B
	expect_status 0
	expect_lines "${want[@]}" "text bye" "close 1000*" "eof"
	local pid
	pid=$(head -n 1 "$T/pids")
	wait_log "access #[0-9]+ .* GET /b 101 .* pid=$pid .*close=1000 exit=0"
	run ws /b text:again recv close:1000 wait
	expect_lines "text again" "close 1000*" "eof"
	[ "$(pids_count)" -eq 2 ]
}

@test "program exits 3: every client gets its lines, then Close 1011 exit status 3" {
	local T=$BATS_TEST_TMPDIR
	start_gw --hub "/b=$(life_script)"
	client A /b mark:"$T/A.ready" wait
	ready A
	run ws /b "text:exit 3" wait
	expect_status 0
	# A hub's lines are "ID TEXT": "bye" and the echo are protocol errors,
	# so only the Close arrives.
	expect_lines "close 1011 exit status 3" "eof"
	result A
	expect_lines "close 1011 exit status 3" "eof"
	stop_gw
	start_gw --broadcast "/b=$(life_script)"
	client A /b mark:"$T/A.ready2" wait
	wait_for "A connected" test -e "$T/A.ready2"
	run ws /b text:last "text:exit 3" wait
	expect_lines "text last" "text bye" "close 1011 exit status 3" "eof"
	result A
	expect_lines "text last" "text bye" "close 1011 exit status 3" "eof"
	wait_log 'GET /b 101 .*close=1011 exit=3'
}

@test "crash loop: a program that exits at once 3 times is not restarted for a while; clients get 503 with Retry-After" {
	local T=$BATS_TEST_TMPDIR
	local p
	p=$(mkscript crash.sh <<EOF_
#!/bin/sh
echo \$\$ >>"$T/pids"
exit 1
EOF_
)
	start_gw --broadcast "/c=$p"
	local i
	for i in 1 2 3; do
		run ws /c wait
		expect_lines "close 1011 exit status 1" "eof"
	done
	run ws -t 3000 --http "$(upgrade /c)"
	expect_first "HTTP/1.1 503 Service Unavailable"
	expect_line_re '^[Rr]etry-[Aa]fter: *[1-9][0-9]*$'
	run ws /c wait
	expect_lines "status 503"
	wait_log 'GET /c 503 "restarting after 3 quick exits"'
	[ "$(pids_count)" -eq 3 ]
	# After the back-off (1 s), it is started again.
	DEADLINE_MS=5000
	wait_for "a new start after the back-off" eval 'ws /c wait | grep -q "close 1011"'
	[ "$(pids_count)" -eq 4 ]
}

@test "SIGTERM: Close 1001 to every client of every shared route, then the programs end; exit 0" {
	local T=$BATS_TEST_TMPDIR
	start_gw --broadcast "/b=$(life_script)" --hub "/h=$(say_hub)" /e=cat
	client A /b mark:"$T/A.ready" wait
	client B /b mark:"$T/B.ready" wait
	client C /h mark:"$T/C.ready" wait
	client E /e mark:"$T/E.ready" wait
	ready A B C E
	kill -TERM "$GW_PID"
	for n in A B C; do
		result $n
		expect_status 0
		expect_lines "close 1001*" "eof"
	done
	result E
	expect_lines "close 1001*" "eof"
	wait_gw_exit
	[ "$GW_STATUS" = 0 ]
	[ -e "$T/eof.marker" ] && [ -e "$T/hub.eof" ]
}

# --- limits -------------------------------------------------------------------

@test "--maxclients 2: a third client of the route gets 503 route full with Retry-After: 1; other routes are not bounded by it" {
	local T=$BATS_TEST_TMPDIR
	start_gw --maxclients 2 --broadcast /chat=cat /echo=cat
	client A /chat mark:"$T/A.ready" until:"$T/A.go" close:1000 wait
	client B /chat mark:"$T/B.ready" until:"$T/B.go" close:1000 wait
	ready A B
	run ws -t 3000 --http "$(upgrade /chat)"
	expect_first "HTTP/1.1 503 Service Unavailable"
	expect_header Retry-After 1
	wait_log 'GET /chat 503 "route full"'
	run ws /echo text:free recv close:1000 wait
	expect_lines "text free" "close 1000*" "eof"
	touch "$T/A.go"
	result A
	wait_log "access #[0-9]+ .* GET /chat 101 .*close=1000"
	run ws /chat text:in recv close:1000 wait
	expect_lines "text in" "close 1000*" "eof"
}

@test "--maxconns 2: a third connection of any kind gets 503 too many connections, never a silent drop" {
	local T=$BATS_TEST_TMPDIR
	start_gw --maxconns 2 --broadcast /chat=cat /echo=cat
	client A /chat mark:"$T/A.ready" until:"$T/A.go" close:1000 wait
	ready A
	# A handshake in progress counts too.
	exec 5<>"/dev/tcp/127.0.0.1/$PORT"
	wait_for "two connections held" eval 'ws /echo wait | grep -q "status 503"'
	run ws -t 3000 --http "$(upgrade /echo)"
	expect_first "HTTP/1.1 503 Service Unavailable"
	expect_header Retry-After 1
	wait_log '503 "too many connections"'
	exec 5>&-
	wait_for "room for one more" eval 'ws /echo text:x recv close:1000 wait | grep -q "text x"'
	touch "$T/A.go"
	result A
	expect_status 0
	wait_log 'GET /chat 101 .*close=1000'
}

@test "a client that stops reading is closed with 1008 too slow, while another receives everything at once" {
	local T=$BATS_TEST_TMPDIR
	local p
	p=$(mkscript flood.sh <<'EOF_'
#!/bin/sh
pad=0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890
while IFS= read -r l; do
	[ "$l" = go ] || continue
	seq 1 100000 | sed "s/\$/ $pad/"
	echo done
done
EOF_
)
	start_gw --maxqueue 65536 --metrics /metrics --broadcast "/feed=$p"
	client S --rcvbuf 4096 /feed mark:"$T/S.ready" until:"$T/release" wait
	ready S
	client F /feed mark:"$T/F.ready" text:go recv:100001 close:1000 wait
	DEADLINE_MS=30000
	wait_log 'too slow'
	result F
	expect_status 0
	[ "${#lines[@]}" -eq 100003 ]
	[ "${lines[0]}" = "text 1 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890" ]
	[ "${lines[99999]}" = "text 100000 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890" ]
	[ "${lines[100000]}" = "text done" ]
	touch "$T/release"
	result S
	expect_status 0
	expect_line_re '^close 1008 too slow: [0-9]+ queued$'
	[ "${lines[-1]}" = eof ]
	run curl -sS --max-time 5 "http://127.0.0.1:$PORT/metrics"
	expect_line_re '^portal_gw_slow_clients_total\{route="/feed"\} 1$'
}

@test "inbound: when the program's stdin is full, one flooding client does not starve another" {
	local T=$BATS_TEST_TMPDIR
	local p
	p=$(mkscript held.sh <<EOF_
#!/bin/sh
while [ ! -e "$T/release" ]; do sleep 0.02; done
while IFS= read -r l; do printf '%s\n' "\$l" >>"$T/in"; done
EOF_
)
	start_gw --broadcast "/b=$p"
	local -a flood
	mapfile -t flood < <(for ((i = 0; i < 2000; i++)); do echo textn:1000; done)
	client F /b mark:"$T/F.ready" "${flood[@]}" mark:"$T/F.sent" close:1000 wait
	ready F
	client Q /b text:from-q mark:"$T/Q.sent" until:"$T/release" close:1000 wait
	wait_for "Q's message sent" test -e "$T/Q.sent"
	touch "$T/release"
	wait_for "the program to read all 2001 lines" eval '[ "$(wc -l <"$T/in" 2>/dev/null)" = 2001 ]'
	run grep -n -x from-q "$T/in"
	expect_status 0
	# Its turn came long before the flood's end (a turn each, in order).
	((${output%%:*} < 1000))
}

@test "metrics: clients per shared route, connections, starts and refusals" {
	local T=$BATS_TEST_TMPDIR
	start_gw --metrics /metrics --maxclients 1 --broadcast /chat=cat --hub "/room=$(say_hub)"
	client A /chat mark:"$T/A.ready" until:"$T/go" close:1000 wait
	client B /room mark:"$T/B.ready" until:"$T/go" close:1000 wait
	ready A B
	run ws /chat wait
	expect_lines "status 503"
	run curl -sS --max-time 5 "http://127.0.0.1:$PORT/metrics"
	expect_line_re '^portal_gw_route_clients\{route="/chat"\} 1$'
	expect_line_re '^portal_gw_route_clients\{route="/room"\} 1$'
	expect_line_re '^portal_gw_connections [3-9]$'
	expect_line_re '^portal_gw_shared_starts_total\{route="/chat"\} 1$'
	expect_line_re '^portal_gw_shared_starts_total\{route="/room"\} 1$'
	expect_line_re '^portal_gw_connections_refused_total\{reason="[^"]+"\} 1$'
	touch "$T/go"
	result A
	result B
}

# --- the README's examples ------------------------------------------------------

@test "README: the broadcast chat room and live log, and the hub chat, answer as shown" {
	local T=$BATS_TEST_TMPDIR
	cd "$ROOT"
	: >"$T/app.log"
	start_gw --broadcast /chat=cat --broadcast "/log=tail -n 0 -F $T/app.log" /echo=cat
	run ws /chat text:hello recv close:1000 wait
	expect_status 0
	expect_lines "text hello" "close 1000" "eof"
	client L /log mark:"$T/L.ready" recv close:1000 wait
	ready L
	# tail may start after a first append: append until one arrives.
	wait_for "a log line to reach the client" \
		eval 'echo deployed >>"$T/app.log"; grep -q "text deployed" "$T/L.out"'
	result L
	expect_lines "text deployed" "close 1000*" "eof"
	stop_gw
	start_gw --devconsole --hub /room=./examples/chat-hub.sh
	run ws /room recv text:hello recv close:1000 wait
	expect_status 0
	# "* TEXT" sends TEXT to every client: the "* " is the address.
	expect_lines "text 1 joined" "text 1: hello" "close 1000" "eof"
}

@test "examples/chat-hub.sh: two clients see each other join, talk and leave" {
	local T=$BATS_TEST_TMPDIR
	start_gw --hub "/room=$ROOT/examples/chat-hub.sh"
	client A /room mark:"$T/A.ready" recv until:"$T/B.ready" "text:hi b" recv:3 \
		until:"$T/B.done" recv close:1000 wait
	ready A
	client B /room mark:"$T/B.ready" recv:2 "text:hi a" recv mark:"$T/B.done" \
		close:1000 wait
	result A
	expect_status 0
	local a b
	# "* TEXT" sends TEXT to every client: the "* " is the address.
	a=$(sed -n 's/^text \([0-9]*\) joined$/\1/p' "$T/A.out" | sed -n 1p)
	b=$(sed -n 's/^text \([0-9]*\) joined$/\1/p' "$T/A.out" | sed -n 2p)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ]
	expect_lines "text $a joined" "text $b joined" "text $a: hi b" \
		"text $b: hi a" "text $b left" "close 1000*" "eof"
	result B
	expect_status 0
	expect_lines "text $b joined" "text $a: hi b" "text $b: hi a" \
		"close 1000*" "eof"
}

@test "--devconsole: the console page on a broadcast route gets each line tagged o; an ordinary client of the same route gets it plain" {
	start_gw --devconsole --broadcast /b=cat
	local T=$BATS_TEST_TMPDIR
	ws -t 5000 /b mark:"$T/in" recv close:1000 wait >"$T/plain" 2>&1 &
	local plain=$!
	wait_for "the ordinary client to join" test -e "$T/in"
	run ws -H 'Sec-WebSocket-Protocol: portal-gw.console' --frames /b text:hi recv recv close:1000 wait
	expect_status 0
	expect_lines "frame op=1 fin=0 len=1 o" "frame op=0 fin=1 len=2 hi" "frame op=8*" "eof"
	wait "$plain"
	output=$(cat "$T/plain")
	expect_lines "text hi" "close 1000*" "eof"
}

# tests/preload/failmalloc.c fails every allocation over FAILMALLOC_OVER
# bytes (under ASan, max_allocation_size_mb does the same): a line of the
# shared program that cannot be held is never lost silently.
@test "out of memory for a broadcast program's output: every member ends with 1011, and the gateway serves on" {
	local so=$BATS_TEST_TMPDIR/failmalloc.so
	"${CC:-cc}" -shared -fPIC -o "$so" "$BATS_TEST_DIRNAME/preload/failmalloc.c" -ldl ||
		skip "cannot build an LD_PRELOAD library"
	local s
	s=$(mkscript big.sh <<'EOF_'
#!/bin/sh
read -r go
head -c 1572864 /dev/zero | tr '\0' a
echo
cat
EOF_
)
	LD_PRELOAD=$so FAILMALLOC_OVER=1048576 \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:allocator_may_return_null=1:max_allocation_size_mb=1 \
		start_gw --maxqueue 4194304 --broadcast "/b=$s" /echo=cat
	run ws -t 10000 /b text:go recv wait
	expect_status 0
	expect_lines "close 1011 out of memory for the program's output" "eof"
	wait_log "out of memory for the program's output"
	run ws /echo text:after recv close:1000 recv
	expect_status 0
	expect_lines "text after" "close 1000*"
	stop_gw
	[ "$GW_STATUS" = 0 ]
	sed -i '/WARNING: AddressSanitizer failed to allocate/d' \
		"$BATS_TEST_TMPDIR/gw.log"
}
