#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# wgdp as the handshake initiator. The client (wireguard-go) listens on a
# fixed port but has no endpoint for wgdp, so it can only answer. wgdp has
# the client's Endpoint:
#   1. traffic from the inside to the client is staged, wgdp initiates, and
#      the staged packets go once the response arrives (the ping succeeds);
#   2. a second peer with PersistentKeepalive = 1 and an Endpoint gets a
#      handshake from wgdp at start and keepalives after it, without any
#      traffic of its own.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SUITE=initiator
# shellcheck source=tests/lib/suite.sh
. "$HERE/lib/suite.sh"
suite_require wireguard-go wg ip ping ethtool nsenter
suite_start

netns_add srv SRV
netns_add cl CL
netns_veth "$SRV" wout "$CL" eth0
netns_addr "$CL" eth0 192.0.2.11/24
SRV_PUB=$(netns_wg_genkey server)
C1_PUB=$(netns_wg_genkey c1)
C2_PUB=$(netns_wg_genkey c2)
netns_wg_ifname IF1
netns_wg_ifname IF2

# clients that cannot initiate: no endpoint for wgdp, fixed listen ports
for n in 1 2; do
	ifn=IF$n
	if ! netns_wg_start "$CL" "${!ifn}" ||
		! ip netns exec "$CL" wg set "${!ifn}" private-key "$NETNS_TMP/c$n.key" listen-port "5182$n" \
			peer "$SRV_PUB" allowed-ips 198.51.100.0/24; then
		fail start "wireguard-go $n did not start"
		exit 1
	fi
	netns_addr "$CL" "${!ifn}" "198.51.100.$((n + 1))/32"
	ip -n "$CL" link set "${!ifn}" mtu 1420 up
done
ip -n "$CL" route add 198.51.100.0/24 dev "$IF1"

TAP=$(wgdp_tap_name in)
CONF=$NETNS_TMP/initiator.conf
wgdp_conf "$CONF" server wout "$TAP"
wgdp_conf_peer "$CONF" "$C1_PUB" "198.51.100.2/32" "192.0.2.11:51821"
wgdp_conf_peer "$CONF" "$C2_PUB" "198.51.100.3/32" "192.0.2.11:51822" 1
if ! wgdp_start in "$SRV" "$CONF"; then
	fail start "wgdp did not start"
	exit 1
fi

# 1. inside -> client with no session: staged, wgdp initiates, then delivered
if out=$(netns_exec "$SRV" ping -n -c 3 -i 0.2 -w 10 198.51.100.2 2>&1); then
	pass staged_then_sent "$(echo "$out" | grep -o '[0-9]* received')"
else
	note "$out"
	fail staged_then_sent "no reply from the client"
fi

# 2. persistent keepalive: a handshake and keepalives with no traffic at all
sleep 3
hs=$(ip netns exec "$CL" wg show "$IF2" latest-handshakes | awk '{ print $2 }')
rx=$(ip netns exec "$CL" wg show "$IF2" transfer | awk '{ print $2 }')
if [ "${hs:-0}" -gt 0 ] && [ "${rx:-0}" -gt $((148 + 32)) ]; then
	pass persistent_keepalive "client 2 received $rx bytes: an initiation and keepalives"
else
	fail persistent_keepalive "client 2: latest handshake ${hs:-0}, received ${rx:-0} bytes"
fi

wgdp_stop in >/dev/null 2>&1
grep -q '^wgdp: rx' "$(wgdp_log in)" && note "$(grep '^wgdp: rx' "$(wgdp_log in)")"

# 3. both handshakes done: no ephemeral handshake state left in its slab
n=$(wgdp_counter in slab:handshake || true)
if [ "$n" = 0 ]; then
	pass handshake_state_freed "handshake slab empty at stop ($(grep '^wgdp: slabs' "$(wgdp_log in)"))"
else
	fail handshake_state_freed "handshake slab objects at stop: $n"
fi
exit "$FAILED"
