#!/usr/bin/python3
"""ab.py: two builds of npgw, paired, on the throughput benchmark's ports.

  ab.py --old BUILD_DIR --new BUILD_DIR [--pairs 4] [--seconds 3]
        [--data /tmp/npgw-bench-data] [--case NAME ...] [--hugepages]

For each case (default: the 0- and 10k-rule sets, 10,000 flows, 64-byte
frames, stateful and stateless; "flood": throughput.py's flood capture,
rated by the allowed frames forwarded; the captures are made in --data as
throughput.py makes them): runs the old and the new
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
import throughput  # noqa: E402

CASES = {
    "10k-stateful": ("rules", "10k", 10000, "64", "stateful"),
    "10k-stateless": ("rules", "10k", 10000, "64", "stateless"),
    "0-stateful": ("rules", "0", 10000, "64", "stateful"),
    "0-stateless": ("rules", "0", 10000, "64", "stateless"),
    "flood": ("flood", "10k", 10000, "64", "stateful"),
}
DEFAULT = ["10k-stateful", "10k-stateless", "0-stateful", "0-stateless"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", required=True)
    ap.add_argument("--new", required=True)
    ap.add_argument("--pairs", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--data", default="/tmp/npgw-bench-data")
    ap.add_argument("--case", action="append", choices=sorted(CASES))
    ap.add_argument("--hugepages", action="store_true")
    a = ap.parse_args()
    if a.hugepages:
        h.HUGE = True
    names = a.case or DEFAULT
    builds = {"old": a.old, "new": a.new}
    res = {c: {"old": [], "new": []} for c in names}
    caps = {c: throughput.capture_of(a.data, CASES[c]) for c in names}
    tmp = h.Tmp()
    try:
        for i in range(a.pairs):
            for c in names:
                _, rules, _, _, mode = CASES[c]
                pcap, hs, meta = caps[c]
                for b in (("old", "new") if i % 2 == 0 else ("new", "old")):
                    h.NPGW = os.path.join(builds[b], "app", "npgw", "npgw")
                    h.NPGWCTL = os.path.join(builds[b], "app", "npgwctl")
                    g = h.Npgw(tmp, [os.path.join(a.data, "set-" + rules)], pcap, hs,
                               {"enabled": mode == "stateful"}, 256).ready()
                    try:
                        if mode == "stateful" and meta.get("handshake_frames"):
                            h.wait_once(g, meta["handshake_frames"])
                        time.sleep(2.0)
                        s0 = g.stats()
                        time.sleep(a.seconds)
                        s1 = g.stats()
                    finally:
                        g.stop()
                    w = h.window(s0, s1)
                    # the flood: the allowed frames forwarded
                    res[c][b].append(w["tx_pps_cpu" if c == "flood" else "rx_pps_cpu"])
                    print("pair %d %-13s %-3s %.3f Mpps/core" % (
                        i + 1, c, b, res[c][b][-1] / 1e6), flush=True)
    finally:
        tmp.close()
    out = {}
    for c in names:
        r = [n / o for n, o in zip(res[c]["new"], res[c]["old"])]
        out[c] = {
            "old_mpps": statistics.median(res[c]["old"]) / 1e6,
            "new_mpps": statistics.median(res[c]["new"]) / 1e6,
            "new_over_old": statistics.median(r), "min": min(r), "max": max(r),
            "pairs": len(r)}
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
