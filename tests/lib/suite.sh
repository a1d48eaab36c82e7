# shellcheck shell=bash disable=SC2034
# SPDX-License-Identifier: MIT
# What every integration test script starts with. Set SUITE (the prefix of
# the case names) and source this; then:
#   pass CASE [DETAIL]   PASS SUITE/CASE (DETAIL)
#   fail CASE REASON     FAIL SUITE/CASE: REASON, and the script will exit 1
#   skip CASE REASON     SKIP SUITE/CASE: REASON
#   note TEXT...         indented lines on stderr
#   suite_require TOOL...  fail the suite unless every tool is installed
#                          (scripts/setup.sh installs them: a missing one is
#                          a set-up bug, not a reason to skip)
#   suite_start          load the namespace and wgdp helpers, check the
#                          binaries, create the run's scratch space
FAILED=0
pass() { echo "PASS $SUITE/$1${2:+ ($2)}"; }
fail() {
	echo "FAIL $SUITE/$1: $2"
	FAILED=1
}
skip() { echo "SKIP $SUITE/$1: $2"; }
note() { printf '  %s\n' "$@" >&2; }

suite_require() {
	local tool
	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null; then
			fail all "$tool is not installed"
			exit 1
		fi
	done
}

suite_start() {
	local lib
	lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	# shellcheck source=tests/lib/netns.sh
	. "$lib/netns.sh"
	# shellcheck source=tests/lib/wgdp.sh
	. "$lib/wgdp.sh"
	WGPROBE=${WGPROBE:-$lib/../../build/tools/wgprobe}
	if [ ! -x "$WGDP" ] || [ ! -x "$WGPROBE" ]; then
		fail all "build/wgdp or build/tools/wgprobe missing (build them: ninja -C build)"
		exit 1
	fi
	netns_init
}
