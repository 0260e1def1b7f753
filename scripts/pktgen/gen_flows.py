#!/usr/bin/python3
"""gen_flows.py: pktgen-dpdk ranges for the flows a policy set allows and denies.

  gen_flows.py --set DIR [--npgwctl PATH] [--out-lua FILE] [--out-pkt FILE]
  gen_flows.py --set DIR --check FILE.lua     (cross-check only)

pktgen's range mode sweeps each header field over [min, max] by its own
increment, all fields together: frame k has source min + k mod (sources)
and destination min + k mod (destinations), so the (source, destination)
pairs it sends are lcm(sources, destinations) of the sources x
destinations (28 sources and 22 destinations: 308 pairs of 616), each
source meeting a fixed subset of the destinations. pktgen 23.03 builds
the range's frames once per start, into a pool of 24,576 mbufs, and sends
that pool over and over: 24,576 distinct frames, source ports 1024-25599,
every pair among them. gen_cluster.py gives the pods of a
Deployment consecutive addresses, so "the pods of app X" is one address
range. For the allowed sweep this picks an allow policy whose peer is one
Deployment: source range = the peer's pods, destination range = the
selected pods, destination port = a numbered port of the policy (a single
port or the low end of a range). The denied sweep: the same pods on TCP
port 22, which no generated policy names, towards a namespace isolated for
ingress. Every pair range mode sends, of both sweeps, is asked of
`npgwctl explain --offline` on DIR: all allowed, resp. all denied, or the
script fails. Writes:
  --out-lua: npgw_flows.lua, the table the Lua scripts load (dofile);
  --out-pkt: npgw.pkt, the command file (allowed sweep on port 0).
--check FILE.lua: read the table back from a Lua file written earlier and
check its pairs against DIR again (what CI runs: the shipped addresses
still match the generated policies).
"""

import argparse
import ipaddress
import json
import math
import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load(d):
    pods, pols = [], []
    for f in sorted(os.listdir(d)):
        if f.endswith(".json"):
            with open(os.path.join(d, f)) as fh:
                for it in json.load(fh)["items"]:
                    if it["kind"] == "Pod":
                        pods.append(it)
                    elif it["kind"] == "NetworkPolicy":
                        pols.append(it)
    return pods, pols


def ips_of(pods, ns, app):
    v = sorted(int(ipaddress.IPv4Address(p["status"]["podIP"])) for p in pods
               if p["metadata"]["namespace"] == ns and p["metadata"]["labels"]["app"] == app)
    if not v or v[-1] - v[0] + 1 != len(v):
        return None  # not one contiguous range
    return v[0], v[-1]


def explain(npgwctl, d, pairs, port):
    inp = "".join(json.dumps({"from": str(ipaddress.IPv4Address(s)),
                              "to": str(ipaddress.IPv4Address(t)),
                              "protocol": "TCP", "port": port}) + "\n" for s, t in pairs)
    r = subprocess.run([npgwctl, "explain", "--offline", "-f", d, "--batch", "-", "-o", "json"],
                       input=inp, capture_output=True, text=True, check=True)
    return [json.loads(l)["allowed"] for l in r.stdout.splitlines() if l.strip()]


# Frames pktgen 23.03's range mode builds per start (MAX_MBUFS_PER_PORT:
# (1024 rx + 2048 tx descriptors) x 8), and so sends over and over.
RANGE_FRAMES = 24576


def pairs(sweep):
    """The (src, dst) pairs pktgen's range mode sends, in the order of its
    frames: both addresses step by one at every frame, each wrapping at its
    max, so frame k pairs source k mod ns with destination k mod nd and the
    pairs repeat after lcm(ns, nd) frames (fewer than RANGE_FRAMES here)."""
    s0, s1 = sweep["src_min"], sweep["src_max"]
    d0, d1 = sweep["dst_min"], sweep["dst_max"]
    ns, nd = s1 - s0 + 1, d1 - d0 + 1
    n = min(math.lcm(ns, nd), RANGE_FRAMES)
    return [(s0 + k % ns, d0 + k % nd) for k in range(n)]


def check(npgwctl, d, sweeps):
    for name, want in (("allowed", True), ("denied", False)):
        sw = sweeps[name]
        got = explain(npgwctl, d, pairs(sw), sw["dport"])
        bad = [p for p, g in zip(pairs(sw), got) if g != want]
        if bad:
            sys.exit("%s sweep: %d of %d pairs are not %s, e.g. %s" % (
                name, len(bad), len(got), name,
                tuple(str(ipaddress.IPv4Address(x)) for x in bad[0])))
        ns = sw["src_max"] - sw["src_min"] + 1
        nd = sw["dst_max"] - sw["dst_min"] + 1
        print("%s sweep: %d sources x %d destinations, range mode sends %d pairs, all %s" % (
            name, ns, nd, len(got), name))


def pick(pods, pols, npgwctl, d):
    for pol in pols:
        ing = pol["spec"].get("ingress")
        if not ing or "egress" in pol["spec"]:
            continue
        ns = pol["metadata"]["namespace"]
        dst = ips_of(pods, ns, pol["spec"]["podSelector"]["matchLabels"]["app"])
        nums = [p["port"] for p in ing[0]["ports"] if isinstance(p["port"], int)]
        if not dst or not nums:
            continue
        for peer in ing[0]["from"]:
            pns = peer.get("namespaceSelector", {}).get("matchLabels", {}).get(
                "kubernetes.io/metadata.name", ns)
            src = ips_of(pods, pns, peer["podSelector"]["matchLabels"]["app"])
            if not src or src == dst:
                continue
            sw = {"src_min": src[0], "src_max": src[1], "dst_min": dst[0], "dst_max": dst[1],
                  "dport": nums[0], "policy": "%s/%s" % (ns, pol["metadata"]["name"])}
            if all(explain(npgwctl, d, pairs(sw), sw["dport"])):
                den = dict(sw, dport=22, policy="none (TCP 22: no policy names it)")
                if not any(explain(npgwctl, d, pairs(den), 22)):
                    return {"allowed": sw, "denied": den}
    sys.exit("no allow policy with one contiguous peer Deployment in " + d)


def ip(x):
    return str(ipaddress.IPv4Address(x))


def write_lua(path, sweeps, setdir):
    with open(path, "w") as f:
        f.write("-- npgw_flows.lua: generated by scripts/pktgen/gen_flows.py from\n")
        f.write("-- %s; every pair range mode sends checked with npgwctl explain --offline.\n" % setdir)
        f.write("return {\n")
        for name in ("allowed", "denied"):
            sw = sweeps[name]
            f.write("  %s = {\n" % name)
            f.write('    policy = "%s",\n' % sw["policy"])
            f.write('    src_min = "%s", src_max = "%s",\n' % (ip(sw["src_min"]), ip(sw["src_max"])))
            f.write('    dst_min = "%s", dst_max = "%s",\n' % (ip(sw["dst_min"]), ip(sw["dst_max"])))
            f.write("    dport = %d,\n" % sw["dport"])
            f.write("  },\n")
        f.write("}\n")


def read_lua(path):
    text = open(path).read()
    out = {}
    for name in ("allowed", "denied"):
        m = re.search(name + r"\s*=\s*\{(.*?)\n  \}", text, re.S)
        body = m.group(1)
        g = lambda k: re.search(k + r'\s*=\s*"?([0-9.]+)"?', body).group(1)  # noqa: E731
        out[name] = {"src_min": int(ipaddress.IPv4Address(g("src_min"))),
                     "src_max": int(ipaddress.IPv4Address(g("src_max"))),
                     "dst_min": int(ipaddress.IPv4Address(g("dst_min"))),
                     "dst_max": int(ipaddress.IPv4Address(g("dst_max"))),
                     "dport": int(g("dport"))}
    return out


def write_pkt(path, sweeps):
    a = sweeps["allowed"]
    lines = [
        "# npgw.pkt: generated by scripts/pktgen/gen_flows.py. Load with",
        "#   pktgen ... -- -P -m \"[1].0, [2].1\" -f scripts/pktgen/npgw.pkt",
        "# Port 0 sends through npgw (its uplink), port 1 receives what npgw lets",
        "# through (its pods port). Range mode: the flows %s allows." % a["policy"],
        "# TCP segments with only ACK set: with npgw's conntrack.tcp_loose: false",
        "# each is classified and none opens a flow (README.md, modes). pktgen",
        "# builds %d frames per start and sends them over and over: source" % RANGE_FRAMES,
        "# ports %d-%d of the range below, %d address pairs." % (
            1024, 1024 + RANGE_FRAMES - 1, len(pairs(a))),
        "stop all",
        "set 0 rate 10",
        "range 0 proto tcp",
        "range 0 size start 64",
        "range 0 size min 64",
        "range 0 size max 64",
        "range 0 size inc 0",
    ]
    for fld, lo, hi in (("src ip", a["src_min"], a["src_max"]),
                        ("dst ip", a["dst_min"], a["dst_max"])):
        lines += ["range 0 %s start %s" % (fld, ip(lo)), "range 0 %s min %s" % (fld, ip(lo)),
                  "range 0 %s max %s" % (fld, ip(hi)), "range 0 %s inc 0.0.0.1" % fld]
    lines += ["range 0 src port start 1024", "range 0 src port min 1024",
              "range 0 src port max 65000", "range 0 src port inc 1",
              "range 0 dst port start %d" % a["dport"], "range 0 dst port min %d" % a["dport"],
              "range 0 dst port max %d" % a["dport"], "range 0 dst port inc 0",
              "enable 0 range", "clr", "# start 0    (or run a script: script scripts/pktgen/flow_sweep.lua)"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", required=True)
    ap.add_argument("--npgwctl", default=os.path.join(TOP, "build", "app", "npgwctl"))
    ap.add_argument("--out-lua")
    ap.add_argument("--out-pkt")
    ap.add_argument("--check")
    a = ap.parse_args()
    if a.check:
        check(a.npgwctl, a.set, read_lua(a.check))
        return
    pods, pols = load(a.set)
    sweeps = pick(pods, pols, a.npgwctl, a.set)
    check(a.npgwctl, a.set, sweeps)
    if a.out_lua:
        write_lua(a.out_lua, sweeps, os.path.basename(os.path.normpath(a.set)))
    if a.out_pkt:
        write_pkt(a.out_pkt, sweeps)


if __name__ == "__main__":
    main()
