#!/usr/bin/python3
"""stages.py: where a packet's cycles go, stage by stage, from perf.

  stages.py [--seconds 4] [--warmup 2] [--case NAME ...] [--data DIR]
            [--json FILE] [--hugepages]

For each case (10k-rule set, 10,000 flows, 64-byte frames: "10k-stateless",
"10k-stateful", and "flood" (stateful, every other frame a SYN of a new
denied flow: throughput.py's flood capture)), starts npgw on the
benchmark's ports (harness.py), waits for the handshakes and a warm-up,
then samples its worker thread with `perf record -e cpu-clock -t TID` for
--seconds while measuring the worker's rate (packets per CPU-second).
Each sample's symbol goes to a stage:

  rx        the driver's receive (net_pcap: a copy into a fresh mbuf) and
            the mbuf allocation
  tx        the driver's transmit (net_pcap without a file: a drop) and
            the mbuf free
  flow      the flow-table lookup and commit (rte_hash, lib/conntrack)
  classify  stage 1 and rte_acl (lib/ruleset, rte_acl's search)
  worker    npgw's own loop: parse, decide, counters, tx queueing (with
            link-time optimization these are inlined into the loop)
  other     anything else (the kernel, libc)

and cycles per packet of a stage = its share of the samples x TSC Hz /
the rate. Needs perf (Debian linux-perf); the build's binaries need
their symbols (release builds keep them; nothing is stripped).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import throughput  # noqa: E402

STAGES = ["rx", "tx", "flow", "classify", "worker", "other"]
# symbol patterns, first match wins
BUCKETS = [
    ("rx", re.compile(r"eth_pcap_rx|rte_pktmbuf_alloc|mempool.*(get|dequeue)|"
                      r"rte_mempool_ops_dequeue|common_ring_.c_dequeue|memcpy|"
                      r"eth_.*_rx|rte_eth_rx")),
    ("tx", re.compile(r"eth_pcap_tx|tx_drop|rte_pktmbuf_free|mempool.*(put|enqueue)|"
                      r"rte_mempool_ops_enqueue|common_ring_.p_enqueue|eth_.*_tx|rte_eth_tx")),
    ("flow", re.compile(r"rte_hash|npgw_conntrack|^ct_|denied_|entry_|sweep_|"
                        r"__rte_hash|search_one_bucket|compare_signatures")),
    ("classify", re.compile(r"rte_acl|^search_|acl_|resolve_|npgw_ruleset|stage1|"
                            r"npgw_classify")),
    ("worker", re.compile(r"npgw_|worker|bridge|parse|^hits_|events_")),
]

CASES = {
    "10k-stateless": ("rules", "10k", 10000, "64", "stateless"),
    "10k-stateful": ("rules", "10k", 10000, "64", "stateful"),
    "flood": ("flood", "10k", 10000, "64", "stateful"),
}


def stage_of(sym, dso):
    if "[kernel" in dso:
        return "other"
    for name, rx in BUCKETS:
        if rx.search(sym):
            return name
    return "other"


def worker_tid(pid):
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                if f.read().startswith(("rte-worker", "lcore-worker")):
                    return int(tid)
        except OSError:
            continue
    raise RuntimeError("no worker thread in npgw %d" % pid)


def samples(perf_data):
    """(symbol, dso) -> sample count, from perf report."""
    r = subprocess.run(["perf", "report", "-i", perf_data, "--stdio", "--no-children",
                        "--sort", "dso,sym", "-F", "sample,dso,sym", "--percent-limit", "0"],
                       capture_output=True, text=True)
    out = {}
    for line in r.stdout.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = re.match(r"\s*(\d+)\s+(\S+)\s+\[[^\]]*\]\s+(.*)$", line)
        if m:
            n, dso, sym = int(m.group(1)), m.group(2), m.group(3).strip()
            out[(sym, dso)] = out.get((sym, dso), 0) + n
    return out


def run_case(tmp, data, name, warmup, seconds, hz):
    c = CASES[name]
    pcap, hs, meta = throughput.capture_of(data, c)
    ct = throughput.ct_config(c[4], c[2])
    g = h.Npgw(tmp, [throughput.make_set(data, c[1])], pcap, hs, ct, 256).ready()
    pd = tmp.path("perf-%s.data" % name)
    try:
        if c[4] == "stateful" and meta.get("handshake_frames"):
            h.wait_once(g, meta["handshake_frames"])
        time.sleep(warmup)
        tid = worker_tid(g.proc.pid)
        s0 = g.stats()
        p = subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-t", str(tid), "-o", pd,
                            "--", "sleep", str(seconds)], capture_output=True, text=True)
        s1 = g.stats()
        if p.returncode != 0:
            raise RuntimeError("perf record: %s" % p.stderr[-500:])
    finally:
        g.stop()
    w = h.window(s0, s1)
    cyc = hz / w["rx_pps_cpu"]
    smp = samples(pd)
    total = sum(smp.values()) or 1
    by = {s: 0 for s in STAGES}
    top = {s: [] for s in STAGES}
    for (sym, dso), n in sorted(smp.items(), key=lambda kv: -kv[1]):
        st = stage_of(sym, dso)
        by[st] += n
        if len(top[st]) < 4:
            top[st].append("%s %.1f%%" % (sym, 100 * n / total))
    return {"case": name, "mpps_cpu": w["rx_pps_cpu"] / 1e6, "cycles": cyc,
            "samples": total,
            "stages": {s: {"share": by[s] / total, "cycles": cyc * by[s] / total,
                           "top": top[s]} for s in STAGES}}


def print_table(rows, hz):
    print("Cycles per packet by stage (perf record -e cpu-clock on the worker thread; "
          "release build with LTO; TSC %.0f MHz): a stage's share of the worker's samples "
          "x the cycles a packet takes (TSC Hz / packets per CPU-second)" % (hz / 1e6))
    print()
    print("| case | Mpps/core | cyc/pkt | " + " | ".join(STAGES) + " |")
    print("|---|---:|---:|" + "---:|" * len(STAGES))
    for r in rows:
        print("| %s | %.2f | %.0f | %s |" % (
            r["case"], r["mpps_cpu"], r["cycles"],
            " | ".join("%.0f (%.0f%%)" % (r["stages"][s]["cycles"], 100 * r["stages"][s]["share"])
                       for s in STAGES)))
    print()
    print("Hottest symbols per stage:")
    print()
    for r in rows:
        print("- %s: %s" % (r["case"], "; ".join(
            "%s: %s" % (s, ", ".join(r["stages"][s]["top"]))
            for s in STAGES if r["stages"][s]["top"])))


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.6))
    left = [0.0] * len(rows)
    for s in STAGES:
        v = [r["stages"][s]["cycles"] for r in rows]
        ax.barh([r["case"] for r in rows], v, left=left, label=s)
        left = [a + b for a, b in zip(left, v)]
    ax.set_xlabel("TSC cycles per packet (one worker core)")
    ax.set_title("Where a packet's cycles go (perf, 10k-rule set, 10,000 flows)")
    ax.legend(fontsize=8, ncol=3)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--case", action="append", choices=sorted(CASES))
    ap.add_argument("--data", default="/tmp/npgw-bench-data")
    ap.add_argument("--json")
    ap.add_argument("--hugepages", action="store_true")
    a = ap.parse_args()
    if a.hugepages:
        h.HUGE = True
    if subprocess.run(["perf", "--version"], capture_output=True).returncode != 0:
        print("stages.py: perf is not installed (Debian linux-perf)", file=sys.stderr)
        return 1
    hz = h.tsc_hz()
    tmp = h.Tmp()
    rows = []
    try:
        for name in a.case or ["10k-stateless", "10k-stateful", "flood"]:
            rows.append(run_case(tmp, a.data, name, a.warmup, a.seconds, hz))
            print("%s: %.2f Mpps/core, %.0f cycles/packet" % (
                name, rows[-1]["mpps_cpu"], rows[-1]["cycles"]), file=sys.stderr, flush=True)
    finally:
        tmp.close()
    out = {"tsc_hz": hz, "hugepages": h.HUGE, "rows": rows}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    print_table(rows, hz)
    return 0


if __name__ == "__main__":
    sys.exit(main())
