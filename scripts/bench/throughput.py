#!/usr/bin/python3
"""throughput.py: npgw against dpdk-testpmd io and DPDK's l3fwd, per core,
on generated traffic.

  throughput.py [--runs 5] [--seconds 3] [--with-100k] [--with-1m] [--no-peers]
                [--quick] [--only-rules R] [--only-flows N] [--data DIR] [--json FILE]

For every case (policy set, flows, frame mix, conntrack mode) and every run,
interleaved on the same ports, capture and core: dpdk-testpmd
--forward-mode=io; for the 0- and 10k-rule cases, DPDK's l3fwd sample
(scripts/bench/build-l3fwd.sh) with --lookup=acl (the same number of
rules: one deny rule per denied (source, destination, port) of the
capture, so it drops exactly what npgw denies, plus random /32 rules the
traffic never matches), Open vSwitch (ovs_peer.py: the same rules as
OpenFlow drops; stateful through the ct() pipeline of OVN and Antrea) and with
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
  allowed 10k-rule set, 10,000 established flows, all allowed (stateful)
  flood   the same, every other frame a SYN of one of 200,000 distinct
          denied flows (stateful): the allowed frames' rate against
          "allowed", and the allowed flows the flood evicted (none may be)
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
import ovs_peer  # noqa: E402

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


def make_pcap(data, setdir, flows, frames, syn=False, flood=0, deny=None):
    """The capture (and its handshakes) of a case, made once into data:
    flood > 0 adds a SYN of one of `flood` distinct denied flows after
    each frame; deny the denied share of the flows (make_traffic.py's
    default when None)."""
    name = "%s-%d-%s%s%s%s" % (os.path.basename(setdir), flows, frames, "-syn" if syn else "",
                               "" if deny is None else "-deny%g" % deny,
                               "-flood%d" % flood if flood else "")
    out = os.path.join(data, name + ".pcap")
    hs = os.path.join(data, name + "-hs.pcap")
    meta = None
    if os.path.exists(out + ".meta"):
        with open(out + ".meta") as f:
            meta = json.load(f)
    if meta is None or meta.get("tcp_seq") != "consistent":
        # (captures of older scripts carried sequence numbers 1/1)
        args = [sys.executable, os.path.join(HERE, "make_traffic.py"), "--set", setdir,
                "--flows", str(flows), "--frames", frames, "--out", out,
                "--npgwctl", h.NPGWCTL]
        if syn:
            args.append("--syn")
        else:
            args += ["--handshake", hs]
        if flood:
            args += ["--flood", str(flood)]
        if deny is not None:
            args += ["--deny", str(deny)]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        with open(out + ".meta") as f:
            meta = json.load(f)
    return out, (None if syn else hs), meta


def capture_of(data, c):
    """make_pcap for case c."""
    kind, rules, flows, frames, mode = c
    setdir = make_set(data, rules)
    if kind == "allowed":
        return make_pcap(data, setdir, flows, frames, deny=0)
    if kind == "flood":
        return make_pcap(data, setdir, flows, frames, deny=0, flood=FLOOD_FLOWS)
    return make_pcap(data, setdir, flows, frames, syn=mode == "allnew")


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
    out.append(("allowed", "10k", 10000, "64", "stateful"))
    out.append(("flood", "10k", 10000, "64", "stateful"))
    return out


# The cases l3fwd runs beside: the 0- and 10k-rule sets, 10,000 flows.
PEER_SETS = {"0": 0, "10k": 10000}
# All-new flows: every frame a SYN, the flow table flushed every 100 ms
# over the control socket while the capture (of this many flows, one frame
# each) goes round in about 0.1-0.3 s: no tuple is seen twice between two
# flushes of the same entry's life, so every frame misses and is classified.
ALLNEW_FLOWS = 200000
# The flood: 10,000 established allowed flows (no denied one), every other
# frame a SYN of one of this many distinct denied flows: more than the
# denied space (65,536 a worker) holds, so none is found again before it
# is evicted, and every one is classified. Measured against the same
# allowed flows alone ("allowed"): the rate of allowed frames forwarded.
FLOOD_FLOWS = 200000


class Flusher(threading.Thread):
    """npgwctl flows flush every `every` seconds until stopped."""

    def __init__(self, g, every=0.1):
        super().__init__(daemon=True)
        self.g, self.every, self.halt = g, every, threading.Event()

    def run(self):
        while not self.halt.wait(self.every):
            self.g.ctl("flows", "flush", check=False)


def l3fwd_rules(data, n, meta):
    """l3fwd ACL rule files with n deny rules: one per denied (source,
    destination, port) of the capture (meta["denied_triples"], /32 or /128
    addresses: l3fwd then drops exactly what npgw denies), the rest random
    /32 pairs the traffic never has; and a route sending everything else
    to port 1. n = 0: the route alone. Returns (IPv4 file, IPv6 file)."""
    tag = "%d-%s" % (n, __import__("hashlib").sha1(
        json.dumps(meta.get("denied_triples", [])).encode()).hexdigest()[:10])
    v4, v6 = os.path.join(data, "l3fwd-%s.v4" % tag), os.path.join(data, "l3fwd-%s.v6" % tag)
    if os.path.exists(v4) and os.path.exists(v6):
        return v4, v6
    rnd = __import__("random").Random(n)
    ip6 = lambda a: __import__("ipaddress").IPv6Address(a).exploded  # noqa: E731
    triples = meta.get("denied_triples", []) if n else []
    with open(v4, "w") as f4, open(v6, "w") as f6:
        for fam, src, dst, port in triples:
            if fam == 4:
                f4.write("@%s/32 %s/32 0 : 65535 %d : %d 0x06/0xff\n" % (src, dst, port, port))
            else:
                f6.write("@%s/128 %s/128 0 : 65535 %d : %d 0x06/0xff\n"
                         % (ip6(src), ip6(dst), port, port))
        for i in range(len(triples), n):
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
    ap.add_argument("--no-peers", action="store_true", help="no l3fwd or Open vSwitch runs")
    ap.add_argument("--no-ovs", action="store_true", help="no Open vSwitch runs")
    ap.add_argument("--hugepages", action="store_true",
                    help="every program on 2 MiB hugepages (reserved on demand), as "
                    "NPGW_BENCH_HUGE=1")
    ap.add_argument("--only-case", action="append",
                    help="only cases of this kind (rules, flows, imix, allnew, allowed, "
                    "flood); repeatable")
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
    if a.hugepages:
        h.HUGE = True
    peers = not a.no_peers and os.path.exists(h.L3FWD)
    ovs = not a.no_peers and not a.no_ovs and os.path.exists(ovs_peer.VSWITCHD)
    if not a.no_peers and not a.no_ovs and not ovs:
        print("Open vSwitch with DPDK not installed (%s): no OVS rows" % ovs_peer.VSWITCHD,
              file=sys.stderr)
    if not a.no_peers and not peers:
        print("l3fwd not built (%s): run scripts/bench/build-l3fwd.sh; no peer rows" % h.L3FWD,
              file=sys.stderr)
    hz = h.tsc_hz()
    cs = [c for c in cases(a) if (a.only_flows is None or c[2] == a.only_flows) and
          (a.only_rules is None or c[1] == a.only_rules) and
          (a.only_case is None or c[0] in a.only_case)]
    prepared = {c: capture_of(a.data, c) for c in cs}
    tmp = h.Tmp()
    res = {c: {"npgw": [], "npgw_cpu": [], "tx": [], "testpmd": [], "testpmd_cpu": [],
               "loss": [], "rules": 0, "miss": [], "load": [], "acl": [], "em": [],
               "ovs": [], "tx_cpu": [], "allowed_lost": [], "skipped": []}
           for c in cs}
    try:
        for run in range(a.runs):
            tp_done, em_done = {}, {}
            for c in cs:
                kind, rules, flows, frames, mode = c
                pcap, hs, meta = prepared[c]
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
                                          l3fwd_rules(a.data, PEER_SETS[rules], meta), a.warmup,
                                          a.seconds)
                        res[c]["acl"].append(acl["rx_pps_cpu"])
                    except RuntimeError as e:
                        print("run %d %s l3fwd: %s" % (run + 1, c, str(e)[-300:]),
                              file=sys.stderr, flush=True)
                if ovs and kind == "rules" and rules in PEER_SETS:
                    # Open vSwitch with the l3fwd rules as OpenFlow drops:
                    # stateless, or through the ct() pipeline when stateful
                    try:
                        o = ovs_peer.ovs_run(tmp, pcap, hs, l3fwd_rules(a.data, PEER_SETS[rules], meta)
                                             if PEER_SETS[rules] else None, a.warmup,
                                             a.seconds, conntrack=mode == "stateful")
                        res[c]["ovs"].append(o["rx_pps_cpu"])
                    except RuntimeError as e:
                        print("run %d %s ovs: %s" % (run + 1, c, str(e)[-300:]),
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
                    # stateful: the handshakes (3 frames a flow, port 1) all
                    # through before the warm-up: the window sees every flow
                    # established
                    if mode == "stateful" and meta.get("handshake_frames"):
                        h.wait_once(g, meta["handshake_frames"])
                    time.sleep(a.warmup)
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
                r["tx_cpu"].append(w["tx_pps_cpu"])
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
                    d0, d1 = ct0.get("denied", {}), ct1.get("denied", {})
                    r["skipped"].append(d1.get("skipped", 0) - d0.get("skipped", 0))
                    # allowed flows lost in the window: created again
                    # (evicted or refused before), or refused
                    r["allowed_lost"].append(ct1["created"] - ct0["created"] +
                                             ct1["refused_full"] - ct0["refused_full"])
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
        if r["ovs"]:
            row["ovs_mpps"] = med(r["ovs"]) / 1e6
            row["ovs_ratio"] = med(r["ovs"]) / tp
        if r["tx_cpu"]:
            row["npgw_tx_mpps_cpu"] = med(r["tx_cpu"]) / 1e6
        if r["allowed_lost"]:
            row["allowed_lost"] = max(r["allowed_lost"])
            row["denied_skipped"] = med(r["skipped"])
        if r["em"]:
            row["l3fwd_em_mpps"] = med(r["em"]) / 1e6
            row["l3fwd_em_ratio"] = med(r["em"]) / tp
        rows.append(row)
    out = {"tsc_hz": hz, "runs": a.runs, "seconds": a.seconds, "rows": rows,
           "hugepages": h.HUGE}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    print_table(out)
    return 0 if all(r.get("loss", 0) == 0 for r in rows) else 1


def print_table(out):
    print("npgw vs dpdk-testpmd io, DPDK l3fwd and Open vSwitch, one worker core, medians of "
          "%d run(s) of %.1f s; TSC %.0f MHz; %s" % (
              out["runs"], out["seconds"], out["tsc_hz"] / 1e6,
              "2 MiB hugepages" if out.get("hugepages") else "4 KiB pages (--no-huge)"))
    print("Mpps are packets per CPU-second of the forwarding core (the worker thread's "
          "utime + stime): on a shared machine a worker is often off its core, so wall-clock "
          "rates say more about the machine's load than about the code. Ratios are to "
          "testpmd io on the same capture in the same run.")
    print()
    print("| case | ACL rules | flows | frames | mode | npgw Mpps | testpmd Mpps | ratio (min-max) "
          "| l3fwd-acl Mpps (ratio) | l3fwd-em Mpps (ratio) | OVS Mpps (ratio) | npgw cyc/pkt "
          "| npgw own cyc/pkt | denied (expected) | classified | loss |")
    print("|---|---:|---:|---|---|---:|---:|---|---|---|---|---:|---:|---|---:|---:|")
    peer = lambda r, k: ("%.2f (%.2f)" % (r[k + "_mpps"], r[k + "_ratio"])  # noqa: E731
                         if k + "_mpps" in r else "-")
    for r in out["rows"]:
        if r.get("error"):
            print("| %s | (%s) | %d | %s | %s | failed: %s ||||||||||| |" % (
                r["case"], r["rules_target"], r["flows"], r["frames"], r["mode"],
                r["error"].replace("|", "/")))
            continue
        miss = "-" if r["ct_miss_share"] is None else "%.0f%%" % (100 * r["ct_miss_share"])
        print("| %s | %d | %d | %s | %s | %.2f | %.2f | %.2f (%.2f-%.2f) | %s | %s | %s | %.0f "
              "| %.0f | %.1f%% (%.1f%%) | %s | %d |" % (
                  r["case"], r["rules"], r["flows"], r["frames"], r["mode"], r["npgw_mpps"],
                  r["testpmd_mpps"], r["ratio"], r["ratio_min"], r["ratio_max"],
                  peer(r, "l3fwd_acl"), peer(r, "l3fwd_em"), peer(r, "ovs"),
                  r["npgw_cycles"], r["own_cycles"], 100 * r["denied"],
                  100 * r["denied_expected"], miss, r["loss"]))
    rows = {r["case"]: r for r in out["rows"] if r["case"] in ("allowed", "flood") and
            not r.get("error")}
    if "allowed" in rows and "flood" in rows:
        al, fl = rows["allowed"], rows["flood"]
        print()
        print("A flood of denied SYNs against established allowed flows (stateful, 10k-rule "
              "set, 10,000 allowed flows; flood: every other frame a SYN of one of %d distinct "
              "denied flows). Allowed frames forwarded per CPU-second of the worker:" %
              FLOOD_FLOWS)
        print()
        print("| case | frames Mpps | allowed forwarded Mpps | allowed flows lost in the window "
              "| denied flows skipped by admission |")
        print("|---|---:|---:|---:|---:|")
        for r in (al, fl):
            print("| %s | %.2f | %.2f | %d | %d |" % (
                r["case"], r["npgw_mpps"], r.get("npgw_tx_mpps_cpu", float("nan")),
                r.get("allowed_lost", -1), r.get("denied_skipped", 0)))
        print()
        print("Under the flood, allowed frames are forwarded at %.2f of their rate alone "
              "(the worker's core is shared with the denied SYNs it classifies: at full rate "
              "it cannot be 1.0)." % (fl.get("npgw_tx_mpps_cpu", 0) /
                                      max(al.get("npgw_tx_mpps_cpu", 0), 1e-9)))


if __name__ == "__main__":
    sys.exit(main())
