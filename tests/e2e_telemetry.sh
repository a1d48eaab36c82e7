#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# wgdp's /wgdp/... commands on the DPDK telemetry socket (docs/telemetry.md),
# queried with the stock dpdk-telemetry.py:
#
#   ns srv: wgdp (af_packet on veth wout, TAP 198.51.100.1/24), 3 peers: c1
#           (a real wireguard-go client, so a handshake shows), p2 (with a
#           preshared key) and p3 (an Endpoint, never up)
#   ns c1:  wireguard-go 198.51.100.2, outside 192.0.2.11 on the veth to wout
#
#   tests/e2e_telemetry.sh        (root; $WGDP or build/wgdp)
#
# One line per case, PASS/FAIL telemetry/<case>; exits non-zero if any failed.
#
# The cases are functions called through run(), which shellcheck cannot see:
# shellcheck disable=SC2317
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SUITE=telemetry
# shellcheck source=tests/lib/suite.sh
. "$HERE/lib/suite.sh"
suite_require wireguard-go wg ip ping python3 nsenter dpdk-telemetry.py
suite_start

# ---- the network and the configuration ------------------------------------

netns_add srv SRV
netns_add c1 C1
netns_veth "$SRV" wout "$C1" eth0
netns_addr "$C1" eth0 192.0.2.11/24
netns_wg_ifname WGIF
SRV_PUB=$(netns_wg_genkey server)
C1_PUB=$(netns_wg_genkey c1)
P2_PUB=$(netns_wg_genkey p2)
P3_PUB=$(netns_wg_genkey p3)
PSK=$(wg genpsk)
TAP=$(wgdp_tap_name wgtel)
CONF=$NETNS_TMP/tel.conf
wgdp_conf "$CONF" server wout "$TAP"
wgdp_conf_peer "$CONF" "$C1_PUB" "198.51.100.2/32, fd00:99::2/128"
wgdp_conf_peer "$CONF" "$P2_PUB" "198.51.100.3/32, 10.20.0.0/16"
echo "PresharedKey = $PSK" >>"$CONF"
wgdp_conf_peer "$CONF" "$P3_PUB" "198.51.100.4/32" "192.0.2.99:51820"
# the file prefix wgdp_eal gives the instance "tel"
PREFIX=wgdp-${NETNS_ID}-tel
SOCK=/var/run/dpdk/$PREFIX/dpdk_telemetry.v2
# every secret of the run: none may appear in any reply
SECRETS=("$(cat "$NETNS_TMP/server.key")" "$(cat "$NETNS_TMP/c1.key")" "$(cat "$NETNS_TMP/p2.key")"
	"$(cat "$NETNS_TMP/p3.key")" "$PSK")
OUT=$NETNS_TMP/replies # every reply of the run, for the secrets check
WORKER_LCORES="" CONTROL_LCORE="" BIG_PUB="" # from the cases
# DPDK leaves the (empty) runtime directories of --in-memory processes behind
trap 'netns_cleanup; rm -rf "/var/run/dpdk/$PREFIX" "/var/run/dpdk/wgdp-${NETNS_ID}-big"' EXIT

# tel FILE CMD...: the replies to CMD... (one JSON document a line) in FILE
tel() {
	local file=$1
	shift
	printf '%s\n' "$@" | timeout 20 dpdk-telemetry.py -f "$PREFIX" >"$file" 2>"$file.err" || {
		note "dpdk-telemetry.py failed: $(tail -3 "$file.err")"
		return 1
	}
	cat "$file" >>"$OUT"
}

# check FILE PYTHON: run PYTHON with r = the list of replies in FILE (each the
# value under its command), plus env (E) and helpers; an assert that fails
# (or any exception) prints its message and fails the case
check() {
	python3 - "$1" "$2" <<'EOF'
import json, os, sys
E = os.environ
docs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
r = [list(d.values())[0] for d in docs]
try:
    exec(sys.argv[2])
except AssertionError as e:
    print("    " + str(e), file=sys.stderr)
    sys.exit(1)
except Exception as e:
    print("    %s: %s" % (type(e).__name__, e), file=sys.stderr)
    for l in open(sys.argv[1]):
        print("    reply: " + l.strip()[:300], file=sys.stderr)
    sys.exit(1)
EOF
}

# the names of an X-macro list LIST in HEADER: X(ENUM, "name")
xmacro_names() {
	sed -n "/^#define $2(X)/,/^\$/p" "$1" | grep -o 'X([A-Z0-9_]*, *"[a-z0-9_]*")' | sed 's/.*"\(.*\)")/\1/'
}

# ---- cases --------------------------------------------------------------------

# wgdp runs with --in-memory (tests/lib/wgdp.sh): the socket must still be there
case_socket() {
	if [ ! -S "$SOCK" ]; then
		note "no telemetry socket $SOCK" "$(ls -la "/var/run/dpdk/$PREFIX" 2>&1)"
		return 1
	fi
	tel "$NETNS_TMP/list" / || return 1
	check "$NETNS_TMP/list" '
want = ["/wgdp/interface", "/wgdp/peers", "/wgdp/peer", "/wgdp/counters", "/wgdp/lcores"]
missing = [c for c in want if c not in r[0]]
assert not missing, "not in the command list: %s" % missing
' || return 1
	tel "$NETNS_TMP/help" /help,/wgdp/peers || return 1
	check "$NETNS_TMP/help" 'assert "start" in r[0]["/wgdp/peers"], r[0]'
	DETAIL=$SOCK
}

case_interface() {
	tel "$NETNS_TMP/iface" /wgdp/interface || return 1
	PORT=$WGDP_PORT check "$NETNS_TMP/iface" '
i = r[0]
assert i["public_key"] == E["SRV_PUB"], "public_key %r, config has %s" % (i["public_key"], E["SRV_PUB"])
assert i["listen_port"] == int(E["PORT"]), "listen_port %r" % i["listen_port"]
assert i["peers"] == 3, "peers %r" % i["peers"]
assert i["workers"] >= 1 and len(i["worker_lcores"]) == i["workers"], "workers %r" % i
assert i["control_lcore"] not in i["worker_lcores"], i
assert i["uptime_seconds"] >= 0 and i["inside"] == E["TAP"], i
' || return 1
	WORKER_LCORES=$(python3 -c 'import json,sys; print(" ".join(map(str, list(json.load(sys.stdin).values())[0]["worker_lcores"])))' <"$NETNS_TMP/iface")
	CONTROL_LCORE=$(python3 -c 'import json,sys; print(list(json.load(sys.stdin).values())[0]["control_lcore"])' <"$NETNS_TMP/iface")
	DETAIL="workers on lcores $WORKER_LCORES, control on $CONTROL_LCORE"
}

# a real client shakes hands: the page shows its endpoint, handshake, bytes
case_handshake() {
	netns_wg_client "$C1" "$WGIF" c1 "$SRV_PUB" "192.0.2.1:$WGDP_PORT" 198.51.100.0/24 198.51.100.2/24 ||
		return 1
	if ! netns_exec "$C1" ping -n -q -c 3 -i 0.2 -w 10 198.51.100.1 >"$NETNS_TMP/ping" 2>&1; then
		note "ping through the tunnel failed: $(tail -2 "$NETNS_TMP/ping")"
		return 1
	fi
	tel "$NETNS_TMP/hs" /wgdp/peers || return 1
	check "$NETNS_TMP/hs" '
import time
p = [v for v in r[0]["peers"].values() if v["public_key"] == E["C1_PUB"]]
assert len(p) == 1, "c1 listed %d times" % len(p)
p = p[0]
assert p["endpoint"].startswith("192.0.2.11:"), "endpoint %r" % p["endpoint"]
assert abs(p["latest_handshake"] - time.time()) < 60, "latest_handshake %r" % p["latest_handshake"]
assert p["rx_bytes"] >= 148 + 3 * 128 and p["tx_bytes"] >= 92 + 3 * 128, "bytes %r" % p
'
}

case_peers() {
	tel "$NETNS_TMP/peers" /wgdp/peers || return 1
	check "$NETNS_TMP/peers" '
p = r[0]
keys = [v["public_key"] for v in p["peers"].values()]
assert sorted(keys) == sorted([E["C1_PUB"], E["P2_PUB"], E["P3_PUB"]]), "keys %s" % keys
assert list(p["peers"]) == ["0", "1", "2"], "indices %s" % list(p["peers"])
assert (p["total"], p["start"], p["count"], p["next"]) == (3, 0, 3, 3), "total/start/count/next %r" % p
p3 = [v for v in p["peers"].values() if v["public_key"] == E["P3_PUB"]][0]
assert p3["latest_handshake"] == 0 and p3["rx_bytes"] == 0, p3
assert p3["endpoint"] == "192.0.2.99:51820", p3
'
}

case_paging() {
	tel "$NETNS_TMP/pages" /wgdp/peers /wgdp/peers,1 /wgdp/peers,0,2 /wgdp/peers,2,2 /wgdp/peers,3 \
		/wgdp/peers,7,1 || return 1
	check "$NETNS_TMP/pages" '
order = [v["public_key"] for v in r[0]["peers"].values()]
def page(i, keys, nxt):
    got = r[i]
    have = [v["public_key"] for v in got["peers"].values()]
    assert have == keys, "page %d: %s, expected %s" % (i, have, keys)
    idx = [str(got["start"] + j) for j in range(len(keys))]
    assert list(got["peers"]) == idx, "page %d: indices %s" % (i, list(got["peers"]))
    assert got["count"] == len(keys) and got["next"] == nxt and got["total"] == 3, "page %d: %r" % (i, got)
page(1, order[1:], 3)
page(2, order[:2], 2)
page(3, order[2:], 3)
page(4, [], 3)
page(5, [], 3)
'
}

case_peer() {
	tel "$NETNS_TMP/peer" "/wgdp/peer,$P2_PUB" "/wgdp/peer,$P3_PUB" "/wgdp/peer,$C1_PUB" || return 1
	check "$NETNS_TMP/peer" '
p2, p3, c1 = r
assert p2["public_key"] == E["P2_PUB"], p2
assert sorted(p2["allowed_ips"]) == ["10.20.0.0/16", "198.51.100.3/32"], "allowed_ips %r" % p2["allowed_ips"]
assert p2["allowed_ips_total"] == 2 and p2["has_preshared_key"] == 1 and p2["enabled"] == 1, p2
assert p3["allowed_ips"] == ["198.51.100.4/32"] and p3["configured_endpoint"] == "192.0.2.99:51820", p3
assert p3["has_preshared_key"] == 0 and p3["latest_handshake"] == 0, p3
assert sorted(c1["allowed_ips"]) == ["198.51.100.2/32", "fd00:99::2/128"], c1
assert c1["rx_packets"] >= 3 and c1["endpoint"].startswith("192.0.2.11:"), c1
'
}

# a bad parameter gets an error (null) and wgdp stays up and answers
case_bad_params() {
	local bad
	bad=("/wgdp/peer,not-a-key" "/wgdp/peer" "/wgdp/peer,${P2_PUB%=}" "/wgdp/peer,$(wg genkey | wg pubkey)"
		"/wgdp/peer,$P2_PUB,x" "/wgdp/peers,abc" "/wgdp/peers,-1" "/wgdp/peers,0,0" "/wgdp/peers,0,65"
		"/wgdp/peers,1,2,3" "/wgdp/interface,1" "/wgdp/counters,x" "/wgdp/lcores,x" "/wgdp/lcores,1,2"
		"/wgdp/lcores,127")
	tel "$NETNS_TMP/bad" "${bad[@]}" /wgdp/interface || return 1
	N=${#bad[@]} check "$NETNS_TMP/bad" '
n = int(E["N"])
answered = [i for i in range(n) if r[i] is not None]
assert not answered, "answered instead of an error: %s" % [open(sys.argv[1]).read().split("\n")[i] for i in answered]
assert len(r) == n + 1 and r[n]["peers"] == 3, "no /wgdp/interface after the bad ones: %r" % r[n:]
' || return 1
	kill -0 "${WGDP_PID[tel]}" 2>/dev/null || { note "wgdp exited"; return 1; }
	DETAIL="${#bad[@]} bad parameters, each null"
}

case_counters() {
	local drops l3
	drops=$(xmacro_names "$ROOT/dataplane/counters.h" WG_DROP_REASONS | tr '\n' ' ')
	l3=$(xmacro_names "$ROOT/dataplane/l3.h" WG_L3_DROP_REASONS | tr '\n' ' ')
	tel "$NETNS_TMP/counters" /wgdp/counters || return 1
	DROPS=$drops L3=$l3 check "$NETNS_TMP/counters" '
c = r[0]
want, l3 = E["DROPS"].split(), E["L3"].split()
assert len(want) >= 20 and len(l3) >= 20, "parsed only %d/%d names from the headers" % (len(want), len(l3))
missing = [d for d in want if d not in c["drops"]]
assert not missing, "drop names missing: %s" % missing
extra = [d for d in c["drops"] if d not in want]
assert not extra, "drops not in counters.h: %s" % extra
missing = [d for d in l3 if d not in c["outside_drops"]]
assert not missing, "outside drop names missing: %s" % missing
for k in ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "keepalives_rx", "keepalives_tx",
          "handshakes_rx", "handshakes_tx", "cookies_tx", "arp_nd_replies", "echo_replies", "drops_total"):
    assert k in c, "no %s" % k
assert c["rx_packets"] >= 3 and c["tx_packets"] >= 3 and c["handshakes_rx"] >= 1, c
assert c["drops_total"] == sum(c["drops"].values()) + sum(c["outside_drops"].values()), c
' || return 1
	DETAIL="$(wc -w <<<"$drops") drop names, $(wc -w <<<"$l3") outside drop names"
}

case_lcores() {
	local w=${WORKER_LCORES%% *}
	[ -n "$w" ] || { note "no worker lcore from /wgdp/interface"; return 1; }
	tel "$NETNS_TMP/lcores" /wgdp/lcores "/wgdp/lcores,$w" "/wgdp/lcores,$CONTROL_LCORE" || return 1
	W=$w WS=$WORKER_LCORES CL=$CONTROL_LCORE check "$NETNS_TMP/lcores" '
all, one, ctl = r
assert sorted(all) == sorted(E["WS"].split() + [E["CL"]]), "lcores %s" % sorted(all)
assert all[E["CL"]]["role"] == "control", all
assert all[E["W"]]["role"] == "worker" and all[E["W"]]["worker"] == 0, all
assert list(one) == [E["W"]] and len(one[E["W"]]["drops"]) >= 20, one
assert ctl[E["CL"]]["handshakes_rx"] >= 1, "the control lcore counts the handshakes: %r" % ctl
rx = sum(v["rx_packets"] for v in all.values())
assert rx >= 3, "rx_packets over lcores %d" % rx
'
}

case_no_secrets() {
	local s n=0
	for s in "${SECRETS[@]}"; do
		if grep -qF -- "$s" "$OUT"; then
			note "a private or preshared key appears in a reply"
			n=$((n + 1))
		fi
	done
	[ -s "$OUT" ] || { note "no replies collected"; return 1; }
	DETAIL="$(wc -l <"$OUT") replies, ${#SECRETS[@]} secrets looked for"
	[ "$n" -eq 0 ]
}

# a clean stop removes the socket (DPDK's atexit)
case_stop() {
	wgdp_stop tel || return 1
	[ ! -e "$SOCK" ] || { note "$SOCK left behind"; return 1; }
}

# The replies must fit dpdk-telemetry's 16 KiB, which silently drops what
# does not: a second instance with 70 peers with the longest endpoints, one
# with 200 of the longest allowed IPs. A full page holds 64 peers, every one
# of them there, with room left for 20-digit byte counts, 10-digit times and
# 7-digit indices; the big peer shows 128 allowed IPs and says there are 200.
case_full_page() {
	local conf=$NETNS_TMP/big.conf tap i line="" pub
	tap=$(wgdp_tap_name wgbig)
	wgdp_conf "$conf" server wout "$tap" "MaxPeers = 1024"
	for i in $(seq 1 70); do
		pub=$(wg genkey | wg pubkey)
		[ "$i" -ne 1 ] || BIG_PUB=$pub
		wgdp_conf_peer "$conf" "$pub" "10.$((i / 256)).$((i % 256)).0/24" \
			"[2001:db8:ffff:ffff:ffff:ffff:ffff:$(printf %04x "$i")]:65535"
	done
	for i in $(seq 1 200); do
		line+="${line:+, }fd00:ffff:ffff:ffff:ffff:ffff:ffff:$(printf %04x "$i")/128"
		if [ $((i % 50)) -eq 0 ]; then
			sed -i "/^PublicKey = ${BIG_PUB//\//\\/}\$/a AllowedIPs = $line" "$conf"
			line=""
		fi
	done
	wgdp_start big "$SRV" "$conf" || return 1
	PREFIX=wgdp-${NETNS_ID}-big tel "$NETNS_TMP/big" /wgdp/peers /wgdp/peers,64 "/wgdp/peer,$BIG_PUB" ||
		return 1
	wgdp_stop big || return 1
	BIG_PUB=$BIG_PUB check "$NETNS_TMP/big" '
lines = [l for l in open(sys.argv[1]) if l.strip()]
full, rest, big = r
assert full["count"] == 64 and len(full["peers"]) == 64 and full["next"] == 64, \
    "first page: count %d, %d peers listed" % (full["count"], len(full["peers"]))
assert rest["count"] == 6 and len(rest["peers"]) == 6 and rest["next"] == 70, rest
grow = sum(40 - len(str(v["rx_bytes"])) - len(str(v["tx_bytes"])) + 10 - len(str(v["latest_handshake"]))
           + 7 - len(k) for k, v in full["peers"].items())
grow += 3 * (7 - 2)  # total, start, next
assert len(lines[0]) + grow < 16384, "a full page: %d bytes, %d at worst" % (len(lines[0]), len(lines[0]) + grow)
assert len(big["allowed_ips"]) == 128 and big["allowed_ips_total"] == 201, \
    "allowed_ips %d of %d" % (len(big["allowed_ips"]), big["allowed_ips_total"])
assert len(lines[2]) + 64 * 46 + 63 < 16384, "the peer: %d bytes" % len(lines[2])
print("    full page %d bytes (%d at worst), the peer %d bytes" % (len(lines[0]), len(lines[0]) + grow,
      len(lines[2])), file=sys.stderr)
'
}

run() { # CASE-NAME FUNCTION
	DETAIL=""
	if "$2"; then
		pass "$1" "$DETAIL"
	else
		fail "$1" "see above"
	fi
}

: >"$OUT"
if ! wgdp_start tel "$SRV" "$CONF"; then
	fail start "wgdp did not start (see above)"
	exit 1
fi
export TAP SRV_PUB C1_PUB P2_PUB P3_PUB
run socket case_socket
run interface case_interface
run handshake case_handshake
run peers case_peers
run paging case_paging
run peer case_peer
run bad_params case_bad_params
run counters case_counters
run lcores case_lcores
run clean_stop case_stop
run full_page case_full_page
run no_secrets case_no_secrets

exit "$FAILED"
