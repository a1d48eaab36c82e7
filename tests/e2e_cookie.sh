#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# wgdp under a handshake flood: its control ring deeper than 1/8 of
# HandshakeQueue means "under load", and then initiations without a valid mac2
# get a cookie reply instead of a response. A flood of junk initiations with
# a valid mac1 (tests/lib/hsflood.py) puts it there; wgprobe must then get a
# cookie reply, resend with mac2, and complete its handshake and pings; and
# the data path of an established client must keep working during the flood.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SUITE=cookie
# shellcheck source=tests/lib/suite.sh
. "$HERE/lib/suite.sh"
suite_require wireguard-go wg ip ping python3 ethtool nsenter
suite_start

netns_add srv SRV
netns_add cl CL
netns_veth "$SRV" wout "$CL" eth0
netns_addr "$CL" eth0 192.0.2.11/24 192.0.2.12/24
SRV_PUB=$(netns_wg_genkey server)
CL_PUB=$(netns_wg_genkey client)
PROBE_PUB=$(netns_wg_genkey probe)
netns_wg_ifname WGIF
TAP=$(wgdp_tap_name ck)
CONF=$NETNS_TMP/cookie.conf
# a small control ring: under load from 8 queued handshake messages
wgdp_conf "$CONF" server wout "$TAP" "HandshakeQueue = 64"
wgdp_conf_peer "$CONF" "$CL_PUB" "198.51.100.2/32"
wgdp_conf_peer "$CONF" "$PROBE_PUB" "198.51.100.50/32"
if ! wgdp_start ck "$SRV" "$CONF"; then
	fail start "wgdp did not start"
	exit 1
fi
if ! netns_wg_client "$CL" "$WGIF" client "$SRV_PUB" "192.0.2.1:$WGDP_PORT" 198.51.100.0/24 198.51.100.2/24 ||
	! netns_exec "$CL" ping -n -c 2 -w 10 198.51.100.1 >/dev/null; then
	fail start "the client's session did not come up"
	exit 1
fi

netns_spawn "$CL" python3 "$HERE/lib/hsflood.py" 192.0.2.1 "$WGDP_PORT" "$SRV_PUB" 192.0.2.12 12 \
	>"$NETNS_TMP/flood.out" 2>&1 &
FP=$!
netns_track "$FP"
for _ in $(seq 1 80); do
	grep -q 'under load' "$NETNS_TMP/flood.out" && break
	sleep 0.1
done
if grep -q 'under load' "$NETNS_TMP/flood.out"; then
	pass under_load "$(head -1 "$NETNS_TMP/flood.out")"
else
	fail under_load "an 8 s flood drew no cookie reply from wgdp: $(cat "$NETNS_TMP/flood.out")"
fi

# during the flood: the established client's data keeps flowing
if out=$(netns_exec "$CL" ping -n -c 20 -i 0.1 -w 10 198.51.100.1 2>&1) &&
	echo "$out" | grep -q ' 0% packet loss'; then
	pass data_during_flood "$(echo "$out" | grep -o '[0-9]* received')"
else
	fail data_during_flood "$(echo "$out" | tail -2 | head -1)"
fi

# a new peer handshakes through the cookie exchange
if out=$(netns_exec "$CL" "$WGPROBE" --endpoint "192.0.2.1:$WGDP_PORT" --peer-public-key "$SRV_PUB" \
	--private-key "$NETNS_TMP/probe.key" --address 198.51.100.50 --ping 198.51.100.1 --count 3 \
	--timeout 5 --json) &&
	python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["ok"] and d["cookie_replies"] >= 1, d' <<<"$out"; then
	pass probe_with_cookie "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print("%d cookie replies, handshake %.2f ms" % (d["cookie_replies"], d["handshake_ms"]))' <<<"$out")"
else
	note "wgprobe: $out"
	fail probe_with_cookie "no handshake through a cookie reply"
fi
kill "$FP" 2>/dev/null || true
wait "$FP" 2>/dev/null || true

wgdp_stop ck >/dev/null 2>&1
note "$(grep '^wgdp: ' "$(wgdp_log ck)" | tail -8)"
# cookie replies are counted apart from handshake messages: the flood drew many, the two
# peers' handshakes (a response each, a retry or two) only a few
cookies=$(wgdp_counter ck cookies_tx) hs=$(wgdp_counter ck handshakes_tx)
if [ "$cookies" -ge 1 ] 2>/dev/null && [ "$hs" -le 10 ] 2>/dev/null; then
	pass cookie_counters "cookies tx $cookies, handshakes tx $hs"
else
	fail cookie_counters "cookies tx $cookies, handshakes tx $hs (want >= 1, <= 10)"
fi
# the flood and the handshakes (answered, as responder) left no ephemeral state in its slab
n=$(wgdp_counter ck slab:handshake || true)
if [ "$n" = 0 ]; then
	pass handshake_state_freed "handshake slab empty at stop"
else
	fail handshake_state_freed "handshake slab objects at stop: $n"
fi
exit "$FAILED"
