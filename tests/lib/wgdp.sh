# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# Helpers for tests that run the wgdp appliance in a network namespace. Source
# tests/lib/netns.sh first and call netns_init; wgdp processes started here are
# tracked by its cleanup trap (SIGTERM, which wgdp handles as a clean stop).
#
# wgdp runs inside a namespace ("the server"): its outside is a DPDK
# net_af_packet port on a veth end of that namespace (the end carries no
# kernel address: wgdp answers ARP/ND for its OutsideAddress itself), its
# inside a net_tap interface it creates in the same namespace and gives the
# config's Address list and MTU.
#
#   WGDP                          the binary (default: build/wgdp of this tree)
#   WGDP_PORT                     ListenPort (51820)
#   WGDP_ADDRESS                  inside TAP addresses ("198.51.100.1/24, fd00:99::1/64")
#   WGDP_OUTSIDE_ADDRESS          ("192.0.2.1/24, 2001:db8:1::1/64")
#   WGDP_MTU                      (1420)
#   WGDP_START_TIMEOUT            seconds to wait for the start (20)
#   WGDP_LCORES                   EAL lcore option ("-l 0-1"; e.g. "--lcores 0@0,1@1,2@0"
#                                 for two workers on this machine's two CPUs)
#
# Functions:
#   wgdp_conf FILE KEYNAME OUTSIDE_IF TAP [APPLIANCE-LINE...]
#                                 write [Interface] and [Appliance]; KEYNAME is
#                                 a key made by netns_wg_genkey
#   wgdp_conf_peer FILE PUB ALLOWEDIPS [ENDPOINT [KEEPALIVE]]
#                                 append a [Peer]
#   wgdp_eal NAME                 the EAL options for instance NAME (one line)
#   wgdp_start NAME NS CONF       start instance NAME in NS; wait (up to
#                                 WGDP_START_TIMEOUT s) for its layout line
#                                 `wgdp: public key ...` and for its TAP
#                                 interface; on failure print the log, return 1
#   wgdp_stop NAME                SIGINT, wait up to 15 s (then SIGKILL); its
#                                 exit status in WGDP_RC[NAME]; 0 when wgdp
#                                 exited 0 and printed `wgdp: stopped`
#   wgdp_counter NAME KEY         a counter printed at the stop: rx_packets,
#                                 rx_bytes, tx_packets, tx_bytes, keepalives_rx,
#                                 keepalives_tx, handshakes_rx, handshakes_tx,
#                                 cookies_tx,
#                                 drop:<reason> (e.g. drop:allowedips_mismatch),
#                                 drop:outside:<reason>; 0 when not printed;
#                                 neigh:<side>:<stat> (side outside or inside,
#                                 stat entries or one of dataplane/neigh.h's,
#                                 e.g. neigh:inside:hits); ? when not printed
#   wgdp_counters NAME            the counter lines, for a report
#   wgdp_log NAME                 path of the instance's stdout+stderr
#   wgdp_tap NAME                 the instance's TAP interface name
#   wgdp_tap_name PREFIX          PREFIX + the run id, cut to 15 characters:
#                                 a TAP name unique to this run
#   wgdp_show_log NAME            its last lines on stderr (for a failing case)
#   wgdp_cpu_sample FILE NS...    snapshot of CPU time: per CPU (/proc/stat)
#                                 and per process of the namespaces NS...
#   wgdp_cpu_report FILE1 FILE2   where the CPU went between two snapshots:
#                                 "cpu0 95% (softirq 20%), cpu1 100%; wgdp
#                                 99%, wireguard-go 80%, ..." (% of one CPU)
#   wgdp_api_testbed TAPPREFIX    the network of the REST API tests: namespaces
#                                 SRV (wgdp's, outside on veth wout), SW (a
#                                 bridge) and C1 (client, eth0 192.0.2.11/24);
#                                 sets C1IF, C1_PUB, SRV_PUB (keys c1, server),
#                                 TAP and TOKEN_FILE (a fresh bearer token)
#   wgdp_iperf3_check JSON SECS   check an `iperf3 -c ... -t SECS -i 1 -J
#                                 --get-server-output` result (server started
#                                 with -J): every full 1-s interval of the
#                                 receiving side carried bytes (no stall), at
#                                 least SECS of them; prints "<M> Mbit/s,
#                                 ..." or the reason; status 0 when it held

WGDP=${WGDP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/wgdp}
WGDP_PORT=${WGDP_PORT:-51820}
WGDP_ADDRESS=${WGDP_ADDRESS:-198.51.100.1/24, fd00:99::1/64}
WGDP_OUTSIDE_ADDRESS=${WGDP_OUTSIDE_ADDRESS:-192.0.2.1/24, 2001:db8:1::1/64}
WGDP_MTU=${WGDP_MTU:-1420}
WGDP_START_TIMEOUT=${WGDP_START_TIMEOUT:-20}
declare -gA WGDP_PID=() WGDP_RC=() WGDP_TAP=()

wgdp_log() { printf '%s/wgdp-%s.log' "$NETNS_TMP" "$1"; }
wgdp_tap() { printf '%s' "${WGDP_TAP[$1]:-}"; }

wgdp_tap_name() {
	local id=$NETNS_ID keep=$((15 - ${#1}))
	[ "${#id}" -le "$keep" ] || id=${id:$((${#id} - keep))}
	printf '%s%s' "$1" "$id"
}

wgdp_show_log() {
	printf '  wgdp %s log (last 30 lines):\n' "$1" >&2
	tail -30 "$(wgdp_log "$1")" 2>/dev/null | sed 's/^/    /' >&2
}

wgdp_conf() {
	local file=$1 key=$2 outside=$3 tap=$4 line
	shift 4
	{
		echo "# written by tests/lib/wgdp.sh"
		echo "[Interface]"
		echo "PrivateKey = $(cat "$NETNS_TMP/$key.key")"
		echo "ListenPort = $WGDP_PORT"
		echo "Address = $WGDP_ADDRESS"
		echo "MTU = $WGDP_MTU"
		echo
		echo "[Appliance]"
		echo "OutsideDevice = net_af_packet0,iface=$outside"
		echo "InsideInterface = $tap"
		echo "OutsideAddress = $WGDP_OUTSIDE_ADDRESS"
		for line in "$@"; do
			echo "$line"
		done
	} >"$file"
	chmod 600 "$file"
}

wgdp_conf_peer() {
	local file=$1 pub=$2 allowed=$3 endpoint=${4:-} keepalive=${5:-}
	{
		echo
		echo "[Peer]"
		echo "PublicKey = $pub"
		echo "AllowedIPs = $allowed"
		[ -z "$endpoint" ] || echo "Endpoint = $endpoint"
		[ -z "$keepalive" ] || echo "PersistentKeepalive = $keepalive"
	} >>"$file"
}

wgdp_api_testbed() {
	netns_add srv SRV
	netns_add sw SW
	netns_add c1 C1
	netns_bridge "$SW" br0
	netns_bridge_port "$SW" br0 "$SRV" wout
	netns_bridge_port "$SW" br0 "$C1" eth0
	netns_addr "$C1" eth0 192.0.2.11/24
	netns_wg_ifname C1IF
	C1_PUB=$(netns_wg_genkey c1)
	SRV_PUB=$(netns_wg_genkey server)
	TAP=$(wgdp_tap_name "$1")
	TOKEN_FILE=$NETNS_TMP/api.token
	head -c 32 /dev/urandom | base64 | tr -d '=+/' >"$TOKEN_FILE"
	chmod 600 "$TOKEN_FILE"
}

wgdp_eal() {
	echo "${WGDP_LCORES:--l 0-1} --in-memory --file-prefix wgdp-${NETNS_ID}-$1 --no-pci --log-level=lib.*:notice"
}

# The TAP interface named by InsideInterface in CONF
wgdp_conf_tap() {
	sed -n 's/^[[:space:]]*[Ii]nside[Ii]nterface[[:space:]]*=[[:space:]]*\([^[:space:]#]*\).*/\1/p' "$1" | head -1
}

wgdp_start() {
	local name=$1 ns=$2 conf=$3 log pid tap eal
	log=$(wgdp_log "$name")
	tap=$(wgdp_conf_tap "$conf")
	[ -n "$tap" ] || tap=wgdp0
	read -r -a eal <<<"$(wgdp_eal "$name")"
	netns_spawn "$ns" "$WGDP" "${eal[@]}" -- --config "$conf" >"$log" 2>&1 &
	pid=$!
	netns_track "$pid"
	WGDP_PID[$name]=$pid
	WGDP_TAP[$name]=$tap
	unset "WGDP_RC[$name]"
	for _ in $(seq 1 $((WGDP_START_TIMEOUT * 10))); do
		if grep -q '^wgdp: public key' "$log" && ip -n "$ns" link show "$tap" >/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			WGDP_RC[$name]=0
			wait "$pid" || WGDP_RC[$name]=$?
			netns_untrack "$pid"
			unset "WGDP_PID[$name]"
			printf '  wgdp %s exited with status %s during start\n' "$name" "${WGDP_RC[$name]}" >&2
			wgdp_show_log "$name"
			return 1
		fi
		sleep 0.1
	done
	printf '  wgdp %s not up after %s s (no layout line or no %s): stopping it\n' "$name" \
		"$WGDP_START_TIMEOUT" "$tap" >&2
	wgdp_stop "$name" >/dev/null 2>&1 || true
	wgdp_show_log "$name"
	return 1
}

wgdp_stop() {
	local name=$1 pid=${WGDP_PID[$1]:-} rc=0
	if [ -z "$pid" ]; then
		printf '  wgdp %s is not running\n' "$name" >&2
		return 1
	fi
	kill -INT "$pid" 2>/dev/null || true
	for _ in $(seq 1 150); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		printf '  wgdp %s did not stop within 15 s of SIGINT: killed\n' "$name" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" || rc=$?
	netns_untrack "$pid"
	unset "WGDP_PID[$name]"
	WGDP_RC[$name]=$rc
	if [ "$rc" -ne 0 ] || ! grep -q '^wgdp: stopped' "$(wgdp_log "$name")"; then
		printf '  wgdp %s: exit status %s after SIGINT\n' "$name" "$rc" >&2
		wgdp_show_log "$name"
		return 1
	fi
}

# wgdp: rx N packets N bytes, tx N packets N bytes, keepalives rx N tx N, handshakes rx N tx N, cookies tx N
# wgdp: neighbours SIDE entries N hits N misses N ...
wgdp_counter() {
	local log key=$2 side
	log=$(wgdp_log "$1")
	case $key in
	neigh:*:*)
		side=${key#neigh:}
		awk -v s="${side%%:*}" -v k="${side#*:}" '
			$1 == "wgdp:" && $2 == "neighbours" && $3 == s {
				for (i = 4; i < NF; i += 2) if ($i == k) { v = $(i + 1); seen = 1 }
			}
			END { if (!seen) { print "?"; exit 1 } print v }' "$log"
		;;
	drop:outside:*)
		awk -v r="${key#drop:outside:}" '$1 == "wgdp:" && $2 == "drop" && $3 == "outside" && $4 == r { n = $5 }
			END { print n + 0 }' "$log"
		;;
	drop:*)
		awk -v r="${key#drop:}" '$1 == "wgdp:" && $2 == "drop" && $3 == r { n = $4 } END { print n + 0 }' "$log"
		;;
	slab:*) # objects a slab held when wgdp stopped (peer, session, handshake)
		awk -v k="${key#slab:}" '
			$1 == "wgdp:" && $2 == "slabs" { for (i = 3; i < NF; i += 2) if ($i == k) { v = $(i + 1); seen = 1 } }
			END { if (!seen) { print "?"; exit 1 } print v }' "$log"
		;;
	*)
		awk -v k="$key" '
			/^wgdp: rx [0-9]+ packets/ {
				gsub(",", "")
				v["rx_packets"] = $3; v["rx_bytes"] = $5; v["tx_packets"] = $8; v["tx_bytes"] = $10
				v["keepalives_rx"] = $14; v["keepalives_tx"] = $16
				v["handshakes_rx"] = $19; v["handshakes_tx"] = $21; v["cookies_tx"] = $24; seen = 1
			}
			END { if (!seen || !(k in v)) { print "?"; exit 1 } print v[k] }' "$log"
		;;
	esac
}

wgdp_counters() {
	grep -E '^wgdp: (rx [0-9]|drop )' "$(wgdp_log "$1")" || true
}

# The receiver's intervals: the client's own with -R, else the server's
# (--get-server-output, the server running with -J).
wgdp_iperf3_check() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print("no iperf3 JSON (%s)" % e)
    sys.exit(1)
if d.get("error"):
    print("iperf3: " + d["error"])
    sys.exit(1)
secs = int(sys.argv[2])
reverse = d["start"]["test_start"].get("reverse", 0)
iv = d["intervals"] if reverse else d.get("server_output_json", {}).get("intervals", [])
full = [i["sum"] for i in iv if i["sum"]["seconds"] >= 0.5]
stalled = ["%.0f-%.0f s" % (s["start"], s["end"]) for s in full if s["bytes"] == 0]
mbit = d["end"]["sum_received"]["bits_per_second"] / 1e6
if len(full) < secs or stalled:
    print("%.0f Mbit/s, but %d full intervals, stalled in %s" % (mbit, len(full), ", ".join(stalled) or "none"))
    sys.exit(1)
rates = sorted(s["bits_per_second"] / 1e6 for s in full)
cpu = d["end"].get("cpu_utilization_percent", {})
print("%.0f Mbit/s, %d intervals all > 0, per second min %.0f median %.0f max %.0f Mbit/s, "
      "iperf3 CPU client %.0f%% server %.0f%%"
      % (mbit, len(full), rates[0], rates[len(rates) // 2], rates[-1],
         cpu.get("host_total", -1), cpu.get("remote_total", -1)))
EOF
}

wgdp_cpu_sample() {
	local file=$1 ns pid
	shift
	{
		date +%s.%N
		grep '^cpu[0-9]' /proc/stat
		for ns in "$@"; do
			for pid in $(ip netns pids "$ns" 2>/dev/null); do
				# pid (comm) state ... utime stime: fields 14 and 15 after the comm
				sed -n 's/^\([0-9]*\) (\(.*\)) [A-Za-z] \(.*\)/proc \1 \2 \3/p' "/proc/$pid/stat" 2>/dev/null
			done
		done
	} >"$file"
}

wgdp_cpu_report() {
	python3 - "$1" "$2" <<'EOF'
import os, sys
hz = os.sysconf("SC_CLK_TCK")
def load(path):
    lines = open(path).read().split("\n")
    t, cpus, procs = float(lines[0]), {}, {}
    for l in lines[1:]:
        f = l.split()
        if not f:
            continue
        if f[0].startswith("cpu"):
            v = list(map(int, f[1:]))
            cpus[f[0]] = (sum(v) - v[3] - v[4], v[6], sum(v))  # busy, softirq, total
        elif f[0] == "proc":
            # proc PID COMM [fields from state's successor: ppid ...]; utime, stime at 11, 12
            pid, comm, rest = f[1], f[2], f[3:]
            procs[pid] = (comm, int(rest[10]) + int(rest[11]))
    return t, cpus, procs
t0, c0, p0 = load(sys.argv[1])
t1, c1, p1 = load(sys.argv[2])
out = []
for c in sorted(c1):
    b = c1[c][0] - c0[c][0]; si = c1[c][1] - c0[c][1]; tot = (c1[c][2] - c0[c][2]) or 1
    out.append("%s %.0f%% (softirq %.0f%%)" % (c, 100.0 * b / tot, 100.0 * si / tot))
per = {}
for pid, (comm, ticks) in p1.items():
    d = ticks - p0.get(pid, (comm, 0))[1]
    per[comm] = per.get(comm, 0) + d
procs = ["%s %.0f%%" % (k, 100.0 * v / hz / (t1 - t0)) for k, v in sorted(per.items(), key=lambda x: -x[1]) if v > 0]
la = open("/proc/loadavg").read().split()[0]
print(", ".join(out) + "; " + ", ".join(procs) + " (% of one CPU; load average " + la + ")")
EOF
}
