#!/bin/bash
# CI: run every libFuzzer target for a bounded time, FUZZ_SECONDS each
# (default 45). Installs clang and its libFuzzer runtime when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# True when clang can link a libFuzzer target.
have_libfuzzer() {
	local t
	t=$(mktemp -d)
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
		'{ (void)d; (void)n; return 0; }' >"$t/probe.c"
	clang -fsanitize=fuzzer,address,undefined -o "$t/probe" "$t/probe.c" \
		>/dev/null 2>&1
	local rc=$?
	rm -rf "$t"
	return $rc
}

export DEBIAN_FRONTEND=noninteractive
updated=
install() {
	if [ -z "$updated" ]; then
		apt-get update -qq
		updated=1
	fi
	apt-get install -y -qq "$@" >/dev/null
}

need=()
command -v make >/dev/null || need+=(make)
command -v clang >/dev/null || need+=(clang)
if ((${#need[@]})); then
	install "${need[@]}"
fi
# Debian ships libFuzzer in libclang-rt-N-dev, N being clang's major version.
if ! have_libfuzzer; then
	major=$(clang -dumpversion | cut -d. -f1)
	install "libclang-rt-$major-dev"
	have_libfuzzer || { echo "fuzz.sh: clang cannot link libFuzzer" >&2; exit 1; }
fi

make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-45}"
