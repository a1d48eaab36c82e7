#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# wgdp against wgdp-pktgen over two net_memif links (bench/pktgen/run-memif.sh,
# binaries of the release build: build/wgdp, build/bench/wgdp-pktgen): real
# handshakes, then sealed traffic both ways at once at a moderate rate, every
# packet checked for content, loss and order, and wgdp's own counters at its
# stop. No namespaces, no kernel in the path.
#
#   one/...  100 clients, wgdp with one worker: all handshake; a warm-up
#            step at 1 kpps (0 lost, 0 bad; order reported, not checked:
#            wgdp's neighbour entries start STALE and its data path then
#            detours through the control thread, bench/pktgen/README.md
#            problem 1); then forward and reverse at PG_TEST_RATE (50 kpps)
#            for PG_TEST_SECS (3 s) each way, at the same time: 0 lost, 0
#            reordered, 0 gaps, 0 bad (and
#            0 bad tags, 0 counter inversions on the reverse path); wgdp
#            forwarded exactly what was sent and dropped nothing for any
#            reason; pktgen saw nothing unexpected; both exit cleanly; no
#            process, DPDK runtime directory or socket is left behind.
#   heavy/.. one client, two workers, SpreadCrypto = on: the owner gives half of
#            each burst's AEAD jobs to the other worker; the same checks (order,
#            counters, drops) and some jobs spread
#   mig/...  the mq run with autoscaling, driven through PATCH /api/v1/lcores: worker 1
#            parks 1 s into the 50 kpps step and comes back 1 s later (two bucket
#            migrations under traffic); no loss, no inner reordering or gap, no
#            drop (WireGuard counter order is reported, not checked: the two owners
#            transmit on different TX queues, docs/dataplane.md)
#   mq/...   the same with 1,000 clients, wgdp with `Workers = 1-2` (lcores
#            0@0,1@1,2@0) and pktgen with --queues 2 (client i on queue
#            i mod 2 of both ports), autoscaling off.
#
# Runs beside other tests: run-memif.sh names the file prefixes and sockets
# after its pid; memif cannot use --in-memory (bench/pktgen/README.md).
# Needs root and hugepages (scripts/setup.sh).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SUITE=pktgen
# shellcheck source=tests/lib/suite.sh
. "$HERE/lib/suite.sh"
suite_require python3 awk timeout

PG_BUILD=${PG_BUILD:-$ROOT/build}
RATE=${PG_TEST_RATE:-50000}
SECS=${PG_TEST_SECS:-3}
RUN_MEMIF=$ROOT/bench/pktgen/run-memif.sh
for b in "$PG_BUILD/wgdp" "$PG_BUILD/bench/wgdp-pktgen"; do
	if [ ! -x "$b" ]; then
		fail all "$b missing (build it: ninja -C $PG_BUILD)"
		exit 1
	fi
done
if [ "$(id -u)" -ne 0 ]; then
	fail all "must run as root (hugepages, /run sockets)"
	exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/wgt-pg-$$.XXXXXX")
RPID=
cleanup() {
	if [ -n "$RPID" ] && kill -0 "$RPID" 2>/dev/null; then
		kill -TERM "$RPID" 2>/dev/null # its trap stops wgdp-pktgen and wgdp
		for _ in $(seq 1 200); do kill -0 "$RPID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$RPID" 2>/dev/null
	fi
	if [ -n "$RPID" ]; then # in case run-memif.sh itself was killed
		pkill_prefix "wgdp-pg-$RPID"
		pkill_prefix "pktgen-pg-$RPID"
		rm -rf "/var/run/dpdk/wgdp-pg-$RPID" "/var/run/dpdk/pktgen-pg-$RPID"
		rm -f "/run/wgdp-pg-$RPID-out.sock" "/run/wgdp-pg-$RPID-in.sock"
	fi
	rm -rf "$TMP"
}
# the processes of one run, by the file prefix on their command line
prefix_pids() {
	local p cmd
	for p in /proc/[0-9]*; do
		cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
		[[ $cmd == *"--file-prefix $1 "* ]] && echo "${p#/proc/}"
	done
}
pkill_prefix() {
	local pid
	for pid in $(prefix_pids "$1"); do kill -KILL "$pid" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_start NAME WORKERS CLIENTS [APPLIANCE-LINES]: run-memif.sh with traffic both ways in
# the background (RPID), output in $TMP/NAME.{out,err}, config and logs in $TMP/NAME/;
# run_wait: wait for it, its status in RC; run: both
run_start() {
	local name=$1 workers=$2 clients=$3
	mkdir -p "$TMP/$name"
	WGDP_EXTRA=${4:-} PG_BUILD=$PG_BUILD PG_TMP=$TMP/$name timeout -k 20 180 bash "$RUN_MEMIF" -n "$clients" -s 7 -w "$workers" -- \
		--dir both --rate "1000,$RATE" --duration "$SECS" --drain 1 --hs-wait 60 --json \
		>"$TMP/$name.out" 2>"$TMP/$name.err" &
	RPID=$!
}
run_wait() {
	wait "$RPID"
	RC=$?
}
run() {
	run_start "$@"
	run_wait
}

# after a run: nothing of it may be left
check_cleanup() {
	local sfx=$1 left=()
	[ -d "/var/run/dpdk/wgdp-pg-$RPID" ] && left+=("/var/run/dpdk/wgdp-pg-$RPID")
	[ -d "/var/run/dpdk/pktgen-pg-$RPID" ] && left+=("/var/run/dpdk/pktgen-pg-$RPID")
	[ -e "/run/wgdp-pg-$RPID-out.sock" ] && left+=("/run/wgdp-pg-$RPID-out.sock")
	[ -e "/run/wgdp-pg-$RPID-in.sock" ] && left+=("/run/wgdp-pg-$RPID-in.sock")
	ls /dev/hugepages/"wgdp-pg-$RPID"map_* >/dev/null 2>&1 && left+=("/dev/hugepages/wgdp-pg-${RPID}map_*")
	for p in $(prefix_pids "wgdp-pg-$RPID") $(prefix_pids "pktgen-pg-$RPID"); do left+=("process $p"); done
	if [ ${#left[@]} -eq 0 ]; then
		pass "$sfx/cleanup" "no process, runtime directory, hugepage file or socket of prefix *-pg-$RPID left"
	else
		fail "$sfx/cleanup" "left behind: ${left[*]}"
	fi
}

# check NAME SUITE-PREFIX CLIENTS: one PASS/FAIL line per check of a run
check() {
	local name=$1 sfx=$2 clients=$3 line verdict case detail
	if grep -q '^wgdp: public key' "$TMP/$name/wgdp.log" 2>/dev/null; then
		pass "$sfx/start" "wgdp $(grep -o 'worker [0-9]* on lcore [0-9]*' "$TMP/$name/wgdp.log" | paste -sd, | sed 's/,/, /g'); pktgen $(grep -o '[0-9]* tx / [0-9]* rx queues each' "$TMP/$name.err" | head -1)"
	else
		fail "$sfx/start" "wgdp did not start: $(tail -3 "$TMP/$name.err" | tr '\n' ' ')"
		return
	fi
	while IFS='|' read -r verdict case detail; do
		if [ "$verdict" = PASS ]; then pass "$sfx/$case" "$detail"; else fail "$sfx/$case" "$detail"; fi
	done < <(python3 - "$TMP/$name.out" "$clients" "$RATE" "$SECS" <<'EOF'
import json, os, re, sys
path, clients, rate, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
# a run with migrations: the old and the new owner transmit on different TX queues, so a
# receiver may see WireGuard counters out of order there (inner order is still checked)
lenient = os.environ.get("PG_LENIENT_CTR") == "1"
hs, steps, counters, queues, wgdp, drops = None, {}, None, None, None, []
for line in open(path):
    line = line.strip()
    if line.startswith("{"):
        o = json.loads(line)
        if o["type"] == "handshakes": hs = o
        elif o["type"] == "step": steps[(o["step"], o["dir"])] = o
        elif o["type"] == "counters": counters = o
        elif o["type"] == "queues": queues = o
    elif line.startswith("wgdp: rx "):
        n = [int(x) for x in re.findall(r"\d+", line)]
        wgdp = dict(rx=n[0], tx=n[2], ka_rx=n[4], ka_tx=n[5], hs_rx=n[6], hs_tx=n[7])
    elif line.startswith("wgdp: drop "):
        drops.append(line[len("wgdp: drop "):])
def out(ok, case, detail):
    print("%s|%s|%s" % ("PASS" if ok else "FAIL", case, detail.replace("|", "/")))
if hs is None:
    out(False, "handshakes", "no handshake report from wgdp-pktgen")
    sys.exit(0)
out(hs["established"] == clients and hs["failed"] == 0, "handshakes",
    "%d of %d established in %.2f s (%.0f/s), %d failed, %d timeouts, %d cookie replies"
    % (hs["established"], clients, hs["secs"], hs["per_sec"], hs["failed"], hs["timeouts"], hs["cookies"]))
warm = [steps.get((1, d)) for d in ("fwd", "rev")]
if None in warm:
    out(False, "warmup", "no warm-up step in the report")
else:
    bad = ["%s %s %d" % (s["dir"], k, s[k]) for s in warm for k in ("lost", "bad", "bad_tag", "stale") if s[k]]
    out(not bad, "warmup",
        "; ".join("%s sent %d, received %d" % (s["dir"], s["tx_pkts"], s["rx_pkts"]) for s in warm) +
        ("; " + ", ".join(bad) if bad else "; 0 lost, 0 bad") +
        "; not checked: reordered %d, gaps %d" % (sum(s["reordered"] for s in warm), sum(s["gaps"] for s in warm)))
want = rate * secs
for d, zero in (("fwd", ("lost", "reordered", "gaps", "bad", "stale")),
                ("rev", ("lost", "reordered", "gaps", "bad", "bad_tag", "stale") +
                 (() if lenient else ("ctr_reordered",)))):
    s = steps.get((2, d))
    if s is None:
        out(False, d, "no %s step in the report" % d)
        continue
    bad = ["%s %d" % (k, s[k]) for k in zero if s[k] != 0]
    # the generator shares CPU 0 with wgdp's control thread and, on this shared machine,
    # with others' tests (at load 11 it made 16-24 kpps of the 50): allow it to fall
    # short, not to stall
    short = s["tx_pkts"] < 0.1 * want
    lat = s["lat_ns"]
    out(not bad and not short and s["rx_pkts"] == s["tx_pkts"], d,
        "sent %d (%.0f pps over %.2f s), received %d, %s%s; latency us p50 %.0f p99 %.0f max %.0f"
        % (s["tx_pkts"], s["tx_pps"], s["secs"], s["rx_pkts"],
           (", ".join(bad) if bad else ", ".join("%s 0" % k for k in zero)) +
           (" (ctr_reordered %d, not checked)" % s.get("ctr_reordered", 0) if lenient and d == "rev" else ""),
           "; fewer than a tenth of the %d due" % want if short else "",
           lat["p50"] / 1e3, lat["p99"] / 1e3, lat["max"] / 1e3))
# client i goes out on queue i mod Q of each port, and comes back on the queue of
# the worker that handled it: every queue of ours and every worker's carried its share
if queues is None:
    out(False, "queues", "no per-queue report from wgdp-pktgen")
else:
    ok, parts = True, []
    for port in ("outside", "inside"):
        tx, rx = queues[port]["tx"], queues[port]["rx"]
        nq = len(tx)
        # with a migration, a worker transmits only part of the time: some, not a share
        least = (lambda tot: 0) if os.environ.get("PG_ONE_CLIENT") == "1" else \
            (lambda tot: 1) if lenient else (lambda tot: 0.25 * tot / nq)
        ok = ok and all(t >= least(sum(tx)) if os.environ.get("PG_ONE_CLIENT") == "1" else t >= 0.25 * sum(tx) / nq
                        for t in tx) and all(r >= least(sum(rx[:nq])) for r in rx[:nq])
        parts.append("%s tx %s rx %s" % (port, "/".join(map(str, tx)), "/".join(map(str, rx))))
    out(ok, "queues", "packets per queue: " + "; ".join(parts) +
        ("" if ok else " (a queue carried less than a quarter of its share)"))
if wgdp is None:
    out(False, "wgdp_counters", "wgdp printed no counters at its stop")
else:
    f = sum(s["tx_pkts"] for (n, d), s in steps.items() if d == "fwd")
    r = sum(s["tx_pkts"] for (n, d), s in steps.items() if d == "rev")
    ini = counters["hs_initiations_tx"] if counters else -1
    ok = wgdp["rx"] == f and wgdp["tx"] == r and wgdp["hs_rx"] == ini and wgdp["ka_rx"] >= clients
    out(ok, "wgdp_counters",
        "wgdp rx %d packets (pktgen sent %d), tx %d (pktgen sent %d), handshakes rx %d (pktgen sent %d), "
        "keepalives rx %d (at least %d)" % (wgdp["rx"], f, wgdp["tx"], r, wgdp["hs_rx"], ini, wgdp["ka_rx"], clients))
out(not drops, "wgdp_drops",
    "wgdp dropped: " + ", ".join(drops) if drops else
    "no drop counter of wgdp above 0 (bad_tag, replay, unknown_index, malformed, allowedips_mismatch, "
    "no_route, no_neighbour, ring_full, tx_full, no_mbuf, handshake_*, outside L2/L3 and all others)")
if counters is None:
    out(False, "pktgen_counters", "no counters from wgdp-pktgen")
else:
    keys = ("content_errors", "data_unknown_index", "hs_initiations_from_dut", "hs_responses_bad",
            "ctl_tx_drops", "no_mbuf", "out_other_rx", "in_other_rx", "hs_failed")
    bad = ["%s %d" % (k, counters[k]) for k in keys if counters[k]]
    out(not bad, "pktgen_counters", ", ".join(bad) if bad else ", ".join("%s 0" % k for k in keys))
EOF
	)
	if [ "$RC" -eq 0 ]; then
		pass "$sfx/exit" "wgdp-pktgen exited 0 and wgdp stopped cleanly"
	else
		fail "$sfx/exit" "run-memif.sh exited $RC: $(grep -v '^  ' "$TMP/$name.err" | tail -4 | tr '\n' ' ')"
	fi
}

show_logs() { # NAME: the logs of a failed run, for the suite's report
	note "---- $1: run-memif.sh stderr (tail) ----"
	tail -15 "$TMP/$1.err" >&2
	note "---- $1: wgdp log (tail) ----"
	tail -15 "$TMP/$1/wgdp.log" >&2 2>/dev/null
}

# section NAME ... end_section NAME: the checks in between are NAME's; its logs are
# shown when one of them failed, and its time is noted
section() {
	T0=$(date +%s.%N)
	f0=$FAILED
	FAILED=0
}
end_section() {
	check_cleanup "$1"
	[ "$FAILED" -eq 0 ] || show_logs "$1"
	FAILED=$((FAILED | f0))
	note "$1: $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }')"
}

# ---- one worker, 100 clients ----------------------------------------------------
section one
run one 1 100
check one one 100
end_section one

# ---- two workers, --queues 2, 1,000 clients, autoscaling off ---------------------
section mq
run mq 2 1000 "Autoscale = off"
check mq mq 1000
end_section mq

# ---- the same with autoscaling: worker 1 parks during the traffic (migration) -----
# the REST API drives the migrations: worker 1 parks 1 s into the 50 kpps step, and comes
# back 1 s later
section mig
APIPORT=$((20000 + RANDOM % 20000))
head -c 32 /dev/urandom | base64 | tr -d '=+/' >"$TMP/api.token"
chmod 600 "$TMP/api.token"
run_start mig 2 1000 $'ApiTokenFile = '"$TMP/api.token"$'\nApiListen = 127.0.0.1:'"$APIPORT"
lcores() {
	curl -s -m 5 -X "$1" -H "Authorization: Bearer $(cat "$TMP/api.token")" ${2:+-H "Content-Type: application/json" -d "$2"} \
		"http://127.0.0.1:$APIPORT/api/v1/lcores" >/dev/null
}
for _ in $(seq 1 1200); do
	[ "$(grep -c '"type":"step"' "$TMP/mig.out" 2>/dev/null)" -ge 2 ] && break # the warm-up is over
	kill -0 "$RPID" 2>/dev/null || break
	sleep 0.05
done
sleep 1
lcores PATCH '{"min_workers": 1, "max_workers": 1}'
sleep 1
lcores PATCH '{"min_workers": 2, "max_workers": 2}'
run_wait
PG_LENIENT_CTR=1 check mig mig 1000
if grep -q '^wgdp: scale ups [1-9].*downs [1-9]' "$TMP/mig/wgdp.log"; then
	pass mig/migrated "$(grep '^wgdp: scale' "$TMP/mig/wgdp.log")"
else
	fail mig/migrated "no worker was parked and woken during the run: $(grep '^wgdp: scale' "$TMP/mig/wgdp.log")"
fi
end_section mig

# ---- one heavy peer over two workers: its owner spreads half of each burst's AEAD ----
section heavy
run heavy 2 1 $'Autoscale = off\nSpreadCrypto = on'
PG_ONE_CLIENT=1 check heavy heavy 1
if grep -q '^wgdp: spread AEAD jobs sent [1-9]' "$TMP/heavy/wgdp.log"; then
	pass heavy/spread "$(grep '^wgdp: spread' "$TMP/heavy/wgdp.log")"
else
	fail heavy/spread "no AEAD job went to the helper: $(grep '^wgdp: spread' "$TMP/heavy/wgdp.log")"
fi
end_section heavy
exit "$FAILED"
