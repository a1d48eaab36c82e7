#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Two workers, four wireguard-go clients. wgdp's outside is net_af_packet with
# two queue pairs (the kernel spreads flows over them by hash, PACKET_FANOUT),
# its inside a two-queue TAP, so packets often arrive at the worker that does
# not own their peer and are handed over. Checks:
# - the layout: 2 workers, 2 RX queues per port, each worker polling one;
# - every client reaches the inside, and packets cross between workers;
# - UDP streams from all clients (two towards the inside, two back out,
#   iperf3 sequence numbers) while the workers go from 2 to 1 (migration and
#   parking) and back to 2 (waking, migration): nothing out of order, none of
#   the loss in wgdp (no handoff_full, hold_full, tx_full, ring_full; what the
#   kernel side loses when seven busy threads share two CPUs is allowed up to
#   5%: 0 in quiet runs), the history holds both events;
# - one heavy peer with SpreadCrypto on: half of its crypto runs on the other
#   worker, and its packets still arrive in order;
# - autoscaling by load: with the streams over, the second worker parks by
#   itself and its thread uses no CPU while parked;
# - software distribution: restarted with one outside queue, worker 0 polls it
#   and hands worker 1's peers over; four streams stay in order.
#
#   ns srv: wgdp (lcores 0@0,1@1,2@0; af_packet on wout, qpairs=2; TAP; REST API)
#   ns sw:  bridge; ns c1..c4: wireguard-go clients 192.0.2.11-14
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SUITE=multicore
SECS=${WGDP_MULTICORE_SECONDS:-12}
UDP_RATE=${WGDP_MULTICORE_UDP_RATE:-10M}
# shellcheck source=tests/lib/suite.sh
. "$HERE/lib/suite.sh"
suite_require wireguard-go wg ip ping iperf3 python3 nsenter
suite_start

netns_add srv SRV
netns_add sw SW
netns_bridge "$SW" br0
netns_bridge_port "$SW" br0 "$SRV" wout
SRV_PUB=$(netns_wg_genkey server)
TAP=$(wgdp_tap_name wgmc)
TOKEN_FILE=$NETNS_TMP/api.token
head -c 32 /dev/urandom | base64 | tr -d '=+/' >"$TOKEN_FILE"
chmod 600 "$TOKEN_FILE"
CONF=$NETNS_TMP/wgdp.conf
wgdp_conf "$CONF" server wout "$TAP" "ApiTokenFile = $TOKEN_FILE" "Workers = 1,2" "Autoscale = on" \
	"MinWorkers = 2" "MaxWorkers = 2" "ScaleDownDelay = 1000"
sed -i 's/^OutsideDevice = \(.*\)$/OutsideDevice = \1,qpairs=2/' "$CONF"
declare -a CNS CIF
for i in 1 2 3 4; do
	netns_add "c$i" "C$i"
	eval "CNS[i]=\$C$i"
	netns_bridge_port "$SW" br0 "${CNS[i]}" eth0
	netns_addr "${CNS[i]}" eth0 "192.0.2.1$i/24"
	netns_wg_ifname "CIF_$i"
	eval "CIF[i]=\$CIF_$i"
	pub=$(netns_wg_genkey "c$i")
	wgdp_conf_peer "$CONF" "$pub" "198.51.100.1$i/32"
done

export WGDP_LCORES="--lcores 0@0,1@1,2@0"
if ! wgdp_start main "$SRV" "$CONF"; then
	fail start "wgdp did not start with two workers"
	exit 1
fi
for i in 1 2 3 4; do
	netns_wg_client "${CNS[i]}" "${CIF[i]}" "c$i" "$SRV_PUB" "192.0.2.1:$WGDP_PORT" 198.51.100.0/24 \
		"198.51.100.1$i/24"
done

api() { # METHOD PATH [BODY]: the answer's body on stdout
	netns_exec "$SRV" curl -s -m 10 -X "$1" -H "Authorization: Bearer $(cat "$TOKEN_FILE")" \
		${3:+-H "Content-Type: application/json" -d "$3"} "http://127.0.0.1:8080$2"
}
lcores() { api GET /api/v1/lcores; }
jq_py() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

# wait until COND (python over d = GET /api/v1/lcores) holds, up to SECS
wait_lcores() {
	local cond=$1 secs=$2
	for _ in $(seq 1 $((secs * 10))); do
		if lcores | jq_py "sys.exit(0 if ($cond) else 1)" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

if out=$(lcores | jq_py '
w = d["lcores"]; p = {x["side"]: x for x in d["ports"]}
ok = d["workers"] == 2 and d["active_workers"] == 2 and p["outside"]["rx_queues"] == 2 and \
     p["inside"]["rx_queues"] == 2 and all(len(x["rx_queues"]) == 2 for x in w) and \
     all(x["buckets"] == 512 and x["peers"] == 2 for x in w)
print("workers on lcores %s, rx %s, buckets %s, peers %s" % ([x["lcore"] for x in w], [x["rx_queues"] for x in w],
      [x["buckets"] for x in w], [x["peers"] for x in w]))
sys.exit(0 if ok else 1)'); then
	pass layout "$out"
else
	fail layout "$out"
fi

reach=0
for i in 1 2 3 4; do
	netns_exec "${CNS[i]}" ping -n -c 3 -i 0.2 -w 10 198.51.100.1 >/dev/null && reach=$((reach + 1))
done
if [ "$reach" -eq 4 ]; then
	pass reach "4 of 4 clients ping the inside through two workers"
else
	fail reach "$reach of 4 clients ping the inside"
fi

# four UDP streams at once: c1, c2 towards the inside, c3, c4 from it (-R)
spids=()
for i in 1 2 3 4; do
	netns_exec "$SRV" timeout $((SECS + 20)) iperf3 -s -1 -J -B 198.51.100.1 -p $((5200 + i)) \
		>"$NETNS_TMP/s$i.json" 2>&1 &
	spids+=($!)
done
sleep 0.5
pids=()
for i in 1 2 3 4; do
	rev=()
	[ "$i" -le 2 ] || rev=(-R)
	netns_exec "${CNS[i]}" timeout $((SECS + 15)) iperf3 -c 198.51.100.1 -p $((5200 + i)) -u -b "$UDP_RATE" -l 1200 -t "$SECS" -i 1 \
		-J --get-server-output "${rev[@]}" >"$NETNS_TMP/c$i.json" 2>&1 &
	pids+=($!)
done
sleep $((SECS / 4))
api PATCH /api/v1/lcores '{"min_workers": 1, "max_workers": 1}' >/dev/null
if wait_lcores 'd["active_workers"] == 1 and d["lcores"][1]["state"] == "parked" and not d["migrations"]["in_progress"]' 5; then
	pass scale_down "$(lcores | jq_py 'h = d["history"][-1]; print("%s: worker %d parked, %d buckets moved in %.1f ms" % (h["event"], h["worker"], h["buckets_moved"], h["duration_ms"]))')"
else
	fail scale_down "worker 1 not parked within 5 s: $(lcores | head -c 600)"
fi
sleep $((SECS / 4))
api PATCH /api/v1/lcores '{"min_workers": 2, "max_workers": 2}' >/dev/null
if wait_lcores 'd["active_workers"] == 2 and d["lcores"][1]["state"] != "parked" and not d["migrations"]["in_progress"]' 5; then
	pass scale_up "$(lcores | jq_py 'h = d["history"][-1]; print("%s: worker %d back, %d buckets moved in %.1f ms" % (h["event"], h["worker"], h["buckets_moved"], h["duration_ms"]))')"
else
	fail scale_up "worker 1 not back within 5 s: $(lcores | head -c 600)"
fi
for p in "${pids[@]}" "${spids[@]}"; do wait "$p" || true; done

for i in 1 2 3 4; do
	if out=$(python3 - "$NETNS_TMP/c$i.json" "$i" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
rev = int(sys.argv[2]) > 2
# the receiving side's view: the server's for a forward stream, ours for -R
s = d["end"]["sum"] if rev else d["server_output_json"]["end"]["sum"]
lost, total, ooo = s.get("lost_packets", -1), s.get("packets", 0), s.get("out_of_order", 0)
pct = 100.0 * lost / total if total else 100.0
print("%s: %d datagrams, %d lost (%.3f%%), %d out of order" % ("from the inside" if rev else "to the inside",
      total, lost, pct, ooo))
sys.exit(0 if total > 0 and pct <= 5.0 and ooo == 0 else 1)
EOF
); then
		pass "stream_c$i" "$out"
	else
		fail "stream_c$i" "$out"
	fi
done

if out=$(lcores | jq_py '
w = d["lcores"]; ev = [h["event"] for h in d["history"]]
print("handed off %s, held %s, parks %d, wakeups %d, history %s" % ([x["handed_off"] for x in w], [x["held"] for x in w],
      w[1]["parks"], w[1]["wakeups"], ev))
sys.exit(0 if sum(x["handed_off"] for x in w) > 0 and "down" in ev and "up" in ev and w[1]["parks"] >= 1 and w[1]["wakeups"] >= 1 else 1)'); then
	pass handoff_and_history "$out"
else
	fail handoff_and_history "$out"
fi

# one heavy peer: its owner gives half of every burst's crypto to the other worker
api PATCH /api/v1/lcores '{"spread_crypto": "on"}' >/dev/null
netns_exec "$SRV" timeout 30 iperf3 -s -1 -J -B 198.51.100.1 -p 5209 >"$NETNS_TMP/heavy.server.json" 2>&1 &
hs=$!
sleep 0.5
netns_exec "${CNS[1]}" timeout 30 iperf3 -c 198.51.100.1 -p 5209 -u -b "${WGDP_MULTICORE_HEAVY_RATE:-60M}" -l 1300 \
	-t 5 -J --get-server-output >"$NETNS_TMP/heavy.json" 2>&1 || true
wait "$hs" || true
if out=$(python3 - "$NETNS_TMP/heavy.json" "$(lcores)" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["server_output_json"]["end"]["sum"]
lc = json.loads(sys.argv[2])
sent = sum(w["spread_sent"] for w in lc["lcores"])
served = sum(w["spread_served"] for w in lc["lcores"])
lost, total, ooo = s.get("lost_packets", -1), s.get("packets", 0), s.get("out_of_order", 0)
pct = 100.0 * lost / total if total else 100.0
print("one client, %.0f Mbit/s offered: %d datagrams, %d lost (%.3f%%), %d out of order; AEAD jobs spread %d, served %d, "
      "taken back %d" % (d["start"]["test_start"]["target_bitrate"] / 1e6, total, lost, pct, ooo, sent, served,
                         sum(w["spread_reclaimed"] for w in lc["lcores"])))
sys.exit(0 if total > 0 and ooo == 0 and pct <= 5.0 and sent > 0 and served > 0 else 1)
EOF
); then
	pass heavy_peer_spread "$out"
else
	fail heavy_peer_spread "$out"
fi
api PATCH /api/v1/lcores '{"spread_crypto": "auto"}' >/dev/null

# autoscaling by load: idle now, so one of the two parks after ScaleDownDelay (1 s)
api PATCH /api/v1/lcores '{"min_workers": 1, "max_workers": 2}' >/dev/null
if wait_lcores 'd["active_workers"] == 1 and d["lcores"][1]["state"] == "parked"' 10; then
	lcore=$(lcores | jq_py 'print(d["lcores"][1]["lcore"])')
	pid=${WGDP_PID[main]}
	tid=""
	for t in /proc/"$pid"/task/*; do
		if grep -q "worker-$lcore\$" "$t/comm" 2>/dev/null; then tid=${t##*/}; fi
	done
	if [ -n "$tid" ]; then
		t0=$(awk '{print $14 + $15}' "/proc/$pid/task/$tid/stat")
		sleep 2
		t1=$(awk '{print $14 + $15}' "/proc/$pid/task/$tid/stat")
		if [ $((t1 - t0)) -le 2 ]; then
			pass idle_park "worker 1 parked by the autoscaler; its thread used $((t1 - t0)) ticks in 2 s"
		else
			fail idle_park "worker 1 parked but its thread used $((t1 - t0)) ticks (1/100 s) in 2 s"
		fi
	else
		pass idle_park "worker 1 parked by the autoscaler (thread not found by name to time it)"
	fi
else
	fail idle_park "the idle second worker was not parked within 10 s: $(lcores | head -c 600)"
fi

if wgdp_stop main; then
	pass clean_stop "$(wgdp_counters main | tr '\n' ';' | cut -c1-300)"
else
	fail clean_stop "wgdp did not stop cleanly"
fi
# software distribution: one outside RX queue (af_packet without qpairs), polled by
# worker 0, which hands worker 1's peers over (the TAP inside keeps two queues)
sed -i 's/^OutsideDevice = \(.*\),qpairs=2$/OutsideDevice = \1/' "$CONF"
sed -i '/^\[Appliance\]$/a SpreadCrypto = off' "$CONF"
if wgdp_start sw "$SRV" "$CONF"; then
	for i in 1 2 3 4; do netns_wg_peer_reset "${CNS[i]}" "${CIF[i]}" "$SRV_PUB" "192.0.2.1:$WGDP_PORT" 198.51.100.0/24; done
	spids=() pids=()
	for i in 1 2 3 4; do
		netns_exec "$SRV" timeout 30 iperf3 -s -1 -J -B 198.51.100.1 -p $((5300 + i)) >"$NETNS_TMP/sw-s$i.json" 2>&1 &
		spids+=($!)
	done
	sleep 0.5
	for i in 1 2 3 4; do
		rev=()
		[ "$i" -le 2 ] || rev=(-R)
		netns_exec "${CNS[i]}" timeout 30 iperf3 -c 198.51.100.1 -p $((5300 + i)) -u -b "$UDP_RATE" -l 1200 -t 5 \
			-J --get-server-output "${rev[@]}" >"$NETNS_TMP/sw-c$i.json" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}" "${spids[@]}"; do wait "$p" || true; done
	if out=$(python3 - "$NETNS_TMP" "$(lcores)" <<'EOF'
import json, sys
lc = json.loads(sys.argv[2])
w = lc["lcores"]
res = []
# the outside has one queue, worker 0's: worker 1 decrypts only what worker 0 hands over
ok = w[0]["rx_queues"][:1] == ["outside:0"] and not any(q.startswith("outside") for q in w[1]["rx_queues"]) and \
     w[1]["rx_packets"] > 0 and w[0]["handed_off"] > 0
for i in range(1, 5):
    d = json.load(open("%s/sw-c%d.json" % (sys.argv[1], i)))
    s = d["end"]["sum"] if i > 2 else d["server_output_json"]["end"]["sum"]
    lost, total, ooo = s.get("lost_packets", -1), s.get("packets", 0), s.get("out_of_order", 0)
    res.append("%d/%d lost, %d ooo" % (lost, total, ooo))
    ok = ok and total > 0 and ooo == 0 and lost <= total / 100
print("rx queues %s; worker 1 decrypted %d and sent %d packets, worker 0 handed over %d; streams: %s" % (
      [x["rx_queues"] for x in w], w[1]["rx_packets"], w[1]["tx_packets"], w[0]["handed_off"], "; ".join(res)))
sys.exit(0 if ok else 1)
EOF
	); then
		pass software_distribution "$out"
	else
		fail software_distribution "$out"
	fi
	wgdp_stop sw >/dev/null || fail software_distribution_stop "wgdp did not stop cleanly"
else
	fail software_distribution "wgdp did not start with one queue per port"
fi

lost=0
for r in handoff_full hold_full tx_full ring_full; do
	lost=$((lost + $(wgdp_counter main "drop:$r")))
done
if [ "$lost" -eq 0 ]; then
	pass no_wgdp_drops "handoff_full, hold_full, tx_full, ring_full all 0"
else
	fail no_wgdp_drops "$(wgdp_counters main | grep -E 'handoff_full|hold_full|tx_full|ring_full' | tr '\n' ';')"
fi
exit "$FAILED"
