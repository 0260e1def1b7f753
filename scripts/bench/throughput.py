#!/usr/bin/python3
"""throughput.py: npgw against dpdk-testpmd io and DPDK's l3fwd, per core,
on generated traffic.

  throughput.py [--runs 5] [--seconds 3] [--with-100k] [--with-1m] [--no-peers]
                [--quick] [--only-rules R] [--only-flows N] [--data DIR] [--json FILE]

For every case (policy set, flows, frame mix, conntrack mode) and every run,
interleaved on the same ports, capture and core: dpdk-testpmd
--forward-mode=io; for the 0- and 10k-rule cases, DPDK's l3fwd sample
(scripts/bench/build-l3fwd.sh) with --lookup=acl (the same number of
rules: one deny rule per port the denied flows use, so it drops what npgw
denies, plus random /32 rules the traffic never matches) and with
--lookup=em (a hash-lookup forwarder: the ceiling of a flow-cache hit);
then npgw (harness.py).

Rates are packets per CPU-second of the forwarding thread (utime + stime
of the rte-worker thread from /proc): this machine is shared, a worker
is often off its core, and wall-clock rates then measure the load. The
wall rate of npgw is kept in the JSON. Ratios are to testpmd's rate on
the same capture in the same run, medians over the runs. Cycles per packet
= TSC Hz / rate. Loss (rx - tx - policy drops, from npgw's final counters)
must be 0 in every run. "classified" is the share of frames the flow
table did not decide (1 - (hits + denied hits) / rx).

Cases:
  rules   0/100/1k/10k-rule sets, 10,000 flows, 64-byte frames; the
          100k-rule set only with --with-100k
  flows   (--with-1m) 10k-rule set, 1,000,000 flows: about 6 GB of mbufs
          without hugepages, for the capture preloaded by net_pcap
  imix    10k-rule set, 10,000 flows, IMIX (7:4:1 of 64/570/1518 bytes)
  allnew  10k-rule set, 200,000 flows, every frame a TCP SYN, and the
          flow table flushed every 100 ms over the control socket while
          the capture goes round: no flow is found in the table, every
          frame is classified and inserted (25% denied)
Modes: stateless (conntrack off) and stateful (conntrack on; the TCP
handshakes of every flow arrive once on port 1, so the data frames, TCP
ACKs, hit established flows; denied flows are remembered as denied after
their first frame).
--quick: the 0- and 1k-rule sets, 1,000 flows, one run of 0.5 s, no
peers (the CI smoke run: checks that everything runs and the table prints).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
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
    if a.with_1m:
        for m in ("stateless", "stateful"):
            out.append(("flows", "10k", 1000000, "64", m))
    for m in ("stateless", "stateful"):
        out.append(("imix", "10k", 10000, "imix", m))
    out.append(("allnew", "10k", ALLNEW_FLOWS, "64", "allnew"))
    return out


# The cases l3fwd runs beside: the 0- and 10k-rule sets, 10,000 flows.
PEER_SETS = {"0": 0, "10k": 10000}
# All-new flows: every frame a SYN, the flow table flushed every 100 ms
# over the control socket while the capture (of this many flows, one frame
# each) goes round in about 0.1-0.3 s: no tuple is seen twice between two
# flushes of the same entry's life, so every frame misses and is classified.
ALLNEW_FLOWS = 200000


class Flusher(threading.Thread):
    """npgwctl flows flush every `every` seconds until stopped."""

    def __init__(self, g, every=0.1):
        super().__init__(daemon=True)
        self.g, self.every, self.halt = g, every, threading.Event()

    def run(self):
        while not self.halt.wait(self.every):
            self.g.ctl("flows", "flush", check=False)


# The ports the traffic generator's denied flows use (make_traffic.py).
DENY_PORTS = [22, 3306, 11211, 9090]


def l3fwd_rules(data, n):
    """l3fwd ACL rule files with n deny rules: one per denied port of the
    traffic (so l3fwd drops what npgw denies, about 25% of the frames),
    the rest random /32 pairs the traffic never has; and a route sending
    everything else to port 1. Returns (IPv4 file, IPv6 file)."""
    v4, v6 = os.path.join(data, "l3fwd-%d.v4" % n), os.path.join(data, "l3fwd-%d.v6" % n)
    if os.path.exists(v4) and os.path.exists(v6):
        return v4, v6
    rnd = __import__("random").Random(n)
    with open(v4, "w") as f4, open(v6, "w") as f6:
        for i in range(n):
            if i < len(DENY_PORTS):
                p = DENY_PORTS[i]
                f4.write("@0.0.0.0/0 0.0.0.0/0 0 : 65535 %d : %d 0x06/0xff\n" % (p, p))
                f6.write("@0:0:0:0:0:0:0:0/0 0:0:0:0:0:0:0:0/0 0 : 65535 %d : %d 0x06/0xff\n"
                         % (p, p))
                continue
            a, b = rnd.getrandbits(32), rnd.getrandbits(32)
            f4.write("@%d.%d.%d.%d/32 192.0.2.%d/32 0 : 65535 0 : 65535 0x06/0xff\n" % (
                198, 51, a >> 8 & 255, a & 255, b & 255))
            if i % 5 == 0:
                f6.write("@2001:db8:0:0:0:0:%x:%x/128 2001:db8:1:0:0:0:0:%x/128 0 : 65535 "
                         "0 : 65535 0x06/0xff\n" % (a >> 16, a & 0xffff, b & 0xffff))
        f4.write("R0.0.0.0/0 0.0.0.0/0 0 : 65535 0 : 65535 0x0/0x0 1\n")
        f6.write("R0:0:0:0:0:0:0:0/0 0:0:0:0:0:0:0:0/0 0 : 65535 0 : 65535 0x0/0x0 1\n")
    return v4, v6


def med(v):
    return statistics.median(v) if v else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--warmup", type=float, default=1.5)
    ap.add_argument("--with-100k", action="store_true")
    ap.add_argument("--with-1m", action="store_true",
                    help="also the 1,000,000-flow cases (about 6 GB of mbufs without hugepages)")
    ap.add_argument("--no-peers", action="store_true", help="no l3fwd runs")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--data", default="/tmp/npgw-bench-data")
    ap.add_argument("--only-flows", type=int, help="only the cases of this many flows")
    ap.add_argument("--only-rules", help="only the cases of this rule set (0, 100, 1k, 10k, 100k)")
    ap.add_argument("--json")
    a = ap.parse_args()
    if a.quick:
        a.runs, a.seconds, a.warmup = 1, 0.5, 0.3
        a.no_peers = True
    os.makedirs(a.data, exist_ok=True)
    peers = not a.no_peers and os.path.exists(h.L3FWD)
    if not a.no_peers and not peers:
        print("l3fwd not built (%s): run scripts/bench/build-l3fwd.sh; no peer rows" % h.L3FWD,
              file=sys.stderr)
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
    res = {c: {"npgw": [], "npgw_cpu": [], "tx": [], "testpmd": [], "testpmd_cpu": [],
               "loss": [], "rules": 0, "miss": [], "load": [], "acl": [], "em": []}
           for c in cs}
    try:
        for run in range(a.runs):
            tp_done, em_done = {}, {}
            for c in cs:
                kind, rules, flows, frames, mode = c
                pcap, hs, meta = prepared[(rules, flows, frames, mode == "allnew")]
                if pcap not in tp_done:
                    try:
                        tp_done[pcap] = h.testpmd_run(tmp, pcap, hs, a.warmup, a.seconds)
                    except RuntimeError as e:
                        tp_done[pcap] = None
                        print("run %d %s: %s" % (run + 1, c, str(e)[-300:]), file=sys.stderr,
                              flush=True)
                if tp_done[pcap] is None:
                    res[c].setdefault("error", "testpmd failed (see the log)")
                    continue
                if peers and kind == "rules" and mode == "stateless" and rules in PEER_SETS:
                    try:
                        if pcap not in em_done:
                            em_done[pcap] = h.l3fwd_run(tmp, pcap, hs, "em", None, a.warmup,
                                                        a.seconds)
                        res[c]["em"].append(em_done[pcap]["rx_pps_cpu"])
                        acl = h.l3fwd_run(tmp, pcap, hs, "acl",
                                          l3fwd_rules(a.data, PEER_SETS[rules]), a.warmup,
                                          a.seconds)
                        res[c]["acl"].append(acl["rx_pps_cpu"])
                    except RuntimeError as e:
                        print("run %d %s l3fwd: %s" % (run + 1, c, str(e)[-300:]),
                              file=sys.stderr, flush=True)
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
                fl = Flusher(g) if mode == "allnew" else None
                try:
                    st = g.status()
                    if fl:
                        fl.start()
                    # stateful: the handshakes (3 frames a flow, port 1) must
                    # be through before the window opens (12 s for 1M flows)
                    time.sleep(a.warmup if mode != "stateful" or a.quick
                               else max(a.warmup, flows * 3 / 250000))
                    s0 = g.stats()
                    time.sleep(a.seconds)
                    s1 = g.stats()
                finally:
                    if fl:
                        fl.halt.set()
                        fl.join()
                    fin = g.stop()
                w = h.window(s0, s1)
                r = res[c]
                r["npgw"].append(w["rx_pps"])
                r["npgw_cpu"].append(w["rx_pps_cpu"])
                r["tx"].append(w["tx_pps"])
                r["testpmd"].append(tp_done[pcap]["rx_pps"])
                r["testpmd_cpu"].append(tp_done[pcap]["rx_pps_cpu"])
                r["loss"].append(h.loss(fin["rx"], fin["tx"], fin["drops"]) if fin else -1)
                r["rules"] = st.get("acl", {}).get("rules", 0)
                r["acl_method"] = st.get("acl_method", "?")
                r["denied_expected"] = meta["denied_share"]
                r["denied"] = (w["rx"] - w["tx"]) / max(w["rx"], 1)
                ct0, ct1 = s0.get("flows", {}), s1.get("flows", {})
                if ct1:
                    hits = ct1["hits"] - ct0["hits"] + (
                        ct1.get("denied", {}).get("hits", 0) - ct0.get("denied", {}).get("hits", 0))
                    r["miss"].append(1 - hits / max(w["rx"], 1))
                r["other_drops"] = {k: v for k, v in w["drops"].items()
                                    if not k.startswith("policy-")}
                with open("/proc/loadavg") as f:
                    r["load"].append(float(f.read().split()[0]))
                print("run %d %-6s %-4s %7d %-4s %-9s npgw %6.3f Mpps/core (%6.3f wall) "
                      "testpmd %6.3f Mpps/core loss %d" % (
                          run + 1, kind, rules, flows, frames, mode, w["rx_pps_cpu"] / 1e6,
                          w["rx_pps"] / 1e6, tp_done[pcap]["rx_pps_cpu"] / 1e6, r["loss"][-1]),
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
        npgw, tp = med(r["npgw_cpu"]), med(r["testpmd_cpu"])
        ratios = [x / y for x, y in zip(r["npgw_cpu"], r["testpmd_cpu"])]
        row = {
            "case": kind, "rules_target": rules, "rules": r["rules"], "flows": flows,
            "frames": frames, "mode": mode, "runs": len(r["npgw"]),
            "acl_method": r.get("acl_method"),
            "npgw_mpps": npgw / 1e6, "npgw_wall_mpps": med(r["npgw"]) / 1e6,
            "npgw_tx_mpps": med(r["tx"]) / 1e6,
            "testpmd_mpps": tp / 1e6, "ratio": med(ratios),
            "ratio_min": min(ratios), "ratio_max": max(ratios),
            "npgw_cycles": hz / npgw, "testpmd_cycles": hz / tp,
            "own_cycles": hz / npgw - hz / tp,
            "denied_expected": r["denied_expected"], "denied": r["denied"],
            "ct_miss_share": med(r["miss"]) if r["miss"] else None,
            "loss": sum(r["loss"]), "other_drops": r["other_drops"],
            "loadavg": med(r["load"]),
        }
        if r["acl"]:
            row["l3fwd_acl_mpps"] = med(r["acl"]) / 1e6
            row["l3fwd_acl_ratio"] = med(r["acl"]) / tp
        if r["em"]:
            row["l3fwd_em_mpps"] = med(r["em"]) / 1e6
            row["l3fwd_em_ratio"] = med(r["em"]) / tp
        rows.append(row)
    out = {"tsc_hz": hz, "runs": a.runs, "seconds": a.seconds, "rows": rows}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    print_table(out)
    return 0 if all(r.get("loss", 0) == 0 for r in rows) else 1


def print_table(out):
    print("npgw vs dpdk-testpmd io and DPDK l3fwd, one worker core, medians of %d run(s) "
          "of %.1f s; TSC %.0f MHz" % (out["runs"], out["seconds"], out["tsc_hz"] / 1e6))
    print("Mpps are packets per CPU-second of the forwarding core (the worker thread's "
          "utime + stime): on a shared machine a worker is often off its core, so wall-clock "
          "rates say more about the machine's load than about the code. Ratios are to "
          "testpmd io on the same capture in the same run.")
    print()
    print("| case | ACL rules | flows | frames | mode | npgw Mpps | testpmd Mpps | ratio (min-max) "
          "| l3fwd-acl Mpps (ratio) | l3fwd-em Mpps (ratio) | npgw cyc/pkt | npgw own cyc/pkt "
          "| denied (expected) | classified | loss |")
    print("|---|---:|---:|---|---|---:|---:|---|---|---|---:|---:|---|---:|---:|")
    for r in out["rows"]:
        if r.get("error"):
            print("| %s | (%s) | %d | %s | %s | failed: %s |||||||||| |" % (
                r["case"], r["rules_target"], r["flows"], r["frames"], r["mode"],
                r["error"].replace("|", "/")))
            continue
        miss = "-" if r["ct_miss_share"] is None else "%.0f%%" % (100 * r["ct_miss_share"])
        acl = ("%.2f (%.2f)" % (r["l3fwd_acl_mpps"], r["l3fwd_acl_ratio"])
               if "l3fwd_acl_mpps" in r else "-")
        em = ("%.2f (%.2f)" % (r["l3fwd_em_mpps"], r["l3fwd_em_ratio"])
              if "l3fwd_em_mpps" in r else "-")
        print("| %s | %d | %d | %s | %s | %.2f | %.2f | %.2f (%.2f-%.2f) | %s | %s | %.0f | %.0f "
              "| %.1f%% (%.1f%%) | %s | %d |" % (
                  r["case"], r["rules"], r["flows"], r["frames"], r["mode"], r["npgw_mpps"],
                  r["testpmd_mpps"], r["ratio"], r["ratio_min"], r["ratio_max"], acl, em,
                  r["npgw_cycles"], r["own_cycles"], 100 * r["denied"],
                  100 * r["denied_expected"], miss, r["loss"]))


if __name__ == "__main__":
    sys.exit(main())
