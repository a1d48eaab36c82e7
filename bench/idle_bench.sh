#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Idle CPU of wgdp with autoscaling on and off, and how fast a parked worker
# comes back (issue 5, benchmark 5). wgdp runs in a network namespace with two
# workers (--lcores 0@0,1@1,2@0), its outside on net_af_packet over a veth,
# its inside a TAP, and no traffic at all:
#
# - Autoscale = on: the second worker parks after ScaleDownDelay; the first
#   dozes (naps up to 1 ms). Autoscale = off: both poll without pause.
#   Figure: CPU time of the whole wgdp process over SECS seconds, in % of one
#   core (utime + stime from /proc/PID/stat).
# - wake: with the second worker parked, PATCH /api/v1/lcores min_workers 2
#   and the time from the request to the end of the "up" event in the
#   history (woken, running, owning its buckets and queues again; ms
#   resolution, one clock); "decided -> settled" is the event's own duration.
#
#   bench/idle_bench.sh [--repeats R] [--seconds SECS] [--markdown]
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
REPEATS=3
SECS=10
MARKDOWN=0
while [ $# -gt 0 ]; do
	case $1 in
	--repeats) REPEATS=$2; shift 2 ;;
	--seconds) SECS=$2; shift 2 ;;
	--markdown) MARKDOWN=1; shift ;;
	-h|--help) sed -n '3,17p' "$0"; exit 0 ;;
	*) echo "idle_bench.sh: unknown option: $1" >&2; exit 2 ;;
	esac
done

# shellcheck source=tests/lib/netns.sh
. "$ROOT/tests/lib/netns.sh"
# shellcheck source=tests/lib/wgdp.sh
. "$ROOT/tests/lib/wgdp.sh"
netns_init
netns_add srv SRV
netns_add out OUT
netns_veth "$SRV" wout "$OUT" eth0
netns_wg_genkey server >/dev/null
TOKEN_FILE=$NETNS_TMP/api.token
head -c 32 /dev/urandom | base64 | tr -d '=+/' >"$TOKEN_FILE"
export WGDP_LCORES="--lcores 0@0,1@1,2@0"
HZ=$(getconf CLK_TCK)

api() {
	netns_exec "$SRV" curl -s -m 5 -X "$1" -H "Authorization: Bearer $(cat "$TOKEN_FILE")" \
		${3:+-H "Content-Type: application/json" -d "$3"} "http://127.0.0.1:8080$2"
}
lc() { api GET /api/v1/lcores | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# one run: prints "cpu_percent" (and for on: "wake_ms settle_ms")
run() { # MODE(on|off) N
	local mode=$1 n=$2 conf=$NETNS_TMP/wgdp-$1-$2.conf tap pid t0 t1 ok=0 w0
	tap=$(wgdp_tap_name "wgib$n")
	wgdp_conf "$conf" server wout "$tap" "ApiTokenFile = $TOKEN_FILE" "Workers = 1,2" "Autoscale = $mode" \
		"MinWorkers = 1" "ScaleDownDelay = 1000"
	wgdp_start "idle-$mode-$n" "$SRV" "$conf" >/dev/null || return 1
	pid=${WGDP_PID[idle-$mode-$n]}
	if [ "$mode" = on ]; then
		for _ in $(seq 1 100); do
			[ "$(lc 'd["active_workers"] == 1 and d["lcores"][1]["state"] == "parked"')" = True ] && { ok=1; break; }
			sleep 0.1
		done
		[ "$ok" -eq 1 ] || { echo "second worker did not park" >&2; return 1; }
		sleep 1 # let the first one reach its longest nap
	else
		sleep 3
	fi
	t0=$(ticks "$pid")
	sleep "$SECS"
	t1=$(ticks "$pid")
	CPU=$(python3 -c "print('%.2f' % (100.0 * ($t1 - $t0) / $HZ / $SECS))")
	WAKE="" SETTLE=""
	if [ "$mode" = on ]; then
		w0=$(date +%s.%N)
		api PATCH /api/v1/lcores '{"min_workers": 2}' >/dev/null
		for _ in $(seq 1 200); do
			[ "$(lc 'd["active_workers"] == 2 and not d["migrations"]["in_progress"]')" = True ] && break
			sleep 0.01
		done
		# from the request to the "up" event's end (its time stamp), and the event's own duration
		WAKE=$(lc "'%.2f' % ((__import__('datetime').datetime.strptime(d['history'][-1]['time'], '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=__import__('datetime').timezone.utc).timestamp() - $w0) * 1000)")
		SETTLE=$(lc '"%.2f" % d["history"][-1]["duration_ms"]')
	fi
	wgdp_stop "idle-$mode-$n" >/dev/null || true
}

declare -a ON OFF WK ST
for r in $(seq 1 "$REPEATS"); do
	run on "$r" || exit 1
	ON+=("$CPU") WK+=("$WAKE") ST+=("$SETTLE")
	run off "$r" || exit 1
	OFF+=("$CPU")
done

stats() { python3 -c "import sys,statistics as s; v=sorted(float(x) for x in sys.argv[1:]); print('%.2f / %.2f / %.2f' % (v[0], s.median(v), v[-1]))" "$@"; }
echo "# idle wgdp, 2 workers, no traffic, $SECS s per sample, $REPEATS repeats (min / median / max)"
if [ "$MARKDOWN" -eq 1 ]; then
	echo "| measure | min / median / max |"
	echo "|---|---|"
	echo "| CPU, Autoscale = on (worker 1 parked, worker 0 dozing), % of one core | $(stats "${ON[@]}") |"
	echo "| CPU, Autoscale = off (both polling), % of one core | $(stats "${OFF[@]}") |"
	echo "| parked worker back: request to \"up\" event done, ms | $(stats "${WK[@]}") |"
	echo "| of which decision to last bucket settled (history), ms | $(stats "${ST[@]}") |"
else
	echo "cpu_on_percent   $(stats "${ON[@]}")"
	echo "cpu_off_percent  $(stats "${OFF[@]}")"
	echo "wake_ms          $(stats "${WK[@]}")"
	echo "settle_ms        $(stats "${ST[@]}")"
fi
