#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The REST API against a running wgdp (docs/api.md), in network namespaces:
#
#   ns srv: wgdp (af_packet on wout; TAP with 198.51.100.1/24, fd00:99::1/64
#           and the pools' first addresses 10.77.0.1/29, fd00:77::1/125),
#           REST API on 127.0.0.1:8080, state file
#   ns sw:  bridge joining wout, c1 and c2 (192.0.2.0/24)
#   ns c1:  wireguard-go client configured in wgdp's config file
#   ns c2:  a client brought up by wg-quick (over wireguard-go) from the config
#           file the API generated for a server-generated keypair
#
# Every route and method, every documented error with nothing changed after
# it (tests/lib/api_cases.py), the OpenAPI file against the server's routes,
# pool allocation and release, live figures after real traffic, and the
# generated config carrying traffic.
#
# The cases are functions called through run(), which shellcheck cannot see:
# shellcheck disable=SC2317
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SUITE=api
# shellcheck source=tests/lib/suite.sh
. "$HERE/lib/suite.sh"
suite_require wireguard-go wg wg-quick ip ss ping python3 nsenter openssl
suite_start

WGDP_ADDRESS="198.51.100.1/24, fd00:99::1/64, 10.77.0.1/29, fd00:77::1/125"

wgdp_api_testbed wgapi
netns_add c2 C2
netns_bridge_port "$SW" br0 "$C2" eth0
netns_addr "$C2" eth0 192.0.2.12/24
netns_wg_ifname C2IF
SRV_PRIV=$(cat "$NETNS_TMP/server.key")
CONF=$NETNS_TMP/wgdp.conf
wgdp_conf "$CONF" server wout "$TAP" "StateFile = $NETNS_TMP/state" "ApiTokenFile = $TOKEN_FILE"
sed -i 's#^MTU = .*#&\nAddressPool = 10.77.0.0/29, fd00:77::/125#' "$CONF"
wgdp_conf_peer "$CONF" "$C1_PUB" "198.51.100.2/32"

# api METHOD PATH [JSON]: the answer's body on stdout, status in $API_STATUS
api() {
	local out
	out=$(netns_exec "$SRV" env WGDP_LIB="$HERE/lib" python3 - "$TOKEN_FILE" "$@" <<'EOF'
import json, os, sys
sys.path.insert(0, os.environ["WGDP_LIB"])
from wgdp_api import Api
tok = open(sys.argv[1]).read().strip()
m, p = sys.argv[2], sys.argv[3]
body = json.loads(sys.argv[4]) if len(sys.argv) > 4 else None
st, b, _ = Api("http://127.0.0.1:8080", tok).call(m, p, body)
print(st)
print(json.dumps(b) if not isinstance(b, str) else b)
EOF
) || return 1
	API_STATUS=$(head -1 <<<"$out")
	tail -n +2 <<<"$out"
}

if ! wgdp_start main "$SRV" "$CONF"; then
	fail start "wgdp did not start"
	exit 1
fi
grep -q 'REST API on http://127.0.0.1:8080' "$(wgdp_log main)" || fail start "no REST API line in the log"
listen=$(netns_exec "$SRV" ss -ltnH 'sport = :8080' | awk '{ print $4 }' | tr '\n' ' ')
if [ "$listen" = "127.0.0.1:8080 " ]; then
	pass loopback_default "listens on $listen only"
else
	fail loopback_default "listening sockets on port 8080: '$listen'"
fi

netns_wg_client "$C1" "$C1IF" c1 "$SRV_PUB" "192.0.2.1:$WGDP_PORT" 198.51.100.0/24 198.51.100.2/24
if netns_exec "$C1" ping -n -c 3 -i 0.2 -w 10 198.51.100.1 >/dev/null; then
	pass traffic_c1 "configured client pings through the tunnel"
else
	fail traffic_c1 "no ping through the tunnel"
fi

# ---- the cases in Python --------------------------------------------------------

netns_exec "$SRV" python3 "$HERE/lib/api_cases.py" http://127.0.0.1:8080 "$TOKEN_FILE" \
	"${WGDP_OPENAPI:-$ROOT/docs/openapi.json}" "$ROOT/dataplane/counters.h" "$SRV_PUB" "$SRV_PRIV" "$C1_PUB" "$NETNS_TMP" ||
	FAILED=1

# ---- live figures of the configured client --------------------------------------------

# shellcheck disable=SC2001
c1_path=/api/v1/peers/$(sed 's#+#-#g; s#/#_#g' <<<"$C1_PUB")
body=$(api GET "$c1_path") || true
if python3 -c 'import json,sys; p=json.loads(sys.argv[1]); sys.exit(not (p["latest_handshake"] > 0 and p["rx_bytes"] > 0 and p["tx_bytes"] > 0 and p["current_endpoint"].startswith("192.0.2.11:")))' "$body" 2>/dev/null; then
	pass live_figures "$(python3 -c 'import json,sys; p=json.loads(sys.argv[1]); print("handshake %d, rx %d, tx %d bytes, from %s" % (p["latest_handshake"], p["rx_bytes"], p["tx_bytes"], p["current_endpoint"]))' "$body")"
else
	fail live_figures "GET $c1_path: $API_STATUS ${body:0:300}"
fi

# ---- the generated client config brings up a working wireguard-go client ---------------

if [ -s "$NETNS_TMP/generated.conf" ]; then
	cp "$NETNS_TMP/generated.conf" "$NETNS_TMP/$C2IF.conf"
	chmod 600 "$NETNS_TMP/$C2IF.conf"
	if ! out=$(netns_exec "$C2" env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
		WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go wg-quick up "$NETNS_TMP/$C2IF.conf" 2>&1); then
		fail generated_config "wg-quick up failed: $(tail -3 <<<"$out")"
	elif netns_exec "$C2" ping -n -c 3 -i 0.2 -w 10 198.51.100.1 >/dev/null &&
		netns_exec "$C2" ping -6 -n -c 3 -i 0.2 -w 10 fd00:99::1 >/dev/null; then
		gpub=$(cat "$NETNS_TMP/generated.pub")
		body=$(api GET "/api/v1/peers/$(sed 's#+#-#g; s#/#_#g' <<<"$gpub")") || true
		hs=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["latest_handshake"])' "$body" 2>/dev/null || echo 0)
		if [ "${hs:-0}" -gt 0 ]; then
			pass generated_config "wg-quick + wireguard-go from the API's config: ping v4 and v6 through wgdp, handshake at $hs"
		else
			fail generated_config "pings worked but the API shows no handshake: ${body:0:200}"
		fi
	else
		fail generated_config "wg-quick brought $C2IF up, but no ping through wgdp: $(netns_exec "$C2" wg show "$C2IF" 2>&1 | tr '\n' ' ')"
	fi
	netns_exec "$C2" wg-quick down "$NETNS_TMP/$C2IF.conf" >/dev/null 2>&1 || true
else
	fail generated_config "api_cases.py wrote no generated.conf"
fi

if wgdp_stop main; then
	pass clean_stop
else
	fail clean_stop "wgdp did not stop cleanly"
fi
# ---- TLS ----------------------------------------------------------------------------------

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
	-keyout "$NETNS_TMP/tls.key" -out "$NETNS_TMP/tls.crt" >/dev/null 2>&1
chmod 600 "$NETNS_TMP/tls.key"
# with TLS, and per-peer series off
sed "s#^ApiTokenFile = .*#&\nApiTlsCertificate = $NETNS_TMP/tls.crt\nApiTlsKey = $NETNS_TMP/tls.key\nMetricsPerPeer = off#" \
	"$CONF" >"$NETNS_TMP/tls.conf"
if ! wgdp_start tls "$SRV" "$NETNS_TMP/tls.conf"; then
	fail tls "wgdp did not start with ApiTlsCertificate"
else
	if out=$(netns_exec "$SRV" env WGDP_LIB="$HERE/lib" python3 - "$TOKEN_FILE" "$NETNS_TMP/tls.crt" "$SRV_PUB" <<'EOF'
import os, sys
sys.path.insert(0, os.environ["WGDP_LIB"])
from wgdp_api import Api
tok = open(sys.argv[1]).read().strip()
st, iface, _ = Api("https://127.0.0.1:8080", tok, cafile=sys.argv[2]).call("GET", "/api/v1/interface")
assert st == 200 and iface["public_key"] == sys.argv[3], (st, iface)
try:
    st2 = Api("http://127.0.0.1:8080", tok).call("GET", "/api/v1/interface")[0]
except Exception as e:
    st2 = type(e).__name__
assert st2 != 200, st2
st, m, _ = Api("https://127.0.0.1:8080", tok, cafile=sys.argv[2]).call("GET", "/metrics")
assert st == 200 and "wgdp_rx_packets_total" in m and "wgdp_peer_" not in m, "per-peer series with MetricsPerPeer = off"
print("GET /interface over TLS (certificate checked) 200; plain HTTP refused (%s); MetricsPerPeer = off: no wgdp_peer_ series" % st2)
EOF
	); then
		pass tls "$out"
	else
		fail tls "$out"
	fi
	grep -q 'REST API on https://' "$(wgdp_log tls)" || fail tls "no https line in the log"
	wgdp_stop tls || fail tls_clean_stop "wgdp did not stop cleanly"
fi
exit "$FAILED"
