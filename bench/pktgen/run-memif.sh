#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# wgdp-pktgen against wgdp over two net_memif links, no kernel in the path:
#
#   wgdp-pktgen (memif clients)                 wgdp (memif servers)
#   net_memif0 role=client  ---- /run/wgdp-pg-out.sock ----  OutsideDevice
#   net_memif1 role=client  ---- /run/wgdp-pg-in.sock  ----  InsideDevice
#
# wgdp's config comes from `wgdp-pktgen --print-config` (same --clients and
# --seed, so the keys agree). wgdp runs on lcores 0-1 (control on CPU 0, its
# one worker on CPU 1); wgdp-pktgen runs on one lcore on CPU 0, beside wgdp's
# control thread (the machine has two cores). memif needs DPDK's
# multi-process channel, so neither side may use --in-memory: both get a
# unique --file-prefix instead (wgdp with --huge-unlink, wgdp-pktgen with
# --no-huge), and their runtime directories are removed at the end.
#
#   bench/pktgen/run-memif.sh [-n CLIENTS] [-s SEED] [-- PKTGEN OPTIONS...]
#
#   PG_BUILD   build directory with wgdp and bench/wgdp-pktgen (/tmp/build-pg)
#   PG_TMP     where the config and logs go (a fresh mktemp -d)
#   PG_MEM     wgdp-pktgen's memory in MB, EAL -m (2048)
#   PG_MEMIF_ARGS  extra devargs of wgdp-pktgen's memif clients (",rsize=14":
#              16384-entry rings, which the client side decides; with the
#              default 1024 a millisecond of scheduling delay on this shared
#              two-core machine overflows wgdp's tx ring towards us at 1 Mpps)
#   WGDP_EXTRA extra [Appliance] lines for wgdp's config (newline-separated)
#
# Prints wgdp-pktgen's report, then wgdp's counters (`wgdp: rx ...`,
# `wgdp: drop ...` lines printed at its stop). Exit status: wgdp-pktgen's,
# or 1 when wgdp did not start or stop cleanly.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PG_BUILD=${PG_BUILD:-/tmp/build-pg}
PG_MEM=${PG_MEM:-2048}
PG_MEMIF_ARGS=${PG_MEMIF_ARGS-,rsize=14}
WGDP_BIN=$PG_BUILD/wgdp
PKTGEN=$PG_BUILD/bench/wgdp-pktgen
N=1
SEED=1
while getopts "n:s:" opt; do
	case $opt in
	n) N=$OPTARG ;;
	s) SEED=$OPTARG ;;
	*) sed -n '2,30p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift

for b in "$WGDP_BIN" "$PKTGEN"; do
	[ -x "$b" ] || { echo "run-memif: $b not built (meson setup $PG_BUILD $HERE/../.. && ninja -C $PG_BUILD)" >&2; exit 2; }
done

ID=$$
TMP=${PG_TMP:-$(mktemp -d /tmp/wgdp-pg.XXXXXX)}
mkdir -p "$TMP"
OUT_SOCK=/run/wgdp-pg-out.sock
IN_SOCK=/run/wgdp-pg-in.sock
WGDP_PREFIX=wgdp-pg-$ID
PG_PREFIX=pktgen-pg-$ID
CONF=$TMP/wgdp.conf
WLOG=$TMP/wgdp.log
WPID=

cleanup() {
	if [ -n "$WPID" ] && kill -0 "$WPID" 2>/dev/null; then
		kill -INT "$WPID" 2>/dev/null
		for _ in $(seq 1 100); do kill -0 "$WPID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$WPID" 2>/dev/null
	fi
	rm -f "$OUT_SOCK" "$IN_SOCK"
	rm -rf "/var/run/dpdk/$WGDP_PREFIX" "/var/run/dpdk/$PG_PREFIX"
	rm -f /dev/hugepages/"$WGDP_PREFIX"map_* 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$PKTGEN" --print-config --clients "$N" --seed "$SEED" \
	--dut-outside "net_memif0,role=server,socket=$OUT_SOCK" \
	--dut-inside "net_memif1,role=server,socket=$IN_SOCK" >"$CONF" || exit 1
if [ -n "${WGDP_EXTRA:-}" ]; then
	# extra [Appliance] keys go right after the section header
	awk -v extra="$WGDP_EXTRA" '{ print } /^\[Appliance\]/ { print extra }' "$CONF" >"$CONF.tmp" && mv "$CONF.tmp" "$CONF"
fi
chmod 600 "$CONF"

"$WGDP_BIN" -l 0-1 --file-prefix "$WGDP_PREFIX" --huge-unlink --no-pci --log-level='lib.*:notice' \
	-- --config "$CONF" >"$WLOG" 2>&1 &
WPID=$!
for _ in $(seq 1 $((N > 100000 ? 3000 : 300))); do
	grep -q '^wgdp: public key' "$WLOG" && break
	kill -0 "$WPID" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q '^wgdp: public key' "$WLOG"; then
	echo "run-memif: wgdp did not start:" >&2
	tail -20 "$WLOG" >&2
	exit 1
fi
grep '^wgdp: \(outside\|inside\|worker\|control\|public\)' "$WLOG" | sed 's/^/  /' >&2

"$PKTGEN" -l 0 --no-huge -m "$PG_MEM" --file-prefix "$PG_PREFIX" --no-pci --no-telemetry --log-level='lib.*:notice' -- \
	--outside "net_memif0,role=client,socket=$OUT_SOCK$PG_MEMIF_ARGS" \
	--inside "net_memif1,role=client,socket=$IN_SOCK$PG_MEMIF_ARGS" \
	--clients "$N" --seed "$SEED" "$@"
rc=$?

kill -INT "$WPID"
wait "$WPID"
wrc=$?
WPID=
if [ "$wrc" -ne 0 ] || ! grep -q '^wgdp: stopped' "$WLOG"; then
	echo "run-memif: wgdp exited with status $wrc:" >&2
	tail -20 "$WLOG" >&2
	rc=1
fi
grep -E '^wgdp: (rx [0-9]|drop )' "$WLOG"
echo "run-memif: config and logs in $TMP" >&2
exit "$rc"
