#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Handshakes with wgdp itself (issue 5, benchmark 4), through
# bench/pktgen/run-memif.sh (wgdp and wgdp-pktgen over two net_memif links):
#
#   storm  N clients (10,000) handshake at once, no traffic: handshakes per
#          second that wgdp completed, and per second of its control
#          thread's CPU time (the thread is sampled from /proc while it runs)
#   flood  F clients (5,000) send data at a fixed rate (20 kpps) in both
#          directions for D seconds (10), once as they are (base) and once
#          while every one of them rekeys as often as wgdp-pktgen allows
#          (--rekey 1: each client is revisited every 2 s, so up to F/2 real
#          initiations per second, started at most --flood-hs-rate (1,500)
#          per second and --flood-hs-window (256) at a time, so that the
#          generator's own X25519 work comes in small pieces and does not
#          stall its transmit); received rate, loss and latency of the
#          data, with and without. The rates are what CPU 0 holds: there
#          wgdp-pktgen seals, opens and handshakes (5 X25519 each) beside
#          wgdp's control thread; at 100 kpps and 2,500 rekeys/s the
#          generator could send only a quarter of its rate (wgdp lost none)
#   junk   bench/handshake_flood_veth.sh: UDP through wireguard-go and wgdp
#          on the tests' af_packet/veth set-up, with and without a flood of
#          junk initiations (tests/lib/hsflood.py)
#
# wgdp-pktgen cannot flood with junk or with a second set of clients while
# the first sends (it has one port pair and one client table), hence the
# third part over af_packet. On this 2-CPU machine wgdp's control thread
# and wgdp-pktgen (its own X25519 included: about 5 per handshake) share
# CPU 0 and wgdp's worker has CPU 1 (run-memif.sh's layout), so the storm
# rate is a shared-core figure; the per-control-CPU-second figure is the one
# to set against handshake_bench.
#
# run-memif.sh's sockets are fixed paths in /run (/run/wgdp-pg-*.sock), so
# two runs at once on this machine would connect to each other's wgdp. Each
# run here gets a private /run (a mount namespace with a tmpfs on it).
#
#   bench/handshake_storm.sh [--clients N] [--hs-window W] [--repeats R]
#       [--flood-clients F] [--flood-hs-window W] [--flood-hs-rate R]
#       [--rate PPS] [--duration D] [--rekey S]
#       [--junk-seconds S] [--junk-rate 100M]
#       [--no-storm] [--no-flood] [--no-junk] [--json] [--out DIR]
#
#   PG_BUILD  build directory with wgdp and bench/wgdp-pktgen (default: build)
#
# Prints each run's report, then the tables of bench/storm_stats.py (or its
# JSON with --json). Runs, logs and per-run JSON stay in DIR.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
export PG_BUILD=${PG_BUILD:-$ROOT/build}
CLIENTS=10000
WINDOW=4096
REPEATS=3
FLOOD_CLIENTS=5000
FLOOD_WINDOW=256
FLOOD_HS_RATE=1500
RATE=20k
DURATION=10
REKEY=1
STORM=1
FLOOD=1
JUNK=1
JUNK_SECS=10
JUNK_RATE=100M
JSON=()
OUT=
while [ $# -gt 0 ]; do
	case $1 in
	--clients) CLIENTS=$2; shift 2 ;;
	--hs-window) WINDOW=$2; shift 2 ;;
	--repeats) REPEATS=$2; shift 2 ;;
	--flood-clients) FLOOD_CLIENTS=$2; shift 2 ;;
	--flood-hs-window) FLOOD_WINDOW=$2; shift 2 ;;
	--flood-hs-rate) FLOOD_HS_RATE=$2; shift 2 ;;
	--rate) RATE=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--rekey) REKEY=$2; shift 2 ;;
	--no-storm) STORM=0; shift ;;
	--no-flood) FLOOD=0; shift ;;
	--no-junk) JUNK=0; shift ;;
	--junk-seconds) JUNK_SECS=$2; shift 2 ;;
	--junk-rate) JUNK_RATE=$2; shift 2 ;;
	--json) JSON=(--json); shift ;;
	--out) OUT=$2; shift 2 ;;
	-h|--help) sed -n '3,47p' "$0"; exit 0 ;;
	*) echo "handshake_storm: unknown option: $1" >&2; exit 2 ;;
	esac
done
for b in "$PG_BUILD/wgdp" "$PG_BUILD/bench/wgdp-pktgen"; do
	[ -x "$b" ] || { echo "handshake_storm: $b not built (PG_BUILD=$PG_BUILD)" >&2; exit 2; }
done
command -v unshare >/dev/null || { echo "handshake_storm: needs unshare (util-linux)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "handshake_storm: needs root (DPDK, mount namespace)" >&2; exit 2; }
OUT=${OUT:-$(mktemp -d /tmp/hs-storm.XXXXXX)}
mkdir -p "$OUT"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# one run-memif.sh in a private /run; NAME.out/.json in $OUT, its logs in $OUT/NAME/
memif_run() {
	local name=$1
	shift
	echo "## $name: run-memif.sh $*" >&2
	PG_TMP=$OUT/$name python3 "$HERE/storm_stats.py" run "$OUT/$name" -- \
		unshare --mount --propagation private sh -c \
		'mount -t tmpfs -o mode=755 tmpfs /run && exec bash "$0" "$@"' \
		"$HERE/pktgen/run-memif.sh" "$@" >&2 || echo "handshake_storm: $name exited with status $?" >&2
}

for r in $(seq 1 "$REPEATS"); do
	if [ "$STORM" -eq 1 ]; then
		memif_run "storm-$r" -n "$CLIENTS" -- --hs-window "$WINDOW" --no-traffic --json
	fi
	if [ "$FLOOD" -eq 1 ]; then
		memif_run "base-$r" -n "$FLOOD_CLIENTS" -- --hs-window "$FLOOD_WINDOW" --hs-rate "$FLOOD_HS_RATE" \
			--dir both --rate "$RATE" --duration "$DURATION" --json
		memif_run "flood-$r" -n "$FLOOD_CLIENTS" -- --hs-window "$FLOOD_WINDOW" --hs-rate "$FLOOD_HS_RATE" \
			--dir both --rate "$RATE" --duration "$DURATION" --rekey "$REKEY" --json
	fi
done
if [ "$JUNK" -eq 1 ]; then
	echo "## junk: handshake_flood_veth.sh --repeats $REPEATS --seconds $JUNK_SECS --rate $JUNK_RATE" >&2
	bash "$HERE/handshake_flood_veth.sh" --repeats "$REPEATS" --seconds "$JUNK_SECS" --rate "$JUNK_RATE" \
		>"$OUT/junk.txt" 2>"$OUT/junk.err" || echo "handshake_storm: the junk flood run failed ($OUT/junk.err)" >&2
	cat "$OUT/junk.err" >&2
fi
echo "# handshake storm and flood over memif, $(nproc) cores, load average $LOAD0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end; runs in $OUT"
python3 "$HERE/storm_stats.py" report "${JSON[@]}" "$OUT"
if [ "$JUNK" -eq 1 ] && [ ${#JSON[@]} -eq 0 ]; then
	grep -v '^\(base\|flood\) ' "$OUT/junk.txt" || true
elif [ "$JUNK" -eq 1 ]; then
	grep -v '^\(base\|flood\) ' "$OUT/junk.txt" >&2 || true
fi
