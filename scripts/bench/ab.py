#!/usr/bin/python3
"""ab.py: two builds of npgw, paired, on the throughput benchmark's ports.

  ab.py --old BUILD_DIR --new BUILD_DIR [--pairs 4] [--seconds 3]
        [--data /tmp/npgw-bench-data]

For the 0- and 10k-rule sets (10,000 flows, 64-byte frames; throughput.py
makes them in --data), stateful and stateless: runs the old and the new
npgw one after the other (the order alternating from pair to pair), each
for a window of --seconds after a 2 s warm-up, and prints packets per
CPU-second of the worker for each, then per case the medians and the
new/old ratio per pair (median, min, max). On a shared machine whose
speed drifts, the per-pair ratio is the number to read.
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

CASES = [("10k", "stateful"), ("10k", "stateless"), ("0", "stateful"), ("0", "stateless")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", required=True)
    ap.add_argument("--new", required=True)
    ap.add_argument("--pairs", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--data", default="/tmp/npgw-bench-data")
    a = ap.parse_args()
    builds = {"old": a.old, "new": a.new}
    res = {c: {"old": [], "new": []} for c in CASES}
    tmp = h.Tmp()
    try:
        for i in range(a.pairs):
            for c in CASES:
                rules, mode = c
                pcap = os.path.join(a.data, "set-%s-10000-64.pcap" % rules)
                hs = os.path.join(a.data, "set-%s-10000-64-hs.pcap" % rules)
                for b in (("old", "new") if i % 2 == 0 else ("new", "old")):
                    h.NPGW = os.path.join(builds[b], "app", "npgw", "npgw")
                    h.NPGWCTL = os.path.join(builds[b], "app", "npgwctl")
                    g = h.Npgw(tmp, [os.path.join(a.data, "set-" + rules)], pcap, hs,
                               {"enabled": mode == "stateful"}, 256).ready()
                    try:
                        time.sleep(2.0)
                        s0 = g.stats()
                        time.sleep(a.seconds)
                        s1 = g.stats()
                    finally:
                        g.stop()
                    w = h.window(s0, s1)
                    res[c][b].append(w["rx_pps_cpu"])
                    print("pair %d %-4s %-9s %-3s %.3f Mpps/core" % (
                        i + 1, rules, mode, b, w["rx_pps_cpu"] / 1e6), flush=True)
    finally:
        tmp.close()
    out = {}
    for c in CASES:
        r = [n / o for n, o in zip(res[c]["new"], res[c]["old"])]
        out["%s rules, %s" % c] = {
            "old_mpps": statistics.median(res[c]["old"]) / 1e6,
            "new_mpps": statistics.median(res[c]["new"]) / 1e6,
            "new_over_old": statistics.median(r), "min": min(r), "max": max(r),
            "pairs": len(r)}
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
