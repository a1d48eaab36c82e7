#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# End-to-end test of the wgdp appliance against real WireGuard clients
# (wireguard-go), all in network namespaces on this host (see docs/e2e.md):
#
#   ns srv: wgdp (af_packet on veth wout; TAP with 198.51.100.1/24, fd00:99::1/64)
#   ns sw:  bridge br0 joining wout and every client's eth0 (192.0.2.0/24,
#           2001:db8:1::/64; wgdp owns 192.0.2.1 and 2001:db8:1::1)
#   ns c1, c2, c3: wireguard-go clients 198.51.100.2-4 / fd00:99::2-4
#   ns gs, gc: two wireguard-go peers on the same bridge (tunnel 203.0.113.0/24),
#           the throughput baseline
#
#   tests/e2e_wgdp.sh            (root; $WGDP or build/wgdp)
#
# One line per case, PASS/FAIL/SKIP e2e/<case>; exits non-zero if any failed.
# Environment: WGDP_E2E_SECONDS (iperf3 run time, default 10).
#
# The cases are functions called through run(), which shellcheck cannot see:
# shellcheck disable=SC2317
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SECS=${WGDP_E2E_SECONDS:-10}
SUITE=e2e
# shellcheck source=tests/lib/suite.sh
. "$HERE/lib/suite.sh"
suite_require wireguard-go wg ip ping iperf3 tcpdump ethtool python3 nsenter
suite_start

# ---- the network ------------------------------------------------------------

netns_add srv SRV
netns_add sw SW
netns_add c1 C1
netns_add c2 C2
netns_add c3 C3
netns_bridge "$SW" br0
netns_bridge_port "$SW" br0 "$SRV" wout # wgdp's outside: no kernel address
CLIENTS=(1 2 3)
declare -A NS=([1]=$C1 [2]=$C2 [3]=$C3) WGIF=() PUB=()
for i in "${CLIENTS[@]}"; do
	netns_bridge_port "$SW" br0 "${NS[$i]}" eth0
	netns_addr "${NS[$i]}" eth0 "192.0.2.1$i/24" "2001:db8:1::1$i/64"
	netns_wg_ifname "WGIF[$i]"
	PUB[$i]=$(netns_wg_genkey "c$i")
done
SRV_PUB=$(netns_wg_genkey server)
PROBE_PUB=$(netns_wg_genkey probe)
TAP=$(wgdp_tap_name wgdp)
ALLOWED=198.51.100.0/24,fd00:99::/64

# client i: tunnel 198.51.100.(i+1), fd00:99::(i+1)
tun4() { echo "198.51.100.$(($1 + 1))"; }
tun6() { echo "fd00:99::$(($1 + 1))"; }

conf_for() { # FILE CLIENT...: wgdp's config with these clients as peers
	local file=$1 i
	shift
	wgdp_conf "$file" server wout "$TAP"
	for i in "$@"; do
		wgdp_conf_peer "$file" "${PUB[$i]}" "$(tun4 "$i")/32, $(tun6 "$i")/128"
	done
}

client_up() { # CLIENT [ENDPOINT]: start wireguard-go for client i
	local i=$1 ep=${2:-192.0.2.1:$WGDP_PORT}
	netns_wg_client "${NS[$i]}" "${WGIF[$i]}" "c$i" "$SRV_PUB" "$ep" "$ALLOWED" \
		"$(tun4 "$i")/24" "$(tun6 "$i")/64"
}

# a new wgdp forgets every session: make the client forget its own too, so
# its next packet starts a handshake at once (not after 15 s of silence)
client_reset() { # CLIENT [ENDPOINT]
	local i=$1 ep=${2:-192.0.2.1:$WGDP_PORT}
	netns_wg_peer_reset "${NS[$i]}" "${WGIF[$i]}" "$SRV_PUB" "$ep" "$ALLOWED"
}

# ping_ok NS TARGET [ping options...]: 3 replies within 10 s (the first
# packet may wait for a handshake)
ping_ok() {
	local ns=$1 dst=$2 out
	shift 2
	if ! out=$(netns_exec "$ns" ping -n -c 3 -i 0.2 -w 10 "$@" "$dst" 2>&1); then
		note "ping $dst from $ns failed:" "$(echo "$out" | tail -2)"
		return 1
	fi
}

# wg_transfer NS IF: "rx tx" bytes of the interface's only peer
wg_transfer() {
	netns_exec "$1" wg show "$2" transfer | awk '{ print $2, $3 }'
}

# ---- cases --------------------------------------------------------------------

# 8. A bad config: one line naming the file, the line and the value, exit 1,
# no interface created; --check says the same; a good one passes --check.
case_bad_config() {
	local good=$NETNS_TMP/good.conf bad=$NETNS_TMP/bad.conf bad2=$NETNS_TMP/bad2.conf line line2 before after rc out ok=0
	local eal
	read -r -a eal <<<"$(wgdp_eal badconf)"
	conf_for "$good" 1 2
	# the first peer's AllowedIPs become `10.0.0/33'
	line=$(grep -n '^AllowedIPs' "$good" | head -1 | cut -d: -f1)
	sed "${line}s#=.*#= 10.0.0/33#" "$good" >"$bad"
	# a misspelt key in [Appliance]
	line2=$(grep -n '^OutsideAddress' "$good" | cut -d: -f1)
	sed "${line2}a Wokers = 1" "$good" >"$bad2"
	line2=$((line2 + 1))
	before=$(ip -n "$SRV" -o link show | awk -F': ' '{ print $2 }' | sort)
	for check in "" --check; do
		rc=0
		out=$(netns_exec "$SRV" "$WGDP" "${eal[@]}" -- --config "$bad" ${check:+"$check"} 2>&1) || rc=$?
		if [ "$rc" -ne 1 ] || ! grep -q "^wgdp: $bad:$line: .*AllowedIPs.*10.0.0/33" <<<"$out"; then
			note "wgdp ${check:-(run)} on a bad AllowedIPs (line $line): exit $rc, output:" "$out"
			ok=1
		else
			note "${check:-run}: exit 1: $(grep "^wgdp: $bad" <<<"$out")"
		fi
		rc=0
		out=$(netns_exec "$SRV" "$WGDP" "${eal[@]}" -- --config "$bad2" ${check:+"$check"} 2>&1) || rc=$?
		if [ "$rc" -ne 1 ] || ! grep -q "^wgdp: $bad2:$line2: .*Wokers" <<<"$out"; then
			note "wgdp ${check:-(run)} on an unknown key (line $line2): exit $rc, output:" "$out"
			ok=1
		fi
	done
	rc=0
	out=$(netns_exec "$SRV" "$WGDP" "${eal[@]}" -- --config "$NETNS_TMP/missing.conf" 2>&1) || rc=$?
	if [ "$rc" -ne 1 ] || ! grep -q "missing.conf: No such file" <<<"$out"; then
		note "wgdp on a missing file: exit $rc, output:" "$out"
		ok=1
	fi
	after=$(ip -n "$SRV" -o link show | awk -F': ' '{ print $2 }' | sort)
	if [ "$before" != "$after" ]; then
		note "interfaces before: $before" "after: $after"
		ok=1
	fi
	rc=0
	out=$(netns_exec "$SRV" "$WGDP" "${eal[@]}" -- --config "$good" --check 2>&1) || rc=$?
	if [ "$rc" -ne 0 ] || ! grep -q "OK: 2 peer" <<<"$out"; then
		note "--check on a good config: exit $rc, output:" "$out"
		ok=1
	fi
	return "$ok"
}

# 7. Counters after a fresh start, one client, only pings:
#  - an ICMP echo with ping's default 56 data bytes is an IPv4 packet of
#    20 (IP) + 8 (ICMP) + 56 = 84 bytes; wgdp counts forwarded data packets
#    and their inner IP bytes (keepalives separately), so after N pings from
#    the client and M from the server's namespace, each direction carries
#    N + M packets of 84 bytes: rx = tx = N + M packets, 84 (N + M) bytes;
#  - on the wire each is a transport message of 16 (header) + 96 (84 padded
#    to a multiple of 16) + 16 (tag) = 128 bytes of UDP payload, a keepalive
#    32, an initiation 148, a response 92. wireguard-go's `wg show transfer`
#    counts exactly these UDP payloads (handshakes and keepalives included),
#    so, the client being the initiator (wgdp only responds):
#      client received = 92 hs_tx + 128 tx_packets + 32 keepalives_tx
#      client sent     = 148 hs_rx + 128 rx_packets + 32 keepalives_rx
#    with wgdp's counters on the right.
CNT_N=5
CNT_M=3
case_counters() {
	local conf=$NETNS_TMP/cnt.conf ok=0 tr rx tx k want got
	conf_for "$conf" 1
	wgdp_start cnt "$SRV" "$conf" || return 1
	netns_exec "$C1" ping -n -q -c "$CNT_N" -i 0.2 -w 10 198.51.100.1 >"$NETNS_TMP/cnt-ping1" 2>&1 || {
		note "client ping: $(tail -2 "$NETNS_TMP/cnt-ping1")"
		ok=1
	}
	netns_exec "$SRV" ping -n -q -c "$CNT_M" -i 0.2 -w 10 "$(tun4 1)" >"$NETNS_TMP/cnt-ping2" 2>&1 || {
		note "server ping: $(tail -2 "$NETNS_TMP/cnt-ping2")"
		ok=1
	}
	tr=$(wg_transfer "$C1" "${WGIF[1]}")
	wgdp_stop cnt || ok=1
	note "wgdp: $(wgdp_counters cnt | tr '\n' ';')" "client wg show transfer: rx tx = $tr"
	[ "$ok" -eq 0 ] || return 1
	for k in rx tx; do
		got="$(wgdp_counter cnt "${k}_packets") $(wgdp_counter cnt "${k}_bytes")"
		want="$((CNT_N + CNT_M)) $((84 * (CNT_N + CNT_M)))"
		if [ "$got" != "$want" ]; then
			note "wgdp $k packets/bytes: $got, expected $want (N + M pings of 84-byte IP packets)"
			[ "$got" != "$((CNT_N + CNT_M)) $((96 * (CNT_N + CNT_M)))" ] ||
				note "  ($k bytes = $((CNT_N + CNT_M)) x 96: the padded plaintext, not the inner packet)"
			ok=1
		fi
	done
	rx=$((92 * $(wgdp_counter cnt handshakes_tx) + 128 * $(wgdp_counter cnt tx_packets) + 32 * $(wgdp_counter cnt keepalives_tx)))
	tx=$((148 * $(wgdp_counter cnt handshakes_rx) + 128 * $(wgdp_counter cnt rx_packets) + 32 * $(wgdp_counter cnt keepalives_rx)))
	if [ "$tr" != "$rx $tx" ]; then
		note "client transfer rx/tx $tr, from wgdp's counters $rx $tx"
		ok=1
	fi
	CNT_DETAIL="$((CNT_N + CNT_M)) packets each way, client rx/tx $tr bytes"
	return "$ok"
}

# 1. IPv4 inside the tunnel, both ways (client 1, IPv4 outer)
case_ping_ipv4() {
	ping_ok "$C1" 198.51.100.1 && ping_ok "$SRV" "$(tun4 1)"
}

# 2. IPv6 inside the tunnel, both ways
case_ping_ipv6() {
	ping_ok "$C1" fd00:99::1 && ping_ok "$SRV" "$(tun6 1)"
}

# 2. IPv6 outside: client 2 knows wgdp only as [2001:db8:1::1]:port
case_outer_ipv6() {
	local ep
	client_up 2 "[2001:db8:1::1]:$WGDP_PORT" || return 1
	ping_ok "$C2" 198.51.100.1 && ping_ok "$C2" fd00:99::1 && ping_ok "$SRV" "$(tun4 2)" &&
		ping_ok "$SRV" "$(tun6 2)" || return 1
	ep=$(netns_exec "$C2" wg show "${WGIF[2]}" endpoints | awk '{ print $2 }')
	[ "$ep" = "[2001:db8:1::1]:$WGDP_PORT" ] || { note "client 2 endpoint: $ep"; return 1; }
}

# Packets of the full tunnel MTU (1420), not fragmented (-M do), both ways,
# through client 2 (IPv6 outside: 1420 + 32 + 8 + 40 = a 1500-byte outer packet)
case_full_mtu() {
	ping_ok "$C2" 198.51.100.1 -Mdo -s 1392 && ping_ok "$SRV" "$(tun4 2)" -Mdo -s 1392 &&
		ping_ok "$C2" fd00:99::1 -Mdo -s 1372 && ping_ok "$SRV" "$(tun6 2)" -Mdo -s 1372
}

# 3. iperf3 TCP, client 1 -> server (up) and server -> client 1 (down)
IPERF_STARTED=0
CPU_NS=("$SRV" "$C1")
iperf3_server() {
	[ "$IPERF_STARTED" -eq 1 ] && return 0
	netns_spawn "$SRV" iperf3 -s -J -B 198.51.100.1 >"$NETNS_TMP/iperf3-s.log" 2>&1 &
	netns_track $!
	IPERF_STARTED=1
	sleep 0.5
}

iperf3_run() { # NAME NS TARGET [iperf3 options]
	local name=$1 ns=$2 dst=$3 res
	shift 3
	wgdp_cpu_sample "$NETNS_TMP/$name.cpu0" "${CPU_NS[@]}"
	netns_exec "$ns" iperf3 -c "$dst" -t "$SECS" -i 1 -J --get-server-output "$@" \
		>"$NETNS_TMP/$name.json" 2>"$NETNS_TMP/$name.err" || true
	wgdp_cpu_sample "$NETNS_TMP/$name.cpu1" "${CPU_NS[@]}"
	if ! res=$(wgdp_iperf3_check "$NETNS_TMP/$name.json" "$SECS"); then
		note "iperf3 $name: $res" "$(head -c 300 "$NETNS_TMP/$name.err")"
		return 1
	fi
	note "iperf3 $name: $res" "  cpu: $(wgdp_cpu_report "$NETNS_TMP/$name.cpu0" "$NETNS_TMP/$name.cpu1")"
	DETAIL=$res
}

case_iperf3_up() {
	iperf3_server
	ping_ok "$C1" 198.51.100.1 || return 1
	iperf3_run wgdp-up "$C1" 198.51.100.1 || return 1
	WGDP_UP=${DETAIL%% Mbit*}
	DETAIL="${DETAIL%%,*}"
}

case_iperf3_down() {
	iperf3_server
	iperf3_run wgdp-down "$C1" 198.51.100.1 -R || return 1
	WGDP_DOWN=${DETAIL%% Mbit*}
	DETAIL="${DETAIL%%,*}"
}

# 4. Three clients at once: each reaches the server, the server each of them
# (a reply from 198.51.100.N can only come from the client that has it)
case_three_clients() {
	local i pids=() ok=0
	client_up 3 || return 1
	for i in "${CLIENTS[@]}"; do
		netns_exec "${NS[$i]}" ping -n -q -c 10 -i 0.2 -w 15 198.51.100.1 >"$NETNS_TMP/three-$i" 2>&1 &
		pids+=($!)
	done
	for i in "${CLIENTS[@]}"; do
		wait "${pids[$((i - 1))]}" || {
			note "client $i: $(tail -2 "$NETNS_TMP/three-$i")"
			ok=1
		}
	done
	for i in "${CLIENTS[@]}"; do
		ping_ok "$SRV" "$(tun4 "$i")" || ok=1
		ping_ok "$SRV" "$(tun6 "$i")" || ok=1
	done
	return "$ok"
}

# 4. Client 3 sends with client 2's address as source: wgdp drops it
# (allowedips_mismatch, checked when wgdp stops), nothing with that source
# reaches the TAP, no reply comes back; client 3's own address still works.
SPOOF_SENT=0
case_spoof() {
	local tcpd spoofed=198.51.100.3 n rc=0
	netns_addr "$C3" "${WGIF[3]}" "$spoofed/32"
	netns_spawn "$SRV" tcpdump -i "$TAP" -n -U -w "$NETNS_TMP/spoof.pcap" "ip and src host $spoofed" \
		>"$NETNS_TMP/tcpdump.log" 2>&1 &
	tcpd=$!
	netns_track "$tcpd"
	for _ in $(seq 1 50); do
		grep -q 'listening on' "$NETNS_TMP/tcpdump.log" && break
		sleep 0.1
	done
	netns_exec "$C3" ping -n -q -c 5 -i 0.2 -w 3 -I "$spoofed" 198.51.100.1 \
		>"$NETNS_TMP/spoof-ping" 2>&1 || rc=$?
	SPOOF_SENT=$(awk '/transmitted/ { print $1 }' "$NETNS_TMP/spoof-ping")
	ping_ok "$C3" 198.51.100.1 -I "$(tun4 3)" || rc=9
	sleep 0.3
	kill -INT "$tcpd" 2>/dev/null || true
	wait "$tcpd" 2>/dev/null || true
	netns_untrack "$tcpd"
	ip -n "$C3" addr del "$spoofed/32" dev "${WGIF[3]}"
	n=$(tcpdump -r "$NETNS_TMP/spoof.pcap" -n 2>/dev/null | wc -l)
	if [ "$rc" -ne 1 ] || [ "$n" -ne 0 ]; then
		note "spoofed ping: exit $rc (1 = no reply): $(grep -E 'transmitted' "$NETNS_TMP/spoof-ping")" \
			"packets from $spoofed on the TAP: $n"
		tcpdump -r "$NETNS_TMP/spoof.pcap" -n 2>/dev/null | head -5 >&2
		return 1
	fi
}

# 5. Roaming: client 1 moves to another outer address and port while
# pinging; both directions work afterwards (server -> client goes to the
# endpoint wgdp learned from the client's authenticated packets).
case_roaming() {
	local bg ok=0 stats
	netns_exec "$C1" ping -n -q -c 40 -i 0.1 -w 10 198.51.100.1 >"$NETNS_TMP/roam-bg" 2>&1 &
	bg=$!
	sleep 1.5
	# (delete first: deleting a primary address takes its secondaries along)
	ip -n "$C1" addr del 192.0.2.11/24 dev eth0
	ip -n "$C1" addr add 192.0.2.21/24 dev eth0
	netns_exec "$C1" wg set "${WGIF[1]}" listen-port 40001
	wait "$bg" || true
	stats=$(grep transmitted "$NETNS_TMP/roam-bg" || true)
	ping_ok "$C1" 198.51.100.1 || ok=1
	ping_ok "$SRV" "$(tun4 1)" || ok=1
	ping_ok "$SRV" "$(tun6 1)" || ok=1
	netns_exec "$C1" ss -uan | grep -q ':40001 ' || { note "client 1 not on port 40001"; ok=1; }
	DETAIL="during the move: ${stats:-no ping statistics}"
	return "$ok"
}

# 6. Client 3's wireguard-go restarts with the same key (and a new random
# port): it handshakes again and both directions work.
case_restart() {
	netns_wg_stop "${WGIF[3]}"
	sleep 0.5
	client_up 3 || return 1
	ping_ok "$C3" 198.51.100.1 && ping_ok "$SRV" "$(tun4 3)"
}

case_stop() {
	local d
	wgdp_stop main || return 1
	note "wgdp main: $(wgdp_counters main | tr '\n' ';')"
	for d in bad_tag malformed inner_malformed keypair_expired; do
		if [ "$(wgdp_counter main "drop:$d")" != 0 ]; then
			note "unexpected drops: $d $(wgdp_counter main "drop:$d")"
			return 1
		fi
	done
}

case_spoof_counted() {
	local n
	n=$(wgdp_counter main drop:allowedips_mismatch)
	if [ "$n" -lt "$SPOOF_SENT" ]; then
		note "allowedips_mismatch $n after $SPOOF_SENT spoofed pings"
		return 1
	fi
	DETAIL="$SPOOF_SENT spoofed pings, allowedips_mismatch $n, none on the TAP"
}

# Baseline: the same iperf3 runs between two wireguard-go peers on the same
# bridge (wgdp stopped, so they have both cores).
case_baseline() {
	local gs gc ifs ifc up down
	netns_add gs gs
	netns_add gc gc
	netns_bridge_port "$SW" br0 "$gs" eth0
	netns_bridge_port "$SW" br0 "$gc" eth0
	netns_addr "$gs" eth0 192.0.2.50/24
	netns_addr "$gc" eth0 192.0.2.51/24
	netns_wg_ifname ifs
	netns_wg_ifname ifc
	netns_wg_genkey gs >/dev/null
	netns_wg_genkey gc >/dev/null
	netns_wg_start "$gs" "$ifs" || return 1
	netns_exec "$gs" wg set "$ifs" listen-port 51820 private-key "$NETNS_TMP/gs.key" \
		peer "$(cat "$NETNS_TMP/gc.pub")" allowed-ips 203.0.113.2/32
	netns_addr "$gs" "$ifs" 203.0.113.1/24
	ip -n "$gs" link set "$ifs" mtu 1420 up
	netns_wg_client "$gc" "$ifc" gc "$(cat "$NETNS_TMP/gs.pub")" 192.0.2.50:51820 203.0.113.0/24 \
		203.0.113.2/24 || return 1
	netns_spawn "$gs" iperf3 -s -J -B 203.0.113.1 >"$NETNS_TMP/iperf3-gs.log" 2>&1 &
	netns_track $!
	sleep 0.5
	ping_ok "$gc" 203.0.113.1 || return 1
	CPU_NS=("$gs" "$gc")
	iperf3_run wggo-up "$gc" 203.0.113.1 || return 1
	up=${DETAIL%% Mbit*}
	iperf3_run wggo-down "$gc" 203.0.113.1 -R || return 1
	down=${DETAIL%% Mbit*}
	DETAIL="wireguard-go <-> wireguard-go: up $up Mbit/s, down $down Mbit/s; wgdp: up ${WGDP_UP:-?} Mbit/s, down ${WGDP_DOWN:-?} Mbit/s"
}

# ICMP echo to wgdp's own outside addresses, answered by its control thread
case_echo_outside() {
	ping_ok "$C1" 192.0.2.1 && ping_ok "$C1" 2001:db8:1::1
}

# wgprobe as a monitoring check of the concentrator: handshake and 3 pings
# to the inside through its own peer entry
case_wgprobe() {
	local out
	if ! out=$(netns_exec "$C3" "$WGPROBE" --endpoint "192.0.2.1:$WGDP_PORT" --peer-public-key "$SRV_PUB" \
		--private-key "$NETNS_TMP/probe.key" --address 198.51.100.50 --ping 198.51.100.1 \
		--count 3 --timeout 5 --json); then
		note "wgprobe failed: $out"
		return 1
	fi
	python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["ok"] and d["received"] == 3, d' <<<"$out" ||
		return 1
	DETAIL="handshake $(python3 -c 'import json,sys; print(json.load(sys.stdin)["handshake_ms"])' <<<"$out") ms"
}

run() { # CASE-NAME FUNCTION
	DETAIL=""
	if "$2"; then
		pass "$1" "$DETAIL"
	else
		fail "$1" "see above"
	fi
}

run bad_config case_bad_config
if ! client_up 1; then
	fail start "wireguard-go did not start (see above)"
	exit 1
fi
CNT_DETAIL=""
if case_counters; then pass counters "$CNT_DETAIL"; else fail counters "see above"; fi

# one instance for the rest: all three clients as peers
conf_for "$NETNS_TMP/main.conf" "${CLIENTS[@]}"
wgdp_conf_peer "$NETNS_TMP/main.conf" "$PROBE_PUB" "198.51.100.50/32"
if ! wgdp_start main "$SRV" "$NETNS_TMP/main.conf"; then
	fail start "wgdp did not start (see above)"
	exit 1
fi
client_reset 1
run ping_ipv4 case_ping_ipv4
run ping_ipv6 case_ping_ipv6
run outer_ipv6 case_outer_ipv6
run full_mtu case_full_mtu
run echo_outside case_echo_outside
run wgprobe case_wgprobe
run iperf3_up case_iperf3_up
run iperf3_down case_iperf3_down
run three_clients case_three_clients
SPOOF_OK=0
case_spoof && SPOOF_OK=1
run roaming case_roaming
run client_restart case_restart
run clean_stop case_stop
if [ "$SPOOF_OK" -eq 1 ] && case_spoof_counted; then
	pass spoofed_source "$DETAIL"
else
	fail spoofed_source "see above"
fi
run baseline_wireguard_go case_baseline

exit "$FAILED"
