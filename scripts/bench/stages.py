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

  driver    the driver's rx and tx (net_pcap: rx copies each frame into a
            fresh mbuf, tx without a file drops; one shared object whose
            static functions Debian ships without symbols, so rx and tx
            are one stage)
  mbuf      mbuf allocation and free (librte_mempool, librte_mbuf,
            librte_ring, and their inlined calls)
  parse     lib/pkt: the frame's headers
  flow      the flow-table lookup and commit (librte_hash, lib/conntrack)
  classify  stage 1 and rte_acl (lib/ruleset, librte_acl)
  forward   the rest of npgw's loop: decide, counters, tx queueing
            (lib/dataplane, and any other file)
  other     anything else (the kernel, libc)

npgw's own samples are attributed by the source file of the sampled
instruction (perf's srcfile, from the debug info run-all.sh builds with:
code inlined by link-time optimization keeps its file), else by the
function's name.

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

STAGES = ["driver", "mbuf", "parse", "flow", "classify", "forward", "other"]
# DPDK's shared objects: a stage each (their static functions have no
# symbols in Debian's packages)
DSOS = [
    ("driver", re.compile(r"librte_net_")),
    ("mbuf", re.compile(r"librte_(mempool|mbuf|ring)")),
    ("flow", re.compile(r"librte_hash")),
    ("classify", re.compile(r"librte_acl")),
]
# npgw's own code: by the source file of the sampled instruction (debug
# info; inlined code keeps its file), else by the function's name
LIB_STAGE = {"pkt": "parse", "conntrack": "flow", "ruleset": "classify",
             "dataplane": "forward"}
HEADERS = [
    ("mbuf", re.compile(r"^rte_(mbuf|mempool|ring)")),
    ("flow", re.compile(r"^rte_hash|^rte_cuckoo")),
    ("classify", re.compile(r"^rte_acl")),
]


def source_files():
    """Source file basename -> stage, from lib/ (perf's srcfile names
    the file, not its directory)."""
    top = os.path.dirname(os.path.dirname(HERE))
    out = {}
    for lib, stage in LIB_STAGE.items():
        for root, _, files in os.walk(os.path.join(top, "lib", lib)):
            for f in files:
                if f.endswith((".c", ".h")):
                    out[f] = stage
    return out


HERE = os.path.dirname(os.path.abspath(__file__))
FILES = source_files()
SYMS = [
    ("parse", re.compile(r"npgw_pkt_|parse")),
    ("flow", re.compile(r"npgw_conntrack|^ct_|rte_hash|denied_|entry_|sweep_")),
    ("classify", re.compile(r"npgw_ruleset|stage1|rte_acl|classify")),
    ("mbuf", re.compile(r"rte_pktmbuf|rte_mempool")),
    ("forward", re.compile(r"npgw_|dp_worker|worker|bridge")),
]

CASES = {
    "10k-stateless": ("rules", "10k", 10000, "64", "stateless"),
    "10k-stateful": ("rules", "10k", 10000, "64", "stateful"),
    "flood": ("flood", "10k", 10000, "64", "stateful"),
}


def stage_of(sym, dso, srcfile=None):
    for name, rx in DSOS:
        if rx.search(dso):
            return name
    if dso.startswith("[kernel") or not re.search(r"npgw", dso):
        return "other"
    if srcfile and srcfile != "??":
        f = os.path.basename(srcfile.split(":")[0])
        if f in FILES:
            return FILES[f]
        for name, rx in HEADERS:
            if rx.search(f):
                return name
        return "forward"
    for name, rx in SYMS:
        if rx.search(sym):
            return name
    return "forward"


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
    """(symbol, dso, source file or None) -> sample count, from perf
    report; the source file where the binary has debug info."""
    r = subprocess.run(["perf", "report", "-i", perf_data, "--stdio", "--no-children",
                        "--sort", "dso,sym,srcfile", "-F", "sample,dso,sym,srcfile",
                        "--percent-limit", "0"], capture_output=True, text=True)
    out = {}
    for line in r.stdout.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = re.match(r"\s*(\d+)\s+(\S+)\s+\[[^\]]*\]\s+(\S+)\s*(\S*)\s*$", line)
        if m:
            n, dso, sym, src = int(m.group(1)), m.group(2), m.group(3), m.group(4) or None
            k = (sym, dso, src)
            out[k] = out.get(k, 0) + n
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
    where = {s: {} for s in STAGES}
    for (sym, dso, src), n in smp.items():
        st = stage_of(sym, dso, src)
        by[st] += n
        what = src if src and src != "??" and "npgw" in dso else (
            sym if not sym.startswith("0x") else os.path.basename(dso))
        where[st][what] = where[st].get(what, 0) + n
    top = {s: ["%s %.1f%%" % (w, 100 * n / total)
               for w, n in sorted(where[s].items(), key=lambda kv: -kv[1])[:4]]
           for s in STAGES}
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
