# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# Helpers for tests that build small networks out of network namespaces and
# run real WireGuard peers (wireguard-go) in them. Source this file, then call
# netns_init once: it registers a trap that removes everything created here
# (namespaces, processes, wireguard-go sockets, the temporary directory) on any
# exit, including failures and Ctrl-C.
#
# Names carry the id of the run ($NETNS_ID, default: the shell's pid), so two
# runs can go side by side:
#   namespaces            wgt-<id>-<suffix>
#   wireguard-go devices  wgt<id><n>   (<= 15 characters: the UAPI socket
#                         /var/run/wireguard/<name>.sock is shared by all
#                         namespaces, so the name must be unique on the host)
#
# Addresses (documentation ranges only; each pair is its own network, so pairs
# of different runs may reuse them):
#   outer veth      A 192.0.2.1/24   2001:db8::1/64    B 192.0.2.2/24   2001:db8::2/64
#   inner (tunnel)  by convention 198.51.100.0/24 and 2001:db8:100::/64
#
# Functions:
#   netns_init                      temp dir in $NETNS_TMP, cleanup trap
#   netns_require_root              exit 1 unless root
#   netns_add SUFFIX VAR            create a namespace (lo up), its name in VAR
#   netns_pair                      two namespaces joined by a veth; sets NS_A,
#                                   NS_B, VETH_A, VETH_B, ADDR4_A/B, ADDR6_A/B
#   netns_wg_ifname VAR             next unique wireguard-go interface name in VAR
#   netns_wg_genkey NAME            $NETNS_TMP/NAME.key and NAME.pub; prints the pub
#   netns_wg_start NS IF            start wireguard-go -f in NS, wait for its socket
#   netns_wg_up NS IF ADDR...       add addresses (IPv6 nodad) and set IF up
#   netns_exec NS CMD...            ip netns exec NS CMD...
#   netns_spawn NS CMD... &         run CMD in NS as this background job itself
#   netns_track PID                 have cleanup kill PID
#   netns_untrack PID               forget PID (it was stopped and reaped)
#   netns_cleanup                   what the trap runs (idempotent)
#
# Building blocks for bigger networks (all veth ends get checksum offloads
# off, so DPDK af_packet ports and tcpdump see finished frames):
#   netns_offload_off NS IF         ethtool -K IF tx off rx off (best effort)
#   netns_veth NS1 IF1 NS2 IF2      a veth pair between two namespaces, both up
#   netns_bridge NS BR              a bridge BR in NS, up (a "switch" host)
#   netns_bridge_port NS_SW BR NS IF
#                                   a veth from NS (end IF) to the bridge BR in
#                                   NS_SW (end p<n>-<IF> there, <= 15 chars)
#   netns_addr NS IF ADDR/PREFIX... add addresses (IPv6 nodad)
#   netns_wg_stop IF                stop the wireguard-go behind IF (started
#                                   by netns_wg_start), wait, remove its socket
#   netns_wg_client NS IF KEYNAME PEERPUB ENDPOINT ALLOWED ADDR/PREFIX...
#                                   wireguard-go in NS with key KEYNAME (see
#                                   netns_wg_genkey), one peer PEERPUB at
#                                   ENDPOINT with allowed-ips ALLOWED, MTU 1420
#   netns_wg_peer_reset NS IF PEERPUB ENDPOINT ALLOWED
#                                   remove and re-add the peer: its session is
#                                   forgotten, the next packet starts a handshake

NETNS_ID=${NETNS_ID:-$$}
NETNS_TMP=""
NETNS_LIST=()
NETNS_PIDS=()
NETNS_WGIFS=()
NETNS_WGCOUNT=0
NETNS_CLEANED=0
NETNS_BRCOUNT=0
declare -gA NETNS_WGPID=()

netns_log() { printf 'netns: %s\n' "$*" >&2; }

netns_require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		netns_log "must run as root (network namespaces)"
		exit 1
	fi
}

netns_init() {
	NETNS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/wgt-${NETNS_ID}.XXXXXX")
	trap netns_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	mkdir -p /var/run/wireguard
}

netns_cleanup() {
	local pid ifn ns
	[ "$NETNS_CLEANED" -eq 1 ] && return 0
	NETNS_CLEANED=1
	set +e
	for pid in "${NETNS_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${NETNS_PIDS[@]}"; do
		for _ in $(seq 1 20); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for ifn in "${NETNS_WGIFS[@]}"; do
		rm -f "/var/run/wireguard/$ifn.sock"
	done
	for ns in "${NETNS_LIST[@]}"; do
		# a namespace's processes must be gone before its devices disappear
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	# WGDP_TEST_KEEP=DIR keeps the logs and results of a run there (debugging)
	[ -n "$NETNS_TMP" ] && [ -n "${WGDP_TEST_KEEP:-}" ] && cp -r "$NETNS_TMP" "$WGDP_TEST_KEEP/" 2>/dev/null
	[ -n "$NETNS_TMP" ] && rm -rf "$NETNS_TMP"
	set -e
	return 0
}

netns_exec() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# Like netns_exec, but exec'ing the command itself (iproute2 6.1's
# `ip netns exec` forks and waits, so $! of a background `ip netns exec` is
# ip, not the command). For background processes: `netns_spawn NS CMD &`,
# then $! is the command's pid; netns_track $! has cleanup kill it.
netns_spawn() {
	local ns=$1
	shift
	if [ "$BASHPID" = "$$" ]; then
		netns_log "netns_spawn must run in the background (&): it replaces its shell"
		return 1
	fi
	exec nsenter --net="/run/netns/$ns" -- "$@"
}

netns_track() {
	NETNS_PIDS+=("$1")
}

netns_untrack() {
	local pid keep=()
	for pid in "${NETNS_PIDS[@]}"; do
		[ "$pid" = "$1" ] || keep+=("$pid")
	done
	NETNS_PIDS=("${keep[@]}")
}

netns_add() {
	local ns="wgt-${NETNS_ID}-$1"
	ip netns add "$ns"
	NETNS_LIST+=("$ns")
	ip -n "$ns" link set lo up
	printf -v "$2" '%s' "$ns"
}

# Two namespaces A and B joined by a veth, with IPv4 and IPv6 addresses usable
# at once (nodad).
netns_pair() {
	local ns
	ns="wgt-${NETNS_ID}-a"
	ip netns add "$ns"
	NETNS_LIST+=("$ns")
	NS_A=$ns
	ns="wgt-${NETNS_ID}-b"
	ip netns add "$ns"
	NETNS_LIST+=("$ns")
	NS_B=$ns
	VETH_A=veth0
	VETH_B=veth0
	ADDR4_A=192.0.2.1
	ADDR4_B=192.0.2.2
	ADDR6_A=2001:db8::1
	ADDR6_B=2001:db8::2
	ip link add name "$VETH_A" netns "$NS_A" type veth peer name "$VETH_B" netns "$NS_B"
	for ns in "$NS_A" "$NS_B"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$NS_A" addr add "$ADDR4_A/24" dev "$VETH_A"
	ip -n "$NS_A" addr add "$ADDR6_A/64" dev "$VETH_A" nodad
	ip -n "$NS_B" addr add "$ADDR4_B/24" dev "$VETH_B"
	ip -n "$NS_B" addr add "$ADDR6_B/64" dev "$VETH_B" nodad
	ip -n "$NS_A" link set "$VETH_A" up
	ip -n "$NS_B" link set "$VETH_B" up
}

netns_wg_ifname() {
	local name
	NETNS_WGCOUNT=$((NETNS_WGCOUNT + 1))
	name="wgt${NETNS_ID}${NETNS_WGCOUNT}"
	if [ ${#name} -gt 15 ]; then
		# very long ids: keep the last digits (still unique among live pids)
		name="wgt${NETNS_ID: -8}${NETNS_WGCOUNT}"
	fi
	printf -v "$1" '%s' "$name"
}

netns_wg_genkey() {
	local name=$1
	(umask 077 && wg genkey >"$NETNS_TMP/$name.key")
	wg pubkey <"$NETNS_TMP/$name.key" >"$NETNS_TMP/$name.pub"
	cat "$NETNS_TMP/$name.pub"
}

# Start wireguard-go in the foreground (-f) as a background job of this shell,
# so cleanup can kill it by pid; wait until its UAPI socket answers.
netns_wg_start() {
	local ns=$1 ifn=$2 pid
	if [ -e "/var/run/wireguard/$ifn.sock" ]; then
		netns_log "socket for $ifn already exists"
		return 1
	fi
	NETNS_WGIFS+=("$ifn")
	WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
		netns_spawn "$ns" wireguard-go -f "$ifn" >"$NETNS_TMP/wireguard-go-$ifn.log" 2>&1 &
	pid=$!
	NETNS_PIDS+=("$pid")
	NETNS_WGPID[$ifn]=$pid
	for _ in $(seq 1 100); do
		if [ -S "/var/run/wireguard/$ifn.sock" ] && ip netns exec "$ns" wg show "$ifn" >/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			netns_log "wireguard-go $ifn exited: $(tail -3 "$NETNS_TMP/wireguard-go-$ifn.log")"
			return 1
		fi
		sleep 0.05
	done
	netns_log "wireguard-go $ifn did not create its socket"
	return 1
}

# netns_wg_up NS IF ADDR/PREFIX...: addresses (IPv6 with nodad) and link up.
netns_wg_up() {
	local ns=$1 ifn=$2 a
	shift 2
	for a in "$@"; do
		case $a in
		*:*) ip -n "$ns" addr add "$a" dev "$ifn" nodad ;;
		*) ip -n "$ns" addr add "$a" dev "$ifn" ;;
		esac
	done
	ip -n "$ns" link set "$ifn" up
}

netns_addr() {
	local ns=$1 ifn=$2 a
	shift 2
	for a in "$@"; do
		case $a in
		*:*) ip -n "$ns" addr add "$a" dev "$ifn" nodad ;;
		*) ip -n "$ns" addr add "$a" dev "$ifn" ;;
		esac
	done
}

netns_offload_off() {
	ip netns exec "$1" ethtool -K "$2" tx off rx off >/dev/null 2>&1 || true
}

netns_veth() {
	local ns1=$1 if1=$2 ns2=$3 if2=$4
	ip link add name "$if1" netns "$ns1" type veth peer name "$if2" netns "$ns2"
	ip -n "$ns1" link set "$if1" up
	ip -n "$ns2" link set "$if2" up
	netns_offload_off "$ns1" "$if1"
	netns_offload_off "$ns2" "$if2"
}

netns_bridge() {
	local ns=$1 br=$2
	ip -n "$ns" link add name "$br" type bridge
	# forward at once: no STP listening/learning delay on new ports
	ip -n "$ns" link set "$br" type bridge stp_state 0 forward_delay 0 2>/dev/null || true
	ip -n "$ns" link set "$br" up
}

netns_bridge_port() {
	local sw=$1 br=$2 ns=$3 ifn=$4 port
	NETNS_BRCOUNT=$((NETNS_BRCOUNT + 1))
	port="p${NETNS_BRCOUNT}-${ifn}"
	port=${port:0:15}
	ip link add name "$ifn" netns "$ns" type veth peer name "$port" netns "$sw"
	ip -n "$sw" link set "$port" master "$br"
	ip -n "$sw" link set "$port" up
	ip -n "$ns" link set "$ifn" up
	netns_offload_off "$sw" "$port"
	netns_offload_off "$ns" "$ifn"
}

netns_wg_stop() {
	local ifn=$1 pid=${NETNS_WGPID[$1]:-}
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		netns_untrack "$pid"
		unset "NETNS_WGPID[$ifn]"
	fi
	rm -f "/var/run/wireguard/$ifn.sock"
}

netns_wg_client() {
	local ns=$1 ifn=$2 key=$3 peer=$4 endpoint=$5 allowed=$6
	shift 6
	netns_wg_start "$ns" "$ifn" || return 1
	ip netns exec "$ns" wg set "$ifn" private-key "$NETNS_TMP/$key.key" \
		peer "$peer" endpoint "$endpoint" allowed-ips "$allowed" || return 1
	netns_addr "$ns" "$ifn" "$@"
	ip -n "$ns" link set "$ifn" mtu 1420 up
}

netns_wg_peer_reset() {
	local ns=$1 ifn=$2 peer=$3 endpoint=$4 allowed=$5
	ip netns exec "$ns" wg set "$ifn" peer "$peer" remove
	ip netns exec "$ns" wg set "$ifn" peer "$peer" endpoint "$endpoint" allowed-ips "$allowed"
}
