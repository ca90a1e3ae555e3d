#!/usr/bin/env bats
# What a child finds around it (issue 4, items 1 and 2; issue 10): its
# CGI/1.1 environment, and --dir, which serves every executable of a
# directory. The expected values are what websocketd 0.4.1 gives for the
# same request, written out here (tests/compat runs the two side by side).

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
	expect_env PATH_TRANSLATED /env/extra/path
	expect_env QUERY_STRING 'a=1&b=x%20y'
	expect_env REMOTE_ADDR 127.0.0.1
	expect_env REMOTE_HOST 127.0.0.1
	# Set, empty, as websocketd sets them.
	expect_env AUTH_TYPE ''
	expect_env CONTENT_LENGTH ''
	expect_env CONTENT_TYPE ''
	expect_env REMOTE_IDENT ''
	expect_env REMOTE_USER ''
	no_env HTTPS
	no_env REQUEST_SCHEME
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

@test "SERVER_NAME and SERVER_PORT are what the client asked for in Host, as websocketd" {
	start_gw /env=env
	# Behind a proxy or a port mapping: the port the client used.
	run ws -H 'Host: example.com:9999' /env wait
	expect_status 0
	expect_env SERVER_NAME example.com
	expect_env SERVER_PORT 9999
	run ws -H 'Host: example.com' /env wait
	expect_status 0
	expect_env SERVER_PORT 80
	# RFC 3875 4.1.14 writes an IPv6 address in brackets (websocketd
	# leaves them out).
	run ws -H 'Host: [::1]:8443' /env wait
	expect_status 0
	expect_env SERVER_NAME '[::1]'
	expect_env SERVER_PORT 8443
}

@test "SERVER_PORT is 443 when a trusted proxy says https and Host has no port" {
	start_gw --trust-proxy /env=env
	run ws -H 'Host: example.com' -H 'X-Forwarded-Proto: https' /env wait
	expect_status 0
	expect_env HTTPS on
	expect_env SERVER_PORT 443
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
	unset LD_LIBRARY_PATH
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
			PATH_INFO | PATH_TRANSLATED | QUERY_STRING | REMOTE_ADDR | \
			REMOTE_PORT | REMOTE_HOST | UNIQUE_ID | AUTH_TYPE | CONTENT_LENGTH | \
			CONTENT_TYPE | REMOTE_IDENT | REMOTE_USER | HTTP_*) ;;
		*)
			echo "unexpected variable in the child's environment: $l" >&2
			false
			;;
		esac
	done
}

@test "LD_LIBRARY_PATH is passed when set, as websocketd passes it by default" {
	LD_LIBRARY_PATH=/opt/gw-lib start_gw /env=env
	run ws /env wait
	expect_status 0
	expect_env LD_LIBRARY_PATH /opt/gw-lib
}

@test "the PROGRAM form: SCRIPT_NAME is / and the whole decoded path is PATH_INFO (websocketd)" {
	start_gw env
	run ws '/any/pa%20th?x=1' wait
	expect_status 0
	expect_env SCRIPT_NAME /
	expect_env PATH_INFO '/any/pa th'
	expect_env PATH_TRANSLATED '/any/pa th'
	expect_env REQUEST_URI '/any/pa%20th?x=1'
	expect_env QUERY_STRING x=1
	run ws / wait
	expect_status 0
	expect_env SCRIPT_NAME /
	expect_env PATH_INFO /
	expect_env PATH_TRANSLATED /
	expect_env QUERY_STRING ''
	# An encoded '/' is a '/' once decoded; '+' stays '+'.
	run ws '/a%2Fb+c%2B' wait
	expect_status 0
	expect_env PATH_INFO /a/b+c+
}

@test "a set -u script reads every CGI variable websocketd sets" {
	local s
	s=$(mkscript strict.sh <<'EOF_'
#!/bin/sh
set -u
echo "[$AUTH_TYPE|$CONTENT_LENGTH|$CONTENT_TYPE|$REMOTE_IDENT|$REMOTE_USER|$PATH_TRANSLATED|$PATH_INFO|$SCRIPT_NAME|$QUERY_STRING|$REMOTE_HOST]"
EOF_
)
	start_gw "$s"
	run ws /p wait
	expect_status 0
	expect_lines "text [|||||/p|/p|/||127.0.0.1]" "close 1000*" "eof"
}

@test "a path with a bad or NUL percent-escape is refused with 400" {
	start_gw env
	local p
	for p in '/a%ZZ' '/a%4' '/a%' '/a%00b'; do
		run ws "$p" wait
		expect_status 1
		expect_lines "status 400"
	done
	grep -q 'bad percent-encoding' "$BATS_TEST_TMPDIR/gw.log"
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

@test "--passenv never passes a variable that would describe the request falsely" {
	# HTTPS=on in the gateway's environment must not tell the child that a
	# plain connection is TLS; REMOTE_USER is set empty by the request;
	# HTTP_* would claim a header that was not sent. HTTP_PROXY is no
	# request variable (a Proxy header never sets it): it is passed.
	HTTPS=on REQUEST_SCHEME=https REMOTE_USER=root HTTP_X_SENT=no \
		HTTP_PROXY=http://proxy.example:3128 FOO=ok \
		start_gw --passenv HTTPS,REQUEST_SCHEME,REMOTE_USER,HTTP_X_SENT,HTTP_PROXY,FOO /env=env
	run ws -H 'Proxy: http://evil.example' /env wait
	expect_status 0
	no_env HTTPS
	no_env REQUEST_SCHEME
	no_env HTTP_X_SENT
	expect_env REMOTE_USER ''
	expect_env HTTP_PROXY http://proxy.example:3128
	expect_env FOO ok
	local n
	n=$(grep -c '^text REMOTE_USER=' <<<"$output" || true)
	[ "$n" -eq 1 ]
}

@test "a Proxy request header never becomes HTTP_PROXY (httpoxy)" {
	start_gw /env=env
	run ws -H 'Proxy: http://evil.example' /env wait
	expect_status 0
	no_env HTTP_PROXY
	[[ $output != *evil.example* ]]
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
#   sub/inner    executable in a subdirectory, prints "inner"
#   sub/deep/env executable two levels down, prints its environment
#   sub/.hid/x   executable under a dot-directory (writes a marker if run)
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
	mkdir -p "$D/sub/deep" "$D/sub/.hid"
	printf '#!/bin/sh\nexec env\n' >"$D/sub/deep/env"
	printf '#!/bin/sh\necho ran >"%s/dothid.ran"\n' "$T" >"$D/sub/.hid/x"
	chmod +x "$D/hello" "$D/other" "$D/.hidden" "$T/outside/secret" "$D/sub/inner" \
		"$D/sub/deep/env" "$D/sub/.hid/x"
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

@test "--dir refuses non-executable files, dotfiles, bare directories and missing names" {
	make_dir
	start_gw --dir "$BATS_TEST_TMPDIR/www"
	refused /plain
	refused /.hidden
	refused /sub
	refused /sub/
	refused /sub//inner
	refused /sub/.hid/x
	refused /sub/nothing
	refused /nothing-here
	refused /
	local f
	for f in plain hidden inner dothid; do
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

@test "--dir serves executables in sub-directories, the rest of the path in PATH_INFO (websocketd)" {
	make_dir
	start_gw --dir "$BATS_TEST_TMPDIR/www"
	run ws /sub/inner wait
	expect_status 0
	expect_lines "text inner" "close 1000*" "eof"
	run ws '/sub/deep/env/x%2Fy/z?q=1' wait
	expect_status 0
	expect_env SCRIPT_NAME /sub/deep/env
	expect_env PATH_INFO /x/y/z
	expect_env PATH_TRANSLATED /sub/deep/env/x/y/z
	expect_env QUERY_STRING q=1
	expect_env REQUEST_URI '/sub/deep/env/x%2Fy/z?q=1'
	run ws /sub/deep/env wait
	expect_status 0
	expect_env SCRIPT_NAME /sub/deep/env
	expect_env PATH_INFO ''
	expect_env PATH_TRANSLATED /sub/deep/env
	run ws /sub/deep/env/ wait
	expect_status 0
	expect_env PATH_INFO /
	# The file is found by its decoded name.
	run ws /sub/deep/%65nv wait
	expect_status 0
	expect_env SCRIPT_NAME /sub/deep/env
}

@test "--dir follows symlinks, inside the directory or out of it, as websocketd" {
	make_dir
	start_gw --dir "$BATS_TEST_TMPDIR/www"
	run ws /inlink/x wait
	expect_status 0
	expect_lines "text hello /inlink [/x]" "close 1000*" "eof"
	# Whoever can put a link in the directory can put the program there.
	run ws /outlink wait
	expect_status 0
	expect_lines "text secret" "close 1000*" "eof"
	run ws /prefixlink wait
	expect_status 0
	expect_lines "text evil" "close 1000*" "eof"
	# The program runs as the link's path, as websocketd runs it.
	local s
	s=$(mkscript outside/zero <<'EOF_'
#!/bin/sh
echo "0=$0"
EOF_
)
	ln -s "$s" "$BATS_TEST_TMPDIR/www/sub/zlink"
	run ws /sub/zlink wait
	expect_status 0
	expect_lines "text 0=$BATS_TEST_TMPDIR/www/sub/zlink" "close 1000*" "eof"
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
