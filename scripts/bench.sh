#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the benchmarks in bench/ side by side on this machine and prints their
# tables (figures for docs/performance.md). Performance claims come from here,
# never from timed unit tests.
#
#   scripts/bench.sh [--cpu N] [--repeats R] [--json] [--provision] [--peer-scale] [--idle]
#                    [--dataplane [--dp-duration S] [--dp-wait-idle S]] [--handshakes] [--storm]
#
# --provision also runs bench/provision_bench.sh (100,000 peers through the
# REST API and wg setconf, memory per peer; several minutes).
# --peer-scale also runs bench/peer_scale_bench (memory per peer and lookup
# cost at 1, 10,000 and 1,000,000 peers; about a minute and 3 GB of memory).
# --idle also runs bench/idle_bench.sh (idle CPU with autoscaling on and off,
# time for a parked worker to come back; about 30 s per repeat).
# --dataplane also runs bench/dataplane_bench.sh: wgdp's decrypt+forward and
# encrypt+forward rates with wgdp-pktgen over memif (64, 512, 1420 bytes; 1
# and 10,000 peers) against the raw AEAD rate measured in the same run, R
# steps each (R: --repeats if given, else 3), S seconds per step (1.5),
# waiting up to --dp-wait-idle seconds for a quiet machine before each row
# (0); a markdown table for docs/performance.md; about 5 minutes.
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
REPEATS_SET=0
JSON=()
PROVISION=0
IDLE=0
PEER_SCALE=0
DATAPLANE=0
DP_ARGS=()
HANDSHAKES=0
STORM=0
BUILD=${BUILD:-build}
while [ $# -gt 0 ]; do
	case $1 in
	--cpu) CPU=$2; shift 2 ;;
	--repeats) REPEATS=$2; REPEATS_SET=1; shift 2 ;;
	--json) JSON=(--json); shift ;;
	--provision) PROVISION=1; shift ;;
	--idle) IDLE=1; shift ;;
	--peer-scale) PEER_SCALE=1; shift ;;
	--dataplane) DATAPLANE=1; shift ;;
	--dp-duration) DP_ARGS+=(--duration "$2"); shift 2 ;;
	--dp-wait-idle) DP_ARGS+=(--wait-idle "$2"); shift 2 ;;
	--handshakes) HANDSHAKES=1; shift ;;
	--storm) STORM=1; shift ;;
	-h|--help) sed -n '3,27p' "$0"; exit 0 ;;
	*) echo "bench.sh: unknown option: $1" >&2; exit 2 ;;
	esac
done

bash scripts/setup.sh >/dev/null
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" >/dev/null
ninja -C "$BUILD" >/dev/null

echo "# $(date -u +%F) $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# batch AEAD (intel-ipsec-mb) vs libsodium one at a time, same core, same run"
"$BUILD/bench/aead_bench" --cpu "$CPU" --repeats "$REPEATS" "${JSON[@]}"
if [ "$PEER_SCALE" -eq 1 ]; then
	echo "# peer tables at scale: memory per peer, index and allowed-IP lookups, same core, same run"
	"$BUILD/bench/peer_scale_bench" --cpu "$CPU" --repeats "$REPEATS" "${JSON[@]}"
fi
if [ "$PROVISION" -eq 1 ]; then
	echo "# provisioning: REST API and wg setconf, same machine, same run"
	bash bench/provision_bench.sh --repeats "$((REPEATS < 3 ? REPEATS : 3))"
fi
if [ "$IDLE" -eq 1 ]; then
	echo "# idle CPU and waking, autoscaling on and off, same run"
	bash bench/idle_bench.sh --repeats "$((REPEATS < 3 ? REPEATS : 3))" --markdown
fi
if [ "$DATAPLANE" -eq 1 ]; then
	echo "# data path: wgdp with wgdp-pktgen over memif vs the raw AEAD, same machine, same run"
	bash bench/dataplane_bench.sh --cpu "$CPU" --build "$BUILD" \
		--repeats "$([ "$REPEATS_SET" -eq 1 ] && echo "$REPEATS" || echo 3)" "${DP_ARGS[@]}"
fi
if [ "$HANDSHAKES" -eq 1 ]; then
	echo "# responder handshakes against X25519, same core, same run"
	"$BUILD/bench/handshake_bench" --cpu "$CPU" --repeats "$REPEATS" "${JSON[@]}"
fi
if [ "$STORM" -eq 1 ]; then
	echo "# wgdp over memif: handshake storm, data during a rekey flood"
	PG_BUILD=$(cd "$BUILD" && pwd) bash bench/handshake_storm.sh --repeats "$((REPEATS < 3 ? REPEATS : 3))" "${JSON[@]}"
fi
