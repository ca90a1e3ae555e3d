#!/usr/bin/env bats
# Plain HTTP: --staticdir files, --health, --metrics and the --devconsole
# page, asked for with curl (and raw sockets where curl would hide what the
# server sent).

load helpers

# get [CURL-ARGS...] PATH: curl's response head and body for PATH, with
# CRs dropped; the path is sent as written (no ".." folding).
get() {
	local p=${*: -1}
	curl -sS -i --path-as-is --max-time 5 "${@:1:$#-1}" \
		"http://127.0.0.1:$PORT$p" | tr -d '\r'
}

# raw REQUEST: writes REQUEST (printf %b escapes) on a new connection,
# half-closes it (no more requests: a kept connection then ends too) and
# prints everything the server sends until it closes (5 s at most).
raw() {
	printf '%b' "$1" | timeout 5 perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $ARGV[0]) or die;
		local $/;
		print $s scalar <STDIN>;
		$s->shutdown(1);
		binmode STDOUT;
		my $buf;
		print $buf while sysread($s, $buf, 65536);
	' "$PORT" | tr -d '\r'
}

# talk [-p] REQUEST...: on one connection, writes each REQUEST (\r and \n
# escapes) and reads its response (the head, then Content-Length bytes of
# body, none for HEAD and 304), printing each without CRs and followed by
# "--"; with -p writes them all first (pipelining). Then prints "eof" if the
# server closes within TALK_WAIT seconds (default 5), "open" if it does
# not, or "more: BYTES" if it sends anything else. Never half-closes.
talk() {
	local pipe=0
	if [ "$1" = -p ]; then
		pipe=1
		shift
	fi
	timeout 10 perl -MIO::Socket::INET -e '
		my ($port, $pipe, $wait, @reqs) = @ARGV;
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port)
			or die "connect: $!";
		s/\\r/\r/g, s/\\n/\n/g for @reqs;
		my $buf = "";
		sub fill { sysread($s, $buf, 65536, length $buf) }
		print $s join("", @reqs) if $pipe;
		for my $req (@reqs) {
			print $s $req unless $pipe;
			until ($buf =~ /\r\n\r\n/) { fill() or do { print "eof\n"; exit } }
			my $head = substr($buf, 0, index($buf, "\r\n\r\n") + 4, "");
			my ($len) = $head =~ /^Content-Length: (\d+)/mi;
			$len = 0 if !defined $len || $req =~ /^HEAD / || $head =~ /^\S+ 304 /;
			while (length $buf < $len) { fill() or last }
			my $body = substr($buf, 0, $len, "");
			$head =~ s/\r//g;
			print $head, $body, ($body =~ /\n\z/ || $body eq "" ? "" : "\n"), "--\n";
		}
		my $rin = "";
		vec($rin, fileno($s), 1) = 1;
		if (length $buf) { print "more: $buf\n"; exit }
		if (!select(my $r = $rin, undef, undef, $wait)) { print "open\n"; exit }
		my $n = sysread($s, $buf, 65536);
		print $n ? "more: $buf\n" : "eof\n";
	' "$PORT" "$pipe" "${TALK_WAIT:-5}" "$@"
}

# body: the body of a response in $output (after the first empty line).
body() {
	printf '%s\n' "$output" | sed '1,/^$/d'
}

# A static directory with a few typed files, a subdirectory with an
# index, one without, dotfiles and symlinks both ways.
make_www() {
	local W=$BATS_TEST_TMPDIR/www
	mkdir -p "$W/sub" "$W/noindex" "$W/.git" "$BATS_TEST_TMPDIR/outside"
	printf '<h1>home</h1>\n' >"$W/index.html"
	printf 'body{}\n' >"$W/style.css"
	printf 'let x = 1;\n' >"$W/app.js"
	printf '{"a":1}\n' >"$W/data.json"
	printf '\x89PNG\r\n\x1a\n' >"$W/pic.png"
	printf 'plain\n' >"$W/notes.txt"
	printf 'raw\0\1\n' >"$W/blob"
	printf 'plain words\n' >"$W/README"
	printf '<p>sub</p>\n' >"$W/sub/index.html"
	printf 'x\n' >"$W/noindex/x.txt"
	printf 'SECRET\n' >"$W/.env"
	printf 'SECRET\n' >"$W/.git/config"
	printf 'SECRET\n' >"$W/sub/.hidden"
	printf 'SECRET\n' >"$BATS_TEST_TMPDIR/outside/secret.txt"
	ln -s "$BATS_TEST_TMPDIR/outside/secret.txt" "$W/escape.txt"
	ln -s "$BATS_TEST_TMPDIR/outside" "$W/outdir"
	ln -s ../.env "$W/sub/env.txt"
	ln -s style.css "$W/alias.css"
	echo "$W"
}

@test "static files: Content-Type (a name without a known type: text or not, by its first bytes), Content-Length, Last-Modified and the bytes; query ignored" {
	local W
	W=$(make_www)
	touch -d '2024-03-01 12:00:00 UTC' "$W/style.css"
	start_gw --staticdir "$W" /echo=cat
	local f want
	for f in index.html:text/html style.css:text/css app.js:text/javascript \
		data.json:application/json pic.png:image/png notes.txt:text/plain \
		blob:application/octet-stream README:text/plain; do
		want=${f#*:}
		f=${f%%:*}
		curl -sS --path-as-is --max-time 5 -D "$BATS_TEST_TMPDIR/h" \
			-o "$BATS_TEST_TMPDIR/b" "http://127.0.0.1:$PORT/$f?v=1"
		cmp "$BATS_TEST_TMPDIR/b" "$W/$f"
		run tr -d '\r' <"$BATS_TEST_TMPDIR/h"
		expect_first "HTTP/1.1 200 OK"
		expect_line_re "^Content-Type: $want(; charset=utf-8)?\$"
		expect_header Content-Length "$(stat -c %s "$W/$f")"
		expect_header Connection keep-alive
	done
	run get /style.css
	expect_header Last-Modified "Fri, 01 Mar 2024 12:00:00 GMT"
	run get /alias.css
	expect_first "HTTP/1.1 200 OK"
	[ "$(body)" = "body{}" ]
	wait_log "access #[0-9]+ [^ ]+ GET /style.css 200 \"file, 7 bytes\""
}

@test "Content-Types of the common web formats (from /etc/mime.types where it names them)" {
	local W=$BATS_TEST_TMPDIR/www f want
	mkdir -p "$W"
	start_gw --staticdir "$W" /echo=cat
	for f in f.woff:font/woff f.woff2:font/woff2 f.ttf:font/ttf f.otf:font/otf \
		a.mp3:audio/mpeg a.ogg:audio/ogg a.flac:audio/flac a.opus:audio/ogg \
		v.mp4:video/mp4 v.webm:video/webm v.ogv:video/ogg i.avif:image/avif \
		i.webp:image/webp i.svg:image/svg+xml i.gif:image/gif i.png:image/png \
		i.jpg:image/jpeg d.csv:"text/csv; charset=utf-8" \
		r.md:"text/markdown; charset=utf-8" site.webmanifest:application/manifest+json \
		m.wasm:application/wasm a.zip:application/zip a.tar:application/x-tar \
		a.tar.gz:application/gzip d.pdf:application/pdf d.json:application/json \
		a.js:"text/javascript; charset=utf-8" m.mjs:"text/javascript; charset=utf-8" \
		s.css:"text/css; charset=utf-8" i.html:"text/html; charset=utf-8" \
		t.txt:"text/plain; charset=utf-8" d.xml:application/xml; do
		want=${f#*:}
		f=${f%%:*}
		printf x >"$W/$f"
		run get -I "/$f"
		expect_first "HTTP/1.1 200 OK"
		expect_header Content-Type "$want"
	done
	# audio/wav or audio/x-wav, image/x-icon or image/vnd.microsoft.icon
	printf x >"$W/a.wav"
	printf x >"$W/favicon.ico"
	run get -I /a.wav
	expect_line_re '^Content-Type: audio/(x-)?wav$'
	run get -I /favicon.ico
	expect_line_re '^Content-Type: image/(x-icon|vnd.microsoft.icon)$'
}

@test "HEAD: the head a GET gets, and no body" {
	local W
	W=$(make_www)
	start_gw --staticdir "$W" /echo=cat
	run raw 'HEAD /notes.txt HTTP/1.1\r\nHost: x\r\n\r\n'
	expect_first "HTTP/1.1 200 OK"
	expect_header Content-Length 6
	expect_header Content-Type "text/plain; charset=utf-8"
	[ "${lines[-1]}" != plain ]
	[ -z "$(body)" ]
	run raw 'GET /notes.txt HTTP/1.1\r\nHost: x\r\n\r\n'
	[ "$(body)" = plain ]
}

@test "If-Modified-Since: 304 at or after the file's time, 200 before it or when unparsable" {
	local W
	W=$(make_www)
	touch -d '2024-03-01 12:00:00 UTC' "$W/notes.txt"
	start_gw --staticdir "$W" /echo=cat
	run get -H 'If-Modified-Since: Fri, 01 Mar 2024 12:00:00 GMT' /notes.txt
	expect_first "HTTP/1.1 304 Not Modified"
	expect_header Last-Modified "Fri, 01 Mar 2024 12:00:00 GMT"
	[ -z "$(body)" ]
	run get -H 'If-Modified-Since: Sunday, 01-Dec-24 00:00:00 GMT' /notes.txt
	expect_first "HTTP/1.1 304 Not Modified"
	run get -H 'If-Modified-Since: Fri Mar  1 12:00:00 2024' /notes.txt
	expect_first "HTTP/1.1 304 Not Modified"
	run get -H 'If-Modified-Since: Fri, 01 Mar 2024 11:59:59 GMT' /notes.txt
	expect_first "HTTP/1.1 200 OK"
	[ "$(body)" = plain ]
	run get -H 'If-Modified-Since: yesterday' /notes.txt
	expect_first "HTTP/1.1 200 OK"
	wait_log "access #[0-9]+ [^ ]+ GET /notes.txt 304 \"not modified\""
}

# A 1000-byte file of known bytes: "0123456789" a hundred times.
make_digits() {
	local W=$BATS_TEST_TMPDIR/www
	mkdir -p "$W"
	printf '0123456789%.0s' {1..100} >"$W/d.bin"
	: >"$W/empty.bin"
	touch -d '2024-03-01 12:00:00 UTC' "$W/d.bin"
	echo "$W"
}

@test "Range: one byte range gets 206 with Content-Range and its bytes; files say Accept-Ranges" {
	local W
	W=$(make_digits)
	start_gw --staticdir "$W" /echo=cat
	run get /d.bin
	expect_first "HTTP/1.1 200 OK"
	expect_header Accept-Ranges bytes
	run get -r 0-9 /d.bin
	expect_first "HTTP/1.1 206 Partial Content"
	expect_header Content-Range "bytes 0-9/1000"
	expect_header Content-Length 10
	expect_header Content-Type application/octet-stream
	[ "$(body)" = 0123456789 ]
	run get -H 'Range: bytes=995-' /d.bin
	expect_first "HTTP/1.1 206 Partial Content"
	expect_header Content-Range "bytes 995-999/1000"
	[ "$(body)" = 56789 ]
	run get -H 'Range: bytes=-3' /d.bin
	expect_header Content-Range "bytes 997-999/1000"
	[ "$(body)" = 789 ]
	run get -H 'Range: bytes=-5000' /d.bin
	expect_first "HTTP/1.1 206 Partial Content"
	expect_header Content-Range "bytes 0-999/1000"
	run get -H 'Range: bytes=990-1000000' /d.bin
	expect_header Content-Range "bytes 990-999/1000"
	[ "$(body)" = 0123456789 ]
	# the same over a raw socket: exactly Content-Length bytes follow
	run raw 'GET /d.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=12-14\r\nConnection: close\r\n\r\n'
	expect_first "HTTP/1.1 206 Partial Content"
	[ "$(body)" = 234 ]
	wait_log "access #[0-9]+ [^ ]+ GET /d.bin 206 \"file, bytes 0-9 of 1000\""
}

@test "Range: past the end is 416 with bytes */LEN; malformed, several ranges or another unit get the whole file" {
	local W r
	W=$(make_digits)
	start_gw --staticdir "$W" /echo=cat
	for r in bytes=1000- bytes=5000-6000 bytes=-0 bytes=18446744073709551616-; do
		run get -H "Range: $r" /d.bin
		expect_first "HTTP/1.1 416 Range Not Satisfiable"
		expect_header Content-Range "bytes */1000"
	done
	run get -H 'Range: bytes=0-' /empty.bin
	expect_first "HTTP/1.1 416 Range Not Satisfiable"
	expect_header Content-Range "bytes */0"
	run get -H 'Range: bytes=-10' /empty.bin
	expect_first "HTTP/1.1 200 OK"
	expect_header Content-Length 0
	for r in bytes=5-4 bytes=x-1 'bytes=0 - 9' bytes=0-1,5-6 items=0-9 bytes; do
		run get -H "Range: $r" /d.bin
		expect_first "HTTP/1.1 200 OK"
		expect_header Content-Length 1000
	done
	wait_log "access #[0-9]+ [^ ]+ GET /d.bin 416 \"range not satisfiable\""
}

@test "If-Range: the file's Last-Modified honours Range, any other date or a tag gets the whole file" {
	local W
	W=$(make_digits)
	start_gw --staticdir "$W" /echo=cat
	run get -r 0-1 -H 'If-Range: Fri, 01 Mar 2024 12:00:00 GMT' /d.bin
	expect_first "HTTP/1.1 206 Partial Content"
	[ "$(body)" = 01 ]
	run get -r 0-1 -H 'If-Range: Fri, 01 Mar 2024 11:00:00 GMT' /d.bin
	expect_first "HTTP/1.1 200 OK"
	expect_header Content-Length 1000
	run get -r 0-1 -H 'If-Range: "some-etag"' /d.bin
	expect_first "HTTP/1.1 200 OK"
	run get -r 0-1 -H 'If-Range: garbage' /d.bin
	expect_first "HTTP/1.1 200 OK"
}

@test "HEAD with Range: the 206 or 416 head a GET gets, no body" {
	local W
	W=$(make_digits)
	start_gw --staticdir "$W" /echo=cat
	run raw 'HEAD /d.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=10-19\r\nConnection: close\r\n\r\n'
	expect_first "HTTP/1.1 206 Partial Content"
	expect_header Content-Length 10
	expect_header Content-Range "bytes 10-19/1000"
	[ -z "$(body)" ]
	run raw 'HEAD /d.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=2000-\r\nConnection: close\r\n\r\n'
	expect_first "HTTP/1.1 416 Range Not Satisfiable"
	expect_header Content-Range "bytes */1000"
	[ -z "$(body)" ]
}

@test "a video seeks: a 3 MiB file read back in ranges as a media element asks is byte-exact" {
	local W=$BATS_TEST_TMPDIR/www
	mkdir -p "$W"
	head -c $((3 * 1024 * 1024)) /dev/urandom >"$W/v.mp4"
	start_gw --staticdir "$W" /echo=cat
	# the first request of a <video>, then a seek into the middle, then the tail
	curl -sS --max-time 10 -D "$BATS_TEST_TMPDIR/h" -o "$BATS_TEST_TMPDIR/a" \
		-H 'Range: bytes=0-' "http://127.0.0.1:$PORT/v.mp4"
	run tr -d '\r' <"$BATS_TEST_TMPDIR/h"
	expect_first "HTTP/1.1 206 Partial Content"
	expect_header Content-Type video/mp4
	expect_header Content-Range "bytes 0-3145727/3145728"
	cmp "$W/v.mp4" "$BATS_TEST_TMPDIR/a"
	curl -sS --max-time 10 -o "$BATS_TEST_TMPDIR/b" -r 1500000-2500000 \
		"http://127.0.0.1:$PORT/v.mp4"
	cmp "$BATS_TEST_TMPDIR/b" <(tail -c +1500001 "$W/v.mp4" | head -c 1000001)
	curl -sS --max-time 10 -o "$BATS_TEST_TMPDIR/c" -r 3000000- \
		"http://127.0.0.1:$PORT/v.mp4"
	cmp "$BATS_TEST_TMPDIR/c" <(tail -c +3000001 "$W/v.mp4")
}

@test "a directory: its index.html, 301 to its '/' form, 404 without index.html (no listing)" {
	local W
	W=$(make_www)
	start_gw --staticdir "$W" /echo=cat
	run get /
	expect_first "HTTP/1.1 200 OK"
	expect_header Content-Type "text/html; charset=utf-8"
	[ "$(body)" = "<h1>home</h1>" ]
	run get /sub/
	[ "$(body)" = "<p>sub</p>" ]
	run get "/sub?a=b"
	expect_first "HTTP/1.1 301 Moved Permanently"
	expect_header Location "/sub/?a=b"
	run get /noindex/
	expect_first "HTTP/1.1 404 Not Found"
	[[ $output != *x.txt* ]]
	run get /noindex
	expect_first "HTTP/1.1 301 Moved Permanently"
	run get /noindex/x.txt
	expect_first "HTTP/1.1 200 OK"
}

@test "dotfiles, '..', %2e%2e, %2f, %00 and symlinks out of the directory: 404, never the file" {
	local W p
	W=$(make_www)
	start_gw --staticdir "$W" /echo=cat
	for p in /.env /.git/config /sub/.hidden /sub/env.txt /escape.txt \
		/outdir/secret.txt /../outside/secret.txt /sub/../../outside/secret.txt \
		/%2e%2e/outside/secret.txt /%2E%2E/outside/secret.txt /%2eenv \
		/sub%2f..%2f.env /sub%2Findex.html /notes.txt%00 /%zz /notes.txt%; do
		run get "$p"
		expect_first "HTTP/1.1 404 Not Found"
		[[ $output != *SECRET* ]]
	done
	run raw 'GET /../outside/secret.txt HTTP/1.1\r\nHost: x\r\n\r\n'
	expect_first "HTTP/1.1 404 Not Found"
	[[ $output != *SECRET* ]]
	wait_log "/%2e%2e/outside/secret.txt 404 \"not served: a segment starts with '.'\""
	wait_log "/notes.txt%00 404 \"not served: bad %-escape in path\""
	wait_log "/escape.txt 404 \"no such file\""
}

@test "/.well-known/ is served (ACME challenge, security.txt); other dot names below it or elsewhere stay 404" {
	local W p
	W=$(make_www)
	mkdir -p "$W/.well-known/acme-challenge" "$W/sub/.well-known"
	printf 'tok.en\n' >"$W/.well-known/acme-challenge/tok"
	printf 'Contact: mailto:x@example.org\n' >"$W/.well-known/security.txt"
	printf 'SECRET\n' >"$W/.well-known/.secret"
	printf 'SECRET\n' >"$W/sub/.well-known/security.txt"
	ln -s ../.env "$W/.well-known/env"
	start_gw --staticdir "$W" /echo=cat
	run get /.well-known/acme-challenge/tok
	expect_first "HTTP/1.1 200 OK"
	[ "$(body)" = tok.en ]
	run get /.well-known/security.txt
	expect_first "HTTP/1.1 200 OK"
	expect_header Content-Type "text/plain; charset=utf-8"
	run get /.well-known
	expect_first "HTTP/1.1 301 Moved Permanently"
	expect_header Location /.well-known/
	for p in /.well-known/.secret /.well-known/env /sub/.well-known/security.txt \
		/.well-known/../.env /.well-known/%2e%2e/.env /.Well-Known/security.txt \
		/.well-knownx /.git/config; do
		run get "$p"
		expect_first "HTTP/1.1 404 Not Found"
		[[ $output != *SECRET* ]]
	done
}

@test "other methods on a file, health or metrics path: 405 with Allow: GET, HEAD" {
	local W
	W=$(make_www)
	start_gw --staticdir "$W" --health /healthz --metrics /metrics /echo=cat
	for p in /notes.txt /healthz /metrics; do
		run get -X POST -d x "$p"
		expect_first "HTTP/1.1 405 Method Not Allowed"
		expect_header Allow "GET, HEAD"
	done
	run get -X DELETE /healthz
	expect_first "HTTP/1.1 405 Method Not Allowed"
}

@test "a 6 MiB file arrives byte-exact" {
	local W=$BATS_TEST_TMPDIR/www
	mkdir -p "$W"
	head -c $((6 * 1024 * 1024 + 17)) /dev/urandom >"$W/big.bin"
	start_gw --staticdir "$W" /echo=cat
	curl -sS --max-time 10 -D "$BATS_TEST_TMPDIR/h" -o "$BATS_TEST_TMPDIR/got" \
		"http://127.0.0.1:$PORT/big.bin"
	cmp "$W/big.bin" "$BATS_TEST_TMPDIR/got"
	run tr -d '\r' <"$BATS_TEST_TMPDIR/h"
	expect_header Content-Length $((6 * 1024 * 1024 + 17))
	expect_header Content-Type application/octet-stream
}

@test "a client that half-closes after its request still gets the whole file" {
	local W=$BATS_TEST_TMPDIR/www
	mkdir -p "$W"
	head -c $((3 * 1024 * 1024)) /dev/urandom >"$W/big.bin"
	start_gw --staticdir "$W" /echo=cat
	timeout 10 perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $ARGV[0]) or die;
		print $s "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n";
		$s->shutdown(1);
		binmode STDOUT;
		my $buf;
		print $buf while sysread($s, $buf, 65536);
	' "$PORT" >"$BATS_TEST_TMPDIR/resp"
	sed '1,/^\r$/d' "$BATS_TEST_TMPDIR/resp" >"$BATS_TEST_TMPDIR/got"
	cmp "$W/big.bin" "$BATS_TEST_TMPDIR/got"
}

@test "a client that vanishes mid-body: the file is closed, the gateway serves on" {
	local W=$BATS_TEST_TMPDIR/www
	mkdir -p "$W"
	head -c $((32 * 1024 * 1024)) /dev/zero >"$W/huge.bin"
	printf 'small\n' >"$W/small.txt"
	start_gw --staticdir "$W" /echo=cat
	local base
	base=$(fd_count "$GW_PID")
	timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"
		printf "GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n" >&3
		head -c 100000 <&3 >/dev/null' _ "$PORT"
	wait_log "access #1 [^ ]+ GET /huge.bin 200"
	wait_for "the gateway to close the socket and the file" \
		eval '[ "$(fd_count "$GW_PID")" -eq "$base" ]'
	run get /small.txt
	[ "$(body)" = small ]
	run ws /echo text:still recv close:1000 wait
	expect_lines "text still" "close 1000*" "eof"
}

@test "keep-alive: curl fetches two files over one connection" {
	local W
	W=$(make_www)
	start_gw --staticdir "$W" /echo=cat
	run curl -sS -v --max-time 5 -o "$BATS_TEST_TMPDIR/a" -o "$BATS_TEST_TMPDIR/b" \
		"http://127.0.0.1:$PORT/notes.txt" "http://127.0.0.1:$PORT/style.css"
	[ "$status" -eq 0 ]
	[[ $output == *"Re-using existing connection"* ]]
	cmp "$W/notes.txt" "$BATS_TEST_TMPDIR/a"
	cmp "$W/style.css" "$BATS_TEST_TMPDIR/b"
	wait_log "access #1 [^ ]+ [A-Z]+ /notes.txt 200 "
	wait_log "access #1 [^ ]+ [A-Z]+ /style.css 200 "
}

@test "keep-alive: pipelined requests are answered in order on one connection; Connection: close ends it" {
	local W
	W=$(make_www)
	start_gw --staticdir "$W" /echo=cat
	run talk -p 'GET /notes.txt HTTP/1.1\r\nHost: x\r\n\r\n' \
		'HEAD /style.css HTTP/1.1\r\nHost: x\r\n\r\n' \
		'GET /missing HTTP/1.1\r\nHost: x\r\n\r\n' \
		'GET /style.css HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\n\r\n' \
		'GET /notes.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-2\r\n\r\n' \
		'GET /sub/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
	expect_status 0
	[ "$(grep -c '^HTTP/1.1' <<<"$output")" -eq 6 ]
	[ "$(grep '^HTTP/1.1' <<<"$output" | tr '\n' ,)" = \
		"HTTP/1.1 200 OK,HTTP/1.1 200 OK,HTTP/1.1 404 Not Found,HTTP/1.1 304 Not Modified,HTTP/1.1 206 Partial Content,HTTP/1.1 200 OK," ]
	[ "$(grep -c '^Connection: keep-alive$' <<<"$output")" -eq 5 ]
	[[ $output == *$'\nplain\n--\n'* ]]
	[[ $output == *$'\npla\n--\n'* ]]
	[[ $output == *$'\n<p>sub</p>\n--\neof' ]]
	wait_log "access #1 [^ ]+ [A-Z]+ /sub/ 200 "
	! grep -q 'access #2' "$BATS_TEST_TMPDIR/gw.log"
}

@test "keep-alive: HTTP/1.0 closes unless it asks for keep-alive; a request with a body closes" {
	local W
	W=$(make_www)
	start_gw --staticdir "$W" /echo=cat
	run talk 'GET /notes.txt HTTP/1.0\r\n\r\n'
	expect_first "HTTP/1.1 200 OK"
	expect_header Connection close
	[ "${lines[-1]}" = eof ]
	run talk 'GET /notes.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' \
		'GET /style.css HTTP/1.0\r\n\r\n'
	expect_header Connection keep-alive
	[[ $output == *$'\nbody{}\n--\neof' ]]
	run talk 'POST /notes.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc'
	expect_first "HTTP/1.1 405 Method Not Allowed"
	expect_header Connection close
	[ "${lines[-1]}" = eof ]
	run talk 'GET /notes.txt HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n'
	expect_header Connection close
	[ "${lines[-1]}" = eof ]
}

@test "keep-alive: an idle connection is closed after --handshake-timeout, without a 408; a partial head still gets 408" {
	local W t0 t1
	W=$(make_www)
	start_gw --staticdir "$W" --handshake-timeout 600 --loglevel debug /echo=cat
	t0=$(now_ms)
	run talk 'GET /notes.txt HTTP/1.1\r\nHost: x\r\n\r\n'
	t1=$(now_ms)
	expect_first "HTTP/1.1 200 OK"
	[ "${lines[-1]}" = eof ]
	[ $((t1 - t0)) -ge 500 ]
	wait_log "#1 idle keep-alive connection closed"
	run talk 'GET /notes.txt HTTP/1.1\r\nHost: x\r\n\r\n' 'GET /notes.txt HTTP/1.1\r\n'
	[[ $output == *"HTTP/1.1 408 Request Timeout"* ]]
}

@test "keep-alive: a WebSocket upgrade may follow a static answer on the same connection" {
	local W
	W=$(make_www)
	start_gw --staticdir "$W" /echo=cat
	run timeout 10 perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $ARGV[0]) or die;
		my $buf = "";
		sub fill { sysread($s, $buf, 65536, length $buf) or die "eof\n" }
		print $s "GET /notes.txt HTTP/1.1\r\nHost: x\r\n\r\n";
		fill() until $buf =~ /\r\n\r\nplain\n/;
		print "file ok\n";
		$buf = "";
		print $s "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n" .
			"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" .
			"Sec-WebSocket-Version: 13\r\n\r\n";
		fill() until $buf =~ /\r\n\r\n/;
		print +(split /\r\n/, $buf)[0], "\n";
		$buf =~ s/^.*?\r\n\r\n//s;
		my @m = (1, 2, 3, 4);
		my $p = "hi";
		my $x = join "", map { chr(ord(substr($p, $_, 1)) ^ $m[$_ % 4]) } 0 .. length($p) - 1;
		print $s chr(0x81) . chr(0x80 | length $p) . pack("C4", @m) . $x;
		fill() while length $buf < 4;
		print "frame: ", substr($buf, 2, 2), "\n";
	' "$PORT"
	expect_lines "file ok" "HTTP/1.1 101 Switching Protocols" "frame: hi"
	wait_log "access #1 [^ ]+ [A-Z]+ /notes.txt 200 "
	wait_log "#1 .* connected to /echo"
}

@test "keep-alive: SIGTERM closes an idle kept connection at once" {
	local W
	W=$(make_www)
	start_gw --staticdir "$W" /echo=cat
	TALK_WAIT=8 talk 'GET /notes.txt HTTP/1.1\r\nHost: x\r\n\r\n' >"$BATS_TEST_TMPDIR/out" &
	local pid=$!
	wait_log "access #1 [^ ]+ [A-Z]+ /notes.txt 200 "
	kill -TERM "$GW_PID"
	wait_gw_exit
	wait "$pid"
	run cat "$BATS_TEST_TMPDIR/out"
	expect_first "HTTP/1.1 200 OK"
	[ "${lines[-1]}" = eof ]
}

@test "keep-alive: a large file read slowly, then the next file on the same connection, both byte-exact" {
	local W=$BATS_TEST_TMPDIR/www
	mkdir -p "$W"
	head -c $((3 * 1024 * 1024 + 5)) /dev/urandom >"$W/big.bin"
	printf 'small\n' >"$W/small.txt"
	start_gw --staticdir "$W" /echo=cat
	run curl -sS -v --max-time 20 --limit-rate 3M -o "$BATS_TEST_TMPDIR/a" \
		-o "$BATS_TEST_TMPDIR/b" "http://127.0.0.1:$PORT/big.bin" \
		"http://127.0.0.1:$PORT/small.txt"
	[ "$status" -eq 0 ]
	[[ $output == *"Re-using existing connection"* ]]
	cmp "$W/big.bin" "$BATS_TEST_TMPDIR/a"
	cmp "$W/small.txt" "$BATS_TEST_TMPDIR/b"
	wait_log "access #1 [^ ]+ [A-Z]+ /small.txt 200 "
}

@test "keep-alive: SIGTERM during a kept answer lets it finish, then closes" {
	local W=$BATS_TEST_TMPDIR/www T=$BATS_TEST_TMPDIR
	mkdir -p "$W"
	head -c $((32 * 1024 * 1024)) /dev/zero >"$W/huge.bin"
	start_gw --staticdir "$W" /echo=cat
	# Reads the head and a little, says so, waits for "go", reads the rest.
	timeout 20 perl -MIO::Socket::INET -e '
		my ($port, $t) = @ARGV;
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port) or die;
		print $s "GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n";
		my ($buf, $n) = ("", 0);
		sysread($s, $buf, 65536, length $buf) until $buf =~ /\r\n\r\n/;
		my $head = substr($buf, 0, index($buf, "\r\n\r\n") + 4, "");
		$n = length $buf;
		open(my $f, ">", "$t/ready") or die;
		close $f;
		select(undef, undef, undef, 0.02) until -e "$t/go";
		while (my $k = sysread($s, $buf, 1 << 20)) { $n += $k }
		print $head =~ /^Connection: (\S+)/m ? "$1\n" : "none\n", "$n\neof\n";
	' "$PORT" "$T" >"$T/out" &
	local pid=$!
	wait_for "the client to have read the head" test -e "$T/ready"
	kill -TERM "$GW_PID"
	wait_log "shutting down"
	touch "$T/go"
	wait "$pid"
	run cat "$T/out"
	expect_lines keep-alive $((32 * 1024 * 1024)) eof
	wait_gw_exit
	[ "$GW_STATUS" -eq 0 ]
}

@test "--health: 200 ok while serving; 503 during the drain after SIGTERM, upgrades 503 too" {
	start_gw --health /healthz /echo=cat
	run get /healthz
	expect_first "HTTP/1.1 200 OK"
	expect_header Cache-Control no-store
	expect_header Content-Type "text/plain; charset=utf-8"
	[ "$(body)" = ok ]
	run get "/healthz?probe=1"
	expect_first "HTTP/1.1 200 OK"
	run raw 'HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n'
	expect_first "HTTP/1.1 200 OK"
	[ -z "$(body)" ]
	wait_log "access #[0-9]+ [^ ]+ GET /healthz 200 \"health\""

	# A client that does not answer our Close keeps the drain going.
	ws /echo text:hold recv sleep:4000 >"$BATS_TEST_TMPDIR/held.out" 2>&1 &
	wait_log "connected to /echo"
	kill -TERM "$GW_PID"
	wait_log "shutting down"
	run get /healthz
	expect_first "HTTP/1.1 503 Service Unavailable"
	[ "$(body)" = draining ]
	run ws /echo
	expect_status 1
	expect_lines "status 503"
	wait_gw_exit
	[ "$GW_STATUS" -eq 0 ]
}

# metric NAME: the value of sample NAME (with labels, as written) now.
metric() {
	curl -sS --max-time 5 "http://127.0.0.1:$PORT/metrics" |
		awk -v n="$1" '$1 == n { print $2 }'
}

# metric_is NAME VALUE: for wait_for, which runs it anew each time.
metric_is() {
	[ "$(metric "$1")" = "$2" ]
}

@test "--metrics: values after sessions with known messages, failures and exit codes" {
	local s
	s=$(mkscript fail.sh <<'EOF_'
#!/bin/sh
read -r line
echo "got $line"
exit 3
EOF_
)
	start_gw --metrics /metrics /echo=cat "/fail=$s"
	[ "$(metric portal_gw_sessions_total)" = 0 ]
	run ws /echo text:hello text:hi recv recv close:1000 wait
	expect_lines "text hello" "text hi" "close 1000*" "eof"
	run ws /fail text:x wait
	expect_lines "text got x" "close 1011 exit status 3" "eof"
	run ws /nope
	expect_lines "status 404"
	run ws -H 'Sec-WebSocket-Version: 8' /echo
	expect_lines "status 426"
	wait_for "both children to be reaped" metric_is portal_gw_children_running 0
	wait_for "both sessions to end" metric_is portal_gw_sessions_open 0

	# One session still open counts too: its messages so far.
	ws /echo text:live recv sleep:3000 close:1000 wait >/dev/null 2>&1 &
	wait_for "the live session's echo" metric_is portal_gw_messages_sent_total 4
	[ "$(metric portal_gw_sessions_open)" = 1 ]
	[ "$(metric portal_gw_children_running)" = 1 ]

	curl -sS --max-time 5 -D "$BATS_TEST_TMPDIR/h" -o "$BATS_TEST_TMPDIR/m" \
		"http://127.0.0.1:$PORT/metrics"
	run tr -d '\r' <"$BATS_TEST_TMPDIR/h"
	expect_header Content-Type "text/plain; version=0.0.4; charset=utf-8"
	expect_header Cache-Control no-store
	run cat "$BATS_TEST_TMPDIR/m"
	local want
	for want in "portal_gw_sessions_total 3" "portal_gw_sessions_open 1" \
		"portal_gw_messages_received_total 4" "portal_gw_bytes_received_total 12" \
		"portal_gw_messages_sent_total 4" "portal_gw_bytes_sent_total 16" \
		'portal_gw_build_info{version="[^"]+"} 1' \
		'portal_gw_handshake_seconds_bucket{le="\+Inf"} 3' \
		"portal_gw_handshake_seconds_count 3" \
		'portal_gw_session_duration_seconds_bucket{le="\+Inf"} 2' \
		"portal_gw_session_duration_seconds_count 2" \
		'portal_gw_handshake_failures_total{status="404"} 1' \
		'portal_gw_handshake_failures_total{status="426"} 1' \
		'portal_gw_session_closes_total{code="1000"} 1' \
		'portal_gw_session_closes_total{code="1011"} 1' \
		'portal_gw_child_exits_total{status="3"} 1'; do
		expect_line_re "^${want//[\{\}]/.}\$"
	done
	# Two children were reaped: the failing one and cat (exit 0, or
	# SIGTERM if it was slow to see EOF).
	[ "$(awk '/^portal_gw_child_exits_total/ { n += $2 } END { print n }' \
		"$BATS_TEST_TMPDIR/m")" = 2 ]
}

@test "--metrics: the text parses as Prometheus exposition format 0.0.4" {
	start_gw --metrics /metrics /echo=cat
	run ws /echo text:a recv close:4001 wait
	run ws /nope
	curl -sS --max-time 5 -o "$BATS_TEST_TMPDIR/m" "http://127.0.0.1:$PORT/metrics"
	local line name type typed=" " nsamples=0
	while IFS= read -r line; do
		if [[ $line =~ ^#\ (HELP|TYPE)\ (portal_gw_[a-z_]+)\ (.+)$ ]]; then
			name=${BASH_REMATCH[2]}
			if [ "${BASH_REMATCH[1]}" = TYPE ]; then
				type=${BASH_REMATCH[3]}
				[[ $type = gauge || $type = histogram ||
					($type = counter && $name = *_total) ]]
				typed+="$name "
				[ "$type" != histogram ] ||
					typed+="${name}_bucket ${name}_sum ${name}_count "
			fi
		elif [[ $line =~ ^(portal_gw_[a-z_]+)(\{[a-z_]+=\"[^\"]*\"\})?\ [0-9]+(\.[0-9]+)?$ ]]; then
			# A sample follows its metric's TYPE line.
			[[ $typed == *" ${BASH_REMATCH[1]} "* ]] || {
				echo "untyped sample: $line" >&2
				return 1
			}
			nsamples=$((nsamples + 1))
		else
			echo "not exposition format: '$line'" >&2
			return 1
		fi
	done <"$BATS_TEST_TMPDIR/m"
	[ "$nsamples" -ge 12 ]
	grep -qx 'portal_gw_session_closes_total{code="4001"} 1' "$BATS_TEST_TMPDIR/m"
	grep -q '^portal_gw_start_time_seconds [0-9]' "$BATS_TEST_TMPDIR/m"
	! grep -q '^portal_gw_uptime_seconds' "$BATS_TEST_TMPDIR/m" || false
}

@test "--metrics: promtool check metrics finds nothing to fault" {
	command -v promtool >/dev/null || skip "no promtool (Debian: prometheus)"
	start_gw --metrics /metrics /echo=cat
	run ws /echo text:a recv close:1000 wait
	run ws /nope
	# Histograms with an observation each, not only empty ones.
	wait_for "the session to end" \
		metric_is portal_gw_session_duration_seconds_count 1
	curl -sS --max-time 5 -o "$BATS_TEST_TMPDIR/m" "http://127.0.0.1:$PORT/metrics"
	run promtool check metrics <"$BATS_TEST_TMPDIR/m"
	[ "$status" = 0 ] || { echo "$output" >&2; return 1; }
	[ -z "$output" ] || { echo "$output" >&2; return 1; }
}

@test "--devconsole: a plain GET to a resource path gets the page; upgrades there still work" {
	start_gw --devconsole /echo=cat
	curl -sS --max-time 5 -D "$BATS_TEST_TMPDIR/h" -o "$BATS_TEST_TMPDIR/page" \
		"http://127.0.0.1:$PORT/echo"
	run tr -d '\r' <"$BATS_TEST_TMPDIR/h"
	expect_first "HTTP/1.1 200 OK"
	expect_header Content-Type "text/html; charset=utf-8"
	expect_header Cache-Control no-store
	expect_header Content-Length "$(stat -c %s "$BATS_TEST_TMPDIR/page")"
	# Nothing but the page itself and a WebSocket to its own origin.
	expect_header Content-Security-Policy "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'"
	expect_header X-Content-Type-Options nosniff
	grep -qi '<html' "$BATS_TEST_TMPDIR/page"
	run get "/echo/sub?x=1"
	expect_first "HTTP/1.1 200 OK"
	run ws /echo text:hi recv close:1000 wait
	expect_lines "text hi" "close 1000*" "eof"
	run get /nope
	expect_first "HTTP/1.1 404 Not Found"
	wait_log "access #1 [^ ]+ GET /echo 200 \"console\""
}

@test "without --devconsole a plain GET to a resource is 426 Upgrade Required, to another path 404" {
	start_gw /echo=cat
	run get /echo
	expect_first "HTTP/1.1 426 Upgrade Required"
	expect_header Upgrade websocket
	expect_header Sec-WebSocket-Version 13
	[[ $(body) == *"WebSocket"* ]]
	wait_log 'access #1 [^ ]+ GET /echo 426 "a WebSocket resource: upgrade needed"'
	run get /nope
	expect_first "HTTP/1.1 404 Not Found"
}

@test "precedence: health, metrics, then a file, then the console, then 404" {
	local W=$BATS_TEST_TMPDIR/www
	mkdir -p "$W/echo"
	printf 'file\n' >"$W/healthz"
	printf 'file\n' >"$W/metrics"
	printf 'file\n' >"$W/echo/page.txt"
	start_gw --staticdir "$W" --devconsole --health /healthz --metrics /metrics \
		--header 'X-All: 1' --header-http 'X-Plain: 2' /echo=cat
	run get /healthz
	[ "$(body)" = ok ]
	expect_header X-All 1
	expect_header X-Plain 2
	run get /metrics
	expect_line_re '^portal_gw_sessions_total 0$'
	run get /echo/page.txt
	[ "$(body)" = file ]
	expect_header X-Plain 2
	run get /echo/other
	expect_header Content-Type "text/html; charset=utf-8"
	run get /missing
	expect_first "HTTP/1.1 404 Not Found"
	expect_header X-Plain 2
	wait_log "access #[0-9]+ [^ ]+ GET /missing 404 \"no such file\""
	run ws /echo text:hi recv close:1000 wait
	expect_lines "text hi" "close 1000*" "eof"
}

@test "a FIFO or a device under --staticdir is never opened: 404" {
	local W=$BATS_TEST_TMPDIR/www
	mkdir -p "$W"
	mkfifo "$W/pipe"
	ln -s /dev/zero "$W/zero"
	start_gw --staticdir "$W" /echo=cat
	run get /pipe
	expect_first "HTTP/1.1 404 Not Found"
	run get /zero
	expect_first "HTTP/1.1 404 Not Found"
}

@test "out of descriptors for the file: 503 each time, nothing leaked" {
	local W=$BATS_TEST_TMPDIR/www base
	mkdir -p "$W"
	printf 'hello\n' >"$W/a.txt"
	# Under 1024 (as below), no descriptors are kept for spawning.
	GW_ULIMIT_N=1000 start_gw --staticdir "$W" /echo=cat
	base=$(fd_count "$GW_PID")
	stop_gw
	# Room for the accepted socket, none for the file.
	GW_ULIMIT_N=$((base + 1)) start_gw --staticdir "$W" /echo=cat
	run get /a.txt
	expect_first "HTTP/1.1 503 Service Unavailable"
	wait_log "/a.txt 503 \"cannot open file: out of descriptors or memory\""
	run get /a.txt
	expect_first "HTTP/1.1 503 Service Unavailable"
	wait_for "the connections' descriptors to be closed" \
		eval '[ "$(fd_count "$GW_PID")" -eq "$base" ]'
}
