#!/usr/bin/env bats
# contrib/ and the Dockerfile, as far as they can be checked without systemd
# as init or a docker daemon: the units pass systemd-analyze verify with no
# complaint, stop portal-gw the way the man page says, and the Docker build
# context that .dockerignore leaves holds everything the Dockerfile copies
# and `make static` needs.

load helpers

ROOT=$BATS_TEST_DIRNAME/..

@test "systemd units: systemd-analyze verify has nothing to say" {
	command -v systemd-analyze >/dev/null || skip "systemd-analyze not installed"
	local T=$BATS_TEST_TMPDIR
	cp "$ROOT/contrib/systemd/portal-gw.service" "$ROOT/contrib/systemd/portal-gw.socket" "$T/"
	# verify wants ExecStart's program to exist: the one just built.
	sed -i "s|/usr/local/bin/portal-gw|$PORTAL_GW|" "$T/portal-gw.service"
	run systemd-analyze verify --man=no "$T/portal-gw.socket" "$T/portal-gw.service"
	expect_status 0
	[ -z "$output" ] || { printf '  |%s\n' "${lines[@]}" >&2; false; }
}

@test "systemd service: SIGTERM to portal-gw alone, and time for --drain-timeout" {
	local f=$ROOT/contrib/systemd/portal-gw.service t
	grep -qx 'KillMode=mixed' "$f"
	grep -qx 'KillSignal=SIGTERM' "$f"
	t=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$f")
	# The default --drain-timeout (25 s) plus the children's grace.
	[ "$t" -ge 27 ]
	grep -q '^ExecStart=/usr/local/bin/portal-gw ' "$f"
	! grep -q -- '--port' "$f" # the socket unit or $PORT decides
	grep -qx 'ListenStream=8080' "$ROOT/contrib/systemd/portal-gw.socket"
}

@test "Docker: the build context after .dockerignore has what the Dockerfile copies and make static needs" {
	local T=$BATS_TEST_TMPDIR ctx f src
	ctx=$T/ctx
	mkdir "$ctx"
	# .dockerignore is an allowlist: '*', then '!NAME/' lines.
	[ "$(grep -v '^#' "$ROOT/.dockerignore" | grep -v '^$' | head -1)" = '*' ]
	for f in $(sed -n 's/^!//p' "$ROOT/.dockerignore"); do
		cp -r "$ROOT/${f%/}" "$ctx/"
	done
	# Every COPY from the context (not --from a stage) finds its files.
	while read -r src; do
		for f in $src; do
			[ "$f" = . ] && continue
			compgen -G "$ctx/$f" >/dev/null || {
				echo "Dockerfile copies $f, not in the context" >&2
				false
			}
		done
	done < <(sed -n '/^COPY --from/d; s/^COPY \(.*\) [^ ]*$/\1/p' "$ROOT/Dockerfile")
	grep -q '^RUN make static' "$ROOT/Dockerfile"
	grep -qx 'FROM scratch' "$ROOT/Dockerfile"
	grep -qx 'ENTRYPOINT \["/portal-gw"\]' "$ROOT/Dockerfile"
	grep -qx 'EXPOSE 8080' "$ROOT/Dockerfile"
	# make static's recipe finds every source (dry run: nothing compiled).
	command -v musl-gcc >/dev/null || skip "musl-gcc not installed (apt-get install musl-tools)"
	# As the Dockerfile runs it: none of a calling make's variables
	# (LOOP=poll, a sanitizer OPT) in the environment.
	run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u OPT -u CC -u CFLAGS \
		-u LDFLAGS -u O -u LOOP make -n -C "$ctx" static
	expect_status 0
	for f in "$ROOT"/src/*.c; do
		f=${f##*/}
		case $f in loop_poll.c) continue ;; esac
		[[ $output == *"src/$f"* ]] || { echo "make -n static does not build $f" >&2; false; }
	done
	[[ $output == *"-static"* ]]
}

@test "README recipes: the shell and Python resources answer as shown" {
	command -v python3 >/dev/null || skip "python3 not installed"
	cd "$ROOT"
	start_gw /echo=./examples/echo.sh /greet=./examples/greet.py
	run ws /echo text:hello recv close:1000 wait
	expect_status 0
	expect_lines "text hello" "close 1000" "eof"
	run ws '/greet?lang=en' recv text:Ada recv text:bye wait
	expect_status 0
	expect_lines "text hello 127.0.0.1, what is your name? (lang=en)" \
		"text hello, Ada!" "text goodbye" "close 1000" "eof"
	run ws /greet recv text: wait
	expect_status 0
	expect_lines "text hello 127.0.0.1, what is your name?" \
		"close 1011 exit status 2" "eof"
	wait_log 'info #[0-9]+ stderr: greet.py: empty name$'
}

@test "make: warnings are errors only with CI=true or DEV=1, not in a user's build" {
	local T=$BATS_TEST_TMPDIR
	run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -n -B -C "$ROOT" O="$T/b" CI= DEV= "$T/b/obj/sha1.o"
	expect_status 0
	[[ $output == *-Wconversion* && $output != *-Werror* ]]
	run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -n -B -C "$ROOT" O="$T/b" CI= DEV=1 "$T/b/obj/sha1.o"
	[[ $output == *-Werror* ]]
	run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -n -B -C "$ROOT" O="$T/b" CI=true DEV= "$T/b/obj/sha1.o"
	[[ $output == *-Werror* ]]
}

@test "make install: a stripped binary and the man page; make clean O=DIR removes DIR alone" {
	command -v file >/dev/null || skip "file not installed"
	local T=$BATS_TEST_TMPDIR o
	o=$(dirname "$PORTAL_GW")
	# The binary under test is up to date in its own O=: install copies it.
	run make -s -C "$ROOT" O="$o" DESTDIR="$T/d" PREFIX=/usr install
	expect_status 0
	run file "$T/d/usr/bin/portal-gw"
	[[ $output == *", stripped"* ]]
	[ -f "$T/d/usr/share/man/man1/portal-gw.1" ]
	"$T/d/usr/bin/portal-gw" --version
	mkdir -p "$T/o/obj" && touch "$T/o/obj/x.o"
	run make -s -C "$ROOT" O="$T/o" clean
	expect_status 0
	[ ! -e "$T/o" ] && [ -x "$PORTAL_GW" ]
}

@test "systemd service: its umask is the README's for a --unix socket, and it names no variable children never see" {
	local f=$ROOT/contrib/systemd/portal-gw.service
	grep -qx 'UMask=0007' "$f"
	grep -q '^umask 007; portal-gw .*--unix ' "$ROOT/README.md"
	# Children get PATH and --passenv only: the writable paths are named.
	grep -q '/var/lib/portal-gw (StateDirectory)' "$f"
	! grep -q 'only to .*\$STATE_DIRECTORY' "$f"
}

@test "man page: mandoc -Tlint has nothing to say" {
	command -v mandoc >/dev/null || skip "mandoc not installed (apt-get install mandoc)"
	# What the lint says of this machine's manual database is not the
	# page's business.
	run bash -c "mandoc -Tlint -W style '$ROOT/man/portal-gw.1' 2>&1 | grep -v 'mandoc.db'"
	[ -z "$output" ] || { printf '  |%s\n' "${lines[@]}" >&2; false; }
}

# within_10pct QUOTED MEASURED: the README's figure is within 10 % of the
# build's (compilers and libcs differ a little; a feature's growth shows).
within_10pct() {
	local d=$(($1 - $2))
	((d < 0)) && d=$((-d))
	((d * 10 <= $2)) || {
		echo "README says $1 KiB, make sizes measured $2 KiB" >&2
		return 1
	}
}

@test "README: the binary sizes it quotes are what make sizes measures" {
	# `make sizes` in build/, the default build, whatever the calling make
	# was given (a sanitizer build's size says nothing).
	run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u OPT -u CC -u CFLAGS \
		-u LDFLAGS -u O -u LOOP \
		make -s -C "$ROOT" O="$ROOT/build" sizes 3>&-
	expect_status 0
	local text stripped static
	text=$(tr '\n' ' ' <"$ROOT/README.md")
	[[ $text =~ The\ binary\ is\ ([0-9]+)\ KiB\ stripped,.*\(([0-9]+)\ KiB\ static\ with\ musl ]]
	stripped=${BASH_REMATCH[1]} static=${BASH_REMATCH[2]}
	[[ $output =~ stripped:\ ([0-9]+)\ KiB ]]
	within_10pct "$stripped" "${BASH_REMATCH[1]}"
	# No other figure for the binary anywhere in the README.
	local others
	others=$(grep -nE '[0-9]+ KiB (static )?binary|binary[^|]*[0-9]+ KiB' \
		"$ROOT/README.md" | grep -v "The binary is $stripped KiB stripped" || true)
	[ -z "$others" ] || { echo "another size: $others" >&2; false; }
	if [[ $output == *"static: not built"* ]]; then
		skip "no musl-gcc: the static size is not checked"
	fi
	[[ $output =~ static:\ ([0-9]+)\ KiB ]]
	within_10pct "$static" "${BASH_REMATCH[1]}"
}

@test "README and man page: one figure for the memory of an idle session" {
	local figs
	figs=$({
		tr '\n' ' ' <"$ROOT/README.md" |
			grep -oE '[0-9.]+ KiB per idle session'
		tr '\n' ' ' <"$ROOT/man/portal-gw.1" |
			grep -oE 'Idle sessions cost .Nm itself about [0-9.]+ KiB' |
			grep -oE '[0-9.]+ KiB$' | sed 's/$/ per idle session/'
	} | sort -u)
	[ "$(printf '%s\n' "$figs" | wc -l)" = 1 ] || {
		echo "idle session figures disagree: $figs" >&2
		return 1
	}
	[ -n "$figs" ]
}

@test "systemd template units: instances verify, share a port (--reuseport, ReusePort=yes) and one user" {
	command -v systemd-analyze >/dev/null || skip "systemd-analyze not installed"
	local T=$BATS_TEST_TMPDIR f=$ROOT/contrib/systemd/portal-gw@.service
	cp "$f" "$ROOT/contrib/systemd/portal-gw@.socket" "$T/"
	sed -i "s|/usr/local/bin/portal-gw|$PORTAL_GW|" "$T/portal-gw@.service"
	run systemd-analyze verify --man=no "$T/portal-gw@1.socket" "$T/portal-gw@1.service"
	expect_status 0
	[ -z "$output" ] || { printf '  |%s\n' "${lines[@]}" >&2; false; }
	grep -q '^ExecStart=/usr/local/bin/portal-gw --reuseport ' "$f"
	# The kernel shares a port only between sockets of one user.
	grep -qx 'DynamicUser=yes' "$f"
	grep -qx 'User=portal-gw' "$f"
	# systemd removes a runtime directory when its unit stops.
	grep -qx 'RuntimeDirectory=portal-gw/%i' "$f"
	grep -qx 'KillMode=mixed' "$f"
	grep -qx 'ReusePort=yes' "$ROOT/contrib/systemd/portal-gw@.socket"
}
