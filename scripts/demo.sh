#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Demo: the wgdp appliance with one real WireGuard client, on this machine,
# no NIC needed. Two network namespaces joined by a veth pair:
#
#   wgt-demo-server: wgdp with conf/demo-netns.conf; outside = DPDK
#       net_af_packet on the veth end wgdp-out (wgdp owns 192.0.2.1 and
#       2001:db8:1::1 there), inside = the TAP interface wgdp0 it creates
#       (198.51.100.1/24, fd00:99::1/64)
#   wgt-demo-client: wireguard-go on eth0 (192.0.2.2/24), tunnel address
#       198.51.100.2 / fd00:99::2, with the demo key that config expects
#
# It shows the client's `wg show` after a first ping through the tunnel and
# the commands to try, then waits for Ctrl-C, stops wgdp (which prints its
# counters) and removes everything.
#
#   sudo bash scripts/demo.sh           interactive, until Ctrl-C
#   sudo bash scripts/demo.sh --once    ping + a 3-s iperf3, print the results,
#                                       clean up; exit 0 when both worked
#
# It runs scripts/setup.sh first (skip with WGDP_SKIP_SETUP=1) and builds
# build/wgdp if it is missing. NETNS_ID (default "demo") names the
# namespaces wgt-<id>-server and wgt-<id>-client.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
ONCE=0
case ${1:-} in
"") ;;
--once) ONCE=1 ;;
-h | --help)
	sed -n '3,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "usage: scripts/demo.sh [--once]" >&2
	exit 2
	;;
esac

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (it creates network namespaces and runs DPDK)" >&2
	exit 1
fi
[ "${WGDP_SKIP_SETUP:-0}" = 1 ] || bash "$ROOT/scripts/setup.sh"
if [ ! -x build/wgdp ]; then
	echo "demo: building wgdp"
	[ -f build/build.ninja ] || meson setup build
	ninja -C build
fi

CONF=$ROOT/conf/demo-netns.conf
# The demo client's private key, given in a comment of $CONF (demo only).
CLIENT_KEY=UDzIIysHxroMBHyriHRf7K7CXtX9xCaY6yFusLc4JEc=

export NETNS_ID=${NETNS_ID:-demo}
for s in server client; do
	if ip netns list | grep -q "^wgt-$NETNS_ID-$s\b"; then
		echo "demo: namespace wgt-$NETNS_ID-$s exists: another demo is running (or was killed);" \
			"stop it, or remove it with: ip netns del wgt-$NETNS_ID-$s" >&2
		exit 1
	fi
done

# shellcheck source=tests/lib/netns.sh
. "$ROOT/tests/lib/netns.sh"
# shellcheck source=tests/lib/wgdp.sh
. "$ROOT/tests/lib/wgdp.sh"
netns_init

conf_value() { # KEY: the first value of KEY in $CONF
	sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\([^[:space:]#]*\).*/\1/p" "$CONF" | head -1
}
SRV_PUB=$(conf_value PrivateKey | wg pubkey)
PEER_PUB=$(conf_value PublicKey)
echo "$CLIENT_KEY" >"$NETNS_TMP/client.key"
if [ "$(wg pubkey <"$NETNS_TMP/client.key")" != "$PEER_PUB" ]; then
	echo "demo: the [Peer] PublicKey of $CONF is not the demo client's key any more" >&2
	exit 1
fi
OUTSIDE_IF=$(sed -n 's/^[[:space:]]*OutsideDevice[[:space:]]*=.*iface=\([^,[:space:]]*\).*/\1/p' "$CONF")
TAP=$(wgdp_conf_tap "$CONF")
PORT=$(conf_value ListenPort)

SRV_NS="" CLI_NS=""
netns_add server SRV_NS
netns_add client CLI_NS
netns_veth "$SRV_NS" "$OUTSIDE_IF" "$CLI_NS" eth0
netns_addr "$CLI_NS" eth0 192.0.2.2/24 2001:db8:1::2/64
netns_wg_ifname WGIF

# the demo's own copy of the config, with the REST API and a state file in its scratch space
TOKEN_FILE=$NETNS_TMP/api.token
head -c 32 /dev/urandom | base64 | tr -d '=+/' >"$TOKEN_FILE"
chmod 600 "$TOKEN_FILE"
sed "s#^\[Appliance\]#&\nApiTokenFile = $TOKEN_FILE\nStateFile = $NETNS_TMP/state#" "$CONF" >"$NETNS_TMP/demo.conf"
echo "== wgdp in namespace $SRV_NS: $WGDP $(wgdp_eal demo) -- --config $NETNS_TMP/demo.conf"
echo "   (conf/demo-netns.conf plus ApiTokenFile and StateFile in $NETNS_TMP)"
if ! wgdp_start demo "$SRV_NS" "$NETNS_TMP/demo.conf"; then
	echo "demo: wgdp did not start" >&2
	exit 1
fi
grep '^wgdp: ' "$(wgdp_log demo)" | sed 's/^/   /'
ip -n "$SRV_NS" -br addr show dev "$TAP" | sed 's/^/   /'

echo "== wireguard-go $WGIF in namespace $CLI_NS"
# listen-port 51820: the config names 192.0.2.2:51820 as the client's Endpoint
netns_wg_client "$CLI_NS" "$WGIF" client "$SRV_PUB" "192.0.2.1:$PORT" 198.51.100.0/24,fd00:99::/64 \
	198.51.100.2/24 fd00:99::2/64
netns_exec "$CLI_NS" wg set "$WGIF" listen-port 51820

rc=0
echo "== first ping: ip netns exec $CLI_NS ping -c 3 198.51.100.1"
netns_exec "$CLI_NS" ping -n -c 3 -i 0.2 -w 10 198.51.100.1 | sed 's/^/   /' || rc=1
echo "== the client's view: ip netns exec $CLI_NS wg show $WGIF"
netns_exec "$CLI_NS" wg show "$WGIF" | sed 's/^/   /'

stop_wgdp() {
	echo "== stopping wgdp (its counters)"
	wgdp_stop demo || rc=1
	grep -E '^wgdp: (rx [0-9]|drop |stopped)' "$(wgdp_log demo)" | sed 's/^/   /'
}

if [ "$ONCE" -eq 1 ]; then
	echo "== iperf3, 3 s, client -> server through the tunnel"
	netns_spawn "$SRV_NS" iperf3 -s -1 -J -B 198.51.100.1 >"$NETNS_TMP/iperf3-s.log" 2>&1 &
	netns_track $!
	sleep 0.5
	netns_exec "$CLI_NS" iperf3 -c 198.51.100.1 -t 3 -i 1 -J --get-server-output >"$NETNS_TMP/iperf3.json" 2>&1 || true
	if res=$(wgdp_iperf3_check "$NETNS_TMP/iperf3.json" 3); then
		echo "   $res"
	else
		echo "   iperf3 failed: $res"
		rc=1
	fi
	echo "== the server pings the client: ip netns exec $SRV_NS ping -c 3 198.51.100.2"
	netns_exec "$SRV_NS" ping -n -c 3 -i 0.2 -w 10 198.51.100.2 | tail -2 | sed 's/^/   /' || rc=1
	stop_wgdp
	echo "== cleaning up (namespaces, wgdp, wireguard-go)"
	[ "$rc" -eq 0 ] && echo "demo: OK" || echo "demo: FAILED"
	exit "$rc"
fi

try() { printf '   %-56s # %s\n' "$1" "$2"; }
echo
echo "== wgdp is running. Try, in another terminal (as root):"
try "ip netns exec $CLI_NS ping 198.51.100.1" "client -> server, IPv4 in the tunnel"
try "ip netns exec $CLI_NS ping fd00:99::1" "IPv6 in the tunnel"
try "ip netns exec $SRV_NS ping 198.51.100.2" "server -> client"
try "ip netns exec $SRV_NS iperf3 -s" "then:"
try "ip netns exec $CLI_NS iperf3 -c 198.51.100.1" "TCP through wgdp (-R: the other way)"
try "ip netns exec $CLI_NS wg show $WGIF" "the client's view"
try "ip netns exec $SRV_NS tcpdump -ni $TAP" "decrypted traffic on wgdp's TAP"
try "ip netns exec $CLI_NS tcpdump -ni eth0 udp" "the encrypted side"
try "ip netns exec $SRV_NS wg show $TAP" "wgdp seen by the stock wg tool"
AUTH="-H 'Authorization: Bearer $(cat "$TOKEN_FILE")'"
try "ip netns exec $SRV_NS curl -s $AUTH http://127.0.0.1:8080/api/v1/peers" "the REST API (docs/api.md)"
try "ip netns exec $SRV_NS curl -s $AUTH http://127.0.0.1:8080/metrics" "Prometheus metrics"
try "dpdk-telemetry.py -f wgdp-$NETNS_ID-demo" "then /wgdp/peers (docs/telemetry.md)"
echo "Ctrl-C here stops wgdp (it prints its counters) and removes everything."

STOP=0
trap 'STOP=1' INT TERM
while [ "$STOP" -eq 0 ] && kill -0 "${WGDP_PID[demo]}" 2>/dev/null; do
	sleep 1 || true
done
# a Ctrl-C in the terminal reaches wgdp too, which may stop before our trap runs
sleep 0.5 || true
if [ "$STOP" -eq 0 ]; then
	echo "demo: wgdp exited on its own" >&2
	rc=1
fi
echo
stop_wgdp
echo "== cleaning up (namespaces, wgdp, wireguard-go)"
exit "$rc"
