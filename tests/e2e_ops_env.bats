#!/usr/bin/env bats
# What a child finds around it (issue 4, items 1 and 2): its CGI/1.1
# environment, and --dir, which serves every executable of a directory.

load helpers

@test "the child gets the CGI/1.1 variables for its request" {
	start_gw /env=env
	local version
	version=$("$PORTAL_GW" --version)
	version=${version#portal-gw }
	run ws '/env/extra/path?a=1&b=x%20y' wait
	expect_status 0
	expect_env GATEWAY_INTERFACE CGI/1.1
	expect_env SERVER_SOFTWARE "portal-gw/$version"
	expect_env SERVER_NAME 127.0.0.1
	expect_env SERVER_PORT "$PORT"
	expect_env SERVER_PROTOCOL HTTP/1.1
	expect_env REQUEST_METHOD GET
	expect_env REQUEST_URI '/env/extra/path?a=1&b=x%20y'
	expect_env SCRIPT_NAME /env
	expect_env PATH_INFO /extra/path
	expect_env QUERY_STRING 'a=1&b=x%20y'
	expect_env REMOTE_ADDR 127.0.0.1
	expect_env REMOTE_HOST 127.0.0.1
	expect_env HTTP_HOST "127.0.0.1:$PORT"
	expect_env HTTP_UPGRADE websocket
	expect_env HTTP_SEC_WEBSOCKET_VERSION 13
	# REMOTE_PORT is the client's port, as the gateway logged it.
	local rport
	rport=$(env_of REMOTE_PORT)
	[[ $rport =~ ^[0-9]+$ ]]
	grep -Eq "#[0-9]+ 127\.0\.0\.1:$rport connected to /env/extra/path" \
		"$BATS_TEST_TMPDIR/gw.log"
}

@test "UNIQUE_ID is set and differs between sessions" {
	start_gw /env=env
	local a b
	run ws /env wait
	expect_status 0
	a=$(env_of UNIQUE_ID)
	run ws /env wait
	expect_status 0
	b=$(env_of UNIQUE_ID)
	[ -n "$a" ] && [ -n "$b" ]
	[ "$a" != "$b" ]
}

@test "request headers become HTTP_* variables: custom, repeated, and names with '_' dropped" {
	start_gw /env=env
	run ws -H 'X-Custom-Thing: hello world' -H 'X-Rep: one' -H 'X-Other: z' \
		-H 'x-rep: two' -H 'X_Under: sneaky' -H 'X-Digits-42: d' /env wait
	expect_status 0
	expect_env HTTP_X_CUSTOM_THING 'hello world'
	expect_env HTTP_X_REP 'one, two'
	expect_env HTTP_X_OTHER z
	expect_env HTTP_X_DIGITS_42 d
	# X_Under would pose as X-Under; it is dropped, not renamed.
	no_env HTTP_X_UNDER
	if [[ $output == *sneaky* ]]; then
		echo "the value of X_Under reached the child:" >&2
		printf '  |%s\n' "${lines[@]}" >&2
		false
	fi
}

@test "only PATH (and LD_LIBRARY_PATH, the default --passenv) come from the gateway's own environment" {
	# A short PATH, so that wsclient prints it (it abbreviates lines over
	# 200 bytes).
	PATH=/usr/local/bin:/usr/bin:/bin FOO=from-gateway BAR=also HOME=/home/gw \
		start_gw /env=env
	run ws /env wait
	expect_status 0
	no_env FOO
	no_env BAR
	no_env HOME
	expect_env PATH /usr/local/bin:/usr/bin:/bin
	# Every variable is PATH (or LD_LIBRARY_PATH), a CGI one, or a header.
	local l name
	for l in "${lines[@]}"; do
		[[ $l == "text "*=* ]] || continue
		name=${l#text }
		name=${name%%=*}
		case $name in
		PATH | LD_LIBRARY_PATH | GATEWAY_INTERFACE | SERVER_SOFTWARE | SERVER_NAME | SERVER_PORT | \
			SERVER_PROTOCOL | REQUEST_METHOD | REQUEST_URI | SCRIPT_NAME | \
			PATH_INFO | QUERY_STRING | REMOTE_ADDR | REMOTE_PORT | REMOTE_HOST | \
			UNIQUE_ID | HTTPS | HTTP_*) ;;
		*)
			echo "unexpected variable in the child's environment: $l" >&2
			false
			;;
		esac
	done
}

@test "--passenv passes the named variables, and only those" {
	FOO=from-gateway BAR=also start_gw --passenv FOO,UNSET_VAR /env=env
	run ws /env wait
	expect_status 0
	expect_env FOO from-gateway
	no_env BAR
	no_env UNSET_VAR
}

@test "--passenv cannot override or duplicate a variable that comes from the request" {
	# The passed names used to be added first with nothing to stop a clash:
	# SERVER_NAME then appears twice (getenv(3) in C sees the gateway's
	# value, dash the request's), and HTTP_HOST from the gateway replaces
	# the request's Host, which is dropped. Each name should appear once,
	# with the request's value (websocketd: Go's exec keeps the last, and
	# its CGI variables come after the passed ones).
	SERVER_NAME=from-gateway HTTP_HOST=from-gateway FOO=ok \
		start_gw --passenv SERVER_NAME,HTTP_HOST,FOO /env=env
	run ws /env wait
	expect_status 0
	expect_env FOO ok
	local n
	n=$(grep -c '^text SERVER_NAME=' <<<"$output" || true)
	[ "$n" -eq 1 ] || { echo "SERVER_NAME appears $n times:" >&2; grep '^text SERVER_NAME=' <<<"$output" >&2; false; }
	n=$(grep -c '^text HTTP_HOST=' <<<"$output" || true)
	[ "$n" -eq 1 ] || { echo "HTTP_HOST appears $n times" >&2; false; }
	expect_env SERVER_NAME 127.0.0.1
	expect_env HTTP_HOST "127.0.0.1:$PORT"
}

# --- --dir ------------------------------------------------------------

# make_dir: $BATS_TEST_TMPDIR/www with
#   hello        executable, prints its SCRIPT_NAME and PATH_INFO
#   other        executable, prints "other"
#   plain        not executable (writes a marker if ever run)
#   .hidden      executable dotfile (writes a marker if ever run)
#   inlink       symlink to hello (inside)
#   outlink      symlink to ../outside/secret (executable, outside)
#   prefixlink   symlink to ../www-evil/evil (outside, same name prefix)
#   sub/inner    executable in a subdirectory
# and $BATS_TEST_TMPDIR/outside/secret, which writes a marker if ever run.
make_dir() {
	local T=$BATS_TEST_TMPDIR D=$BATS_TEST_TMPDIR/www
	mkdir -p "$D/sub" "$T/outside"
	cat >"$D/hello" <<'EOF_'
#!/bin/sh
echo "hello $SCRIPT_NAME [$PATH_INFO]"
EOF_
	printf '#!/bin/sh\necho other\n' >"$D/other"
	printf '#!/bin/sh\necho ran >"%s/plain.ran"\necho plain\n' "$T" >"$D/plain"
	printf '#!/bin/sh\necho ran >"%s/hidden.ran"\necho hidden\n' "$T" >"$D/.hidden"
	printf '#!/bin/sh\necho ran >"%s/secret.ran"\necho secret\n' "$T" >"$T/outside/secret"
	printf '#!/bin/sh\necho ran >"%s/inner.ran"\necho inner\n' "$T" >"$D/sub/inner"
	chmod +x "$D/hello" "$D/other" "$D/.hidden" "$T/outside/secret" "$D/sub/inner"
	chmod -x "$D/plain"
	ln -s hello "$D/inlink"
	ln -s ../outside/secret "$D/outlink"
	# A sibling whose name starts with the directory's.
	mkdir -p "$T/www-evil"
	printf '#!/bin/sh\necho ran >"%s/evil.ran"\necho evil\n' "$T" >"$T/www-evil/evil"
	chmod +x "$T/www-evil/evil"
	ln -s ../www-evil/evil "$D/prefixlink"
}

# refused PATH: the handshake for PATH is refused with 404 (or 400).
refused() {
	run ws "$1" wait
	if [ "$status" -ne 1 ] || ! [[ $output =~ ^status\ (404|400)$ ]]; then
		echo "expected $1 to be refused with 404 (or 400); got (status $status):" >&2
		printf '  |%s\n' "${lines[@]}" >&2
		return 1
	fi
}

@test "--dir serves each executable at /NAME, with PATH_INFO for /NAME/rest" {
	make_dir
	start_gw --dir "$BATS_TEST_TMPDIR/www"
	run ws /hello wait
	expect_status 0
	expect_lines "text hello /hello []" "close 1000*" "eof"
	run ws '/hello/rest/of/it?q=1' wait
	expect_status 0
	expect_lines "text hello /hello [/rest/of/it]" "close 1000*" "eof"
	run ws /other wait
	expect_status 0
	expect_lines "text other" "close 1000*" "eof"
}

@test "--dir refuses non-executable files, dotfiles, subdirectories and missing names" {
	make_dir
	start_gw --dir "$BATS_TEST_TMPDIR/www"
	refused /plain
	refused /.hidden
	refused /sub
	refused /sub/inner
	refused /nothing-here
	refused /
	local f
	for f in plain hidden inner; do
		[ ! -e "$BATS_TEST_TMPDIR/$f.ran" ] || { echo "$f was run" >&2; false; }
	done
}

@test "--dir refuses paths with .. that would leave the directory" {
	make_dir
	start_gw --dir "$BATS_TEST_TMPDIR/www"
	refused /../outside/secret
	refused /./hello
	refused /..
	refused /%2e%2e/outside/secret
	[ ! -e "$BATS_TEST_TMPDIR/secret.ran" ]
	# A '..' after the name is only PATH_INFO, given to the program as text.
	run ws /hello/../../outside/secret wait
	expect_status 0
	expect_lines "text hello /hello [/../../outside/secret]" "close 1000*" "eof"
	[ ! -e "$BATS_TEST_TMPDIR/secret.ran" ]
}

@test "--dir follows a symlink inside the directory but not one that escapes it" {
	make_dir
	start_gw --dir "$BATS_TEST_TMPDIR/www"
	run ws /inlink/x wait
	expect_status 0
	expect_lines "text hello /inlink [/x]" "close 1000*" "eof"
	refused /outlink
	refused /prefixlink
	[ ! -e "$BATS_TEST_TMPDIR/secret.ran" ]
	[ ! -e "$BATS_TEST_TMPDIR/evil.ran" ]
}

@test "--dir with /PATH=COMMAND resources: the explicit resource wins" {
	make_dir
	local s
	s=$(mkscript explicit.sh <<'EOF_'
#!/bin/sh
echo "explicit $SCRIPT_NAME [$PATH_INFO]"
EOF_
)
	start_gw --dir "$BATS_TEST_TMPDIR/www" "/hello=$s" "/extra=$s"
	run ws /hello/x wait
	expect_status 0
	expect_lines "text explicit /hello [/x]" "close 1000*" "eof"
	run ws /extra wait
	expect_status 0
	expect_lines "text explicit /extra []" "close 1000*" "eof"
	run ws /other wait
	expect_status 0
	expect_lines "text other" "close 1000*" "eof"
}

@test "--dir with the PROGRAM form is a usage error (exit 2)" {
	make_dir
	run "$PORTAL_GW" --address 127.0.0.1 --port 0 --dir "$BATS_TEST_TMPDIR/www" cat
	expect_status 2
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == *--dir* ]]
}

@test "--dir naming a missing directory fails at start (exit 1)" {
	run "$PORTAL_GW" --address 127.0.0.1 --port 0 --dir "$BATS_TEST_TMPDIR/no-such-dir"
	expect_status 1
	[[ $output == *no-such-dir* ]]
}
