#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Changes do not disturb the peers they do not touch: one client streams
# through wgdp (iperf3, TCP and then UDP at a fixed rate) while 1,000 other
# peers are added through the REST API, one request each, and removed again,
# (three rounds), and while a 1,000-peer batch goes through the UAPI socket.
# Checks: no one-second interval without traffic (TCP), UDP loss and
# reordering at the rate (both measured by iperf3's sequence numbers), every
# request answered 201/204, the peer count back to 1.
#
#   ns srv: wgdp (af_packet on wout, TAP 198.51.100.1/24, REST API)
#   ns sw:  bridge; ns c1: wireguard-go client, iperf3 client
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SUITE=churn
SECS=${WGDP_CHURN_SECONDS:-20}
UDP_RATE=${WGDP_CHURN_UDP_RATE:-100M}
# shellcheck source=tests/lib/suite.sh
. "$HERE/lib/suite.sh"
suite_require wireguard-go wg ip ping iperf3 python3 nsenter
suite_start

wgdp_api_testbed wgchu
CONF=$NETNS_TMP/wgdp.conf
wgdp_conf "$CONF" server wout "$TAP" "StateFile = $NETNS_TMP/state" "ApiTokenFile = $TOKEN_FILE"
wgdp_conf_peer "$CONF" "$C1_PUB" "198.51.100.2/32"

if ! wgdp_start main "$SRV" "$CONF"; then
	fail start "wgdp did not start"
	exit 1
fi
netns_wg_client "$C1" "$C1IF" c1 "$SRV_PUB" "192.0.2.1:$WGDP_PORT" 198.51.100.0/24 198.51.100.2/24
netns_exec "$C1" ping -n -c 3 -i 0.2 -w 10 198.51.100.1 >/dev/null || fail traffic "no ping before the churn"

# churn N CYCLES: add N peers through the API, then remove them, CYCLES times;
# prints a summary, status 0 when every request went well
churn() {
	netns_exec "$SRV" env WGDP_LIB="$HERE/lib" python3 - "$TOKEN_FILE" "$1" "$2" <<'EOF'
import base64, os, sys, time
sys.path.insert(0, os.environ["WGDP_LIB"])
from wgdp_api import Api, url_key
api = Api("http://127.0.0.1:8080", open(sys.argv[1]).read().strip())
n, cycles = int(sys.argv[2]), int(sys.argv[3])
bad, add_t, del_t, peak, after = [], 0.0, 0.0, 0, -1
for c in range(cycles):
    keys = []
    t0 = time.monotonic()
    for i in range(n):
        k = base64.b64encode(os.urandom(32)).decode()
        st, body, _ = api.call("POST", "/api/v1/peers", {"public_key": k, "allowed_ips": ["10.%d.%d.0/24" % (100 + i // 256, i % 256)], "endpoint": "192.0.2.%d:%d" % (100 + i % 100, 20000 + i)})
        if st == 201:
            keys.append(k)
        else:
            bad.append((st, body))
    t1 = time.monotonic()
    peak = max(peak, api.call("GET", "/api/v1/peers?limit=1")[1]["total"])
    for k in keys:
        st, body, _ = api.call("DELETE", "/api/v1/peers/" + url_key(k))
        if st != 204:
            bad.append((st, body))
    t2 = time.monotonic()
    add_t += t1 - t0
    del_t += t2 - t1
    after = api.call("GET", "/api/v1/peers?limit=1")[1]["total"]
    if after != 1:
        break
print("%d cycles of %d peers added (%.0f/s) and removed (%.0f/s), %d peers at the peak, %d after, %d errors %s"
      % (cycles, n, cycles * n / add_t, cycles * n / del_t, peak, after, len(bad), bad[:2]))
sys.exit(0 if not bad and peak == n + 1 and after == 1 else 1)
EOF
}

# a batch of N peers through the wg UAPI socket (wg addconf), then removed (wg syncconf back)
uapi_churn() {
	local n=$1 f=$NETNS_TMP/batch.conf i t0
	netns_exec "$SRV" wg showconf "$TAP" >"$NETNS_TMP/orig.conf"
	: >"$f"
	for ((i = 0; i < n; i++)); do
		printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.%d.%d.0/24\n\n' "$(head -c 32 /dev/urandom | base64)" \
			$((150 + i / 256)) $((i % 256)) >>"$f"
	done
	t0=$(date +%s%N)
	netns_exec "$SRV" wg addconf "$TAP" "$f" || return 1
	[ "$(netns_exec "$SRV" wg show "$TAP" peers | wc -l)" -eq $((n + 1)) ] || return 1
	netns_exec "$SRV" wg syncconf "$TAP" "$NETNS_TMP/orig.conf" || return 1
	[ "$(netns_exec "$SRV" wg show "$TAP" peers | wc -l)" -eq 1 ] || return 1
	printf 'wg addconf of %d peers and syncconf back in %d ms' "$n" $((($(date +%s%N) - t0) / 1000000))
}

run_stream() { # NAME IPERF3-ARGS...: iperf3 from c1 through the tunnel while churning
	local name=$1 json=$NETNS_TMP/$1.json out rc=0 upid spid
	shift
	netns_exec "$SRV" iperf3 -s -1 -J -B 198.51.100.1 >"$NETNS_TMP/$name.server.json" 2>&1 &
	spid=$!
	sleep 0.5
	netns_exec "$C1" iperf3 -c 198.51.100.1 -t "$SECS" -i 1 -J --get-server-output "$@" >"$json" 2>&1 &
	upid=$!
	sleep 2
	if out=$(churn 1000 3); then
		pass "${name}_api_churn" "$out"
	else
		fail "${name}_api_churn" "$out"
	fi
	if out=$(uapi_churn 1000); then
		pass "${name}_uapi_churn" "$out"
	else
		fail "${name}_uapi_churn" "the batch through wg addconf/syncconf failed"
	fi
	wait "$upid" || rc=$?
	wait "$spid" || true
	return $rc
}

run_stream tcp || true
if out=$(wgdp_iperf3_check "$NETNS_TMP/tcp.json" "$SECS"); then
	pass tcp_stream_undisturbed "$out"
else
	fail tcp_stream_undisturbed "$out"
fi

run_stream udp -u -b "$UDP_RATE" -l 1200 || true
if out=$(python3 - "$NETNS_TMP/udp.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
s = d.get("server_output_json", {}).get("end", {}).get("sum", {}) or d["end"]["sum"]
lost, total = s.get("lost_packets", -1), s.get("packets", 0)
ooo = d.get("server_output_json", {}).get("end", {}).get("sum", {}).get("out_of_order", 0)
iv = d.get("server_output_json", {}).get("intervals", [])
empty = sum(1 for i in iv if i["sum"]["seconds"] >= 0.5 and i["sum"]["bytes"] == 0)
pct = 100.0 * lost / total if total else 100.0
print("%d datagrams, %d lost (%.3f%%), %d out of order, %d empty intervals" % (total, lost, pct, ooo, empty))
sys.exit(0 if total > 0 and pct <= 0.5 and empty == 0 else 1)
EOF
); then
	pass udp_no_loss "$out"
else
	fail udp_no_loss "$out"
fi

if wgdp_stop main; then
	pass clean_stop "$(wgdp_counters main | tr '\n' ';' | cut -c1-200)"
else
	fail clean_stop "wgdp did not stop cleanly"
fi
exit "$FAILED"
