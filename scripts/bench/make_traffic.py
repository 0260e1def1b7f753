#!/usr/bin/python3
"""make_traffic.py: a capture for the throughput benchmark, whose addresses
are the pods of a policy set (make_set.py), with a known share denied.

  make_traffic.py --set DIR --flows N --frames 64|imix --out FILE.pcap
                  [--v6 0.2] [--deny 0.25] [--npgwctl PATH] [--also-set DIR]
                  [--handshake FILE.pcap] [--syn] [--packets P] [--seed S]
                  [--flood N]

1. Candidate (source pod, destination pod, TCP port) triples: for the
   allowed ones, a policy's selected pod, a pod its peers select and one of
   its ports; for the denied ones, random pods and ports no policy names.
   Each triple is asked of `npgwctl explain --offline` on DIR (IPv4 and
   IPv6 addresses asked separately: egress ipBlocks are IPv4 only), so the
   verdict of every frame is known, not guessed.
2. Up to 4096 base triples are picked, (1 - deny) allowed, deny denied, a
   share --v6 of them IPv6; N flows are the base triples with distinct
   source ports (the port does not change a verdict).
3. The capture holds max(N, P) frames, the flows in a shuffled order,
   cycled. --frames 64: 64-byte frames with the FCS (60 in the file) for
   IPv4, 78 (the least TCP over IPv6 takes) for IPv6; imix: 7:4:1 of 64,
   570 and 1518 bytes. TCP flags ACK (mid-stream data) unless --syn (SYN:
   every frame opens a flow). IPv4 header checksums are right; TCP
   checksums are 0 (npgw and testpmd do not check them).
4. --handshake FILE writes, for every flow, SYN, SYN-ACK and ACK: fed once
   through the other port it makes the flows established for conntrack.
5. --flood N: after each frame, a SYN of one of N distinct denied flows
   (the denied triples with distinct source ports, shuffled): the mixed
   capture of the flood benchmark (with --deny 0, every other frame an
   established allowed flow's, every other one a new denied flow's).
   Sequence numbers are consistent: each endpoint's ISN is fixed per flow,
   the handshake acknowledges it, data frames carry the next sequence
   numbers.
6. FILE.meta (JSON) says flows, frames, bytes, the IPv6 share and the
   expected denied share of the frames (and under --also-set, the share
   that set denies: the hot-swap benchmark's second set).
"""

import argparse
import json
import os
import random
import struct
import subprocess
import sys
import zlib

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DENY_PORTS = [22, 3306, 11211, 9090]
IMIX = [64] * 7 + [570] * 4 + [1518]


def load_set(d):
    pods, pols = [], []
    for f in sorted(os.listdir(d)):
        if not f.endswith(".json"):
            continue
        with open(os.path.join(d, f)) as fh:
            for it in json.load(fh)["items"]:
                if it["kind"] == "Pod":
                    ips = [x["ip"] for x in it["status"]["podIPs"]]
                    pods.append({"ns": it["metadata"]["namespace"],
                                 "app": it["metadata"]["labels"]["app"],
                                 "v4": ips[0], "v6": ips[1]})
                elif it["kind"] == "NetworkPolicy":
                    pols.append(it)
    return pods, pols


def candidates(pods, pols, rnd, n):
    by_app = {}
    for p in pods:
        by_app.setdefault((p["ns"], p["app"]), []).append(p)
    out = []
    allow_pols = [p for p in pols if p["spec"].get("ingress")]
    for _ in range(n):
        if allow_pols and rnd.random() < 0.7:
            pol = rnd.choice(allow_pols)
            ns = pol["metadata"]["namespace"]
            app = pol["spec"]["podSelector"]["matchLabels"]["app"]
            rule = pol["spec"]["ingress"][0]
            peer = rnd.choice(rule["from"])
            pns = peer.get("namespaceSelector", {}).get("matchLabels", {}).get(
                "kubernetes.io/metadata.name", ns)
            papp = peer["podSelector"]["matchLabels"]["app"]
            dsts, srcs = by_app.get((ns, app)), by_app.get((pns, papp))
            if not dsts or not srcs:
                continue
            port = rnd.choice(rule["ports"])
            if port["port"] == "http":
                dport = 8080
            elif "endPort" in port:
                dport = rnd.randint(port["port"], port["endPort"])
            else:
                dport = port["port"]
            out.append((rnd.choice(srcs), rnd.choice(dsts), dport))
        else:
            out.append((rnd.choice(pods), rnd.choice(pods),
                        rnd.choice(DENY_PORTS + [80, 443, 8080])))
    return out


def explain(npgwctl, setdir, queries):
    inp = "".join(json.dumps({"from": s, "to": d, "protocol": "TCP", "port": p}) + "\n"
                  for s, d, p in queries)
    r = subprocess.run([npgwctl, "explain", "--offline", "-f", setdir, "--batch", "-",
                        "-o", "json"], input=inp, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("npgwctl explain failed: %s" % r.stderr[-2000:])
    ans = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    if len(ans) != len(queries) or any("error" in a for a in ans):
        sys.exit("npgwctl explain: unexpected answers")
    return [bool(a["allowed"]) for a in ans]


def csum(hdr):
    s = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ip6bytes(a):
    import ipaddress
    return ipaddress.IPv6Address(a).packed


def ip4bytes(a):
    return bytes(int(x) for x in a.split("."))


SRC_MAC = bytes.fromhex("020000000001")
DST_MAC = bytes.fromhex("020000000002")


def isn(src, dst, sport, dport):
    """A flow endpoint's initial sequence number: fixed per flow, spread
    over the sequence space (a stateful gateway that tracks TCP windows
    sees what it would see from real hosts)."""
    return zlib.crc32(src + dst + struct.pack("!HH", sport, dport)) or 1


def frame(fam, src, dst, sport, dport, flags, size, seq=1, ack=1):
    """One Ethernet/IP/TCP frame of `size` bytes with the FCS (size-4 written)."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack if flags & 0x10 else 0, 5 << 4,
                      flags, 65535, 0, 0)
    if fam == 4:
        plen = max(size - 4 - 14 - 20 - 20, 0)
        ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 20 + plen, 0, 0x4000, 64, 6,
                                   0, src, dst))
        struct.pack_into("!H", ip, 10, csum(bytes(ip)))
        eth = DST_MAC + SRC_MAC + b"\x08\x00"
    else:
        plen = max(size - 4 - 14 - 40 - 20, 0)
        ip = struct.pack("!IHBB16s16s", 6 << 28, 20 + plen, 6, 64, src, dst)
        eth = DST_MAC + SRC_MAC + b"\x86\xdd"
    return eth + bytes(ip) + tcp + bytes(plen)


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        hdr = struct.Struct("<IIII")
        for i, fr in enumerate(frames):
            f.write(hdr.pack(i // 1000000, i % 1000000, len(fr), len(fr)))
            f.write(fr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", required=True)
    ap.add_argument("--also-set")
    ap.add_argument("--flows", type=int, required=True)
    ap.add_argument("--packets", type=int, default=4096)
    ap.add_argument("--frames", choices=["64", "imix"], default="64")
    ap.add_argument("--v6", type=float, default=0.2)
    ap.add_argument("--deny", type=float, default=0.25)
    ap.add_argument("--syn", action="store_true")
    ap.add_argument("--handshake")
    ap.add_argument("--flood", type=int, default=0,
                    help="after each frame, a SYN of one of this many distinct denied flows")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--npgwctl", default=os.path.join(TOP, "build", "app", "npgwctl"))
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    pods, pols = load_set(a.set)
    if not pods:
        sys.exit("no pods in %s" % a.set)
    n_base = min(a.flows, 4096)
    cand = candidates(pods, pols, rnd, max(4 * n_base, 256))
    fams = [6 if rnd.random() < a.v6 else 4 for _ in cand]
    q = [((s["v6"], d["v6"], p) if f == 6 else (s["v4"], d["v4"], p))
         for (s, d, p), f in zip(cand, fams)]
    ok = explain(a.npgwctl, a.set, q)
    base = []
    n6_base = round(n_base * a.v6)
    for fam, want in ((6, n6_base), (4, n_base - n6_base)):
        allowed = [i for i in range(len(q)) if ok[i] and fams[i] == fam]
        denied = [i for i in range(len(q)) if not ok[i] and fams[i] == fam]
        n_deny = min(len(denied), round(want * a.deny) if allowed else want)
        n_allow = min(len(allowed), want - n_deny)
        if n_allow + n_deny < want:
            n_deny = min(len(denied), want - n_allow)
        base += rnd.sample(allowed, n_allow) + rnd.sample(denied, n_deny)
    rnd.shuffle(base)
    ok_b = explain(a.npgwctl, a.also_set, [q[i] for i in base]) if a.also_set else None

    if a.flows > len(base) * 64000:
        sys.exit("at most %d distinct flows from %d base triples" % (len(base) * 64000, len(base)))
    flows = []  # (fam, src, dst, sport, dport, allowed, allowed_b)
    for k in range(a.flows):
        j = k % len(base)
        i = base[j]
        s, d, p = q[i]
        sport = 1024 + (k // len(base)) % 64000
        conv = ip6bytes if fams[i] == 6 else ip4bytes
        flows.append((fams[i], conv(s), conv(d), sport, p, ok[i], ok_b[j] if ok_b else None))
    order = list(range(len(flows)))
    rnd.shuffle(order)
    flood = None
    if a.flood:
        # SYNs of a.flood distinct denied tuples (the denied triples with
        # distinct source ports), one after each frame of the flows above
        denied = [i for i in range(len(q)) if not ok[i]]
        if not denied:
            sys.exit("no denied triple for the flood")
        flood = []
        for k in range(a.flood):
            i = denied[k % len(denied)]
            s, d, p = q[i]
            conv = ip6bytes if fams[i] == 6 else ip4bytes
            sp = 1024 + (k // len(denied)) % 64000
            flood.append(frame(fams[i], conv(s), conv(d), sp, p, 0x02,
                               64 if fams[i] == 4 else 78, isn(conv(s), conv(d), sp, p), 0))
        rnd.shuffle(flood)
    # (with --flood, every flood flow once per round of the capture)
    n_frames = max(a.flows, a.packets, a.flood)
    frames, n_deny_f, n_deny_b, n6, nbytes = [], 0, 0, 0, 0
    flags = 0x02 if a.syn else 0x10
    for k in range(n_frames):
        fam, s, d, sp, dp, al, alb = flows[order[k % len(order)]]
        size = 64 if a.frames == "64" else IMIX[rnd.randrange(len(IMIX))]
        if fam == 6:
            size = max(size, 78)
            n6 += 1
        if a.syn:
            fr = frame(fam, s, d, sp, dp, flags, size, isn(s, d, sp, dp), 0)
        else:
            # mid-stream: the client's next byte and the server's, as after
            # the handshake (each frame a retransmission of the first
            # segment: inside any window)
            fr = frame(fam, s, d, sp, dp, flags, size, isn(s, d, sp, dp) + 1 & 0xffffffff,
                       isn(d, s, dp, sp) + 1 & 0xffffffff)
        frames.append(fr)
        if flood is not None:
            frames.append(flood[k % len(flood)])
            nbytes += len(flood[k % len(flood)]) + 4
            n_deny_f += 1
        nbytes += len(fr) + 4
        n_deny_f += not al
        n_deny_b += alb is False
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    write_pcap(a.out, frames)
    if a.handshake:
        hs = []
        for fam, s, d, sp, dp, _, _ in flows:
            size = 64 if fam == 4 else 78
            c, v = isn(s, d, sp, dp), isn(d, s, dp, sp)
            hs.append(frame(fam, s, d, sp, dp, 0x02, size, c, 0))
            hs.append(frame(fam, d, s, dp, sp, 0x12, size, v, c + 1 & 0xffffffff))
            hs.append(frame(fam, s, d, sp, dp, 0x10, size, c + 1 & 0xffffffff,
                            v + 1 & 0xffffffff))
        write_pcap(a.handshake, hs)
    meta = {"set": os.path.abspath(a.set), "flows": a.flows, "frames": n_frames,
            "bytes_with_fcs": nbytes, "frame_mix": a.frames, "v6_share": n6 / n_frames,
            "denied_share": n_deny_f / len(frames), "base_triples": len(base),
            "tcp_flags": "SYN" if a.syn else "ACK", "tcp_seq": "consistent",
            "handshake_frames": 3 * a.flows if a.handshake else 0,
            "flood_flows": a.flood}
    meta["frames"] = len(frames)
    # the denied flows' (family, source, destination, port), for the peers'
    # rule files (throughput.l3fwd_rules): the same frames dropped
    meta["denied_triples"] = sorted({(fams[i], q[i][0], q[i][1], q[i][2]) for i in base
                                     if not ok[i]})
    if a.also_set:
        meta["also_set"] = os.path.abspath(a.also_set)
        meta["denied_share_also"] = n_deny_b / n_frames
    with open(a.out + ".meta", "w") as f:
        json.dump(meta, f)
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
