#!/usr/bin/python3
"""make_pcap.py: frames between the pods of config/examples/cluster.yaml.

  make_pcap.py OUT.pcap QUERIES.jsonl [--count N] [--seed S]

Writes N Ethernet frames (IPv4 and IPv6; TCP, UDP, SCTP; ports 53, 80, 81,
443; and a few ARP frames) between the demo pods and a few outside
addresses, and beside them one explain batch query per frame, in the same
order ({"from", "to", "protocol", "port"}, or {"arp": true} for ARP, which
npgw passes without a query). scripts/pcap-replay.sh replays the pcap
through npgw and checks that the output holds exactly the frames explain
allows.
"""

import argparse
import json
import random

from scapy.all import ARP, IP, SCTP, TCP, UDP, Ether, IPv6, Raw, SCTPChunkData, wrpcap

NS = {"x": 1, "y": 2, "z": 3}
POD = {"a": 1, "b": 2, "c": 3}
OUTSIDE4 = ["8.8.8.8", "192.168.7.1"]
OUTSIDE6 = ["2001:db8::1"]


def endpoints(family):
    eps = []
    for n, ni in NS.items():
        for p, pi in POD.items():
            eps.append("10.0.%d.%d" % (ni, pi) if family == 4 else "fd00::%d:%d" % (ni, pi))
    eps.append("10.0.10.10" if family == 4 else "fd00::10:10")  # kube-dns
    return eps + (OUTSIDE4 if family == 4 else OUTSIDE6)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcap")
    ap.add_argument("queries")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    frames, queries = [], []
    for i in range(a.count):
        if i % 50 == 0:
            frames.append(Ether(src="02:00:00:00:01:01", dst="ff:ff:ff:ff:ff:ff") /
                          ARP(psrc="10.0.1.1", pdst="10.0.2.2"))
            queries.append({"arp": True})
            continue
        family = 4 if rnd.random() < 0.8 else 6
        src, dst = rnd.sample(endpoints(family), 2)
        proto = rnd.choice(["TCP", "TCP", "UDP", "SCTP"])
        port = rnd.choice([53, 80, 81, 443])
        l3 = IP(src=src, dst=dst) if family == 4 else IPv6(src=src, dst=dst)
        data = b"npgw%06d" % i
        # SCTP: the data in a DATA chunk (bytes after the common header are
        # chunks, and npgw drops SCTP whose chunks do not fit the packet)
        l4 = {"TCP": TCP(sport=40000 + i % 1000, dport=port, flags="S") / Raw(data),
              "UDP": UDP(sport=40000 + i % 1000, dport=port) / Raw(data),
              "SCTP": SCTP(sport=40000 + i % 1000, dport=port) / SCTPChunkData(data=data)}[proto]
        frames.append(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / l3 / l4)
        queries.append({"from": src, "to": dst, "protocol": proto, "port": port})
    wrpcap(a.pcap, frames)
    with open(a.queries, "w") as f:
        for q in queries:
            f.write(json.dumps(q) + "\n")


if __name__ == "__main__":
    main()
