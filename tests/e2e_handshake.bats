#!/usr/bin/env bats
# The opening handshake (RFC 6455 section 4), spoken byte by byte with
# wsclient --http so that every malformed request can be written.

load helpers

# The key and accept value of RFC 6455 section 1.3.
KEY=dGhlIHNhbXBsZSBub25jZQ==
ACCEPT=s3pPLMBiTxaQ9kYGzzhZRbK+xOo=

# request METHOD PATH HEADER...: the request in wsclient's escapes.
request() {
	local r="$1 $2 HTTP/1.1\\r\\n" h
	shift 2
	for h in "$@"; do
		r+="$h\\r\\n"
	done
	printf '%s\\r\\n' "$r"
}

HOST="Host: 127.0.0.1"
UPGRADE="Upgrade: websocket"
CONNECTION="Connection: Upgrade"
WSKEY="Sec-WebSocket-Key: $KEY"
VERSION="Sec-WebSocket-Version: 13"

setup() {
	start_gw /echo=cat
}

# http REQUEST: sends it and collects the response head.
http() {
	ws -t 1000 --http "$1"
}

@test "a valid upgrade gets 101 with the Sec-WebSocket-Accept of RFC 6455" {
	run http "$(request GET /echo "$HOST" "$UPGRADE" "$CONNECTION" "$WSKEY" "$VERSION")"
	expect_status 0
	[[ ${lines[0]} == "HTTP/1.1 101"* ]]
	expect_header Sec-WebSocket-Accept "$ACCEPT"
	expect_header Upgrade websocket
}

@test "header names and the Upgrade token are matched without regard to case" {
	run http "$(request GET /echo "host: 127.0.0.1" "upgrade: WebSocket" \
		"connection: keep-alive, upgrade" "sec-websocket-key: $KEY" \
		"sec-websocket-version: 13")"
	expect_status 0
	[[ ${lines[0]} == "HTTP/1.1 101"* ]]
	expect_header Sec-WebSocket-Accept "$ACCEPT"
}

@test "a path with no resource gets 404" {
	run http "$(request GET /nope "$HOST" "$UPGRADE" "$CONNECTION" "$WSKEY" "$VERSION")"
	expect_status 0
	[[ ${lines[0]} == "HTTP/1.1 404"* ]]
}

@test "the WebSocket client reports a refused handshake as status 404" {
	run ws /nope
	expect_status 1
	expect_lines "status 404"
}

@test "a missing Sec-WebSocket-Key gets 400" {
	run http "$(request GET /echo "$HOST" "$UPGRADE" "$CONNECTION" "$VERSION")"
	[[ ${lines[0]} == "HTTP/1.1 400"* ]]
}

@test "a key that is not 16 bytes of base64 gets 400" {
	run http "$(request GET /echo "$HOST" "$UPGRADE" "$CONNECTION" \
		"Sec-WebSocket-Key: c2hvcnQ=" "$VERSION")"
	[[ ${lines[0]} == "HTTP/1.1 400"* ]]
}

@test "a key that is not base64 at all gets 400" {
	run http "$(request GET /echo "$HOST" "$UPGRADE" "$CONNECTION" \
		"Sec-WebSocket-Key: not*base64*at*all!!" "$VERSION")"
	[[ ${lines[0]} == "HTTP/1.1 400"* ]]
}

@test "a request without Upgrade gets 400" {
	run http "$(request GET /echo "$HOST" "$CONNECTION" "$WSKEY" "$VERSION")"
	[[ ${lines[0]} == "HTTP/1.1 400"* ]]
}

@test "a request without Connection: Upgrade gets 400" {
	run http "$(request GET /echo "$HOST" "$UPGRADE" "$WSKEY" "$VERSION")"
	[[ ${lines[0]} == "HTTP/1.1 400"* ]]
}

@test "Sec-WebSocket-Version 8 gets 426 naming version 13" {
	run http "$(request GET /echo "$HOST" "$UPGRADE" "$CONNECTION" "$WSKEY" \
		"Sec-WebSocket-Version: 8")"
	[[ ${lines[0]} == "HTTP/1.1 426"* ]]
	expect_header Sec-WebSocket-Version 13
}

@test "POST gets 405" {
	run http "$(request POST /echo "$HOST" "$UPGRADE" "$CONNECTION" "$WSKEY" "$VERSION")"
	[[ ${lines[0]} == "HTTP/1.1 405"* ]]
}

@test "a refused request starts no child" {
	run http "$(request GET /echo "$HOST" "$UPGRADE" "$CONNECTION" "$VERSION")"
	[[ ${lines[0]} == "HTTP/1.1 400"* ]]
	[ -z "$(children "$GW_PID")" ]
}
