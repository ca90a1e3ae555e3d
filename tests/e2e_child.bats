#!/usr/bin/env bats
# What the child does reaches the client: its lines, its exit status, its
# signals; its stderr goes to the log only; its environment is CGI's.

load helpers

# serve NAME: serves the script on stdin at /NAME.
serve() {
	local s
	s=$(mkscript "$1")
	start_gw "/$1=$s"
}

@test "a child printing 100 lines then exiting 0: all arrive, then close 1000" {
	serve count <<'EOF_'
#!/bin/sh
i=1
while [ "$i" -le 100 ]; do
	echo "line $i"
	i=$((i + 1))
done
EOF_
	run ws /count wait
	expect_status 0
	local want=() i
	for i in $(seq 1 100); do want+=("text line $i"); done
	expect_lines "${want[@]}" "close 1000*" "eof"
}

@test "exit 3 closes with 1011 and a reason naming the status" {
	serve fail <<'EOF_'
#!/bin/sh
echo before
exit 3
EOF_
	run ws /fail wait
	expect_status 0
	expect_lines "text before" "close 1011 *" "eof"
	expect_line_re '^close 1011 (.*[^0-9])?3([^0-9].*)?$'
}

@test "a child killed by a signal closes with 1011 naming the signal" {
	serve killed <<'EOF_'
#!/bin/sh
echo before
kill -KILL $$
EOF_
	run ws /killed wait
	expect_status 0
	expect_lines "text before" "close 1011 *" "eof"
	expect_line_re '^close 1011 .*(KILL|[Kk]illed|signal 9)'
}

@test "a stderr line is logged with the session id and never sent" {
	serve err <<'EOF_'
#!/bin/sh
echo visible
echo secret-on-stderr >&2
echo after
EOF_
	run ws /err wait
	expect_status 0
	expect_lines "text visible" "text after" "close 1000*" "eof"
	wait_log '#[0-9]+ stderr: secret-on-stderr$'
}

@test "the last line without a newline still arrives" {
	serve nonl <<'EOF_'
#!/bin/sh
printf 'first\nno newline at the end'
EOF_
	run ws /nonl wait
	expect_status 0
	expect_lines "text first" "text no newline at the end" "close 1000*" "eof"
}

@test "CRLF line endings arrive without the CR" {
	serve crlf <<'EOF_'
#!/bin/sh
printf 'one\r\ntwo\r\n'
EOF_
	run ws /crlf wait
	expect_status 0
	expect_lines "text one" "text two" "close 1000*" "eof"
}

@test "invalid UTF-8 from the child arrives as U+FFFD, valid UTF-8 unchanged" {
	serve utf8 <<'EOF_'
#!/bin/sh
printf 'caf\303\251\n'
printf 'a\377b\n'
EOF_
	run ws /utf8 wait
	expect_status 0
	expect_lines 'text caf\xc3\xa9' 'text a\xef\xbf\xbdb' "close 1000*" "eof"
}

@test "invalid UTF-8 from the child is logged once per session" {
	serve utf8 <<'EOF_'
#!/bin/sh
printf 'a\377b\n'
printf 'c\376d\n'
EOF_
	run ws /utf8 wait
	expect_status 0
	wait_log '#[0-9]+ .*UTF-8'
	[ "$(grep -c 'UTF-8' "$BATS_TEST_TMPDIR/gw.log")" -eq 1 ]
}

@test "PATH_INFO and QUERY_STRING reach the child's environment" {
	serve env <<'EOF_'
#!/bin/sh
printf 'SCRIPT_NAME=%s\n' "$SCRIPT_NAME"
printf 'PATH_INFO=%s\n' "$PATH_INFO"
printf 'QUERY_STRING=%s\n' "$QUERY_STRING"
EOF_
	run ws '/env/more/path?x=1&y=two' wait
	expect_status 0
	expect_lines "text SCRIPT_NAME=/env" "text PATH_INFO=/more/path" \
		"text QUERY_STRING=x=1&y=two" "close 1000*" "eof"
}

@test "the longest matching resource path wins" {
	local a b
	a=$(mkscript a.sh <<'EOF_'
#!/bin/sh
echo "a $PATH_INFO"
EOF_
)
	b=$(mkscript b.sh <<'EOF_'
#!/bin/sh
echo "b $PATH_INFO"
EOF_
)
	start_gw "/a=$a" "/a/b=$b"
	run ws /a/b/c recv
	expect_lines "text b /c"
	run ws /a/x recv
	expect_lines "text a /x"
}

@test "PROGRAM ARGS serves one program at every path" {
	local s
	s=$(mkscript hello.sh <<'EOF_'
#!/bin/sh
echo "hello $1"
EOF_
)
	start_gw "$s" world
	run ws /any/path/at/all wait
	expect_status 0
	expect_lines "text hello world" "close 1000*" "eof"
}

@test "COMMAND is split with quotes but never given to a shell" {
	local s
	s=$(mkscript args.sh <<'EOF_'
#!/bin/sh
for a in "$@"; do printf '[%s]\n' "$a"; done
EOF_
)
	start_gw "/args=$s 'two words' \$HOME a;b *"
	run ws /args wait
	expect_status 0
	expect_lines "text [two words]" 'text [$HOME]' "text [a;b]" "text [*]" \
		"close 1000*" "eof"
}
