#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Demo: probe a real WireGuard peer with wgprobe. Sets up a throw-away
# wireguard-go peer in a network namespace, runs wgprobe against it from a
# second namespace (handshake, then 5 pings through the tunnel), prints what
# was measured and the peer's own view (wg show), and removes everything.
#
#   sudo bash scripts/demo-probe.sh          (runs scripts/setup.sh first and
#                                             builds wgprobe if it is missing)
#
# Environment: WGPROBE=path to use another wgprobe binary; WGDP_SKIP_SETUP=1
# to skip scripts/setup.sh.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

if [ "$(id -u)" -ne 0 ]; then
	echo "demo-probe: run as root (it creates network namespaces)" >&2
	exit 1
fi
[ "${WGDP_SKIP_SETUP:-0}" = 1 ] || bash "$ROOT/scripts/setup.sh"

WGPROBE=${WGPROBE:-$ROOT/build/tools/wgprobe}
if [ ! -x "$WGPROBE" ]; then
	echo "demo-probe: building wgprobe"
	[ -f build/build.ninja ] || meson setup build
	ninja -C build
fi

# shellcheck source=tests/lib/netns.sh
. "$ROOT/tests/lib/netns.sh"
netns_init
netns_pair
netns_wg_ifname WGIF

# the peer: wireguard-go in namespace A, listening on 192.0.2.1:51820 and
# [2001:db8::1]:51820, tunnel address 198.51.100.1; it knows our key
SRV_PUB=$(netns_wg_genkey peer)
PROBE_PUB=$(netns_wg_genkey probe)
netns_wg_start "$NS_A" "$WGIF"
netns_exec "$NS_A" wg set "$WGIF" listen-port 51820 private-key "$NETNS_TMP/peer.key" \
	peer "$PROBE_PUB" allowed-ips 198.51.100.2/32
netns_wg_up "$NS_A" "$WGIF" 198.51.100.1/24

cat <<EOF
== setup
wireguard-go interface $WGIF in namespace $NS_A
  endpoint 192.0.2.1:51820, public key $SRV_PUB, tunnel address 198.51.100.1
wgprobe in namespace $NS_B as peer $PROBE_PUB, tunnel address 198.51.100.2

== wgprobe --endpoint 192.0.2.1:51820 --peer-public-key $SRV_PUB \\
       --private-key probe.key --address 198.51.100.2 --ping 198.51.100.1 --count 5
EOF
rc=0
netns_exec "$NS_B" "$WGPROBE" --endpoint 192.0.2.1:51820 --peer-public-key "$SRV_PUB" \
	--private-key "$NETNS_TMP/probe.key" --address 198.51.100.2 --ping 198.51.100.1 --count 5 || rc=$?
echo "(exit status $rc)"

cat <<'EOF'

== what was measured
- handshake: from sending the first handshake initiation (type 1, 148 bytes,
  mac1 keyed with the peer's public key) to consuming the peer's response
  (type 2, 92 bytes) and deriving the transport keys: one UDP round trip
  plus the Noise IKpsk2 work on both sides;
- each reply time: from encrypting an ICMP echo request (84-byte IP packet,
  padded to 96, sent as a 128-byte transport message) to decrypting and
  checking the echo reply from 198.51.100.1 that the peer's kernel sent back
  through the tunnel;
- transport bytes: UDP payload of the transport messages (header, ciphertext,
  tag), which is what wireguard-go counts too, plus 148/92 bytes for the
  handshake messages it consumed and sent.

== the peer's view (wg show)
EOF
netns_exec "$NS_A" wg show "$WGIF"
echo
echo "== cleaning up (namespaces, wireguard-go, keys)"
exit "$rc"
