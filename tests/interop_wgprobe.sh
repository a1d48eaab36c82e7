#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Interoperability test: wgprobe (our protocol core) against wireguard-go.
#
#   tests/interop_wgprobe.sh [PATH-TO-WGPROBE]     (or $WGPROBE; run as root)
#
# One wireguard-go interface in namespace A (outer 192.0.2.1 / 2001:db8::1,
# tunnel 198.51.100.1 / 2001:db8:100::1), wgprobe in namespace B. Every case
# uses its own probe key (its own peer on the wireguard-go side), so counters
# start at zero and the responder's 1/50 s initiation limit per peer never
# delays a case. Prints one line per case, PASS/FAIL/SKIP interop/<case>, and
# exits non-zero if any failed.
#
# The cases are functions called through run(), which shellcheck cannot see:
# shellcheck disable=SC2317
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WGPROBE=${1:-${WGPROBE:-$HERE/../build/tools/wgprobe}}
PORT=51820
FAILED=0

pass() { echo "PASS interop/$1"; }
fail() {
	echo "FAIL interop/$1: $2"
	FAILED=1
}
skip() { echo "SKIP interop/$1: $2"; }
note() { printf '  %s\n' "$@" >&2; }

if [ "$(id -u)" -ne 0 ]; then
	skip all "needs root (network namespaces)"
	exit 0
fi
for tool in wireguard-go wg ip python3; do
	if ! command -v "$tool" >/dev/null; then
		# scripts/setup.sh installs it: a missing tool is a set-up bug, not a skip
		fail all "$tool is not installed"
		exit 1
	fi
done
if [ ! -x "$WGPROBE" ]; then
	fail all "wgprobe binary not found at $WGPROBE (build it, or pass its path)"
	exit 1
fi
WGPROBE=$(cd "$(dirname "$WGPROBE")" && pwd)/$(basename "$WGPROBE")

# shellcheck source=tests/lib/netns.sh
. "$HERE/lib/netns.sh"
netns_init
netns_pair
netns_wg_ifname WGIF
SRV_PUB=$(netns_wg_genkey server)
netns_wg_start "$NS_A" "$WGIF"
netns_exec "$NS_A" wg set "$WGIF" listen-port "$PORT" private-key "$NETNS_TMP/server.key"
netns_wg_up "$NS_A" "$WGIF" 198.51.100.1/24 2001:db8:100::1/64
EP4="$ADDR4_A:$PORT"
EP6="[$ADDR6_A]:$PORT"

# new_peer NAME N [PSKFILE]: a probe key NAME known to wireguard-go, tunnel
# addresses 198.51.100.N and 2001:db8:100::N
new_peer() {
	local name=$1 n=$2 pub
	pub=$(netns_wg_genkey "$name")
	if [ $# -ge 3 ]; then
		netns_exec "$NS_A" wg set "$WGIF" peer "$pub" preshared-key "$3" \
			allowed-ips "198.51.100.$n/32,2001:db8:100::$n/128"
	else
		netns_exec "$NS_A" wg set "$WGIF" peer "$pub" allowed-ips "198.51.100.$n/32,2001:db8:100::$n/128"
	fi
}

# probe NAME ARGS...: run wgprobe in B; stdout in $NETNS_TMP/NAME.out,
# stderr in NAME.err, exit status in $RC, wall time in $ELAPSED_MS
probe() {
	local name=$1 t0 t1
	shift
	t0=$(date +%s%N)
	RC=0
	netns_exec "$NS_B" "$WGPROBE" "$@" >"$NETNS_TMP/$name.out" 2>"$NETNS_TMP/$name.err" || RC=$?
	t1=$(date +%s%N)
	ELAPSED_MS=$(((t1 - t0) / 1000000))
}

show() { # NAME: the probe's output, for a failing case
	note "exit $RC after $ELAPSED_MS ms" "stdout: $(cat "$NETNS_TMP/$1.out")" "stderr: $(cat "$NETNS_TMP/$1.err")"
}

genpsk() { (umask 077 && wg genpsk >"$1"); }

# jq-less JSON access: jget FILE EXPR, EXPR in Python over the object d
jget() {
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# ---- cases -------------------------------------------------------------

case_ping() { # NAME ENDPOINT OUR-ADDR TARGET
	local name=$1
	probe "$name" --endpoint "$2" --peer-public-key "$SRV_PUB" --private-key "$NETNS_TMP/$name.key" \
		--address "$3" --ping "$4" --count 3 --json
	if [ "$RC" -ne 0 ] || [ "$(jget "$NETNS_TMP/$name.out" 'd["received"]')" != 3 ]; then
		show "$name"
		return 1
	fi
	note "$name: handshake $(jget "$NETNS_TMP/$name.out" 'd["handshake_ms"]') ms, rtt min/avg/max $(jget "$NETNS_TMP/$name.out" '"%.3f/%.3f/%.3f" % (d["rtt_ms"]["min"], d["rtt_ms"]["avg"], d["rtt_ms"]["max"])') ms"
}

case_ipv4() {
	new_peer ipv4 2
	case_ping ipv4 "$EP4" 198.51.100.2 198.51.100.1
}

case_ipv6() {
	new_peer ipv6 3
	case_ping ipv6 "$EP6" 2001:db8:100::3 2001:db8:100::1
}

case_psk() {
	genpsk "$NETNS_TMP/psk.psk"
	new_peer psk 4 "$NETNS_TMP/psk.psk"
	probe psk --endpoint "$EP4" --peer-public-key "$SRV_PUB" --private-key "$NETNS_TMP/psk.key" \
		--preshared-key "$NETNS_TMP/psk.psk" --address 198.51.100.4 --ping 198.51.100.1 --count 2
	[ "$RC" -eq 0 ] || { show psk; return 1; }
	# and the private key from standard input, PSK from the file
	probe psk_stdin --endpoint "$EP6" --peer-public-key "$SRV_PUB" --private-key - \
		--preshared-key "$NETNS_TMP/psk.psk" <"$NETNS_TMP/psk.key"
	[ "$RC" -eq 0 ] || { show psk_stdin; return 1; }
}

# expect_timeout NAME TIMEOUT: exit 1, within TIMEOUT + 2 s, one line on stderr
expect_timeout() {
	local name=$1 limit_ms=$((($2 + 2) * 1000))
	if [ "$RC" -ne 1 ] || [ "$ELAPSED_MS" -ge "$limit_ms" ] || [ "$(wc -l <"$NETNS_TMP/$name.err")" -ne 1 ]; then
		show "$name"
		return 1
	fi
	note "$name: exit 1 after $ELAPSED_MS ms: $(cat "$NETNS_TMP/$name.err")"
}

case_unknown_key() {
	# a key wireguard-go does not know: it drops the initiation (no peer)
	netns_wg_genkey stranger >/dev/null
	probe unknown_key --endpoint "$EP4" --peer-public-key "$SRV_PUB" --private-key "$NETNS_TMP/stranger.key" \
		--timeout 2
	expect_timeout unknown_key 2
}

case_wrong_endpoint_key() {
	# we are a peer, but name the wrong endpoint key: mac1 fails, silence
	local other
	new_peer wrongsrv 5
	other=$(netns_wg_genkey other)
	probe wrongsrv --endpoint "$EP6" --peer-public-key "$other" --private-key "$NETNS_TMP/wrongsrv.key" \
		--timeout 2
	expect_timeout wrongsrv 2
}

case_wrong_psk() {
	# wireguard-go answers (the PSK enters only with the response), and the
	# response does not authenticate for us
	genpsk "$NETNS_TMP/right.psk"
	genpsk "$NETNS_TMP/wrong.psk"
	new_peer wrongpsk 6 "$NETNS_TMP/right.psk"
	probe wrongpsk --endpoint "$EP4" --peer-public-key "$SRV_PUB" --private-key "$NETNS_TMP/wrongpsk.key" \
		--preshared-key "$NETNS_TMP/wrong.psk" --timeout 2 --json
	expect_timeout wrongpsk 2 || return 1
	if [ "$(jget "$NETNS_TMP/wrongpsk.out" 'd["responses_received"] >= 1 and not d["ok"]')" != True ]; then
		show wrongpsk
		return 1
	fi
}

case_ping_no_reply() {
	# 198.51.100.99 is nobody: wireguard-go has no peer for the reply path
	# and nothing answers; the handshake works, the ping does not
	new_peer noreply 7
	probe noreply --endpoint "$EP4" --peer-public-key "$SRV_PUB" --private-key "$NETNS_TMP/noreply.key" \
		--address 198.51.100.7 --ping 198.51.100.99 --count 2 --timeout 0.5 --json
	if [ "$RC" -ne 1 ] || [ "$(jget "$NETNS_TMP/noreply.out" '(d["sent"], d["received"], d["handshake_ms"] is not None)')" != "(2, 0, True)" ]; then
		show noreply
		return 1
	fi
}

# wg_transfer PEER-PUB: "rx tx" as wireguard-go counts them for that peer
wg_transfer() {
	netns_exec "$NS_A" wg show "$WGIF" transfer | awk -v k="$1" '$1 == k { print $2, $3 }'
}

# How wireguard-go counts a peer's bytes (device/receive.go, device/send.go,
# device/peer.go): rx adds len(packet) of every handshake initiation or
# response it consumed from the peer (148/92), and for every transport message
# that authenticated and passed the replay window len(plaintext, padded) +
# 32 = its whole UDP payload (keepalives included). tx adds the length of
# every buffer sent to the peer: its responses (92) and transport messages
# (UDP payload). Cookie replies are sent by the device, not the peer, and are
# not counted; neither are messages it dropped. So, with k = the responses
# wgprobe received (wireguard-go answers each initiation it consumes with one
# response, and the veth loses nothing):
#   wg rx = wgprobe tx_bytes + 148 k        wg tx = wgprobe rx_bytes + 92 k
case_transfer() {
	local pub k want got
	new_peer transfer 8
	pub=$(cat "$NETNS_TMP/transfer.pub")
	probe transfer --endpoint "$EP4" --peer-public-key "$SRV_PUB" --private-key "$NETNS_TMP/transfer.key" \
		--address 198.51.100.8 --ping 198.51.100.1 --count 4 --json
	[ "$RC" -eq 0 ] || { show transfer; return 1; }
	k=$(jget "$NETNS_TMP/transfer.out" 'd["responses_received"]')
	want=$(jget "$NETNS_TMP/transfer.out" "'%d %d' % (d['tx_bytes'] + 148 * $k, d['rx_bytes'] + 92 * $k)")
	got=$(wg_transfer "$pub")
	if [ "$got" != "$want" ]; then
		note "wireguard-go rx/tx: $got, expected from wgprobe's report: $want"
		show transfer
		return 1
	fi
	note "transfer: wireguard-go rx/tx $got = wgprobe (tx_bytes + 148 k, rx_bytes + 92 k), k = $k"
	# a second probe with the same key adds to the same counters; no --ping:
	# one keepalive (32 bytes) and nothing back but the response
	sleep 0.05 # the responder takes one initiation per peer per 1/50 s
	probe transfer2 --endpoint "$EP6" --peer-public-key "$SRV_PUB" --private-key "$NETNS_TMP/transfer.key" --json
	[ "$RC" -eq 0 ] || { show transfer2; return 1; }
	k=$(jget "$NETNS_TMP/transfer2.out" 'd["responses_received"]')
	want=$(python3 -c 'import sys; a = sys.argv[1].split(); print(int(a[0]) + 32 + 148 * int(sys.argv[2]), int(a[1]) + 92 * int(sys.argv[2]))' "$got" "$k")
	got=$(wg_transfer "$pub")
	if [ "$got" != "$want" ]; then
		note "after a keepalive-only probe: wireguard-go rx/tx $got, expected $want"
		show transfer2
		return 1
	fi
}

case_json() {
	# the output of the IPv4 case: valid JSON with every documented field
	python3 -m json.tool "$NETNS_TMP/ipv4.out" >/dev/null || { note "not JSON: $(cat "$NETNS_TMP/ipv4.out")"; return 1; }
	local fields='ok exit_code endpoint public_key address ping handshake_ms initiations_sent
		responses_received cookie_replies cookie_replies_received sent received rtt_ms pings tx_packets rx_packets tx_bytes
		rx_bytes handshake_tx_bytes handshake_rx_bytes error'
	# shellcheck disable=SC2086
	python3 - "$NETNS_TMP/ipv4.out" $fields <<'EOF' || return 1
import json, sys
d = json.load(open(sys.argv[1]))
missing = [f for f in sys.argv[2:] if f not in d]
assert not missing, "missing fields %s" % missing
assert d["ok"] is True and d["exit_code"] == 0 and d["error"] is None
assert d["endpoint"] == "192.0.2.1:51820"
assert set(d["rtt_ms"]) == {"min", "avg", "max"}
assert d["rtt_ms"]["min"] <= d["rtt_ms"]["avg"] <= d["rtt_ms"]["max"]
assert [p["seq"] for p in d["pings"]] == [1, 2, 3] and all(p["rtt_ms"] > 0 for p in d["pings"])
assert d["tx_bytes"] == d["tx_packets"] * 128  # 84-byte echo, padded to 96, + 32
assert d["handshake_tx_bytes"] == 148 * d["initiations_sent"]
EOF
	# a failure is JSON too, with the reason
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["ok"] is False and d["exit_code"] == 1 and d["error"]' \
		"$NETNS_TMP/wrongpsk.out" || { note "failure JSON: $(cat "$NETNS_TMP/wrongpsk.out")"; return 1; }
}

# usage NAME ARGS...: must exit 2 at once with one line on stderr
usage() {
	local name=$1
	shift
	probe "$name" "$@"
	if [ "$RC" -ne 2 ] || [ "$(wc -l <"$NETNS_TMP/$name.err")" -ne 1 ] || [ "$ELAPSED_MS" -ge 2000 ]; then
		show "$name"
		return 1
	fi
}

case_usage() {
	local k="$NETNS_TMP/ipv4.key" ok=0
	usage u_missing_endpoint --peer-public-key "$SRV_PUB" --private-key "$k" || ok=1
	usage u_bad_key --endpoint "$EP4" --peer-public-key "${SRV_PUB%?}A" --private-key "$k" || ok=1
	usage u_short_key --endpoint "$EP4" --peer-public-key "abc=" --private-key "$k" || ok=1
	usage u_unknown_option --endpoint "$EP4" --peer-public-key "$SRV_PUB" --private-key "$k" --frobnicate || ok=1
	usage u_missing_value --endpoint "$EP4" --peer-public-key "$SRV_PUB" --private-key || ok=1
	usage u_no_key_file --endpoint "$EP4" --peer-public-key "$SRV_PUB" --private-key /nonexistent || ok=1
	echo "not a key" >"$NETNS_TMP/garbage.key"
	usage u_bad_key_file --endpoint "$EP4" --peer-public-key "$SRV_PUB" --private-key "$NETNS_TMP/garbage.key" || ok=1
	usage u_ipv6_no_brackets --endpoint "2001:db8::1:51820" --peer-public-key "$SRV_PUB" --private-key "$k" || ok=1
	usage u_bad_port --endpoint "192.0.2.1:65536" --peer-public-key "$SRV_PUB" --private-key "$k" || ok=1
	usage u_ping_no_address --endpoint "$EP4" --peer-public-key "$SRV_PUB" --private-key "$k" --ping 198.51.100.1 || ok=1
	usage u_mixed_family --endpoint "$EP4" --peer-public-key "$SRV_PUB" --private-key "$k" \
		--address 198.51.100.2 --ping 2001:db8:100::1 || ok=1
	usage u_bad_count --endpoint "$EP4" --peer-public-key "$SRV_PUB" --private-key "$k" --count 0 || ok=1
	usage u_bad_timeout --endpoint "$EP4" --peer-public-key "$SRV_PUB" --private-key "$k" --timeout -1 || ok=1
	usage u_two_stdin --endpoint "$EP4" --peer-public-key "$SRV_PUB" --private-key - --preshared-key - || ok=1
	usage u_low_order_key --endpoint "$EP4" --peer-public-key "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" \
		--private-key "$k" || ok=1
	probe u_help --help
	if [ "$RC" -ne 0 ] || ! grep -q -- '--preshared-key' "$NETNS_TMP/u_help.out" || ! grep -q 'Exit status' "$NETNS_TMP/u_help.out"; then
		show u_help
		ok=1
	fi
	return "$ok"
}

# Under load (its handshake queue at >= 1/8 of 1024 entries, and for 1 s
# after), wireguard-go answers initiations without a valid mac2 with a cookie
# reply. Bursts of junk initiations with a valid mac1 (only mac1 is checked
# before a handshake worker reaches the costly part) from another address of
# namespace B put it there; between bursts the queue drains, so our
# initiations get through: the first earns a cookie reply, the one resent at
# once with mac2 a response. The flood grows its bursts until it sees cookie
# replies itself, and says so; only then does the probe start. If it never
# gets there (a busy machine), or wireguard-go drops every one of our
# initiations from its full queue, the case is skipped, not failed.
case_cookie() {
	local fp
	new_peer cookie 9
	ip -n "$NS_B" addr add 192.0.2.3/24 dev "$VETH_B"
	netns_spawn "$NS_B" python3 "$HERE/lib/hsflood.py" "$ADDR4_A" "$PORT" "$SRV_PUB" 192.0.2.3 15 \
		>"$NETNS_TMP/flood.out" 2>&1 &
	fp=$!
	netns_track "$fp"
	for _ in $(seq 1 50); do
		grep -q 'under load' "$NETNS_TMP/flood.out" && break
		sleep 0.1
	done
	if ! grep -q 'under load' "$NETNS_TMP/flood.out"; then
		kill "$fp" 2>/dev/null || true
		COOKIE_SKIP="a 5 s flood did not put wireguard-go under load (no cookie reply)"
		return 0
	fi
	note "flood: $(cat "$NETNS_TMP/flood.out")"
	probe cookie --endpoint "$EP4" --peer-public-key "$SRV_PUB" --private-key "$NETNS_TMP/cookie.key" --json
	kill "$fp" 2>/dev/null || true
	wait "$fp" 2>/dev/null || true
	if [ "$RC" -ne 0 ] && [ "$(jget "$NETNS_TMP/cookie.out" 'd["cookie_replies_received"] + d["responses_received"]')" = 0 ]; then
		COOKIE_SKIP="wireguard-go dropped all our initiations from its full queue"
		return 0
	fi
	if [ "$RC" -ne 0 ] || [ "$(jget "$NETNS_TMP/cookie.out" 'd["cookie_replies"] >= 1')" != True ]; then
		show cookie
		return 1
	fi
	note "cookie: $(jget "$NETNS_TMP/cookie.out" '"%d initiations, %d cookie replies, handshake %.3f ms" % (d["initiations_sent"], d["cookie_replies"], d["handshake_ms"])')"
}

run() { # CASE-NAME FUNCTION
	COOKIE_SKIP=""
	if "$2"; then
		if [ -n "$COOKIE_SKIP" ]; then
			skip "$1" "$COOKIE_SKIP"
		else
			pass "$1"
		fi
	else
		fail "$1" "see above"
	fi
}

run handshake_ping_ipv4 case_ipv4
run handshake_ping_ipv6 case_ipv6
run preshared_key case_psk
run unknown_peer_key case_unknown_key
run wrong_endpoint_key case_wrong_endpoint_key
run wrong_preshared_key case_wrong_psk
run ping_no_reply case_ping_no_reply
run transfer_matches_wg_show case_transfer
run json_output case_json
run bad_usage case_usage
run cookie_under_load case_cookie

exit "$FAILED"
