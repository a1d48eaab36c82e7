#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Provisioning at scale: how long 100,000 peers take to add through the REST
# API (one POST each, pool-allocated IPv4 + IPv6 addresses, every change
# journaled and fdatasync'ed before the answer) and through `wg setconf`
# (one UAPI request), what they cost in memory per peer, and how long a
# restart takes to load them back from the state file.
#
#   bench/provision_bench.sh [--peers N] [--repeats R]
#
# wgdp runs in a network namespace of its own (an af_packet outside on a
# veth, a TAP inside), as in the tests. Memory per peer is the growth of the
# process's resident memory plus its hugepages (VmRSS + HugetlbPages in
# /proc/PID/status) divided by the number of peers; it includes the allowed-IP
# trie, the index table share, the peer hash and the pools.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PEERS=100000
REPEATS=3
while [ $# -gt 0 ]; do
	case $1 in
	--peers) PEERS=$2; shift 2 ;;
	--repeats) REPEATS=$2; shift 2 ;;
	-h | --help) sed -n '3,17p' "$0"; exit 0 ;;
	*) echo "provision_bench: unknown option $1" >&2; exit 2 ;;
	esac
done

SUITE=bench
# shellcheck source=tests/lib/suite.sh
. "$ROOT/tests/lib/suite.sh"
suite_require wg ip python3 nsenter
suite_start
WGDP_START_TIMEOUT=120

netns_add srv SRV
netns_add peer PEERNS
netns_veth "$SRV" wout "$PEERNS" eth0
netns_wg_genkey server >/dev/null
TOKEN_FILE=$NETNS_TMP/api.token
head -c 32 /dev/urandom | base64 | tr -d '=+/' >"$TOKEN_FILE"
TAP=$(wgdp_tap_name wgbench)
MAXP=$((PEERS + PEERS / 4 + 16))

conf() { # FILE STATEFILE
	wgdp_conf "$1" server wout "$TAP" "StateFile = $2" "ApiTokenFile = $TOKEN_FILE" "MaxPeers = $MAXP" \
		"MetricsPerPeer = off"
	sed -i 's#^MTU = .*#&\nAddressPool = 10.64.0.0/12, fd00:64::/64#' "$1"
}

# memory NAME: VmRSS + HugetlbPages of the instance, in KiB
memory() {
	awk '/^(VmRSS|HugetlbPages):/ { s += $2 } END { print s }' "/proc/${WGDP_PID[$1]}/status"
}

stats() { # min median max of the numbers on stdin
	sort -g | awk '{ v[NR] = $1 } END { printf "%.2f %.2f %.2f", v[1], v[int((NR + 1) / 2)], v[NR] }'
}

echo "# $(date -u +%F) $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# provisioning $PEERS peers (MaxPeers $MAXP), state file on $(df -T "$NETNS_TMP" | awk 'NR == 2 { print $2 }')"

# ---- through the REST API ------------------------------------------------------------

conf "$NETNS_TMP/api.conf" "$NETNS_TMP/api.state"
wgdp_start api "$SRV" "$NETNS_TMP/api.conf" >/dev/null
m0=$(memory api)
netns_exec "$SRV" python3 - "$TOKEN_FILE" "$PEERS" >"$NETNS_TMP/api.out" <<'EOF'
import base64, http.client, json, os, sys, time
tok = open(sys.argv[1]).read().strip()
n = int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", 8080, timeout=120)
h = {"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
lat, t0, batch = [], time.monotonic(), []
tprev = t0
for i in range(n):
    body = json.dumps({"public_key": base64.b64encode(os.urandom(32)).decode(), "name": "bench-%d" % i})
    t = time.monotonic()
    c.request("POST", "/api/v1/peers", body, h)
    r = c.getresponse()
    r.read()
    if r.status != 201:
        print("error at %d: %d" % (i, r.status), file=sys.stderr)
        sys.exit(1)
    lat.append(time.monotonic() - t)
    if (i + 1) % 1000 == 0:
        now = time.monotonic()
        batch.append(1000 / (now - tprev))
        tprev = now
total = time.monotonic() - t0
lat.sort()
pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1e3
rates = sorted(batch)
print("total %.1f s, %.0f peers/s; per request ms p50 %.2f p99 %.2f max %.2f; per 1000 peers/s min %.0f median %.0f max %.0f"
      % (total, n / total, pct(0.5), pct(0.99), lat[-1] * 1e3, rates[0], rates[len(rates) // 2], rates[-1]))
EOF
m1=$(memory api)
echo "api: $(cat "$NETNS_TMP/api.out")"
echo "api: memory $((m0 / 1024)) MiB before, $((m1 / 1024)) MiB after: $(((m1 - m0) * 1024 / PEERS)) bytes per peer (with 2 pool addresses, a name, a journal in the page cache not counted)"
t0=$(date +%s%N)
netns_exec "$SRV" wg show "$TAP" dump | wc -l >/dev/null
echo "api: wg show dump of $PEERS peers: $((($(date +%s%N) - t0) / 1000000)) ms"
ls -l "$NETNS_TMP"/api.state* | awk '{ printf "api: state file %s: %.1f MB\n", $9, $5 / 1e6 }'
wgdp_stop api >/dev/null
for r in $(seq 1 "$REPEATS"); do
	t0=$(date +%s%N)
	wgdp_start "load$r" "$SRV" "$NETNS_TMP/api.conf" >/dev/null
	echo $((($(date +%s%N) - t0) / 1000000))
	wgdp_stop "load$r" >/dev/null
done >"$NETNS_TMP/load.ms"
echo "restart: start with $PEERS peers from the state file, ms min/median/max: $(stats <"$NETNS_TMP/load.ms")"

# ---- through wg setconf --------------------------------------------------------------

python3 - "$NETNS_TMP/server.key" "$PEERS" >"$NETNS_TMP/setconf.conf" <<'EOF'
import base64, os, sys
print("[Interface]\nPrivateKey = %s\nListenPort = 51820\n" % open(sys.argv[1]).read().strip())
for i in range(int(sys.argv[2])):
    print("[Peer]\nPublicKey = %s\nAllowedIPs = 10.%d.%d.%d/32\n" % (base64.b64encode(os.urandom(32)).decode(),
          64 + (i >> 16), (i >> 8) & 255, i & 255))
EOF
: >"$NETNS_TMP/setconf.ms"
for r in $(seq 1 "$REPEATS"); do
	rm -f "$NETNS_TMP/wg.state" "$NETNS_TMP/wg.state.journal"
	conf "$NETNS_TMP/wg.conf" "$NETNS_TMP/wg.state"
	wgdp_start "wg$r" "$SRV" "$NETNS_TMP/wg.conf" >/dev/null
	m0=$(memory "wg$r")
	t0=$(date +%s%N)
	netns_exec "$SRV" wg setconf "$TAP" "$NETNS_TMP/setconf.conf"
	echo $((($(date +%s%N) - t0) / 1000000)) >>"$NETNS_TMP/setconf.ms"
	m1=$(memory "wg$r")
	n=$(netns_exec "$SRV" wg show "$TAP" peers | wc -l)
	[ "$n" -eq "$PEERS" ] || echo "setconf: only $n peers" >&2
	echo $(((m1 - m0) * 1024 / PEERS)) >>"$NETNS_TMP/setconf.bytes"
	wgdp_stop "wg$r" >/dev/null
done
echo "setconf: $PEERS peers in one wg setconf, ms min/median/max: $(stats <"$NETNS_TMP/setconf.ms")"
echo "setconf: memory per peer (one /32 allowed IP, no name, no pool address), bytes min/median/max: $(stats <"$NETNS_TMP/setconf.bytes")"
