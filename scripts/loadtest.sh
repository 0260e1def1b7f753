#!/bin/bash
# loadtest.sh: a load test without NICs, from Debian's packages only: npgw
# and a traffic generator as two processes joined by shared-memory packet
# interfaces (memif), and a check that the counters of both sides add up.
#
#   scripts/loadtest.sh [--seconds N] [--flows N] [--keep]
#
# The test bed:
#
#   dpdk-testpmd (memif client)             npgw (memif server)
#     port 0  <== memif id 0 ==>  port "uplink" ─┐
#                                                ├ bridge "wire", policies
#     port 1  <== memif id 1 ==>  port "pods"   ─┘
#
# dpdk-testpmd (Debian's dpdk-dev package) runs --forward-mode=flowgen: each of
# its two ports sends UDP 10.254.0.0:1000 -> 10.253.0.K:1001, K cycling over
# --flows (default 8), and receives (and frees) what npgw sends it. npgw
# holds one namespace whose pods are 10.253.0.0 ... 10.253.0.(flows-1),
# isolated for ingress; its first half admits UDP 1001 from 10.254.0.0/16,
# so about half the frames pass and half are dropped as policy-ingress.
# UDP flows are tracked: after the first frame of a flow npgw forwards it
# from its flow table.
#
# After N seconds (default 3) the generator stops sending and, with
# --forward-mode=rxonly for a second, drains what npgw still sends; then:
#   1. what the generator sent equals what npgw received, port by port;
#   2. npgw's tx plus its drops by reason equals its rx;
#   3. what the generator received equals what npgw sent, port by port;
#   4. traffic flowed both ways and both verdicts were exercised.
# It prints the counters and npgw's rate, but judges no speed: on a
# two-core machine the four polling threads share the cores. Exit 0 when
# every check passes. Runs as root (DPDK), with no hugepages and no NIC;
# every DPDK process has its own --file-prefix. --keep keeps the files
# (configs, logs) in /tmp.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
seconds=3
flows=8
keep=0
usage() {
	echo "usage: $0 [--seconds N] [--flows N] [--keep]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) [ $# -ge 2 ] || usage; seconds=$2; shift 2 ;;
	--flows) [ $# -ge 2 ] || usage; flows=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	*) usage ;;
	esac
done
case $seconds in '' | *[!0-9]* | 0) echo "$0: --seconds: a whole number of seconds above 0, not '$seconds'" >&2; exit 2 ;; esac
case $flows in '' | *[!0-9]*) echo "$0: --flows: a number from 2 to 256, not '$flows'" >&2; exit 2 ;; esac
if [ "$flows" -lt 2 ] || [ "$flows" -gt 256 ]; then
	echo "$0: --flows: a number from 2 to 256, not '$flows'" >&2
	exit 2
fi

npgw=${NPGW:-$top/build/app/npgw/npgw}
npgwctl=${NPGWCTL:-$top/build/app/npgwctl}
testpmd=${TESTPMD:-dpdk-testpmd}
for p in "$npgw" "$npgwctl"; do
	[ -x "$p" ] || { echo "$0: $p: not built (meson setup build && ninja -C build)" >&2; exit 2; }
done
command -v "$testpmd" >/dev/null || { echo "$0: $testpmd: not found (Debian package dpdk-dev)" >&2; exit 2; }

tmp=$(mktemp -d /tmp/npgw-load.XXXXXX)
npgw_pid=
gen_pid=
cleanup() {
	exec 3>&- 2>/dev/null || true
	[ -n "$gen_pid" ] && kill -KILL "$gen_pid" 2>/dev/null
	[ -n "$npgw_pid" ] && kill -KILL "$npgw_pid" 2>/dev/null
	wait 2>/dev/null || true
	if [ $keep = 1 ]; then echo "loadtest: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The policies: namespace "load", pods srv-K at 10.253.0.K, the first half
# labelled open=yes.
{
	printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: load}\n'
	for ((k = 0; k < flows; k++)); do
		open=no
		[ $k -lt $((flows / 2)) ] && open=yes
		printf -- '---\napiVersion: v1\nkind: Pod\n'
		printf 'metadata: {namespace: load, name: srv-%d, labels: {app: srv, open: "%s"}}\n' $k $open
		printf 'spec: {containers: [{name: srv, image: srv}]}\n'
		printf 'status: {phase: Running, podIP: 10.253.0.%d, podIPs: [{ip: 10.253.0.%d}]}\n' $k $k
	done
	cat <<'EOF'
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {namespace: load, name: default-deny-ingress}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {namespace: load, name: allow-open}
spec:
  podSelector: {matchLabels: {open: "yes"}}
  policyTypes: [Ingress]
  ingress:
  - from: [{ipBlock: {cidr: 10.254.0.0/16}}]
    ports: [{protocol: UDP, port: 1001}]
EOF
} >"$tmp/policies.yaml"
"$npgwctl" validate -f "$tmp/policies.yaml" >"$tmp/validate.out" 2>&1 || { cat "$tmp/validate.out" >&2; exit 1; }

sock=$tmp/memif.sock
cat >"$tmp/npgw.yaml" <<EOF
policies: [$tmp/policies.yaml]
control: {socket: $tmp/npgw.sock}
state_dir: $tmp/state
ports:
  - {name: uplink, device: "net_memif0,role=server,socket=$sock,id=0"}
  - {name: pods, device: "net_memif1,role=server,socket=$sock,id=1"}
bridges:
  - {name: wire, ports: [uplink, pods]}
workers:
  - lcore: 1
eal: ["--no-huge", "-m", "256", "--no-pci", "--file-prefix", "npgw-load-$$", "--log-level", "error"]
EOF

"$npgw" --config "$tmp/npgw.yaml" >"$tmp/npgw.log" 2>&1 &
npgw_pid=$!
ready=0
for _ in $(seq 1 100); do
	if "$npgwctl" --socket "$tmp/npgw.sock" status -o json >"$tmp/status.json" 2>/dev/null; then
		ready=1
		break
	fi
	kill -0 $npgw_pid 2>/dev/null || break
	sleep 0.1
done
if [ $ready = 0 ]; then
	echo "loadtest: npgw did not start; its log:" >&2
	cat "$tmp/npgw.log" >&2
	exit 1
fi

# The generator reads its commands from a FIFO, so that this script paces
# them; its output goes to a log that the script reads back (appended to,
# so that truncating it between steps leaves no hole).
mkfifo "$tmp/gen.cmd"
"$testpmd" -l 0,1 --no-huge -m 256 --no-pci --file-prefix "npgw-loadgen-$$" --log-level error \
	--vdev "net_memif0,role=client,socket=$sock,id=0" \
	--vdev "net_memif1,role=client,socket=$sock,id=1" \
	-- -i --forward-mode=flowgen --flowgen-flows="$flows" --port-topology=paired \
	--total-num-mbufs=16384 --rxq=1 --txq=1 \
	<"$tmp/gen.cmd" >>"$tmp/gen.log" 2>&1 &
gen_pid=$!
exec 3>"$tmp/gen.cmd"
gen() { echo "$*" >&3; }

# wait_gen PATTERN SECONDS: until the generator's log matches PATTERN.
wait_gen() {
	for _ in $(seq 1 $(($2 * 10))); do
		grep -Eq -- "$1" "$tmp/gen.log" && return 0
		kill -0 $gen_pid 2>/dev/null || break
		sleep 0.1
	done
	echo "loadtest: the generator never printed '$1'; its log:" >&2
	cat "$tmp/gen.log" >&2
	exit 1
}

# Both memif links up (the client connects to npgw's socket on start).
wait_gen '^testpmd> ' 30
up=0
for _ in $(seq 1 50); do
	gen "show port info all"
	sleep 0.2
	if [ "$(grep -c 'Link status: up' "$tmp/gen.log")" -ge 2 ]; then
		up=1
		break
	fi
	: >"$tmp/gen.log"
done
if [ $up = 0 ]; then
	echo "loadtest: the memif links did not come up; generator and npgw logs:" >&2
	cat "$tmp/gen.log" "$tmp/npgw.log" >&2
	exit 1
fi

: >"$tmp/gen.log"
"$npgwctl" --socket "$tmp/npgw.sock" stats --reset >/dev/null
gen "clear port stats all"
gen "start"
t0=$(date +%s.%N)
sleep "$seconds"
gen "stop"
t1=$(date +%s.%N)
# Drain: receive whatever npgw still sends, until npgw's counters stand
# still (at least 1 s, at most 30 s: a busy machine may starve its worker),
# then count.
gen "set fwd rxonly"
gen "start"
sleep 1
npgw_counts() {
	"$npgwctl" --socket "$tmp/npgw.sock" stats -o json |
		/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["rx"], d["tx"])'
}
prev=$(npgw_counts)
for _ in $(seq 1 60); do
	sleep 0.5
	cur=$(npgw_counts)
	[ "$cur" = "$prev" ] && break
	prev=$cur
done
gen "stop"
sleep 0.5
"$npgwctl" --socket "$tmp/npgw.sock" stats -o json >"$tmp/stats.json"
gen "show port stats all"
gen "quit"
exec 3>&-
wait $gen_pid || true
gen_pid=

/usr/bin/python3 - "$tmp/gen.log" "$tmp/stats.json" "$seconds" "$t0" "$t1" <<'EOF'
import json, re, sys

log, stats, seconds, t0, t1 = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
text = open(log).read()
# testpmd's "show port stats all": one block per port.
gen = {}
# The flowgen run's own statistics (the first "stop"): TX-dropped is what
# the memif ring refused, the generator offering more than npgw took in.
refused = {}
for m in re.finditer(r"Forward statistics for port (\d+).*?TX-dropped:\s*(\d+)", text, re.S):
    refused.setdefault(int(m.group(1)), int(m.group(2)))
for m in re.finditer(r"NIC statistics for port (\d+).*?RX-packets:\s*(\d+).*?TX-packets:\s*(\d+)", text, re.S):
    gen[int(m.group(1))] = {"rx": int(m.group(2)), "tx": int(m.group(3))}
st = json.load(open(stats))
ports = {p["name"]: p for p in st["ports"]}
drops = {k: v for k, v in st["drops"].items() if v}
passed = failed = 0

def check(ok, what):
    global passed, failed
    print(("ok: " if ok else "FAIL: ") + what)
    if ok:
        passed += 1
    else:
        failed += 1

if sorted(gen) != [0, 1] or set(ports) != {"uplink", "pods"}:
    print("FAIL: counters missing: generator ports %s, npgw ports %s" % (sorted(gen), sorted(ports)))
    print("loadtest: 0 passed, 1 failed")
    sys.exit(1)

npgw_rx = sum(p["rx"] for p in ports.values())
npgw_tx = sum(p["tx"] for p in ports.values())
ndrop = sum(drops.values())
print("%-28s %14s %14s" % ("", "rx", "tx"))
print("%-28s %14d %14d" % ("generator port 0 (memif 0)", gen[0]["rx"], gen[0]["tx"]))
print("%-28s %14d %14d" % ("generator port 1 (memif 1)", gen[1]["rx"], gen[1]["tx"]))
print("%-28s %14d %14d" % ("npgw uplink", ports["uplink"]["rx"], ports["uplink"]["tx"]))
print("%-28s %14d %14d" % ("npgw pods", ports["pods"]["rx"], ports["pods"]["tx"]))
print("generator frames the memif rings refused (npgw's input full, never sent): port 0 %s, port 1 %s"
      % (refused.get(0, "?"), refused.get(1, "?")))
print("npgw drops by reason: %s" % (", ".join("%s %d" % kv for kv in sorted(drops.items())) or "none"))
wall = max(t1 - t0, 1e-9)
print("over %d s (%.2f s of sending): npgw received %.3f Mpps, forwarded %.3f Mpps "
      "(two cores shared by four polling threads: not a measure of npgw's speed)"
      % (seconds, wall, npgw_rx / wall / 1e6, npgw_tx / wall / 1e6))

for g, name in ((0, "uplink"), (1, "pods")):
    check(gen[g]["tx"] == ports[name]["rx"],
          "sent == npgw rx: generator port %d sent %d, npgw %s received %d"
          % (g, gen[g]["tx"], name, ports[name]["rx"]))
check(npgw_tx + ndrop == npgw_rx,
      "npgw tx + drops == rx: %d + %d == %d" % (npgw_tx, ndrop, npgw_rx))
for g, name in ((0, "uplink"), (1, "pods")):
    check(gen[g]["rx"] == ports[name]["tx"],
          "generator rx == npgw tx: generator port %d received %d, npgw %s sent %d"
          % (g, gen[g]["rx"], name, ports[name]["tx"]))
check(npgw_rx > 0 and npgw_tx > 0 and drops.get("policy-ingress", 0) > 0,
      "traffic flowed and both verdicts occurred: rx %d, tx %d, policy-ingress %d"
      % (npgw_rx, npgw_tx, drops.get("policy-ingress", 0)))
other = {k: v for k, v in drops.items() if k != "policy-ingress"}
if other:
    print("note: drops other than policy-ingress: %s (counted above; tx-full means the "
          "generator did not drain npgw's output in time)" % other)
print("loadtest: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
EOF
