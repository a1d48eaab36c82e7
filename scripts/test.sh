#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The whole test suite: set-up, release build, unit tests, the same unit tests
# under AddressSanitizer + UndefinedBehaviorSanitizer, then the integration
# tests in network namespaces against real WireGuard peers. Ends with one line
# "N passed, N failed" (", N skipped" when any were) and exits non-zero on any
# failure.
#
#   scripts/test.sh            everything
#   scripts/test.sh --unit     unit tests only (both builds)
#   WGDP_TEST_FILTER=regex     run only test binaries/scripts whose name matches
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
UNIT_ONLY=0
[ "${1:-}" = "--unit" ] && UNIT_ONLY=1
FILTER=${WGDP_TEST_FILTER:-.}
LOGDIR=$ROOT/build/test-logs

bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

build() { # dir, meson options...
	local dir=$1; shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; return 1; }
	fi
	ninja -C "$dir" >"$dir.ninja.log" 2>&1 || { tail -50 "$dir.ninja.log"; return 1; }
}

passed=0 failed=0 skipped=0
# Read PASS/FAIL/SKIP lines of one test's output (file $2, exit code $3, name $1, label prefix $4).
tally() {
	local name=$1 out=$2 rc=$3 prefix=$4 p f s
	p=$(grep -c '^PASS ' "$out") f=$(grep -c '^FAIL ' "$out") s=$(grep -c '^SKIP ' "$out")
	sed -n "s#^\(PASS\|FAIL\|SKIP\) #\1 ${prefix}#p" "$out"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL ${prefix}${name}: exited with status $rc"
		f=1
	fi
	if [ "$f" -gt 0 ] || [ "$rc" -ne 0 ]; then
		echo "---- output of ${prefix}${name} ----"
		grep -v '^\(PASS\|SKIP\) ' "$out" | tail -60
		echo "----"
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

run_unit() { # builddir label
	local dir=$1 label=$2 tests name cmd out rc
	tests=$(meson introspect "$dir" --tests | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    print(t["name"] + "\t" + t["cmd"][0])')
	while IFS=$'\t' read -r name cmd; do
		[ -n "$name" ] || continue
		[[ $name =~ $FILTER ]] || continue
		out=$LOGDIR/$label-${name//\//_}.log
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
			timeout 900 "$cmd" >"$out" 2>&1
		rc=$?
		tally "$name" "$out" "$rc" "$label:"
	done <<<"$tests"
}

mkdir -p build
if ! build build; then
	echo "release build failed"; echo "$passed passed, $((failed + 1)) failed"; exit 1
fi
mkdir -p "$LOGDIR"
if ! build build-asan -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false; then
	echo "sanitizer build failed"; echo "$passed passed, $((failed + 1)) failed"; exit 1
fi

run_unit build unit
run_unit build-asan asan

if [ "$UNIT_ONLY" -eq 0 ]; then
	export WGPROBE=$ROOT/build/tools/wgprobe
	for t in tests/*.sh; do
		[ -f "$t" ] || continue
		name=$(basename "$t" .sh)
		[[ $name =~ $FILTER ]] || continue
		out=$LOGDIR/it-$name.log
		timeout 1800 bash "$t" >"$out" 2>&1
		tally "$name" "$out" $? ""
	done
fi

summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary+=", $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
