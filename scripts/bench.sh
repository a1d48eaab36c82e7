#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the benchmarks in bench/ side by side on this machine and prints their
# tables (figures for docs/performance.md). Performance claims come from here,
# never from timed unit tests.
#
#   scripts/bench.sh [--cpu N] [--repeats R] [--json] [--provision] [--idle]
#
# --provision also runs bench/provision_bench.sh (100,000 peers through the
# REST API and wg setconf, memory per peer; several minutes).
# --idle also runs bench/idle_bench.sh (idle CPU with autoscaling on and off,
# time for a parked worker to come back; about 30 s per repeat).
set -euo pipefail
cd "$(dirname "$0")/.."

CPU=$(($(nproc) - 1))
REPEATS=7
JSON=()
PROVISION=0
IDLE=0
while [ $# -gt 0 ]; do
	case $1 in
	--cpu) CPU=$2; shift 2 ;;
	--repeats) REPEATS=$2; shift 2 ;;
	--json) JSON=(--json); shift ;;
	--provision) PROVISION=1; shift ;;
	--idle) IDLE=1; shift ;;
	-h|--help) sed -n '3,13p' "$0"; exit 0 ;;
	*) echo "bench.sh: unknown option: $1" >&2; exit 2 ;;
	esac
done

bash scripts/setup.sh >/dev/null
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

echo "# $(date -u +%F) $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# batch AEAD (intel-ipsec-mb) vs libsodium one at a time, same core, same run"
build/bench/aead_bench --cpu "$CPU" --repeats "$REPEATS" "${JSON[@]}"
if [ "$PROVISION" -eq 1 ]; then
	echo "# provisioning: REST API and wg setconf, same machine, same run"
	bash bench/provision_bench.sh --repeats "$((REPEATS < 3 ? REPEATS : 3))"
fi
if [ "$IDLE" -eq 1 ]; then
	echo "# idle CPU and waking, autoscaling on and off, same run"
	bash bench/idle_bench.sh --repeats "$((REPEATS < 3 ? REPEATS : 3))" --markdown
fi
