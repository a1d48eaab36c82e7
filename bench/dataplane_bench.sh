#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Data path rates: wgdp's decrypt+forward and encrypt+forward rates with
# wgdp-pktgen as the source (bench/pktgen/run-memif.sh: two net_memif links,
# no kernel in the path), against the raw intel-ipsec-mb AEAD rate on one
# core measured in the same run (bench/aead_bench, batch-keys: a key per
# message), at the same plaintext sizes. Prints a markdown table for
# docs/performance.md and the command that made it.
#
#   bench/dataplane_bench.sh [--repeats R] [--duration S] [--sizes 64,512,1420]
#                            [--peers 1,10000] [--workers W] [--cpu N] [--build DIR]
#                            [--wait-idle S]
#
#   --repeats   steps per configuration (3): one wgdp run per path, size and
#               peer count, a warm-up step then R steps of S seconds in it;
#               min/median/max over the R
#   --duration  seconds per encrypt step; decrypt steps send a prebuilt window
#               of about S seconds' worth (1.5)
#   --workers   wgdp workers (1); the per-worker rate is the rate / W
#   --cpu       CPU for the raw AEAD (1: where wgdp's first worker runs)
#   --build     build directory with wgdp, bench/wgdp-pktgen, bench/aead_bench
#               (build)
#   --wait-idle before the raw AEAD and before each row, wait up to S seconds
#               (0: no wait) for 2 s in which the machine used under 0.15 CPU
#
# How each path is pushed to wgdp's limit (bench/pktgen/README.md, "wgdp's
# one-worker rates"):
#   decrypt+forward  clients -> outside -> inside: --prebuild, the window
#               sealed before each step and sent as fast as memif takes it
#               (--rate 0), --no-verify (headers still checked), so that our
#               own sealing is not the limit.
#   encrypt+forward  inside -> outside -> clients: --dir rev --rate 0
#               --rx-sample 16, our decryption of 1 message in 16 so that it
#               is not the limit.
# A step counts as wgdp's limit when pktgen saw its transmit refused (wgdp's
# receive ring full); steps where it was not are marked.
# The rate is what came back (verified) over the step's sending time; it
# includes what was still in the memif rings when the step ended (at most
# 16,384 packets per ring, under 1% of a step here).
#
# The machine: wgdp's control thread (lcore 0) and wgdp-pktgen share CPU 0,
# wgdp's worker has CPU 1. Others' load counts: the "others" column is the
# CPU time the rest of the machine took during each row's run (all CPUs'
# busy time from /proc/stat minus what wgdp and wgdp-pktgen used, averaged
# over the run, in CPUs; the two accountings differ by up to about 0.15 CPU,
# so values from -0.15 to 0.15 mean a quiet machine). Takes about 5 minutes
# with the defaults on a quiet machine.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
REPEATS=3
DURATION=1.5
SIZES=64,512,1420
PEERS=1,10000
WORKERS=1
CPU=1
BUILD=$ROOT/build
WAIT_IDLE=0
CMD="bench/dataplane_bench.sh $*"
while [ $# -gt 0 ]; do
	case $1 in
	--repeats) REPEATS=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--sizes) SIZES=$2; shift 2 ;;
	--peers) PEERS=$2; shift 2 ;;
	--workers) WORKERS=$2; shift 2 ;;
	--cpu) CPU=$2; shift 2 ;;
	--build) BUILD=$2; shift 2 ;;
	--wait-idle) WAIT_IDLE=$2; shift 2 ;;
	-h | --help) awk 'NR > 2 && /^#/ { print; next } NR > 2 { exit }' "$0"; exit 0 ;;
	*) echo "dataplane_bench: unknown option $1" >&2; exit 2 ;;
	esac
done
[ "$REPEATS" -ge 1 ] 2>/dev/null || { echo "dataplane_bench: --repeats R, R >= 1" >&2; exit 2; }
for b in wgdp bench/wgdp-pktgen bench/aead_bench; do
	[ -x "$BUILD/$b" ] || { echo "dataplane_bench: $BUILD/$b not built (ninja -C $BUILD)" >&2; exit 2; }
done

TMP=$(mktemp -d /tmp/wgdp-dpbench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# one warm-up step first, not counted: wgdp's neighbour entries start STALE, and
# while they are its data path detours through the control thread (README problem 1)
RATES=$(printf '0%.0s,' $(seq 0 "$REPEATS"))
RATES=${RATES%,}
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$(date +%s)

log() { printf 'dataplane_bench: %s\n' "$*" >&2; }
busy() { # jiffies all CPUs were busy so far (user nice system irq softirq steal)
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

HZ=$(getconf CLK_TCK)
# wait up to WAIT_IDLE s for 2 s of a quiet machine (nothing of ours runs in between)
wait_idle() {
	local end=$((SECONDS + WAIT_IDLE)) b0 used
	[ "$WAIT_IDLE" -gt 0 ] || return 0
	while :; do
		b0=$(busy)
		sleep 2
		used=$(awk -v b0="$b0" -v b1="$(busy)" -v hz="$HZ" 'BEGIN { printf "%.2f", (b1 - b0) / hz / 2 }')
		awk -v u="$used" 'BEGIN { exit !(u < 0.15) }' && return 0
		if [ "$SECONDS" -ge "$end" ]; then
			log "machine still busy ($used CPUs) after ${WAIT_IDLE} s: going on"
			return 0
		fi
	done
}

# (1) the raw AEAD, one core, same sizes
wait_idle
log "raw AEAD on cpu $CPU (${REPEATS} repeats)"
"$BUILD/bench/aead_bench" --sizes "$SIZES" --repeats "$REPEATS" --duration 0.3 --cpu "$CPU" --json >"$TMP/aead.json"

# (2) wgdp's rates
# a prebuilt decrypt step: about DURATION s of packets at a guess of wgdp's rate (a bit
# above what it reached here), in a window of the next power of two
count_for() { # SIZE
	local pps
	if [ "$1" -le 128 ]; then pps=2200000; elif [ "$1" -le 700 ]; then pps=1300000; else pps=800000; fi
	awk -v p="$pps" -v d="$DURATION" 'BEGIN { printf "%d", p * d }'
}
window_for() { # COUNT
	local w=1024
	while [ "$w" -lt "$1" ]; do w=$((w * 2)); done
	echo "$w"
}
mem_for() { # SIZE WINDOW: MB for pktgen's tx pool (one mbuf per window slot + 16,384), x 1.5, + 1 GiB
	awk -v s="$1" -v w="$2" 'BEGIN { frame = 14 + 20 + 8 + 16 + s + 16 + 15;
		obj = 128 + 128 + (int(frame / 64) + 1) * 64 + 64;
		printf "%d", 1.5 * (w + 16384) * obj / 1048576 + 1024 }'
}

IFS=, read -r -a SIZE_LIST <<<"$SIZES"
IFS=, read -r -a PEER_LIST <<<"$PEERS"
: >"$TMP/runs.txt"
for path in decrypt encrypt; do
	for size in "${SIZE_LIST[@]}"; do
		for peers in "${PEER_LIST[@]}"; do
			name=$path-$size-$peers
			if [ "$path" = decrypt ]; then
				count=$(count_for "$size")
				w=$(window_for "$count")
				mem=$(mem_for "$size" "$w")
				# a step ends when the window is sent, or after 4 S (a slow, loaded machine:
				# the rest is thrown away, and the rate is still what came back over the time)
				opts=(--size "$size" --rate "$RATES" --count "$count" --window "$w" --prebuild --no-verify
					--duration "$(awk -v d="$DURATION" 'BEGIN { print 4 * d }')" --hs-wait 120)
			else
				mem=2048
				opts=(--dir rev --size "$size" --rate "$RATES" --duration "$DURATION" --rx-sample 16
					--hs-wait 120)
			fi
			cmd="PG_MEM=$mem bench/pktgen/run-memif.sh -n $peers -w $WORKERS -- ${opts[*]}"
			log "$name: $cmd"
			rc=0
			wait_idle
			b0=$(busy)
			t0=$(date +%s.%N)
			TIMEFORMAT='%U %S' # CPU of run-memif.sh and what it waited for: wgdp, wgdp-pktgen
			{ time PG_BUILD=$BUILD PG_MEM=$mem PG_TMP=$TMP/$name timeout -k 20 600 \
				bash "$ROOT/bench/pktgen/run-memif.sh" -n "$peers" -w "$WORKERS" -- "${opts[@]}" --json \
				>"$TMP/$name.out" 2>"$TMP/$name.err"; } 2>"$TMP/$name.time" || rc=$?
			others=$(awk -v b0="$b0" -v b1="$(busy)" -v t0="$t0" -v t1="$(date +%s.%N)" -v hz="$(getconf CLK_TCK)" \
				'{ printf "%.2f", ((b1 - b0) / hz - $1 - $2) / (t1 - t0) }' "$TMP/$name.time")
			log "$name: others used $others CPUs meanwhile"
			if [ "$rc" -ne 0 ]; then
				log "$name: run-memif.sh exited $rc:"
				tail -5 "$TMP/$name.err" >&2
			fi
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$path" "$size" "$peers" "$rc" "$others" "$TMP/$name.out" "$cmd" \
				>>"$TMP/runs.txt"
		done
	done
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$TMP/aead.json" "$TMP/runs.txt" "$WORKERS" "$REPEATS" <<EOF
import json, sys
aead_path, runs_path, workers, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
aead = {}
a = json.load(open(aead_path))
for r in a["results"]:
    if r["impl"] == "batch-keys":
        aead[(r["dir"], r["size"])] = r["mpps"]
print("# $(date -u +%F) $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')")
print("# load average before %s, after %s; %d s" % ("$LOAD0", "$LOAD1", $(date +%s) - $T0))
print("# command: $CMD")
print()
print("Raw AEAD (aead_bench batch-keys, arch %s, cpu %d, %d repeats of 0.3 s), Mpps min / median / max:"
      % (a["arch"], a["cpu"], a["repeats"]))
print()
print("| size | encrypt | decrypt |")
print("|---:|---|---|")
for size in sorted({k[1] for k in aead}):
    cells = []
    for d in ("encrypt", "decrypt"):
        m = aead[(d, size)]
        cells.append("%.2f / %.2f / %.2f" % (m["min"], m["median"], m["max"]))
    print("| %d | %s |" % (size, " | ".join(cells)))
print()
print("wgdp, %d worker%s (%d steps each after a warm-up step), Mpps min / median / max; ratio = median per worker / raw AEAD median"
      % (workers, "" if workers == 1 else "s", repeats))
print()
print("| path | size | peers | wgdp Mpps | Gbit/s inner (median) | per worker (median) | raw AEAD (median) | ratio | others (CPUs) | notes |")
print("|---|---:|---:|---|---:|---:|---:|---:|---:|---|")
cmds = []
for line in open(runs_path):
    path, size, peers, rc, others, out, cmd = line.rstrip("\n").split("\t")
    size, peers, rc = int(size), int(peers), int(rc)
    d = "fwd" if path == "decrypt" else "rev"
    steps, hs = [], None
    try:
        for l in open(out):
            if l.startswith("{"):
                o = json.loads(l)
                if o["type"] == "step" and o["dir"] == d:
                    steps.append(o)
                elif o["type"] == "handshakes":
                    hs = o
    except OSError:
        pass
    warm, steps = steps[:1], steps[1:]
    label = "%s+forward" % path
    cmds.append("%s %d B, %d peer%s: \`%s\`" % (label, size, peers, "" if peers == 1 else "s", cmd))
    if not steps:
        print("| %s | %d | %d | (failed: exit %d) | | | | | %s | |" % (label, size, peers, rc, others))
        continue
    rates = sorted(s["rx_pps"] / 1e6 for s in steps)
    gbps = sorted(s["rx_bps"] / 1e9 for s in steps)
    med = rates[len(rates) // 2] if len(rates) % 2 else (rates[len(rates) // 2 - 1] + rates[len(rates) // 2]) / 2
    gmed = gbps[len(gbps) // 2] if len(gbps) % 2 else (gbps[len(gbps) // 2 - 1] + gbps[len(gbps) // 2]) / 2
    raw = aead[(path, size)]["median"]
    notes = []
    free = sum(1 for s in steps if s["tx_full"] == 0)
    if free:
        notes.append("%d of %d steps not wgdp-limited (no tx refused)" % (free, len(steps)))
    lost = sum(max(s["lost"], 0) for s in steps)
    reord = sum(s["reordered"] + s["gaps"] for s in steps)
    bad = sum(s["bad"] + s["bad_tag"] for s in steps)
    if lost:
        notes.append("lost %d of %d" % (lost, sum(s["tx_pkts"] for s in steps)))
    if reord:
        notes.append("reordered+gaps %d" % reord)
    if bad:
        notes.append("BAD %d" % bad)
    if rc:
        notes.append("exit %d" % rc)
    wr = sum(s["reordered"] + s["gaps"] + max(s["lost"], 0) for s in warm)
    if wr:
        notes.append("warm-up step: lost+reordered+gaps %d" % wr)
    if hs and hs["established"] != peers:
        notes.append("%d of %d handshook" % (hs["established"], peers))
    print("| %s | %d | %d | %.2f / %.2f / %.2f | %.2f | %.2f | %.2f | %.0f%% | %s | %s |"
          % (label, size, peers, rates[0], med, rates[-1], gmed, med / workers, raw, 100 * med / workers / raw,
             others, "; ".join(notes)))
print()
print("Each row (from the top of the tree, with PG_BUILD=%s):" % "$BUILD")
print()
for c in cmds:
    print("- " + c)
EOF
