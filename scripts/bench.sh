#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the benchmarks in bench/ side by side on this machine and prints their
# tables (figures for docs/performance.md). Performance claims come from here,
# never from timed unit tests.
#
#   scripts/bench.sh [--cpu N] [--repeats R] [--json] [--provision]
#                    [--handshakes] [--storm]
#
# --provision also runs bench/provision_bench.sh (100,000 peers through the
# REST API and wg setconf, memory per peer; several minutes).
# --handshakes also runs bench/handshake_bench (responder handshakes against
# X25519 on --cpu; about 20 s).
# --storm also runs bench/handshake_storm.sh (wgdp over memif: a storm of
# 10,000 handshakes, data with and without a rekey flood and a junk flood;
# about 4 minutes).
# BUILD names the build directory (default: build).
set -euo pipefail
cd "$(dirname "$0")/.."

CPU=$(($(nproc) - 1))
REPEATS=7
JSON=()
PROVISION=0
HANDSHAKES=0
STORM=0
BUILD=${BUILD:-build}
while [ $# -gt 0 ]; do
	case $1 in
	--cpu) CPU=$2; shift 2 ;;
	--repeats) REPEATS=$2; shift 2 ;;
	--json) JSON=(--json); shift ;;
	--provision) PROVISION=1; shift ;;
	--handshakes) HANDSHAKES=1; shift ;;
	--storm) STORM=1; shift ;;
	-h|--help) sed -n '3,16p' "$0"; exit 0 ;;
	*) echo "bench.sh: unknown option: $1" >&2; exit 2 ;;
	esac
done

bash scripts/setup.sh >/dev/null
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" >/dev/null
ninja -C "$BUILD" >/dev/null

echo "# $(date -u +%F) $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# batch AEAD (intel-ipsec-mb) vs libsodium one at a time, same core, same run"
"$BUILD/bench/aead_bench" --cpu "$CPU" --repeats "$REPEATS" "${JSON[@]}"
if [ "$PROVISION" -eq 1 ]; then
	echo "# provisioning: REST API and wg setconf, same machine, same run"
	bash bench/provision_bench.sh --repeats "$((REPEATS < 3 ? REPEATS : 3))"
fi
if [ "$HANDSHAKES" -eq 1 ]; then
	echo "# responder handshakes against X25519, same core, same run"
	"$BUILD/bench/handshake_bench" --cpu "$CPU" --repeats "$REPEATS" "${JSON[@]}"
fi
if [ "$STORM" -eq 1 ]; then
	echo "# wgdp over memif: handshake storm, data during a rekey flood"
	PG_BUILD=$(cd "$BUILD" && pwd) bash bench/handshake_storm.sh --repeats "$((REPEATS < 3 ? REPEATS : 3))" "${JSON[@]}"
fi
