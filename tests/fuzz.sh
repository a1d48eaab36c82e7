#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for a
# bounded time from an empty corpus. A crash, a sanitizer report or an abort
# (a consistency check inside the target) fails the case.
#   WGDP_FUZZ_SECONDS  time per target (default 20)
set -uo pipefail
cd "$(dirname "$0")/.."
SECS=${WGDP_FUZZ_SECONDS:-20}
DIR=build-fuzz
# the targets the suite runs (tests/fuzz/meson.build builds them; a new one is added here)
TARGETS=(fuzz_packet fuzz_icmp fuzz_l3 fuzz_config fuzz_uapi fuzz_allowedips fuzz_json fuzz_statefile)

if ! command -v clang >/dev/null; then
	echo "SKIP fuzz/build: clang not installed"
	exit 0
fi
if [ ! -f $DIR/build.ninja ]; then
	CC=clang meson setup $DIR -Dfuzz=true -Dbuildtype=debugoptimized \
		-Db_sanitize=address,undefined -Db_lundef=false >$DIR.setup.log 2>&1 ||
		{ cat $DIR.setup.log; echo "FAIL fuzz/build"; exit 1; }
fi
if ! ninja -C $DIR "${TARGETS[@]/#/tests/fuzz/}" >$DIR.ninja.log 2>&1; then
	tail -40 $DIR.ninja.log
	echo "FAIL fuzz/build"
	exit 1
fi
echo "PASS fuzz/build"

rc=0
for t in "${TARGETS[@]}"; do
	corpus=$(mktemp -d)
	log=$(mktemp)
	if UBSAN_OPTIONS=halt_on_error=1 $DIR/tests/fuzz/"$t" -max_total_time="$SECS" -max_len=1600 \
		-rss_limit_mb=2048 -print_final_stats=1 "$corpus" >"$log" 2>&1; then
		echo "PASS fuzz/$t ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs in ${SECS}s)"
	else
		tail -40 "$log"
		echo "FAIL fuzz/$t"
		rc=1
	fi
	rm -rf "$corpus" "$log"
done
exit $rc
