#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# wgdp-pktgen against wgdp over two net_memif links, no kernel in the path:
#
#   wgdp-pktgen (memif clients)                   wgdp (memif servers)
#   net_memif0 role=client  ---- wgdp-pg-ID-out.sock ----  OutsideDevice
#   net_memif1 role=client  ---- wgdp-pg-ID-in.sock  ----  InsideDevice
#
# wgdp's config comes from `wgdp-pktgen --print-config` (same --clients and
# --seed, so the keys agree), plus `Workers = 1-W`. wgdp's EAL gets
# `--lcores 0@0,1@1,...`: its control thread is lcore 0 on CPU 0, worker
# lcore k runs on CPU k mod (number of CPUs), so on this two-CPU machine
# -w 1 is control on CPU 0 and the worker on CPU 1, and -w 2 adds a
# second worker on CPU 0. wgdp-pktgen runs on one lcore on CPU 0, beside
# wgdp's control thread, with --queues W (one queue pair per wgdp worker;
# a later --queues in the pktgen options wins). memif needs DPDK's
# multi-process channel, so neither side may use --in-memory: both get a
# unique --file-prefix instead (wgdp with --huge-unlink, wgdp-pktgen with
# --no-huge), and their runtime directories are removed at the end, as
# are the sockets (abstract by default, named after this script's pid so
# that two runs can go side by side).
#
#   bench/pktgen/run-memif.sh [-n CLIENTS] [-s SEED] [-w WORKERS] [-- PKTGEN OPTIONS...]
#
#   PG_BUILD   build directory with wgdp and bench/wgdp-pktgen (/tmp/build-pg)
#   PG_TMP     where the config and logs go (a fresh mktemp -d, kept)
#   PG_MEM     wgdp-pktgen's memory in MB, EAL -m (2048)
#   PG_MEMIF_ARGS  extra devargs of wgdp-pktgen's memif clients (",rsize=14":
#              16384-entry rings, which the client side decides; with the
#              default 1024 a millisecond of scheduling delay on this shared
#              two-core machine overflows wgdp's tx ring towards us at 1 Mpps).
#              With -w 2 and more, rsize=13 or less: memif numbers the buffers
#              of all rings in 16 bits (wgdp-pktgen refuses more than 65,536)
#   PG_WGDP_LCORES  wgdp's EAL lcore map instead of the one above
#              (e.g. "0@0,1@1,2@1")
#   PG_START_TIMEOUT  seconds to wait for wgdp's layout line (30, 300 with
#              more than 100,000 clients)
#   WGDP_EXTRA extra [Appliance] lines for wgdp's config (newline-separated)
#   PG_UAPI_PEERS  0 or 1: give wgdp its peers through its UAPI socket with
#              `wg addconf` after it started, not in its config file (default:
#              1 above 150,000 clients, whose [Peer] sections would pass the
#              config file's 16 MiB limit). 1,000,000 clients with sessions
#              take about 2.1 GB of wgdp's DPDK heap: set aside hugepages first.
#
# Prints wgdp-pktgen's report, then wgdp's counters (`wgdp: rx ...`,
# `wgdp: drop ...` lines printed at its stop). Exit status: wgdp-pktgen's,
# or 1 when wgdp did not start or stop cleanly (its last log lines on
# stderr: a build that runs one worker refuses -w 2 with "Workers: 2
# workers given; this build runs one worker").
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PG_BUILD=${PG_BUILD:-/tmp/build-pg}
PG_MEM=${PG_MEM:-2048}
WGDP_BIN=$PG_BUILD/wgdp
PKTGEN=$PG_BUILD/bench/wgdp-pktgen
N=1
SEED=1
WORKERS=1
while getopts "n:s:w:" opt; do
	case $opt in
	n) N=$OPTARG ;;
	s) SEED=$OPTARG ;;
	w) WORKERS=$OPTARG ;;
	*) sed -n '2,50p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift
case $WORKERS in
[1-8]) ;;
*) echo "run-memif: -w takes 1..8 workers, not \`$WORKERS'" >&2; exit 2 ;;
esac

# the largest ring (<= 2^14) whose W + (W + 1) rings fit memif's 65,536 buffer slots
RSIZE=14
while [ $(((2 * WORKERS + 1) << RSIZE)) -gt 65536 ]; do RSIZE=$((RSIZE - 1)); done
PG_MEMIF_ARGS=${PG_MEMIF_ARGS-,rsize=$RSIZE}

for b in "$WGDP_BIN" "$PKTGEN"; do
	[ -x "$b" ] || { echo "run-memif: $b not built (meson setup $PG_BUILD $HERE/../.. && ninja -C $PG_BUILD)" >&2; exit 2; }
done

ID=$$
TMP=${PG_TMP:-$(mktemp -d /tmp/wgdp-pg.XXXXXX)}
mkdir -p "$TMP"
OUT_SOCK=/run/wgdp-pg-$ID-out.sock
IN_SOCK=/run/wgdp-pg-$ID-in.sock
WGDP_PREFIX=wgdp-pg-$ID
PG_PREFIX=pktgen-pg-$ID
CONF=$TMP/wgdp.conf
WLOG=$TMP/wgdp.log
WPID=
PGPID=

stop_pid() { # PID SIGNAL TENTHS: signal, wait up to TENTHS/10 s, then SIGKILL
	local pid=$1 sig=$2 tenths=$3
	kill -0 "$pid" 2>/dev/null || return 0
	kill "-$sig" "$pid" 2>/dev/null
	for _ in $(seq 1 "$tenths"); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
}

cleanup() {
	[ -z "$PGPID" ] || stop_pid "$PGPID" INT 50
	[ -z "$WPID" ] || stop_pid "$WPID" INT 100
	rm -f "$OUT_SOCK" "$IN_SOCK"
	rm -rf "/var/run/dpdk/$WGDP_PREFIX" "/var/run/dpdk/$PG_PREFIX"
	rm -f /dev/hugepages/"$WGDP_PREFIX"map_* 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -n "${PG_WGDP_LCORES:-}" ]; then
	LCORES=$PG_WGDP_LCORES
else
	NCPU=$(nproc)
	LCORES=0@0
	for k in $(seq 1 "$WORKERS"); do LCORES+=",$k@$((k % NCPU))"; done
fi
EXTRA="Workers = $( [ "$WORKERS" -eq 1 ] && echo 1 || echo "1-$WORKERS")"
[ -z "${WGDP_EXTRA:-}" ] || EXTRA+=$'\n'$WGDP_EXTRA

"$PKTGEN" --print-config --clients "$N" --seed "$SEED" \
	--dut-outside "net_memif0,role=server,socket=$OUT_SOCK" \
	--dut-inside "net_memif1,role=server,socket=$IN_SOCK" >"$CONF" || exit 1
UAPI_PEERS=${PG_UAPI_PEERS:-$((N > 150000 ? 1 : 0))}
UAPI_IF=wgpg$ID
if [ "$UAPI_PEERS" = 1 ]; then
	command -v wg >/dev/null || { echo "run-memif: PG_UAPI_PEERS needs wg (wireguard-tools)" >&2; exit 2; }
	# no [Peer] sections in the file; the UAPI socket on, named after this run
	awk '/^\[Peer\]/ { exit } /^UapiInterface/ { next } { print }' "$CONF" >"$CONF.tmp" && mv "$CONF.tmp" "$CONF"
	EXTRA+=$'\n'"UapiInterface = $UAPI_IF"
fi
# extra [Appliance] keys go right after the section header
awk -v extra="$EXTRA" '{ print } /^\[Appliance\]/ { print extra }' "$CONF" >"$CONF.tmp" && mv "$CONF.tmp" "$CONF"
chmod 600 "$CONF"

"$WGDP_BIN" --lcores "$LCORES" --file-prefix "$WGDP_PREFIX" --huge-unlink --no-pci --log-level='lib.*:notice' \
	-- --config "$CONF" >"$WLOG" 2>&1 &
WPID=$!
START_TIMEOUT=${PG_START_TIMEOUT:-$((N > 100000 ? 300 : 30))}
for _ in $(seq 1 $((START_TIMEOUT * 10))); do
	grep -q '^wgdp: public key' "$WLOG" && break
	kill -0 "$WPID" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q '^wgdp: public key' "$WLOG"; then
	echo "run-memif: wgdp did not start (EAL --lcores $LCORES, $(sed -n 's/^\(Workers = .*\)/\1/p' "$CONF")):" >&2
	tail -20 "$WLOG" >&2
	exit 1
fi
grep '^wgdp: \(outside\|inside\|worker\|control\|public\)' "$WLOG" | sed 's/^/  /' >&2
if [ "$UAPI_PEERS" = 1 ]; then
	t0=$(date +%s.%N)
	"$PKTGEN" --print-peers --clients "$N" --seed "$SEED" >"$TMP/peers.conf" &&
		wg addconf "$UAPI_IF" "$TMP/peers.conf" ||
		{ echo "run-memif: wg addconf of $N peers failed" >&2; exit 1; }
	echo "run-memif: $N peers through the UAPI (wg addconf) in $(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", t1 - t0 }') s" >&2
	rm -f "$TMP/peers.conf"
fi

# In the background, so that a signal to this script is handled at once.
# Shutdown order: wgdp-pktgen reports, creates $DONE and stops polling; then
# wgdp is stopped (its workers first, then its ports); then wgdp-pktgen,
# whose links went down, closes its ports. The side that disconnects first
# must not be polling: memif unmaps the shared memory under a polling lcore
# (wgdp segfaulted in memif rx when wgdp-pktgen exited during a backlog).
DONE=$TMP/pktgen-$ID.done
rm -f "$DONE"
"$PKTGEN" -l 0 --no-huge -m "$PG_MEM" --file-prefix "$PG_PREFIX" --no-pci --no-telemetry --log-level='lib.*:notice' -- \
	--outside "net_memif0,role=client,socket=$OUT_SOCK$PG_MEMIF_ARGS" \
	--inside "net_memif1,role=client,socket=$IN_SOCK$PG_MEMIF_ARGS" \
	--clients "$N" --seed "$SEED" --queues "$WORKERS" --done-file "$DONE" "$@" &
PGPID=$!
while kill -0 "$PGPID" 2>/dev/null && [ ! -e "$DONE" ]; do sleep 0.1; done

stop_pid "$WPID" INT 150
wait "$WPID"
wrc=$?
WPID=
wait "$PGPID"
rc=$?
PGPID=
rm -f "$DONE"
if [ "$wrc" -ne 0 ] || ! grep -q '^wgdp: stopped' "$WLOG"; then
	echo "run-memif: wgdp exited with status $wrc:" >&2
	tail -20 "$WLOG" >&2
	rc=1
fi
grep -E '^wgdp: (rx [0-9]|drop )' "$WLOG"
echo "run-memif: config and logs in $TMP" >&2
exit "$rc"
