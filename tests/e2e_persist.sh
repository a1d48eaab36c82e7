#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Persistent state (StateFile, control/state.c): changes made through the
# REST API and through the wg UAPI socket survive `kill -9` and a restart
# with every peer, key and allocated address; the configured client
# reconnects by itself; a corrupt state file stops the start and is not
# applied; a torn last journal record (an append that was never
# acknowledged) is dropped with a message.
#
#   ns srv: wgdp (af_packet on wout, TAP, REST API, StateFile)
#   ns sw:  bridge; ns c1: wireguard-go client from the config file
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SUITE=persist
# shellcheck source=tests/lib/suite.sh
. "$HERE/lib/suite.sh"
suite_require wireguard-go wg ip ping python3 nsenter
suite_start

WGDP_ADDRESS="198.51.100.1/24, fd00:99::1/64, 10.77.0.1/24"
wgdp_api_testbed wgper
STATE=$NETNS_TMP/state
CONF=$NETNS_TMP/wgdp.conf
wgdp_conf "$CONF" server wout "$TAP" "StateFile = $STATE" "ApiTokenFile = $TOKEN_FILE"
sed -i 's#^MTU = .*#&\nAddressPool = 10.77.0.0/24#' "$CONF"
wgdp_conf_peer "$CONF" "$C1_PUB" "198.51.100.2/32"
UAPI_PUB=$(netns_wg_genkey uapi)
head -c 32 /dev/urandom | base64 >"$NETNS_TMP/psk"

# py SCRIPT ARGS...: a Python snippet with the API client as `api`, in srv
py() {
	local code=$1
	shift
	netns_exec "$SRV" env WGDP_LIB="$HERE/lib" TOKEN_FILE="$TOKEN_FILE" python3 -c "
import json, os, sys
sys.path.insert(0, os.environ['WGDP_LIB'])
from wgdp_api import Api, genkey, url_key
api = Api('http://127.0.0.1:8080', open(os.environ['TOKEN_FILE']).read().strip())
$code" "$@"
}

# the whole configuration as the API shows it, with each peer's client config
SNAPSHOT='
LIVE = {"current_endpoint", "latest_handshake", "rx_bytes", "tx_bytes", "rx_packets", "tx_packets"}
st, iface, _ = api.call("GET", "/api/v1/interface")
st2, peers, _ = api.call("GET", "/api/v1/peers")
assert st == 200 and st2 == 200
out = {"interface": iface, "peers": {}}
for p in peers["peers"]:
    q = {k: v for k, v in p.items() if k not in LIVE}
    q["config"] = api.call("GET", "/api/v1/peers/%s/config" % url_key(p["public_key"]))[1]
    out["peers"][p["public_key"]] = q
print(json.dumps(out, sort_keys=True, indent=1))'

ping_ok() { # NS TARGET DEADLINE
	netns_exec "$1" ping -n -c 3 -i 0.2 -w "$3" "$2" >/dev/null 2>&1
}

kill9() {
	local pid=${WGDP_PID[$1]}
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	netns_untrack "$pid"
	unset "WGDP_PID[$1]"
}

if ! wgdp_start one "$SRV" "$CONF"; then
	fail start "wgdp did not start"
	exit 1
fi
netns_wg_client "$C1" "$C1IF" c1 "$SRV_PUB" "192.0.2.1:$WGDP_PORT" 198.51.100.0/24 198.51.100.2/24
ping_ok "$C1" 198.51.100.1 10 || fail traffic "no ping before the changes"

# ---- changes through both interfaces ------------------------------------------------

if ! out=$(py '
res = []
for body in ({"name": "generated", "preshared_key": "generate"},
             {"public_key": sys.argv[1], "name": "disabled one", "enabled": False, "allowed_ips": ["10.88.0.0/16"]},
             {"public_key": sys.argv[2], "addresses": ["10.77.0.200"], "endpoint": "192.0.2.99:7777",
              "persistent_keepalive": 30}):
    st, p, _ = api.call("POST", "/api/v1/peers", body)
    assert st == 201, (st, p)
    res.append(p["addresses"])
st, p, _ = api.call("PATCH", "/api/v1/interface", {"address_pools": ["10.77.0.0/24", "fd00:77::/64"]})
assert st == 200, p
st, i, _ = api.call("GET", "/api/v1/interface")
st, p, _ = api.call("PATCH", "/api/v1/interface", {"addresses": i["addresses"] + ["10.79.0.1/24"]})
assert st == 200, p
print(res)' "$(wg genkey | wg pubkey)" "$(wg genkey | wg pubkey)" 2>&1); then
	fail api_changes "$out"
fi
netns_exec "$SRV" wg set "$TAP" peer "$UAPI_PUB" allowed-ips 10.66.0.0/24,fd00:66::/64 \
	preshared-key "$NETNS_TMP/psk" endpoint 192.0.2.55:5555 || fail uapi_changes "wg set failed"
netns_exec "$SRV" wg set "$TAP" peer "$C1_PUB" allowed-ips 198.51.100.2/32,10.55.0.0/24 ||
	fail uapi_changes "wg set (existing peer) failed"
BEFORE=$(py "$SNAPSHOT")
WGBEFORE=$(netns_exec "$SRV" wg showconf "$TAP")
n=$(python3 -c 'import json,sys; print(len(json.loads(sys.argv[1])["peers"]))' "$BEFORE")
[ "$n" -eq 5 ] || fail api_changes "expected 5 peers, the API lists $n"

# ---- kill -9, restart ------------------------------------------------------------------------

kill9 one
sleep 0.5
if ! wgdp_start two "$SRV" "$CONF"; then
	fail restart "wgdp did not start again after kill -9"
	exit 1
fi
grep -q "state file $STATE: loaded" "$(wgdp_log two)" || fail restart "no 'loaded' line: $(grep state "$(wgdp_log two)")"
AFTER=$(py "$SNAPSHOT")
ip -n "$SRV" -o addr show dev "$TAP" | grep -q ' 10.79.0.1/24 ' ||
	fail kill9_nothing_lost "the inside address added through the API is not on $TAP after the restart"
if [ "$BEFORE" = "$AFTER" ]; then
	pass kill9_nothing_lost "5 peers, keys, psks, names, enabled flags, allocated and explicit addresses, pools, inside addresses (on the TAP again), client configs with their private keys: identical"
else
	fail kill9_nothing_lost "state differs after restart: $(diff <(echo "$BEFORE") <(echo "$AFTER") | head -40 | tr '\n' ' ')"
fi
t0=$(date +%s)
if ping_ok "$C1" 198.51.100.1 40; then
	pass client_reconnects "the client's traffic flows again after $(($(date +%s) - t0)) s without touching it"
else
	fail client_reconnects "no ping from the client within 40 s of the restart"
fi
# the client's learned endpoint is not configuration: compare once it is back
WGAFTER=$(netns_exec "$SRV" wg showconf "$TAP")
if [ "$WGBEFORE" = "$WGAFTER" ]; then
	pass kill9_wg_showconf "wg showconf identical (private key, port, every peer)"
else
	fail kill9_wg_showconf "$(diff <(echo "$WGBEFORE") <(echo "$WGAFTER") | head -20 | tr '\n' ' ')"
fi
if out=$(py '
st, p, _ = api.call("POST", "/api/v1/peers", {"public_key": sys.argv[1]})
assert st == 201, (st, p)
print(" ".join(p["addresses"]))' "$(wg genkey | wg pubkey)" 2>&1) && [ "$out" = "10.77.0.4/32 fd00:77::1/128" ]; then
	pass allocation_continues "next peer gets $out (10.77.0.2-3 were taken before the restart; the IPv6 pool is new)"
else
	fail allocation_continues "$out"
fi

# ---- a corrupt state file is not applied ------------------------------------------------------------

wgdp_stop two || fail clean_stop "wgdp did not stop cleanly"
cp "$STATE" "$NETNS_TMP/state.good"
cp "$STATE.journal" "$NETNS_TMP/journal.good"
size=$(stat -c %s "$STATE")
python3 - "$STATE" $((size / 2)) <<'EOF'
import sys
p, off = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read())
b[off] ^= 0x20
open(p, "wb").write(bytes(b))
EOF
read -r -a eal <<<"$(wgdp_eal corrupt)"
rc=0
out=$(netns_exec "$SRV" "$WGDP" "${eal[@]}" -- --config "$CONF" 2>&1) || rc=$?
if [ "$rc" -eq 1 ] && grep -q "StateFile $STATE: .*nothing of it is applied" <<<"$out" &&
	! ip -n "$SRV" link show "$TAP" >/dev/null 2>&1; then
	pass corrupt_refused "exit 1: $(grep StateFile <<<"$out" | head -1)"
else
	fail corrupt_refused "exit $rc: $(tail -3 <<<"$out")"
fi
cmp -s "$STATE" <(python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[int(sys.argv[2])]^=0x20; sys.stdout.buffer.write(bytes(b))' "$NETNS_TMP/state.good" $((size / 2))) ||
	fail corrupt_untouched "the refused start changed the state file"

# a torn last record: the start goes on, says so, and the state is the acknowledged one
cp "$NETNS_TMP/state.good" "$STATE"
cp "$NETNS_TMP/journal.good" "$STATE.journal"
printf 'wgjr\x01\x00\x00' >>"$STATE.journal"
if wgdp_start three "$SRV" "$CONF" && grep -qi "torn\|dropped\|cut" "$(wgdp_log three)"; then
	n=$(py 'print(api.call("GET", "/api/v1/peers")[1]["total"])')
	if [ "$n" -eq 6 ]; then
		pass torn_tail "started, reported: $(grep -i "state file" "$(wgdp_log three)" | head -1 | cut -c1-160)"
	else
		fail torn_tail "started, but $n peers instead of 6"
	fi
	wgdp_stop three || fail clean_stop "wgdp did not stop cleanly"
else
	fail torn_tail "no start or no message: $(tail -5 "$(wgdp_log three)" | tr '\n' ' ')"
fi
exit "$FAILED"
