#!/usr/bin/python3
"""hotswap.py: policy generations swapped under full load, nothing lost.

  hotswap.py [--sets 1k,10k] [--duration 60] [--period 0.1] [--quick]
             [--data DIR] [--json FILE]

For each set S (make_set.py: S and its variant b, the same pods with every
allow policy also admitting TCP 9090, so another ACL and other verdicts):
npgw runs on the throughput harness's ports (one worker, conntrack off:
every frame is classified against the live generation) with S's 10,000-flow
capture, whose frames a and b deny in known shares. After a 2 s baseline,
`npgwctl apply -f` sends b's policies, then a's, alternately, every
--period seconds for --duration seconds (an apply waits for its commit: a
set whose build takes longer than the period swaps as fast as it can; the
table says how many swaps happened). Reported:
- loss: from npgw's final counters (exact: read after the worker stopped),
  rx - tx - policy drops; every other drop reason counts as loss. Must be 0.
- swap latency: commit_ms of the apply reply (request received to
  generation live, RCU grace period included) and the client's wall time
  of `npgwctl apply` (process start, files read, socket, commit, reply):
  median and p99.
- throughput dip: the rate received over each period (stats sampled at
  every swap) against the baseline's median: median and lowest during the
  swaps.
--quick: the 1k set, 2 s of swaps (the CI smoke run).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import throughput as tp  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def make_b(data, rules):
    d = os.path.join(data, "set-%s-b" % rules)
    if not os.path.exists(os.path.join(d, "set.meta")):
        subprocess.run([sys.executable, os.path.join(HERE, "make_set.py"), "--rules", rules,
                        "--variant", "b", "--out", d], check=True)
    return d


def pct(v, p):
    v = sorted(v)
    if not v:
        return float("nan")
    k = min(len(v) - 1, max(0, int(round(p / 100 * (len(v) - 1)))))
    return v[k]


def policy_files(d):
    return [os.path.join(d, f) for f in sorted(os.listdir(d))
            if f.startswith("10-policies") and f.endswith(".json")]


def run_set(tmp, data, rules, duration, period):
    a_dir = tp.make_set(data, rules)
    b_dir = make_b(data, rules)
    name = "swap-%s" % rules
    pcap = os.path.join(data, name + ".pcap")
    if not os.path.exists(pcap + ".meta"):
        subprocess.run([sys.executable, os.path.join(HERE, "make_traffic.py"), "--set", a_dir,
                        "--also-set", b_dir, "--flows", "10000", "--frames", "64",
                        "--out", pcap, "--npgwctl", h.NPGWCTL], check=True,
                       stdout=subprocess.DEVNULL)
    with open(pcap + ".meta") as f:
        meta = json.load(f)
    files = {"a": policy_files(a_dir), "b": policy_files(b_dir)}
    # the socket owns the desired state (a config with policy files would
    # refuse the applies): a's policies go in over it first
    g = h.Npgw(tmp, [], pcap, None, {"enabled": False}, tag="swap").ready()
    g.ctl("apply", *sum((["-f", os.path.join(a_dir, f)] for f in sorted(os.listdir(a_dir))
                         if f.endswith(".json")), []))
    rules_n = {"a": g.status()["acl"]["rules"]}
    base, during, commit, wall, gens = [], [], [], [], 0
    try:
        time.sleep(1.0)
        prev = g.stats()
        for _ in range(int(2.0 / period)):
            time.sleep(period)
            s = g.stats()
            base.append(h.window(prev, s)["rx_pps"])
            prev = s
        t_end = time.monotonic() + duration
        nxt = "b"
        tick = time.monotonic()
        while time.monotonic() < t_end:
            t0 = time.monotonic()
            r = g.ctl("apply", "-o", "json", *sum((["-f", f] for f in files[nxt]), []))
            wall.append((time.monotonic() - t0) * 1e3)
            rep = json.loads(r.stdout)
            commit.append(rep["commit_ms"])
            gens += 1
            if nxt not in rules_n:
                rules_n[nxt] = g.status()["acl"]["rules"]
            nxt = "a" if nxt == "b" else "b"
            tick += period
            time.sleep(max(0.0, tick - time.monotonic()))
            s = g.stats()
            during.append(h.window(prev, s)["rx_pps"])
            prev = s
    finally:
        fin = g.stop()
    lost = h.loss(fin["rx"], fin["tx"], fin["drops"]) if fin else None
    b_med = statistics.median(base)
    return {
        "rules_target": rules, "rules_a": rules_n.get("a"), "rules_b": rules_n.get("b"),
        "duration_s": duration, "period_s": period, "swaps": gens,
        "rx": fin["rx"] if fin else None, "tx": fin["tx"] if fin else None,
        "policy_drops": sum(v for k, v in (fin or {"drops": {}})["drops"].items()
                            if k.startswith("policy-")),
        "other_drops": {k: v for k, v in (fin or {"drops": {}})["drops"].items()
                        if not k.startswith("policy-")},
        "loss": lost,
        "denied_a": meta["denied_share"], "denied_b": meta.get("denied_share_also"),
        "commit_ms_median": statistics.median(commit), "commit_ms_p99": pct(commit, 99),
        "wall_ms_median": statistics.median(wall), "wall_ms_p99": pct(wall, 99),
        "baseline_mpps": b_med / 1e6,
        "during_median_mpps": statistics.median(during) / 1e6,
        "during_min_mpps": min(during) / 1e6,
        "dip_median": 1 - statistics.median(during) / b_med,
        "dip_worst": 1 - min(during) / b_med,
    }


def print_table(rows):
    print("Hot swap under load: one worker, conntrack off, 10,000 flows, 64-byte frames; "
          "sets a and b alternated")
    print()
    print("| ACL rules (a / b) | duration s | period ms | swaps | rx | loss | other drops | "
          "commit ms median / p99 | apply wall ms median / p99 | baseline Mpps | "
          "during swaps Mpps median / min | dip median / worst |")
    print("|---|---:|---:|---:|---:|---:|---|---|---|---:|---|---|")
    for r in rows:
        print("| %s / %s | %.0f | %.0f | %d | %d | %s | %s | %.1f / %.1f | %.1f / %.1f | %.2f | "
              "%.2f / %.2f | %.1f%% / %.1f%% |" % (
                  r["rules_a"], r["rules_b"], r["duration_s"], r["period_s"] * 1e3, r["swaps"],
                  r["rx"], r["loss"], json.dumps(r["other_drops"]) if r["other_drops"] else "-",
                  r["commit_ms_median"], r["commit_ms_p99"], r["wall_ms_median"],
                  r["wall_ms_p99"], r["baseline_mpps"], r["during_median_mpps"],
                  r["during_min_mpps"], 100 * r["dip_median"], 100 * r["dip_worst"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="1k,10k")
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--period", type=float, default=0.1)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--data", default="/tmp/npgw-bench-data")
    ap.add_argument("--json")
    a = ap.parse_args()
    if a.quick:
        a.sets, a.duration = "1k", 2.0
    os.makedirs(a.data, exist_ok=True)
    tmp = h.Tmp()
    rows = []
    try:
        for rules in a.sets.split(","):
            rows.append(run_set(tmp, a.data, rules, a.duration, a.period))
    finally:
        tmp.close()
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rows": rows}, f, indent=1)
    print_table(rows)
    return 0 if all(r["loss"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
