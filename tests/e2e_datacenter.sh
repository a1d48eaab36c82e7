#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# wgdp in the datacenter deployment: the inside is a second DPDK port
# (net_af_packet on a veth) instead of a TAP, with wgdp as a host on the
# inside network: it answers ARP/ND and echo for its inside address, resolves
# next hops there itself, and sends to an inside gateway for destinations
# outside the inside prefix. A short NeighbourReachableTime (2 s) makes its
# neighbours go STALE during the test, and one inside host (203.0.113.20,
# answered by tests/lib/slow_arp.py) confirms only after 0.4 s, so that
# traffic to a STALE next hop under re-confirmation can be watched.
#
#   client ns (wireguard-go)        srv ns (wgdp)                 dc ns
#   eth0 192.0.2.11 ----- wout (outside) | win (inside) ----- eth0 203.0.113.10/24
#                                   inside Address 203.0.113.1/24   lo 198.18.0.1/32,
#                                   InsideGateway 203.0.113.10         203.0.113.20/32
#                                                                   route 198.51.100.0/24
#                                                                     via 203.0.113.1
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SUITE=datacenter
# shellcheck source=tests/lib/suite.sh
. "$HERE/lib/suite.sh"
suite_require wireguard-go wg ip ping ethtool nsenter python3 sysctl
suite_start

netns_add srv SRV
netns_add cl CL
netns_add dc DC
netns_veth "$SRV" wout "$CL" eth0
netns_veth "$SRV" win "$DC" eth0
netns_addr "$CL" eth0 192.0.2.11/24
netns_addr "$DC" eth0 203.0.113.10/24
netns_addr "$DC" lo 198.18.0.1/32
ip -n "$DC" route add 198.51.100.0/24 via 203.0.113.1
# 203.0.113.20: the kernel takes its packets (lo) but leaves its ARP to slow_arp.py
netns_addr "$DC" lo 203.0.113.20/32
netns_exec "$DC" sysctl -qw net.ipv4.conf.eth0.arp_ignore=1
SLOW_ARP_COUNTS=$NETNS_TMP/slow_arp.counts
netns_spawn "$DC" python3 "$HERE/lib/slow_arp.py" eth0 203.0.113.20 0.4 "$SLOW_ARP_COUNTS" &
SLOW_ARP=$!
netns_track "$SLOW_ARP"

SRV_PUB=$(netns_wg_genkey server)
CL_PUB=$(netns_wg_genkey client)
netns_wg_ifname WGIF
CONF=$NETNS_TMP/dc.conf
LOG=$(wgdp_log dc)
{
	echo "[Interface]"
	echo "PrivateKey = $(cat "$NETNS_TMP/server.key")"
	echo "ListenPort = $WGDP_PORT"
	echo "Address = 203.0.113.1/24"
	echo "[Appliance]"
	echo "OutsideDevice = net_af_packet0,iface=wout"
	echo "InsideDevice = net_af_packet1,iface=win"
	echo "OutsideAddress = 192.0.2.1/24"
	echo "InsideGateway = 203.0.113.10"
	echo "NeighbourReachableTime = 2"
	echo "[Peer]"
	echo "PublicKey = $CL_PUB"
	echo "AllowedIPs = 198.51.100.2/32"
} >"$CONF"

read -r -a EAL <<<"$(wgdp_eal dc)"
netns_spawn "$SRV" "$WGDP" "${EAL[@]}" -- --config "$CONF" >"$LOG" 2>&1 &
PID=$!
netns_track "$PID"
for _ in $(seq 1 200); do
	grep -q '^wgdp: public key' "$LOG" && break
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q '^wgdp: public key' "$LOG"; then
	cat "$LOG" >&2
	fail start "wgdp did not start with an inside DPDK port"
	exit 1
fi
pass start "$(grep -o 'inside port .*' "$LOG" | head -1)"

if ! netns_wg_client "$CL" "$WGIF" client "$SRV_PUB" "192.0.2.1:$WGDP_PORT" \
	203.0.113.0/24,198.18.0.1/32 198.51.100.2/24; then
	fail start "wireguard-go did not start"
	exit 1
fi
# what wg-quick would add: the client's routes into its tunnel
ip -n "$CL" route add 203.0.113.0/24 dev "$WGIF"
ip -n "$CL" route add 198.18.0.1/32 dev "$WGIF"

ping_ok() { # NS DST [options]
	local ns=$1 dst=$2 out
	shift 2
	if ! out=$(netns_exec "$ns" ping -n -c 3 -i 0.2 -w 10 "$@" "$dst" 2>&1); then
		note "ping $dst from $ns failed:" "$(echo "$out" | tail -2)"
		return 1
	fi
}

# an inside host on the inside prefix: resolved by ARP on the inside port
if ping_ok "$CL" 203.0.113.10; then pass onlink_host; else fail onlink_host "no reply"; fi
# a destination beyond the inside prefix: sent to InsideGateway's MAC
if ping_ok "$CL" 198.18.0.1; then pass via_gateway; else fail via_gateway "no reply"; fi
# wgdp's own inside address answers echo
if ping_ok "$DC" 203.0.113.1; then pass echo_inside_address; else fail echo_inside_address "no reply"; fi
# the inside network reaches the client (at the endpoint wgdp learnt from it)
if ping_ok "$DC" 198.51.100.2; then pass inside_to_client; else fail inside_to_client "no reply"; fi

# A STALE next hop is used directly (dataplane/neigh.h): a steady ping to 203.0.113.20 for
# 8 s crosses about three periods in which its entry is STALE and being re-confirmed (0.4 s
# each). Nothing may be lost or dropped as ring_full, and the control thread may see the
# next hop only for its re-confirmations (one note each): the inside table's hits (packets
# the control thread sent itself with a known MAC) stay a handful, where sending the
# packets of every such period through the control thread would make ~20 per period.
STALE_PINGS=400
stale_out=$(netns_exec "$CL" ping -n -q -c "$STALE_PINGS" -i 0.02 -W 2 203.0.113.20 2>&1)
stale_rx=$(sed -n 's/.* \([0-9][0-9]*\) received.*/\1/p' <<<"$stale_out")

kill -INT "$PID"
wait "$PID"
rc=$?
netns_untrack "$PID"
if [ "$rc" -eq 0 ] && grep -q '^wgdp: stopped' "$LOG"; then
	pass clean_stop "$(grep '^wgdp: rx' "$LOG")"
else
	cat "$LOG" >&2
	fail clean_stop "exit status $rc"
fi

kill -TERM "$SLOW_ARP" 2>/dev/null
wait "$SLOW_ARP" 2>/dev/null
netns_untrack "$SLOW_ARP"
arp=$(cat "$SLOW_ARP_COUNTS" 2>/dev/null || echo "requests ? unicast ? replies ?")
unicast=$(awk '{ print $4 }' <<<"$arp")
hits=$(wgdp_counter dc neigh:inside:hits)
noted=$(wgdp_counter dc neigh:inside:noted)
ring=$(wgdp_counter dc drop:ring_full)
detail="ping $STALE_PINGS sent ${stale_rx:-?} received; inside neighbours: hits $hits noted $noted;"
detail="$detail ring_full $ring; 203.0.113.20 ARP $arp"
if [ "${stale_rx:-0}" -lt $((STALE_PINGS - 2)) ]; then
	note "$stale_out"
	fail stale_direct "traffic to a STALE next hop stalled: $detail"
elif [ "$ring" != 0 ]; then
	fail stale_direct "ring_full drops: $detail"
elif ! [ "${unicast:-0}" -ge 2 ] 2>/dev/null || ! [ "$noted" -ge 2 ] 2>/dev/null; then
	fail stale_direct "the entry was not re-confirmed while in use (no STALE period seen): $detail"
elif ! [ "$hits" -le $((noted + 5)) ] 2>/dev/null; then
	grep '^wgdp: neighbours' "$LOG" >&2
	fail stale_direct "packets to a STALE next hop went through the control thread: $detail"
else
	pass stale_direct "$detail"
fi
exit "$FAILED"
