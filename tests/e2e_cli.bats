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
