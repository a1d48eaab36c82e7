#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Long end-to-end test: one TCP stream through wgdp across at least two
# rekeys. A wireguard-go client (the initiator) starts a new handshake when
# its current keypair is older than REKEY_AFTER_TIME (120 s) and it sends, so
# a 250-s upload sees handshakes at ~0, ~120 and ~240 s. wgdp (the responder)
# must switch to each new keypair (confirmed by the client's first data on
# it) while still accepting the previous one, and its TCP ACKs, which it
# encrypts, must keep flowing: a stall of a second shows as an empty interval.
#
#   ns srv: wgdp, outside af_packet on veth wout, TAP 198.51.100.1/24
#   ns c1:  wireguard-go, outer 192.0.2.11/24, tunnel 198.51.100.2
#
#   tests/e2e_rekey.sh          (root; about 4.5 minutes)
#   WGDP_SKIP_LONG=1            skip it (one SKIP line)
#   WGDP_REKEY_SECONDS=250      length of the stream
#
# Checks: every 1-s interval of the receiver (iperf3 server) carried bytes;
# the client's latest-handshake time took at least 3 distinct values; wgdp
# counted at least 3 handshake messages received; it stopped cleanly, with no
# handshake state left in its slab.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SECS=${WGDP_REKEY_SECONDS:-250}
SUITE=rekey
# shellcheck source=tests/lib/suite.sh
. "$HERE/lib/suite.sh"
if [ "${WGDP_SKIP_LONG:-0}" = 1 ]; then
	skip stream_across_rekeys "WGDP_SKIP_LONG=1 (a ${SECS}-s stream)"
	exit 0
fi
suite_require wireguard-go wg ip iperf3 ethtool python3 nsenter
suite_start

netns_add srv SRV
netns_add c1 C1
netns_veth "$SRV" wout "$C1" eth0
netns_addr "$C1" eth0 192.0.2.11/24 2001:db8:1::11/64
SRV_PUB=$(netns_wg_genkey server)
C1_PUB=$(netns_wg_genkey c1)
TAP=$(wgdp_tap_name wgrk)
CONF=$NETNS_TMP/rekey.conf
wgdp_conf "$CONF" server wout "$TAP"
wgdp_conf_peer "$CONF" "$C1_PUB" "198.51.100.2/32, fd00:99::2/128"
netns_wg_ifname WGIF

if ! wgdp_start rekey "$SRV" "$CONF"; then
	fail stream_across_rekeys "wgdp did not start (see above)"
	exit 1
fi
netns_wg_client "$C1" "$WGIF" c1 "$SRV_PUB" "192.0.2.1:$WGDP_PORT" 198.51.100.0/24,fd00:99::/64 \
	198.51.100.2/24 fd00:99::2/64
netns_spawn "$SRV" iperf3 -s -J -B 198.51.100.1 >"$NETNS_TMP/iperf3-s.log" 2>&1 &
netns_track $!
sleep 0.5
netns_exec "$C1" ping -n -q -c 3 -i 0.2 -w 10 198.51.100.1 >/dev/null || note "first ping failed"

# the client's view of handshakes, every 2 s, while the stream runs
(
	while :; do
		netns_exec "$C1" wg show "$WGIF" latest-handshakes | awk '{ print $2 }'
		sleep 2
	done
) >"$NETNS_TMP/handshakes" 2>/dev/null &
SAMPLER=$!
netns_track "$SAMPLER"

note "iperf3 -t $SECS through wgdp (expect handshakes at ~0, ~120, ~240 s)"
netns_exec "$C1" iperf3 -c 198.51.100.1 -t "$SECS" -i 1 -J --get-server-output \
	>"$NETNS_TMP/rekey.json" 2>"$NETNS_TMP/rekey.err" || true
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
netns_untrack "$SAMPLER"

ok=0
if ! res=$(wgdp_iperf3_check "$NETNS_TMP/rekey.json" "$SECS"); then
	note "iperf3: $res" "$(head -c 300 "$NETNS_TMP/rekey.err")"
	ok=1
fi
# distinct non-zero handshake times seen by the client (a rekey that only
# lands after the stream ended is still counted by the last sample)
netns_exec "$C1" wg show "$WGIF" latest-handshakes | awk '{ print $2 }' >>"$NETNS_TMP/handshakes"
hs_times=$(grep -v '^0$' "$NETNS_TMP/handshakes" | sort -u | tr '\n' ' ')
n_times=$(wc -w <<<"$hs_times")
start=$(head -1 <<<"$hs_times" | awk '{ print $1 }')
rel=$(for t in $hs_times; do echo "+$((t - start))s"; done | paste -sd " ")
note "client's latest-handshake values: $rel"
if [ "$n_times" -lt 3 ]; then
	note "the client handshook $n_times time(s), expected at least 3 (initial + 2 rekeys)"
	ok=1
fi
wgdp_stop rekey || ok=1
note "wgdp: $(wgdp_counters rekey | tr '\n' ';')"
hs=$(wgdp_counter rekey handshakes_rx)
if [ "$hs" = "?" ] || [ "$hs" -lt 3 ]; then
	note "wgdp handshakes rx $hs, expected >= 3"
	ok=1
fi
# wgdp answered every handshake: none left holding ephemeral state
n=$(wgdp_counter rekey slab:handshake || true)
if [ "$n" != 0 ]; then
	note "wgdp handshake slab objects at stop: $n, expected 0"
	ok=1
fi
for d in bad_tag replay keypair_expired unknown_index; do
	n=$(wgdp_counter rekey "drop:$d")
	[ "$n" = 0 ] || note "wgdp drop $d $n"
done
if [ "$ok" -eq 0 ]; then
	pass stream_across_rekeys "${res%%,*}, $SECS s, $n_times handshakes at $rel, wgdp handshakes rx $hs"
else
	fail stream_across_rekeys "see above"
fi
exit "$FAILED"
