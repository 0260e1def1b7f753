#!/usr/bin/python3
"""throughput.py: npgw against dpdk-testpmd io, per core, on generated traffic.

  throughput.py [--runs 5] [--seconds 3] [--with-100k] [--quick] [--only-rules R]
                [--only-flows N] [--data DIR] [--json FILE]

For every case (policy set, flows, frame mix, conntrack mode) and every run,
interleaved: dpdk-testpmd --forward-mode=io on the case's ports and capture,
then npgw on the same (harness.py). Reports medians over the runs of
packets received per second (every frame npgw handles, allowed or denied),
packets sent, testpmd's rate, the ratio npgw/testpmd, and cycles per packet
(TSC Hz / rate; the worker core is always busy); "npgw cyc - testpmd cyc"
is the cost of npgw's own work, the harness's (pcap rx copy, tx drop)
taken out. Loss (rx - tx - policy drops) must be 0 in every run.

Cases:
  rules   0/100/1k/10k-rule sets, 10,000 flows, 64-byte frames; the
          100k-rule set only with --with-100k: its cluster (10,000 pods,
          28,000 policies) saves to a 20 MB state, over the daemon's 16 MiB
          state-file limit, so npgw refuses it at start (persist-failed)
          and the case reports that instead of numbers
  flows   10k-rule set, 100 and 1,000,000 flows, 64-byte frames
  imix    10k-rule set, 10,000 flows, IMIX (7:4:1 of 64/570/1518 bytes)
  allnew  10k-rule set, 1,000,000 flows, every frame a TCP SYN of a flow
          whose entry has expired (timeouts.tcp_syn 1 s; the capture takes
          longer than 1 s to go round): the flow table misses, classifies
          and inserts on every frame. The conntrack miss counter says how
          close to "every frame" each run came: here the capture goes round
          faster than 1 s, so most SYNs hit their flow's entry of the last
          round; a true all-new run needs a capture longer than rate x 1 s
          (several GB of pool without hugepages) or a flow-table flush
          every 100 ms over the control socket.
Modes: stateless (conntrack off) and stateful (conntrack on; the TCP
handshakes of every flow arrive once on port 1, so the data frames, TCP
ACKs, hit established flows; denied flows never get an entry and are
classified on every frame, as they would be).
--quick: the 0- and 1k-rule sets, 1,000 flows, one run of 0.5 s (the CI
smoke run: checks that everything runs and the table prints).
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

HERE = os.path.dirname(os.path.abspath(__file__))
CT_ON = {"enabled": True}
CT_OFF = {"enabled": False}
CT_NEW = {"enabled": True, "timeouts": {"tcp_syn": 1}}


def ct_config(mode, flows):
    """conntrack: for the mode; a table with room for every flow (the default
    262144 would refuse flows of the 1,000,000-flow captures)."""
    if mode == "stateless":
        return CT_OFF
    c = dict(CT_NEW if mode == "allnew" else CT_ON)
    if flows * 5 // 4 > 262144:
        c["capacity"] = flows * 5 // 4
    return c


def make_set(data, rules):
    d = os.path.join(data, "set-" + rules)
    if not os.path.exists(os.path.join(d, "set.meta")):
        subprocess.run([sys.executable, os.path.join(HERE, "make_set.py"), "--rules", rules,
                        "--out", d], check=True)
    return d


def make_pcap(data, setdir, flows, frames, syn=False):
    name = "%s-%d-%s%s" % (os.path.basename(setdir), flows, frames, "-syn" if syn else "")
    out = os.path.join(data, name + ".pcap")
    hs = os.path.join(data, name + "-hs.pcap")
    if not os.path.exists(out + ".meta"):
        args = [sys.executable, os.path.join(HERE, "make_traffic.py"), "--set", setdir,
                "--flows", str(flows), "--frames", frames, "--out", out,
                "--npgwctl", h.NPGWCTL]
        if syn:
            args.append("--syn")
        else:
            args += ["--handshake", hs]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    with open(out + ".meta") as f:
        meta = json.load(f)
    return out, (None if syn else hs), meta


def cases(a):
    if a.quick:
        return [("rules", r, 1000, "64", m) for r in ("0", "1k")
                for m in ("stateless", "stateful")]
    out = []
    sets = ["0", "100", "1k", "10k"] + (["100k"] if a.with_100k else [])
    for r in sets:
        for m in ("stateless", "stateful"):
            out.append(("rules", r, 10000, "64", m))
    for fl in (100, 1000000):
        for m in ("stateless", "stateful"):
            out.append(("flows", "10k", fl, "64", m))
    for m in ("stateless", "stateful"):
        out.append(("imix", "10k", 10000, "imix", m))
    out.append(("allnew", "10k", 1000000, "64", "allnew"))
    return out


def med(v):
    return statistics.median(v) if v else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--warmup", type=float, default=1.5)
    ap.add_argument("--with-100k", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--data", default="/tmp/npgw-bench-data")
    ap.add_argument("--only-flows", type=int, help="only the cases of this many flows")
    ap.add_argument("--only-rules", help="only the cases of this rule set (0, 100, 1k, 10k, 100k)")
    ap.add_argument("--json")
    a = ap.parse_args()
    if a.quick:
        a.runs, a.seconds, a.warmup = 1, 0.5, 0.3
    os.makedirs(a.data, exist_ok=True)
    hz = h.tsc_hz()
    cs = [c for c in cases(a) if (a.only_flows is None or c[2] == a.only_flows) and
          (a.only_rules is None or c[1] == a.only_rules)]
    prepared = {}
    for kind, rules, flows, frames, mode in cs:
        setdir = make_set(a.data, rules)
        key = (rules, flows, frames, mode == "allnew")
        if key not in prepared:
            prepared[key] = make_pcap(a.data, setdir, flows, frames, syn=mode == "allnew")
    tmp = h.Tmp()
    res = {c: {"npgw": [], "tx": [], "testpmd": [], "loss": [], "rules": 0, "miss": [],
               "load": []} for c in cs}
    try:
        for run in range(a.runs):
            tp_done = {}
            for c in cs:
                kind, rules, flows, frames, mode = c
                pcap, hs, meta = prepared[(rules, flows, frames, mode == "allnew")]
                if pcap not in tp_done:
                    try:
                        tp_done[pcap] = h.testpmd_run(tmp, pcap, hs, a.warmup,
                                                      a.seconds)["rx_pps"]
                    except RuntimeError as e:
                        tp_done[pcap] = None
                        print("run %d %s: %s" % (run + 1, c, str(e)[-300:]), file=sys.stderr,
                              flush=True)
                if tp_done[pcap] is None:
                    res[c].setdefault("error", "testpmd failed (see the log)")
                    continue
                ct = ct_config(mode, flows)
                extra = (2048 if rules == "100k" else 256) + (
                    ct.get("capacity", 0) * 160 >> 20)
                if res[c].get("error"):
                    continue
                try:
                    g = h.Npgw(tmp, [make_set(a.data, rules)], pcap, hs, ct, extra).ready()
                except RuntimeError as e:
                    res[c]["error"] = str(e)
                    print("run %d %s: %s" % (run + 1, c, e), file=sys.stderr, flush=True)
                    continue
                try:
                    st = g.status()
                    # stateful: the handshakes (3 frames a flow, port 1) must
                    # be through before the window opens (12 s for 1M flows)
                    time.sleep(a.warmup if mode != "stateful" or a.quick
                               else max(a.warmup, flows * 3 / 250000))
                    s0 = g.stats()
                    time.sleep(a.seconds)
                    s1 = g.stats()
                finally:
                    fin = g.stop()
                w = h.window(s0, s1)
                r = res[c]
                r["npgw"].append(w["rx_pps"])
                r["tx"].append(w["tx_pps"])
                r["testpmd"].append(tp_done[pcap])
                r["loss"].append(h.loss(fin["rx"], fin["tx"], fin["drops"]) if fin else -1)
                r["rules"] = st.get("acl", {}).get("rules", 0)
                r["denied_expected"] = meta["denied_share"]
                r["denied"] = (w["rx"] - w["tx"]) / max(w["rx"], 1)
                ct0, ct1 = s0.get("conntrack", {}), s1.get("conntrack", {})
                if ct1:
                    r["miss"].append((ct1["misses"] - ct0["misses"]) / max(w["rx"], 1))
                r["other_drops"] = {k: v for k, v in w["drops"].items()
                                    if not k.startswith("policy-")}
                with open("/proc/loadavg") as f:
                    r["load"].append(float(f.read().split()[0]))
                print("run %d %-6s %-4s %7d %-4s %-9s npgw %6.3f Mpps testpmd %6.3f Mpps "
                      "loss %d" % (run + 1, kind, rules, flows, frames, mode,
                                   w["rx_pps"] / 1e6, tp_done[pcap] / 1e6, r["loss"][-1]),
                      file=sys.stderr, flush=True)
    finally:
        tmp.close()
    rows = []
    for c in cs:
        kind, rules, flows, frames, mode = c
        r = res[c]
        if not r["npgw"]:
            rows.append({"case": kind, "rules_target": rules, "flows": flows, "frames": frames,
                         "mode": mode, "error": r.get("error", "no run")})
            continue
        npgw, tp = med(r["npgw"]), med(r["testpmd"])
        ratios = [x / y for x, y in zip(r["npgw"], r["testpmd"])]
        rows.append({
            "case": kind, "rules_target": rules, "rules": r["rules"], "flows": flows,
            "frames": frames, "mode": mode, "runs": len(r["npgw"]),
            "npgw_mpps": npgw / 1e6, "npgw_tx_mpps": med(r["tx"]) / 1e6,
            "testpmd_mpps": tp / 1e6, "ratio": med(ratios),
            "ratio_min": min(ratios), "ratio_max": max(ratios),
            "npgw_cycles": hz / npgw, "testpmd_cycles": hz / tp,
            "own_cycles": hz / npgw - hz / tp,
            "denied_expected": r["denied_expected"], "denied": r["denied"],
            "ct_miss_share": med(r["miss"]) if r["miss"] else None,
            "loss": sum(r["loss"]), "other_drops": r["other_drops"],
            "loadavg": med(r["load"]),
        })
    out = {"tsc_hz": hz, "runs": a.runs, "seconds": a.seconds, "rows": rows}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    print_table(out)
    return 0 if all(r.get("loss", 0) == 0 for r in rows) else 1


def print_table(out):
    print("npgw vs dpdk-testpmd io, one worker core, medians of %d run(s) of %.1f s; "
          "TSC %.0f MHz" % (out["runs"], out["seconds"], out["tsc_hz"] / 1e6))
    print()
    print("| case | ACL rules | flows | frames | mode | npgw Mpps (rx) | npgw Mpps (tx) | "
          "testpmd Mpps | ratio (min-max) | npgw cyc/pkt | testpmd cyc/pkt | npgw own cyc/pkt | "
          "denied (expected) | ct misses | loss |")
    print("|---|---:|---:|---|---|---:|---:|---:|---|---:|---:|---:|---|---:|---:|")
    for r in out["rows"]:
        if r.get("error"):
            print("| %s | (%s) | %d | %s | %s | failed: %s |||||||||| |" % (
                r["case"], r["rules_target"], r["flows"], r["frames"], r["mode"],
                r["error"].replace("|", "/")))
            continue
        miss = "-" if r["ct_miss_share"] is None else "%.0f%%" % (100 * r["ct_miss_share"])
        print("| %s | %d | %d | %s | %s | %.2f | %.2f | %.2f | %.2f (%.2f-%.2f) | %.0f | %.0f | "
              "%.0f | %.1f%% (%.1f%%) | %s | %d |" % (
                  r["case"], r["rules"], r["flows"], r["frames"], r["mode"], r["npgw_mpps"],
                  r["npgw_tx_mpps"], r["testpmd_mpps"], r["ratio"], r["ratio_min"],
                  r["ratio_max"], r["npgw_cycles"], r["testpmd_cycles"], r["own_cycles"],
                  100 * r["denied"], 100 * r["denied_expected"], miss, r["loss"]))


if __name__ == "__main__":
    sys.exit(main())
