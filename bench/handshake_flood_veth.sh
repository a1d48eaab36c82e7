#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Data through wgdp during a flood of junk handshake initiations, on the
# af_packet/veth set-up of the tests (tests/e2e_cookie.sh, e2e_churn.sh):
#
#   ns srv: wgdp (outside net_af_packet on wout, 192.0.2.1; TAP 198.51.100.1/24)
#   ns sw:  a bridge
#   ns c1:  wireguard-go client 192.0.2.11, tunnel 198.51.100.2; iperf3 client;
#           tests/lib/hsflood.py from 192.0.2.12 (initiations with a valid
#           mac1 and random contents, in growing bursts until wgdp answers
#           with a cookie reply, i.e. is under load, then on)
#
# Each repeat sends UDP through the tunnel at a fixed rate (iperf3 -u -b
# RATE -l 1200, SECS seconds) once without and once during the flood, and
# reports what arrived (iperf3's server side), the loss, and where the CPU
# went. Everything here shares the machine's two CPUs with wgdp (its worker
# busy-polls CPU 1, its control thread runs on CPU 0): wireguard-go, iperf3,
# the Python flood and the kernel's veth and af_packet work. A drop in the
# received rate during the flood is therefore wgdp's data path or this
# machine's CPUs; the CPU line tells which.
#
#   bench/handshake_flood_veth.sh [--repeats R] [--seconds S] [--rate 100M]
#
#   WGDP   the binary (default: $PG_BUILD/wgdp, PG_BUILD defaulting to build)
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
REPEATS=3
SECS=10
RATE=100M
while [ $# -gt 0 ]; do
	case $1 in
	--repeats) REPEATS=$2; shift 2 ;;
	--seconds) SECS=$2; shift 2 ;;
	--rate) RATE=$2; shift 2 ;;
	-h|--help) sed -n '3,25p' "$0"; exit 0 ;;
	*) echo "handshake_flood_veth: unknown option: $1" >&2; exit 2 ;;
	esac
done
export WGDP=${WGDP:-${PG_BUILD:-$ROOT/build}/wgdp}
# shellcheck source=tests/lib/netns.sh
. "$ROOT/tests/lib/netns.sh"
# shellcheck source=tests/lib/wgdp.sh
. "$ROOT/tests/lib/wgdp.sh"
for t in wireguard-go wg ip iperf3 python3; do
	command -v "$t" >/dev/null || { echo "handshake_flood_veth: needs $t" >&2; exit 2; }
done
[ -x "$WGDP" ] || { echo "handshake_flood_veth: $WGDP not built" >&2; exit 2; }
netns_require_root
netns_init

wgdp_api_testbed hsfl
netns_addr "$C1" eth0 192.0.2.12/24
CONF=$NETNS_TMP/wgdp.conf
wgdp_conf "$CONF" server wout "$TAP"
wgdp_conf_peer "$CONF" "$C1_PUB" "198.51.100.2/32"
wgdp_start main "$SRV" "$CONF" || { echo "handshake_flood_veth: wgdp did not start" >&2; exit 1; }
netns_wg_client "$C1" "$C1IF" c1 "$SRV_PUB" "192.0.2.1:$WGDP_PORT" 198.51.100.0/24 198.51.100.2/24
netns_exec "$C1" ping -n -c 3 -i 0.2 -w 10 198.51.100.1 >/dev/null ||
	{ echo "handshake_flood_veth: no session through wgdp" >&2; exit 1; }

# one iperf3 UDP run; its result line on stdout (mode rx_mbit sent lost loss_pct), CPU to stderr
stream() {
	local name=$1 json=$NETNS_TMP/$1.json spid
	netns_exec "$SRV" iperf3 -s -1 -J -B 198.51.100.1 >"$NETNS_TMP/$name.server.json" 2>&1 &
	spid=$!
	sleep 0.5
	wgdp_cpu_sample "$NETNS_TMP/$name.cpu0" "$SRV" "$C1"
	netns_exec "$C1" iperf3 -c 198.51.100.1 -u -b "$RATE" -l 1200 -t "$SECS" -J --get-server-output \
		>"$json" 2>&1 || true
	wgdp_cpu_sample "$NETNS_TMP/$name.cpu1" "$SRV" "$C1"
	wait "$spid" 2>/dev/null || true
	echo "  $name CPU: $(wgdp_cpu_report "$NETNS_TMP/$name.cpu0" "$NETNS_TMP/$name.cpu1")" >&2
	python3 - "$json" "$name" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    end = d["server_output_json"]["end"]
    s = end["sum"]  # its bits_per_second is 0 on the server side: the rate is in sum_received
    print("%s %.2f %d %d %.3f" % (sys.argv[2].split("-")[0], end["sum_received"]["bits_per_second"] / 1e6,
                                  s["packets"], s["lost_packets"], s["lost_percent"]))
except Exception as e:
    print("%s nan 0 0 nan" % sys.argv[2].split("-")[0])
    sys.stderr.write("  %s: no iperf3 result (%s)\n" % (sys.argv[2], e))
EOF
}

RESULTS=$NETNS_TMP/results
: >"$RESULTS"
for r in $(seq 1 "$REPEATS"); do
	stream "base-$r" | tee -a "$RESULTS"
	netns_spawn "$C1" python3 "$ROOT/tests/lib/hsflood.py" 192.0.2.1 "$WGDP_PORT" "$SRV_PUB" 192.0.2.12 \
		$((SECS + 15)) >"$NETNS_TMP/flood-$r.out" 2>&1 &
	FP=$!
	netns_track "$FP"
	for _ in $(seq 1 100); do
		grep -q 'under load' "$NETNS_TMP/flood-$r.out" && break
		sleep 0.1
	done
	echo "  flood $r: $(head -1 "$NETNS_TMP/flood-$r.out" || true)" >&2
	stream "flood-$r" | tee -a "$RESULTS"
	kill "$FP" 2>/dev/null || true
	wait "$FP" 2>/dev/null || true
	netns_untrack "$FP"
	sleep 1
done
wgdp_stop main >/dev/null 2>&1 || true
echo "  wgdp counters: $(wgdp_counters main | tr '\n' ';')" >&2
python3 - "$RESULTS" "$RATE" "$SECS" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
def col(mode, i):
    return [float(r[i]) for r in rows if r[0] == mode and r[i] != "nan"]
def f3(v, fmt="%.1f"):
    return "/".join(fmt % x for x in (min(v), statistics.median(v), max(v))) if v else "-"
b, f = col("base", 1), col("flood", 1)
ratios = [y / x for x, y in zip(b, f) if x > 0]
print("junk flood over af_packet/veth: UDP %s, 1200 B, %s s per run, %d runs each (min/median/max)"
      % (sys.argv[2], sys.argv[3], len(b)))
print("  received Mbit/s without flood %s, during flood %s; ratio %s; loss %% without %s, during %s"
      % (f3(b), f3(f), f3(ratios, "%.3f"), f3(col("base", 4), "%.3f"), f3(col("flood", 4), "%.3f")))
EOF
