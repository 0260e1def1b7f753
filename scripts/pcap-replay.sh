#!/bin/bash
# pcap-replay.sh: replay a capture through npgw and check that what comes
# out is exactly what the policies allow.
#
#   scripts/pcap-replay.sh [--count N] [--policies DIR] [--keep]
#
# Generates frames between the pods of config/examples/cluster.yaml
# (scripts/pcap/make_pcap.py), runs npgw with a net_pcap port reading them
# and a second net_pcap port writing what npgw forwards (the two ports are
# one wire), and compares the output, frame by frame and byte by byte, with
# the frames `npgwctl explain --offline` says are allowed (plus ARP, which
# passes). Exit 0 when they match. Runs as root (DPDK), with no hugepages
# and no NIC.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
count=2000
policies=$top/config/examples
keep=0
while [ $# -gt 0 ]; do
	case $1 in
	--count) count=$2; shift 2 ;;
	--policies) policies=$(cd "$2" && pwd); shift 2 ;;
	--keep) keep=1; shift ;;
	*) echo "usage: $0 [--count N] [--policies DIR] [--keep]" >&2; exit 2 ;;
	esac
done

npgw=${NPGW:-$top/build/app/npgw/npgw}
npgwctl=${NPGWCTL:-$top/build/app/npgwctl}
tmp=$(mktemp -d /tmp/npgw-pcap.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	if [ $keep = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

/usr/bin/python3 "$top/scripts/pcap/make_pcap.py" "$tmp/in.pcap" "$tmp/queries.jsonl" --count "$count"
# an empty capture (the 24-byte pcap header, Ethernet) for the output port's rx
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' >"$tmp/empty.pcap"
grep -v '"arp"' "$tmp/queries.jsonl" |
	"$npgwctl" explain --offline -f "$policies" --batch - -o json >"$tmp/answers.jsonl"

cat >"$tmp/npgw.yaml" <<EOF
policies: [$policies]
control: {socket: $tmp/npgw.sock}
state_dir: $tmp/state
ports:
  - {name: in, device: "net_pcap0,rx_pcap=$tmp/in.pcap,tx_pcap=$tmp/back.pcap"}
  - {name: out, device: "net_pcap1,rx_pcap=$tmp/empty.pcap,tx_pcap=$tmp/out.pcap"}
bridges:
  - {name: wire, ports: [in, out]}
workers:
  - lcore: 1
eal: ["--no-huge", "-m", "256", "--no-pci", "--file-prefix", "npgw-pcap-$$", "--log-level", "lib.*:error", "--log-level", "pmd.*:error"]
EOF

"$npgw" --config "$tmp/npgw.yaml" >"$tmp/npgw.log" 2>&1 &
pid=$!
# wait until every frame was received (SIGUSR1 prints the counters)
for _ in $(seq 300); do
	sleep 0.1
	kill -0 $pid 2>/dev/null || { cat "$tmp/npgw.log" >&2; exit 1; }
	grep -q "forwarding with" "$tmp/npgw.log" || continue
	kill -USR1 $pid
	sleep 0.05
	rx=$(awk '$1 == "in" { v = $2 } END { print v + 0 }' "$tmp/npgw.log")
	[ "$rx" -ge "$count" ] && break
done
kill -TERM $pid
wait $pid || { echo "npgw did not exit cleanly" >&2; cat "$tmp/npgw.log" >&2; exit 1; }
pid=
sed -n '/final counters/,$p' "$tmp/npgw.log"

/usr/bin/python3 - "$tmp" <<'EOF'
import json, sys
from scapy.all import rdpcap
tmp = sys.argv[1]
frames = rdpcap(tmp + "/in.pcap")
queries = [json.loads(l) for l in open(tmp + "/queries.jsonl")]
answers = iter(json.loads(l) for l in open(tmp + "/answers.jsonl"))
want = []
for f, q in zip(frames, queries):
    if q.get("arp"):
        want.append(bytes(f))
        continue
    a = next(answers)
    if "error" in a:
        sys.exit("explain refused a query: %s" % a)
    if a["allowed"]:
        want.append(bytes(f))
got = [bytes(f) for f in rdpcap(tmp + "/out.pcap")]
print("pcap replay: %d frames in, %d allowed by explain (ARP included), %d out" %
      (len(frames), len(want), len(got)))
if got != want:
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            sys.exit("first difference at output frame %d" % i)
    sys.exit("output has %d frames, expected %d" % (len(got), len(want)))
print("pcap replay: the output holds exactly the allowed frames, in order")
EOF
