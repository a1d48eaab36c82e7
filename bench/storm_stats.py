#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Helper of bench/handshake_storm.sh: runs one bench/pktgen/run-memif.sh
command while it watches where the CPU goes, then reports over many runs.

  storm_stats.py run OUT -- COMMAND...
      Runs COMMAND (a run-memif.sh invocation, with wgdp-pktgen's --json),
      passing its output through. Each output line is kept with the time it
      arrived (OUT.out). Every 0.1 s it reads the CPU time (utime + stime,
      /proc/PID/task/TID/stat) of wgdp's control thread (its main thread),
      its workers (rte-worker-N) and wgdp-pktgen's main thread, all found
      among COMMAND's descendants. OUT.json gets the run's figures: the
      pktgen report lines, wgdp's counters, and each thread's CPU share
      during the handshake phase (its length and end come from the
      "handshakes" line) and during each traffic step (from the "step"
      lines, which come after the step and the 0.5 s drain).

  storm_stats.py report [--json] DIR
      Tables over DIR/storm-*.json and DIR/{base,flood}-*.json.

The thread's CPU is the kernel's accounting in clock ticks (1/100 s), so a
share over a window of a few seconds is good to a few per cent. wgdp-pktgen
and a loaded wgdp worker busy-poll: their share is time on the CPU, not
work; wgdp's control thread sleeps when it has nothing to do, so its share
is its work (plus a little polling).
"""
import glob
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time

HZ = os.sysconf("SC_CLK_TCK")
DRAIN_S = 0.5  # wgdp-pktgen's --drain default: the step line comes this long after the step


def ticks(pid, tid):
    try:
        with open("/proc/%d/task/%d/stat" % (pid, tid)) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime, stime
    except (OSError, IndexError, ValueError):
        return None


def comm(pid, tid=None):
    try:
        with open("/proc/%d/task/%d/comm" % (pid, tid if tid else pid)) as f:
            return f.read().strip()
    except OSError:
        return None


def printing(pid):
    """run-memif.sh first runs wgdp-pktgen --print-config: not the one to watch"""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            args = f.read().split(b"\0")
    except OSError:
        return True
    return b"--print-config" in args or b"--print-peers" in args


def descendants(root):
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        for c in children.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def sampler(root, samples, stop):
    """samples: name -> [(t, ticks)] for control, worker-N, pktgen"""
    threads = {}  # name -> (pid, tid)
    wgdp = None
    next_scan = 0.0
    while not stop.is_set():
        now = time.time()
        # wgdp's workers appear a moment after the process: look until one is there
        if now >= next_scan and (wgdp is None or "pktgen" not in threads or
                                 not any(n.startswith("worker-") for n in threads)):
            for pid in descendants(root):
                name = comm(pid)
                if name == "wgdp" and wgdp is None:
                    wgdp = pid
                    threads["control"] = (pid, pid)
                elif name == "wgdp-pktgen" and "pktgen" not in threads and not printing(pid):
                    threads["pktgen"] = (pid, pid)
            if wgdp is not None:
                try:
                    tids = os.listdir("/proc/%d/task" % wgdp)
                except OSError:
                    tids = []
                for t in tids:
                    c = comm(wgdp, int(t)) or ""
                    if c.startswith("rte-worker-"):
                        threads["worker-" + c.rsplit("-", 1)[1]] = (wgdp, int(t))
            next_scan = now + 0.2
        for name, (pid, tid) in threads.items():
            v = ticks(pid, tid)
            if v is not None:
                samples.setdefault(name, []).append((now, v))
        stop.wait(0.1)


def cpu_in(series, a, b):
    """CPU seconds of a thread between times a and b (linear between samples)"""
    if not series or b <= a:
        return None

    def at(t):
        if t <= series[0][0]:
            return series[0][1] if t >= series[0][0] - 0.2 else None
        for (t0, v0), (t1, v1) in zip(series, series[1:]):
            if t0 <= t <= t1:
                return v0 + (v1 - v0) * (t - t0) / (t1 - t0) if t1 > t0 else v1
        return series[-1][1] if t <= series[-1][0] + 0.2 else None

    va, vb = at(a), at(b)
    if va is None or vb is None:
        return None
    return (vb - va) / HZ


WGDP_RX = re.compile(r"^wgdp: rx (\d+) packets (\d+) bytes, tx (\d+) packets (\d+) bytes, keepalives rx (\d+) "
                     r"tx (\d+), handshakes rx (\d+) tx (\d+)")
WGDP_DROP = re.compile(r"^wgdp: drop (.+) (\d+)$")


def run(out, cmd):
    samples, stop = {}, threading.Event()
    lines = []
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, bufsize=1)
    th = threading.Thread(target=sampler, args=(p.pid, samples, stop), daemon=True)
    th.start()
    with open(out + ".out", "w") as log:
        for line in p.stdout:
            t = time.time()
            sys.stdout.write(line)
            sys.stdout.flush()
            log.write("%.3f\t%s" % (t, line))
            lines.append((t, line.rstrip("\n")))
    rc = p.wait()
    stop.set()
    th.join()

    res = {"rc": rc, "command": cmd, "steps": [], "wgdp_drops": {}, "threads": sorted(samples)}
    for t, line in lines:
        if line.startswith("{"):
            try:
                d = json.loads(line)
            except ValueError:
                continue
            if d.get("type") == "handshakes":
                a, b = t - d["secs"], t
                d["cpu"] = {n: cpu_in(s, a, b) for n, s in samples.items()}
                res["handshakes"] = d
            elif d.get("type") == "step":
                b = t - DRAIN_S
                a = b - d["secs"]
                d["cpu"] = {n: cpu_in(s, a, b) for n, s in samples.items()}
                res["steps"].append(d)
            elif d.get("type") == "counters":
                res["pktgen_counters"] = d
        m = WGDP_RX.match(line)
        if m:
            keys = ["rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "keepalives_rx", "keepalives_tx",
                    "handshakes_rx", "handshakes_tx"]
            res["wgdp"] = dict(zip(keys, map(int, m.groups())))
        m = WGDP_DROP.match(line)
        if m:
            res["wgdp_drops"][m.group(1)] = int(m.group(2))
    with open(out + ".json", "w") as f:
        json.dump(res, f, indent=1)
    return rc


def s3(v):
    v = [x for x in v if x is not None]
    if not v:
        return None
    return {"min": min(v), "median": statistics.median(v), "max": max(v)}


def fmt3(s, f="%.0f"):
    if not s:
        return "-"
    return "/".join(f % s[k] for k in ("min", "median", "max"))


def pct(x, secs):
    return None if x is None or not secs else 100.0 * x / secs


def load(path):
    with open(path) as f:
        return json.load(f)


def report(d, as_json):
    out = {}
    storms = [load(p) for p in sorted(glob.glob(os.path.join(d, "storm-*.json")))]
    if storms:
        rows = []
        for r in storms:
            h = r.get("handshakes", {})
            cpu = h.get("cpu", {})
            secs = h.get("secs", 0)
            ctl = cpu.get("control")
            w = r.get("wgdp", {})
            rows.append({
                "established": h.get("established"), "clients": h.get("clients"), "secs": secs,
                "per_sec": h.get("per_sec"), "initiations": h.get("initiations"), "cookies": h.get("cookies"),
                "timeouts": h.get("timeouts"), "bad_responses": h.get("bad_responses"),
                "wgdp_handshakes_rx": w.get("handshakes_rx"), "wgdp_handshakes_tx": w.get("handshakes_tx"),
                "wgdp_drops": r.get("wgdp_drops"),
                "control_cpu_pct": pct(ctl, secs), "pktgen_cpu_pct": pct(cpu.get("pktgen"), secs),
                "worker_cpu_pct": pct(cpu.get("worker-1"), secs),
                "per_control_cpu_s": h.get("established") / ctl if ctl else None,
            })
        out["storm"] = {"runs": rows,
                        "per_sec": s3([x["per_sec"] for x in rows]),
                        "per_control_cpu_s": s3([x["per_control_cpu_s"] for x in rows]),
                        "control_cpu_pct": s3([x["control_cpu_pct"] for x in rows])}
    pairs = []
    for b in sorted(glob.glob(os.path.join(d, "base-*.json"))):
        f = b.replace("base-", "flood-")
        if os.path.exists(f):
            pairs.append((load(b), load(f)))
    if pairs:
        rows = []
        for base, flood in pairs:
            for sb, sf in zip(base["steps"], flood["steps"]):
                rows.append({
                    "dir": sb["dir"], "rate": sb["rate"],
                    "base_rx_pps": sb["rx_pps"], "flood_rx_pps": sf["rx_pps"],
                    "ratio": sf["rx_pps"] / sb["rx_pps"] if sb["rx_pps"] else None,
                    "base_lost": sb["lost"], "flood_lost": sf["lost"],
                    "base_p50_us": sb["lat_ns"]["p50"] / 1e3, "flood_p50_us": sf["lat_ns"]["p50"] / 1e3,
                    "base_p99_us": sb["lat_ns"]["p99"] / 1e3, "flood_p99_us": sf["lat_ns"]["p99"] / 1e3,
                    "base_tx_full": sb["tx_full"], "flood_tx_full": sf["tx_full"],
                    "flood_window_empty": sf["window_empty"],
                    "base_control_cpu_pct": pct(sb["cpu"].get("control"), sb["secs"]),
                    "flood_control_cpu_pct": pct(sf["cpu"].get("control"), sf["secs"]),
                    "flood_worker_cpu_pct": pct(sf["cpu"].get("worker-1"), sf["secs"]),
                    "flood_pktgen_cpu_pct": pct(sf["cpu"].get("pktgen"), sf["secs"]),
                    "flood_rekeys": flood.get("pktgen_counters", {}).get("rekeys"),
                    # the first handshakes use --hs-rate's tokens: the rekeys come after them, in the step
                    # and its drain (an overestimate when some came earlier)
                    "flood_rekeys_per_s": (flood.get("pktgen_counters", {}).get("rekeys", 0) /
                                           (sf["secs"] + DRAIN_S)),
                    "flood_rekeys_failed": flood.get("pktgen_counters", {}).get("rekeys_failed"),
                    "flood_cookies": flood.get("pktgen_counters", {}).get("hs_cookies_rx"),
                    "flood_wgdp_handshakes_rx": flood.get("wgdp", {}).get("handshakes_rx"),
                    "flood_wgdp_drops": flood.get("wgdp_drops"),
                    "base_wgdp_drops": base.get("wgdp_drops"),
                })
        out["flood"] = {"runs": rows}
        for dname in sorted({x["dir"] for x in rows}):
            sel = [x for x in rows if x["dir"] == dname]
            out["flood"][dname] = {
                "ratio": s3([x["ratio"] for x in sel]),
                "base_rx_pps": s3([x["base_rx_pps"] for x in sel]),
                "flood_rx_pps": s3([x["flood_rx_pps"] for x in sel]),
                "flood_lost": s3([x["flood_lost"] for x in sel]),
                "base_lost": s3([x["base_lost"] for x in sel]),
                "base_p99_us": s3([x["base_p99_us"] for x in sel]),
                "flood_p99_us": s3([x["flood_p99_us"] for x in sel]),
            }
    if as_json:
        json.dump(out, sys.stdout, indent=1)
        print()
        return 0
    if "storm" in out:
        st = out["storm"]
        print("storm: wgdp-pktgen clients handshaking at once, no traffic (min/median/max over %d runs)"
              % len(st["runs"]))
        for i, x in enumerate(st["runs"]):
            print("  run %d: %s of %s in %.2f s = %.0f hs/s; %s initiations, %s cookie replies, %s timeouts, "
                  "%s bad responses; wgdp handshakes rx %s tx %s, drops %s; CPU during the phase: wgdp control "
                  "%.0f%%, wgdp worker %.0f%%, pktgen %.0f%%; %.0f hs per control-thread CPU second"
                  % (i + 1, x["established"], x["clients"], x["secs"], x["per_sec"], x["initiations"],
                     x["cookies"], x["timeouts"], x["bad_responses"], x["wgdp_handshakes_rx"],
                     x["wgdp_handshakes_tx"], x["wgdp_drops"] or "none", x["control_cpu_pct"] or 0,
                     x["worker_cpu_pct"] or 0, x["pktgen_cpu_pct"] or 0, x["per_control_cpu_s"] or 0))
        print("  handshakes/s completed: %s; per control-thread CPU second: %s; control thread busy: %s%%"
              % (fmt3(st["per_sec"]), fmt3(st["per_control_cpu_s"]), fmt3(st["control_cpu_pct"])))
    if "flood" in out:
        fl = out["flood"]
        print("data during a handshake flood: the same clients, traffic at a fixed rate, without (base) and with "
              "rekeys every few seconds (flood)")
        for x in fl["runs"]:
            print("  %s %.0f pps: base rx %.0f pps lost %d p50/p99 %.0f/%.0f us, control %.0f%%; flood rx %.0f pps "
                  "lost %d p50/p99 %.0f/%.0f us, control %.0f%% worker %.0f%% pktgen %.0f%%, %s rekeys (~%.0f/s in the step, %s failed), "
                  "%s cookie replies, wgdp handshakes rx %s, drops %s; ratio %.3f"
                  % (x["dir"], x["rate"], x["base_rx_pps"], x["base_lost"], x["base_p50_us"], x["base_p99_us"],
                     x["base_control_cpu_pct"] or 0, x["flood_rx_pps"], x["flood_lost"], x["flood_p50_us"],
                     x["flood_p99_us"], x["flood_control_cpu_pct"] or 0, x["flood_worker_cpu_pct"] or 0,
                     x["flood_pktgen_cpu_pct"] or 0, x["flood_rekeys"], x["flood_rekeys_per_s"],
                     x["flood_rekeys_failed"],
                     x["flood_cookies"], x["flood_wgdp_handshakes_rx"], x["flood_wgdp_drops"] or "none",
                     x["ratio"] or 0))
        for dname in sorted(k for k in fl if k != "runs"):
            s = fl[dname]
            print("  %s: received with flood / without: %s; rx pps base %s, flood %s; lost base %s, flood %s; "
                  "p99 us base %s, flood %s"
                  % (dname, fmt3(s["ratio"], "%.3f"), fmt3(s["base_rx_pps"]), fmt3(s["flood_rx_pps"]),
                     fmt3(s["base_lost"]), fmt3(s["flood_lost"]), fmt3(s["base_p99_us"]),
                     fmt3(s["flood_p99_us"])))
    return 0


def main(argv):
    if len(argv) >= 4 and argv[1] == "run" and argv[3] == "--":
        return run(argv[2], argv[4:])
    if len(argv) >= 3 and argv[1] == "report":
        as_json = "--json" in argv[2:]
        d = [a for a in argv[2:] if a != "--json"]
        if len(d) == 1:
            return report(d[0], as_json)
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
