#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The wg(8) userspace API socket of wgdp (control/uapi_server.c,
# docs/uapi.md), driven by the real `wg` tool and by raw protocol requests,
# with a wireguard-go client sending real traffic through the tunnel:
#
#   ns srv: wgdp (af_packet on veth wout; TAP <name> 198.51.100.1/24,
#           fd00:99::1/64; socket /var/run/wireguard/<name>.sock, the
#           TAP's name being the default UapiInterface; a StateFile)
#   ns cl:  wireguard-go client, outer 192.0.2.11/24, tunnel 198.51.100.2
#
#   tests/e2e_uapi.sh           (root; about 30 s)
#
# One line per case, PASS/FAIL uapi/<case>; exits non-zero if any failed.
# Peers added by the cases use 203.0.113.0/24 and fd00::/8 addresses only.
#
# The cases are functions called through run(), which shellcheck cannot see:
# shellcheck disable=SC2317
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SUITE=uapi
# shellcheck source=tests/lib/suite.sh
. "$HERE/lib/suite.sh"
suite_require wireguard-go wg ip ping ethtool python3 nsenter
suite_start

netns_add srv SRV
netns_add cl CL
netns_veth "$SRV" wout "$CL" eth0
netns_addr "$CL" eth0 192.0.2.11/24
SRV_PUB=$(netns_wg_genkey server)
C1_PUB=$(netns_wg_genkey c1)
NEW_PUB=$(netns_wg_genkey newkey)
declare -A XPUB=()
for x in x1 x2 x3 x4 x5 x6; do
	XPUB[$x]=$(netns_wg_genkey "$x")
done
(umask 077 && wg genpsk >"$NETNS_TMP/psk")
netns_wg_ifname WGIF
TAP=$(wgdp_tap_name wgu)
SOCK=/var/run/wireguard/$TAP.sock
NETNS_WGIFS+=("$TAP") # the cleanup trap removes the socket if wgdp cannot
CONF=$NETNS_TMP/uapi.conf
wgdp_conf "$CONF" server wout "$TAP" "StateFile = $NETNS_TMP/state"
wgdp_conf_peer "$CONF" "$C1_PUB" "198.51.100.2/32, fd00:99::2/128"

# ---- helpers ------------------------------------------------------------------

# uapi_raw REPLIES: send stdin as it is to the socket, print what comes back
# until REPLIES replies (errno=N and an empty line) or EOF; "EOF" is printed
# when the server closed the connection.
RAW=$NETNS_TMP/uapi_raw.py
cat >"$RAW" <<'EOF'
import re, socket, sys
path, want = sys.argv[1], int(sys.argv[2])
req = sys.stdin.buffer.read()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(20)
s.connect(path)
s.sendall(req)
out = b""
while len(re.findall(rb"(?m)^errno=-?\d+\n\n", out)) < want:
    d = s.recv(1 << 16)
    if not d:
        out += b"EOF\n"
        break
    out += d
sys.stdout.write(out.decode(errors="replace"))
EOF
uapi_raw() { python3 "$RAW" "$SOCK" "${1:-1}"; }

# the errno of a one-request raw exchange (the request as printf's format)
raw_errno() {
	# shellcheck disable=SC2059
	printf "$1" | uapi_raw 1 | sed -n 's/^errno=\(-\{0,1\}[0-9]*\)$/\1/p' | tail -1
}

hexkey() { python3 -c 'import base64, sys; print(base64.b64decode(sys.argv[1]).hex())' "$1"; }

# ping_ok NS TARGET [ping options]: 3 replies within 10 s
ping_ok() {
	local ns=$1 dst=$2 out
	shift 2
	if ! out=$(netns_exec "$ns" ping -n -c 3 -i 0.2 -w 10 "$@" "$dst" 2>&1); then
		note "ping $dst from $ns failed:" "$(echo "$out" | tail -2)"
		return 1
	fi
}

# a ping from the client every 0.1 s in the background, for SECS seconds
bg_ping_start() {
	netns_exec "$CL" ping -n -q -i 0.1 -w "$1" 198.51.100.1 >"$NETNS_TMP/bgping" 2>&1 &
	BG_PING=$!
}

# the background ping's statistics; status 0 when it lost nothing
bg_ping_check() {
	local st
	wait "$BG_PING"
	st=$(grep transmitted "$NETNS_TMP/bgping")
	BG_STATS=$st
	[[ $st =~ ([0-9]+)\ packets\ transmitted,\ ([0-9]+)\ received ]] || return 1
	[ "${BASH_REMATCH[1]}" -gt 0 ] && [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]
}

showconf() { wg showconf "$TAP"; }

# a peer's line of `wg show dump`: pub psk endpoint allowed-ips handshake rx tx keepalive
dump_peer() { wg show "$TAP" dump | awk -v k="$1" '$1 == k'; }

# wgdp's latest handshake with the client, and the client's with wgdp
handshakes() {
	echo "$(dump_peer "$C1_PUB" | awk '{ print $5 }') $(netns_exec "$CL" wg show "$WGIF" latest-handshakes | awk '{ print $2 }')"
}

refused_lines() { grep -c "^wgdp: uapi $TAP: set refused" "$(wgdp_log main)"; }

# A config file in a canonical form, to compare one with `wg showconf`:
# [Interface] keys, then peers sorted by public key, lists sorted.
CANON=$NETNS_TMP/canon.py
cat >"$CANON" <<'EOF'
import sys
sections, cur = [], None
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    if line.startswith("["):
        cur = {"": line}
        sections.append(cur)
        continue
    k, v = (x.strip() for x in line.split("=", 1))
    if k == "AllowedIPs":
        cur.setdefault(k, []).extend(x.strip() for x in v.split(","))
    else:
        cur[k] = [v]
out = []
for s in sections:
    out.append(s[""] + " " + " ".join("%s=%s" % (k, ",".join(sorted(v))) for k, v in sorted(s.items()) if k))
print("\n".join(sorted(out)))
EOF
canon() { python3 "$CANON" "$1"; }

# ---- cases --------------------------------------------------------------------

# Something that accepts connections holds the socket: wgdp refuses to start
# (naming it) and leaves it alone; once that process is gone its socket is
# stale and wgdp replaces it.
case_socket_in_use() {
	local holder ok=0
	python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(4)
print("listening", flush=True)
time.sleep(60)' "$SOCK" >"$NETNS_TMP/holder.log" 2>&1 &
	holder=$!
	netns_track "$holder"
	for _ in $(seq 1 50); do
		grep -q listening "$NETNS_TMP/holder.log" && break
		sleep 0.1
	done
	if wgdp_start busy "$SRV" "$CONF" 2>/dev/null; then
		note "wgdp started although $SOCK is served by another process"
		wgdp_stop busy >/dev/null 2>&1
		ok=1
	elif ! grep -q "another WireGuard implementation serves $TAP" "$(wgdp_log busy)"; then
		note "wgdp's message: $(tail -2 "$(wgdp_log busy)")"
		ok=1
	fi
	[ -S "$SOCK" ] || { note "the other process's socket was removed"; ok=1; }
	kill -KILL "$holder"
	wait "$holder" 2>/dev/null
	netns_untrack "$holder"
	[ -S "$SOCK" ] || { note "no stale socket left to test with"; ok=1; }
	DETAIL="exit ${WGDP_RC[busy]:-?}: $(grep -o 'another WireGuard.*' "$(wgdp_log busy)" | head -1)"
	return "$ok"
}

case_stale_socket() {
	wgdp_start main "$SRV" "$CONF" || return 1
	[ "$(stat -c %a "$SOCK")" = 600 ] || { note "socket mode $(stat -c %a "$SOCK")"; return 1; }
	wg show "$TAP" >/dev/null || return 1
	DETAIL="stale socket replaced, mode 0600"
}

# wg show: keys, port, the client with a handshake and transfer after a ping
case_show() {
	local out line ok=0
	netns_wg_client "$CL" "$WGIF" c1 "$SRV_PUB" "192.0.2.1:$WGDP_PORT" 198.51.100.0/24,fd00:99::/64 \
		198.51.100.2/24 fd00:99::2/64 || return 1
	ping_ok "$CL" 198.51.100.1 || return 1
	out=$(wg show "$TAP") || return 1
	for want in "interface: $TAP" "public key: $SRV_PUB" "listening port: $WGDP_PORT" "peer: $C1_PUB" \
		"endpoint: 192.0.2.11:" "allowed ips: 198.51.100.2/32, fd00:99::2/128" "latest handshake: " \
		"transfer: "; do
		grep -qF "$want" <<<"$out" || { note "wg show lacks \`$want'"; ok=1; }
	done
	[ "$(wg show "$TAP" private-key)" = "$(cat "$NETNS_TMP/server.key")" ] || { note "private key differs"; ok=1; }
	line=$(dump_peer "$C1_PUB")
	read -r _ psk ep aips hs rx tx ka <<<"$line"
	if [ "$psk" != "(none)" ] || [ "${hs:-0}" -le 0 ] || [ "${rx:-0}" -le 0 ] || [ "${tx:-0}" -le 0 ] ||
		[ "$ka" != off ] || [ "$aips" != "198.51.100.2/32,fd00:99::2/128" ]; then
		note "dump: $line"
		ok=1
	fi
	[ "$ok" -eq 0 ] || { note "$out"; return 1; }
	DETAIL="handshake $(($(date +%s) - hs)) s ago, rx $rx tx $tx bytes, endpoint $ep"
}

# showconf | setconf changes nothing, and the client's traffic flows during it
case_roundtrip() {
	local before after hs0 hs1
	showconf >"$NETNS_TMP/rt1.conf" || return 1
	hs0=$(handshakes)
	bg_ping_start 3
	sleep 1
	wg setconf "$TAP" "$NETNS_TMP/rt1.conf" || return 1
	showconf >"$NETNS_TMP/rt2.conf" || return 1
	if ! cmp -s "$NETNS_TMP/rt1.conf" "$NETNS_TMP/rt2.conf"; then
		note "showconf changed:" "$(diff "$NETNS_TMP/rt1.conf" "$NETNS_TMP/rt2.conf" | head -20)"
		return 1
	fi
	bg_ping_check || { note "ping during setconf: $BG_STATS"; return 1; }
	hs1=$(handshakes)
	[ "$hs0" = "$hs1" ] || { note "latest handshakes (wgdp, client) $hs0 -> $hs1: the session was dropped"; return 1; }
	DETAIL="identical; ping during it: ${BG_STATS%%, time*}"
}

# wg set: a peer with everything, then its removal
case_set_peer() {
	local x=${XPUB[x1]} before line ok=0
	before=$(showconf) || return 1
	wg set "$TAP" peer "$x" allowed-ips 203.0.113.0/28,fd00:aa::/64 endpoint 192.0.2.50:51000 \
		persistent-keepalive 25 preshared-key "$NETNS_TMP/psk" || return 1
	line=$(dump_peer "$x")
	read -r _ psk ep aips _ _ _ ka <<<"$line"
	if [ "$psk" != "$(cat "$NETNS_TMP/psk")" ] || [ "$ep" != 192.0.2.50:51000 ] || [ "$ka" != 25 ] ||
		[ "$aips" != "203.0.113.0/28,fd00:aa::/64" ]; then
		line=${line:-no such peer}
		note "after wg set: ${line//"$psk"/<psk>}"
		ok=1
	fi
	wg set "$TAP" peer "$x" remove || return 1
	[ -z "$(dump_peer "$x")" ] || { note "peer still there after remove"; ok=1; }
	[ "$before" = "$(showconf)" ] || { note "showconf differs from before the add"; ok=1; }
	return "$ok"
}

# allowed IPs: removal of one (allowed_ip=-..., raw: wg 1.0.20210914 cannot
# say it), then wg set's replacing list
case_allowed_ips() {
	local x=${XPUB[x2]} e aips
	wg set "$TAP" peer "$x" allowed-ips 203.0.113.16/28,203.0.113.32/28,fd00:bb::/64 || return 1
	e=$(raw_errno "set=1\npublic_key=$(hexkey "$x")\nallowed_ip=-203.0.113.16/28\n\n")
	[ "$e" = 0 ] || { note "allowed_ip=- answered errno=${e:-nothing}"; return 1; }
	aips=$(dump_peer "$x" | awk '{ print $4 }')
	[ "$aips" = "203.0.113.32/28,fd00:bb::/64" ] || { note "after the removal: $aips"; return 1; }
	wg set "$TAP" peer "$x" allowed-ips 203.0.113.48/28 || return 1
	aips=$(dump_peer "$x" | awk '{ print $4 }')
	[ "$aips" = "203.0.113.48/28" ] || { note "after wg set allowed-ips 203.0.113.48/28: $aips"; return 1; }
	DETAIL="-203.0.113.16/28 removed, then the list replaced"
}

# wg syncconf: +2 peers, -1 peer, the client's allowed IPs changed; its
# session survives (same latest handshake both sides, no ping lost)
case_syncconf() {
	local f=$NETNS_TMP/sync.conf hs0 hs1 ok=0
	wg showconf "$TAP" | python3 -c '
import sys
c1, x2, x3, x4 = sys.argv[1:5]
out, skip = [], False
for line in sys.stdin.read().split("\n"):
    if line == "[Peer]":
        skip = False
    if line.startswith("PublicKey = "):
        skip = line.endswith(x2)
        if skip:
            out.pop()  # its [Peer]
            continue
    if skip:
        continue
    out.append(line)
    if line == "PublicKey = " + c1:
        out.append("AllowedIPs = 198.51.100.70/32")
out += ["[Peer]", "PublicKey = " + x3, "AllowedIPs = 203.0.113.96/28, fd00:cc::/64", "PersistentKeepalive = 15", "",
        "[Peer]", "PublicKey = " + x4, "AllowedIPs = 203.0.113.112/28", ""]
print("\n".join(out))' "$C1_PUB" "${XPUB[x2]}" "${XPUB[x3]}" "${XPUB[x4]}" >"$f" || return 1
	grep -q "${XPUB[x2]}" "$f" && { note "x2 still in the file"; return 1; }
	hs0=$(handshakes)
	bg_ping_start 3
	sleep 1
	wg syncconf "$TAP" "$f" || ok=1
	showconf >"$NETNS_TMP/sync-after.conf"
	if [ "$(canon "$f")" != "$(canon "$NETNS_TMP/sync-after.conf")" ]; then
		note "show differs from the file:" "$(diff <(canon "$f") <(canon "$NETNS_TMP/sync-after.conf"))"
		ok=1
	fi
	bg_ping_check || { note "ping during syncconf: $BG_STATS"; ok=1; }
	ping_ok "$CL" 198.51.100.1 || ok=1
	hs1=$(handshakes)
	[ "$hs0" = "$hs1" ] || { note "latest handshakes (wgdp, client) $hs0 -> $hs1: the session was dropped"; ok=1; }
	DETAIL="ping during it: ${BG_STATS%%, time*}"
	return "$ok"
}

# Refused changes: a negative errno each, nothing changed, one log line each
case_errors() {
	local before after n0 n1 e ok=0 k want out lines
	local hex_x5
	hex_x5=$(hexkey "${XPUB[x5]}")
	before=$(showconf) || return 1
	n0=$(refused_lines)
	# wg's own requests: a peer with wgdp's own key; a private key that is a peer's
	if out=$(wg set "$TAP" peer "$SRV_PUB" allowed-ips 203.0.113.200/32 2>&1); then
		note "wg set peer <own key>: accepted"
		ok=1
	fi
	grep -q "Invalid argument" <<<"$out" || { note "wg set peer <own key>: $out"; ok=1; }
	if out=$(wg set "$TAP" private-key "$NETNS_TMP/c1.key" 2>&1); then
		note "wg set private-key <a peer's key>: accepted"
		ok=1
	fi
	# raw requests wg would refuse to send
	for k in "public_key=$(printf 'zz%.0s' $(seq 32))" \
		"public_key=$hex_x5\nallowed_ip=203.0.113.0/33" \
		"public_key=$hex_x5\nprotocol_version=2" \
		"public_key=$hex_x5\nunknown_key=1" \
		"listen_port=70000" \
		"public_key=$hex_x5\nendpoint=192.0.2.1:0" \
		"public_key=$hex_x5\nreplace_allowed_ips=false" \
		"no equals sign"; do
		want=-22
		[ "$k" = "no equals sign" ] && want=-71
		e=$(raw_errno "set=1\n$k\n\n")
		[ "$e" = "$want" ] || { note "set=1 $k: errno=${e:-none}, expected $want"; ok=1; }
	done
	after=$(showconf)
	[ "$before" = "$after" ] || { note "showconf changed:" "$(diff <(echo "$before") <(echo "$after") | head)"; ok=1; }
	n1=$(refused_lines)
	mapfile -t lines < <(grep "^wgdp: uapi $TAP: set refused" "$(wgdp_log main)" | tail -n +$((n0 + 1)))
	note "wgdp's log lines:" "${lines[@]}"
	# 2 from wg, 8 raw
	[ $((n1 - n0)) -eq 10 ] || { note "$((n1 - n0)) log lines for 10 refused requests"; ok=1; }
	if grep "^wgdp: uapi $TAP" "$(wgdp_log main)" | grep -qiE '[0-9a-f]{64}'; then
		note "a log line holds 64 hex digits (a key?)"
		ok=1
	fi
	DETAIL="10 refused, showconf unchanged; e.g. $(grep "^wgdp: uapi $TAP: set refused" "$(wgdp_log main)" | tail -1)"
	return "$ok"
}

# Atomicity: a valid peer then a bad line (parse), or a valid peer then a
# peer the device refuses (apply): nothing of either request is applied
case_atomic() {
	local before e1 e2 x5 x6 ok=0
	x5=$(hexkey "${XPUB[x5]}")
	x6=$(hexkey "${XPUB[x6]}")
	before=$(showconf) || return 1
	e1=$(raw_errno "set=1\npublic_key=$x5\nallowed_ip=203.0.113.128/28\npublic_key=$x6\nallowed_ip=203.0.113.144/28\nbogus=1\n\n")
	e2=$(raw_errno "set=1\npublic_key=$x5\nallowed_ip=203.0.113.128/28\npublic_key=$(hexkey "$SRV_PUB")\nallowed_ip=203.0.113.160/28\n\n")
	[ "$e1" = -22 ] || { note "valid peer + bad line: errno=${e1:-none}"; ok=1; }
	[ "$e2" = -22 ] || { note "valid peer + own key: errno=${e2:-none}"; ok=1; }
	[ "$before" = "$(showconf)" ] || { note "showconf changed"; ok=1; }
	[ -z "$(dump_peer "${XPUB[x5]}")" ] || { note "x5 was added"; ok=1; }
	return "$ok"
}

# Several requests on one connection, a get with a trailing byte, a first
# line that is no operation (closed without a reply)
case_protocol() {
	local out ok=0
	out=$(printf 'get=1\n\nset=1\n\nget=1\n\n' | uapi_raw 3)
	if [ "$(grep -c '^errno=0$' <<<"$out")" != 3 ] ||
		[ "$(grep -c "^public_key=$(hexkey "$C1_PUB")$" <<<"$out")" != 2 ]; then
		note "three requests on one connection:" "$(grep -v key <<<"$out" | head -5)"
		ok=1
	fi
	out=$(printf 'get=1\nX' | uapi_raw 1)
	grep -q '^errno=-22$' <<<"$out" || { note "get=1 + trailing byte: $out"; ok=1; }
	out=$(printf 'hello=1\n\n' | uapi_raw 1)
	[ "$out" = EOF ] || { note "hello=1: $out"; ok=1; }
	# a set request over 64 MiB is read to its end, refused, and the
	# connection goes on with the next request
	out=$(python3 -c '
import sys
sys.stdout.buffer.write(b"set=1\n" + b"listen_port=1\n" * (5 << 20) + b"\nget=1\n\n")' | uapi_raw 2)
	if ! grep -q '^errno=-27$' <<<"$out" || ! grep -q "^listen_port=$WGDP_PORT$" <<<"$out" ||
		! grep -q '^errno=0$' <<<"$out"; then
		note "oversized set, then get:" "$(grep -v key <<<"$out" | head -4)"
		ok=1
	fi
	DETAIL="3 requests on one connection; get=1 + byte: -EINVAL; no operation: closed; 70 MB set: -EFBIG"
	return "$ok"
}

# wg set private-key changes the public key; set back, the client handshakes again
case_private_key() {
	local pub ok=0
	wg set "$TAP" private-key "$NETNS_TMP/newkey.key" || return 1
	pub=$(wg show "$TAP" public-key)
	[ "$pub" = "$NEW_PUB" ] || { note "public key after the change: $pub"; ok=1; }
	wg set "$TAP" private-key "$NETNS_TMP/server.key" || return 1
	pub=$(wg show "$TAP" public-key)
	[ "$pub" = "$SRV_PUB" ] || { note "public key after setting it back: $pub"; ok=1; }
	# the change ended every session: have the client start a new one now
	netns_wg_peer_reset "$CL" "$WGIF" "$SRV_PUB" "192.0.2.1:$WGDP_PORT" 198.51.100.0/24,fd00:99::/64
	ping_ok "$CL" 198.51.100.1 || ok=1
	return "$ok"
}

# wg set listen-port: shown, and set back
case_listen_port() {
	wg set "$TAP" listen-port 51999 || return 1
	[ "$(wg show "$TAP" listen-port)" = 51999 ] || { note "port $(wg show "$TAP" listen-port)"; return 1; }
	wg set "$TAP" listen-port "$WGDP_PORT" || return 1
	[ "$(wg show "$TAP" listen-port)" = "$WGDP_PORT" ] || return 1
	ping_ok "$CL" 198.51.100.1
}

# 1,000 peers in one wg setconf while 4 processes run wg show in a loop:
# every show succeeds and sees either the old or the new peer set, never a mix
N_BIG=1000
case_setconf_big() {
	local f=$NETNS_TMP/big.conf old new t0 t1 i pids=() ok=0 n counts
	showconf >"$NETNS_TMP/pre-big.conf" || return 1
	old=$(wg show "$TAP" peers | wc -l)
	python3 -c '
import base64, os, sys
n = int(sys.argv[1])
sys.stdout.write(open(sys.argv[2]).read())
for i in range(1, n + 1):
    print("\n[Peer]\nPublicKey = %s\nAllowedIPs = fd00:1000::%x/128, fd00:2000::%x/128" %
          (base64.b64encode(os.urandom(32)).decode(), i, i))' "$N_BIG" "$NETNS_TMP/pre-big.conf" >"$f"
	new=$((old + N_BIG))
	rm -f "$NETNS_TMP"/show-*
	for i in 1 2 3 4; do
		(
			end=$((SECONDS + 4))
			while [ "$SECONDS" -lt "$end" ]; do
				if out=$(wg show "$TAP" dump); then
					echo "ok $(($(wc -l <<<"$out") - 1))"
				else
					echo "failed"
				fi
			done >"$NETNS_TMP/show-$i"
		) &
		pids+=($!)
	done
	sleep 0.5
	bg_ping_start 3
	t0=$(date +%s%N)
	wg setconf "$TAP" "$f" || { note "wg setconf failed"; ok=1; }
	t1=$(date +%s%N)
	SETCONF_MS=$(((t1 - t0) / 1000000))
	for i in "${pids[@]}"; do wait "$i"; done
	bg_ping_check || { note "ping during setconf: $BG_STATS"; ok=1; }
	n=$(wg show "$TAP" peers | wc -l)
	[ "$n" = "$new" ] || { note "$n peers after setconf, expected $new"; ok=1; }
	counts=$(cat "$NETNS_TMP"/show-* | sort | uniq -c | tr -s ' ' | tr '\n' ';')
	if grep -qv -e "^ok $old$" -e "^ok $new$" "$NETNS_TMP"/show-*; then
		note "wg show results (count, result): $counts"
		ok=1
	fi
	grep -q "^ok $new$" "$NETNS_TMP"/show-* || { note "no show saw the new peers: $counts"; ok=1; }
	t0=$(date +%s%N)
	wg show "$TAP" dump >/dev/null || ok=1
	t1=$(date +%s%N)
	SHOW_MS=$(((t1 - t0) / 1000000))
	t0=$(date +%s%N)
	wg setconf "$TAP" "$NETNS_TMP/pre-big.conf" || ok=1
	t1=$(date +%s%N)
	[ "$(wg show "$TAP" peers | wc -l)" = "$old" ] || { note "the $N_BIG peers were not removed"; ok=1; }
	DETAIL="setconf of $N_BIG peers ${SETCONF_MS} ms, wg show dump of $new peers ${SHOW_MS} ms, removing them $(((t1 - t0) / 1000000)) ms; concurrent shows: $counts"
	note "$DETAIL"
	return "$ok"
}

# A client that sends half a request and stops: it does not hold the socket
# for long (5 s of silence closes it), and others are served after it
case_stuck_client() {
	local holder t0 t1 ms ok=0
	python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1]); s.sendall(b"set=1\nlisten_port=1")
t = time.time(); s.settimeout(30)
d = s.recv(100)
print("closed after %.1f s: %r" % (time.time() - t, d), flush=True)' "$SOCK" >"$NETNS_TMP/stuck.log" 2>&1 &
	holder=$!
	sleep 0.3
	t0=$(date +%s%N)
	wg show "$TAP" >/dev/null || ok=1
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	wait "$holder"
	grep -q "^closed after [0-9.]* s: b''" "$NETNS_TMP/stuck.log" || { note "stuck client: $(cat "$NETNS_TMP/stuck.log")"; ok=1; }
	[ "$ms" -lt 8000 ] || { note "wg show waited $ms ms"; ok=1; }
	[ "$(wg show "$TAP" listen-port)" = "$WGDP_PORT" ] || { note "the half request was applied"; ok=1; }
	DETAIL="wg show served after $ms ms; $(cat "$NETNS_TMP/stuck.log")"
	return "$ok"
}

# Everything accepted was persisted: a restart shows the same configuration
case_persisted() {
	local before
	before=$(showconf) || return 1
	wgdp_stop main >/dev/null || return 1
	[ ! -e "$SOCK" ] || { note "the socket is still there after the stop"; return 1; }
	wgdp_start main "$SRV" "$CONF" || return 1
	[ "$before" = "$(showconf)" ] || { note "after the restart:" "$(diff <(echo "$before") <(showconf) | head)"; return 1; }
	DETAIL="$(wg show "$TAP" peers | wc -l) peers back from the state file"
}

# The stop is prompt even with a connection open, and removes the socket
case_stop() {
	local holder t0 t1 ms
	python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1]); s.sendall(b"set=1\n"); time.sleep(10)' "$SOCK" &
	holder=$!
	netns_track "$holder"
	sleep 0.3
	t0=$(date +%s%N)
	wgdp_stop main || return 1
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	netns_untrack "$holder"
	[ ! -e "$SOCK" ] || { note "$SOCK is still there"; return 1; }
	[ "$ms" -lt 3000 ] || { note "the stop took $ms ms"; return 1; }
	DETAIL="stopped in $ms ms with a client connected, socket removed"
}

run() { # CASE-NAME FUNCTION
	DETAIL=""
	if "$2"; then
		pass "$1" "$DETAIL"
	else
		fail "$1" "see above"
	fi
}

run socket_in_use case_socket_in_use
run stale_socket case_stale_socket
if [ -z "${WGDP_PID[main]:-}" ]; then
	fail start "wgdp did not start (see above)"
	exit 1
fi
run show case_show
run showconf_roundtrip case_roundtrip
run set_peer case_set_peer
run allowed_ips case_allowed_ips
run syncconf case_syncconf
run errors case_errors
run atomic case_atomic
run protocol case_protocol
run setconf_1000 case_setconf_big
run stuck_client case_stuck_client
run private_key case_private_key
run listen_port case_listen_port
run persisted case_persisted
run clean_stop case_stop

exit "$FAILED"
