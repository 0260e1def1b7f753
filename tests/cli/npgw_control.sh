#!/bin/bash
# npgw_control.sh: the daemon over its control socket, end to end.
#
#   npgw_control.sh NPGW NPGWCTL SOURCE_ROOT
#
# npgw forwards a capture in a loop (net_pcap with infinite_rx into
# net_null) while this script drives every command: an apply that fails
# validation changes nothing; an acknowledged apply survives kill -9 and is
# live again before the workers forward; misbehaving clients (oversized,
# slow, 100 at once, never reading, garbage, wrong uid) are refused while
# the workers keep forwarding; deleting a Namespace takes its Pods and
# policies in one generation; a second daemon on the state directory is
# kept out; ownership: in socket mode SIGHUP changes nothing, in file mode
# the socket's changes are refused and SIGHUP reloads the files; SIGTERM
# exits 0 with the counters; generations near 2^53 print exactly and never
# wrap.
set -u
npgw=$1
ctl_bin=$2
top=$3
tmp=$(mktemp -d /tmp/npgw-ctl.XXXXXX)
pid=
fails=0
passes=0
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
ctl() { "$ctl_bin" --socket "$tmp/npgw.sock" "$@"; }
ok() {
	echo "ok: $*"
	passes=$((passes + 1))
}
bad() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then ok "$what"; else
		bad "$what"
		cat "$tmp/out"
	fi
}

/usr/bin/python3 "$top/scripts/pcap/make_pcap.py" "$tmp/in.pcap" "$tmp/q.jsonl" --count 200 >/dev/null 2>&1 ||
	{ echo "cannot make the capture (python3-scapy)"; exit 1; }
mkdir -p "$tmp/policies"
cp "$top/config/examples/cluster.yaml" "$top/config/examples/01-default-deny-ingress.yaml" "$tmp/policies/"
cat >"$tmp/npgw.yaml" <<EOF
desired_state: socket
control: {socket: npgw.sock}
state_dir: state
ports:
  - {name: in, device: "net_pcap0,rx_pcap=$tmp/in.pcap,infinite_rx=1"}
  - {name: out, device: "net_null0"}
bridges:
  - {name: wire, ports: [in, out]}
workers:
  - lcore: 1
eal: ["--no-huge", "-m", "256", "--no-pci", "--file-prefix", "npgw-ctl-test-$$", "--log-level", "lib.*:error", "--log-level", "pmd.*:error"]
EOF

start() {
	"$npgw" --config "$tmp/npgw.yaml" >>"$tmp/npgw.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		[ -S "$tmp/npgw.sock" ] && ctl status >/dev/null 2>&1 && return 0
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	echo "npgw did not start:"
	cat "$tmp/npgw.log"
	exit 1
}
rx() { ctl stats -o json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["rx"])'; }
gen() { ctl status -o json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])'; }

start
check "status: ready at generation 1" sh -c "\"$ctl_bin\" --socket $tmp/npgw.sock status | grep -q 'generation: 1'"
check "status: the control socket owns the desired state" sh -c "\"$ctl_bin\" --socket $tmp/npgw.sock status -o json | grep -q '\"desired_state\": \"socket\"'"
check "replace with the cluster and a policy" ctl replace -f "$tmp/policies"
check "version carries the protocol and DPDK versions" sh -c "\"$ctl_bin\" --socket $tmp/npgw.sock version -o json | grep -q '\"protocol\": 1' && \"$ctl_bin\" --socket $tmp/npgw.sock version | grep -q DPDK"
check "list-commands lists apply and wait" sh -c "\"$ctl_bin\" --socket $tmp/npgw.sock list-commands | grep -q apply"
check "get pods" sh -c "\"$ctl_bin\" --socket $tmp/npgw.sock get pods -A | grep -q coredns"
check "get namespaces" sh -c "\"$ctl_bin\" --socket $tmp/npgw.sock get namespaces | grep -q kube-system"
check "explain against the live generation" sh -c "\"$ctl_bin\" --socket $tmp/npgw.sock explain --from y/a --to x/b --port 80 | grep -q 'x/default-deny-ingress'"
# one explain codec: the gateway's answer and an offline one over the same
# files print alike (the generation number aside), naming where the
# deciding policy is written
ctl explain --from y/a --to x/b --port 80 --protocol tcp 2>&1 |
	sed 's/ (generation [0-9]*)$//' >"$tmp/online"
"$ctl_bin" explain --offline -f "$tmp/policies" --from y/a --to x/b --port 80 2>&1 |
	sed 's/ (generation [0-9]*)$//' >"$tmp/offline"
if cmp -s "$tmp/online" "$tmp/offline" && grep -q "01-default-deny-ingress.yaml:[0-9]" "$tmp/online"; then
	ok "explain online and offline print alike, with the policy's file and line"
else
	bad "explain online vs offline"
	diff "$tmp/online" "$tmp/offline"
fi

# an apply that fails validation changes nothing
ctl get policies -A -o json >"$tmp/before.json"
g0=$(gen)
printf 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: x}\nspec: {podSelector: {}, ingress: [{ports: [{port: 80, endPort: 79}]}]}\n' >"$tmp/bad.yaml"
ctl apply -f "$tmp/bad.yaml" >"$tmp/out" 2>&1
rc=$?
ctl get policies -A -o json >"$tmp/after.json"
if [ $rc = 1 ] && grep -q "bad.yaml:4:.*endPort.*79 is below port 80" "$tmp/out" && [ "$(gen)" = "$g0" ] &&
	cmp -s "$tmp/before.json" "$tmp/after.json"; then
	ok "a refused apply names file:line:col and changes nothing"
else
	bad "refused apply: rc=$rc, generation $(gen) (was $g0)"
	cat "$tmp/out"
fi

# issue 16: the cluster-wide tiers and Nodes through the socket: apply,
# get by their kinds (and not among NetworkPolicies), describe pod shows
# the tiers that select it, explain names the tier, delete removes them
cat >"$tmp/tiers.yaml" <<EOF
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: guard}
spec:
  priority: 7
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}
  ingress:
  - {name: no-y, action: Deny, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: "y"}}}]}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: base}
spec:
  tier: Baseline
  priority: 3
  subject: {namespaces: {}}
  egress:
  - {action: Deny, to: [{nodes: {matchLabels: {role: infra}}}]}
---
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {role: infra}}
status: {addresses: [{type: InternalIP, address: 192.168.60.1}]}
EOF
check "diff names tier policies and Nodes by their kinds" sh -c "\"$ctl_bin\" --socket $tmp/npgw.sock diff -f $tmp/tiers.yaml | grep -q 'adminnetworkpolicy/guard' && \"$ctl_bin\" --socket $tmp/npgw.sock diff -f $tmp/tiers.yaml | grep -q 'node/n1'"
check "apply tier policies and a Node" ctl apply -f "$tmp/tiers.yaml"
check "get adminnetworkpolicies" sh -c "\"$ctl_bin\" --socket $tmp/npgw.sock get anp | grep -q 'guard.*Admin.*7'"
check "get clusternetworkpolicies" sh -c "\"$ctl_bin\" --socket $tmp/npgw.sock get clusternetworkpolicies | grep -q 'base.*Baseline.*3'"
check "get nodes" sh -c "\"$ctl_bin\" --socket $tmp/npgw.sock get nodes | grep -q 'n1.*192.168.60.1'"
check "tier policies are not NetworkPolicies" sh -c "! \"$ctl_bin\" --socket $tmp/npgw.sock get networkpolicies -A | grep -q guard"
check "Nodes are not pods" sh -c "! \"$ctl_bin\" --socket $tmp/npgw.sock get pods -A | grep -q n1"
check "describe pod shows the tiers that select it" sh -c "\"$ctl_bin\" --socket $tmp/npgw.sock describe pod x/b | grep -q 'Tiers: *Admin AdminNetworkPolicy/guard (priority 7), Baseline ClusterNetworkPolicy/base (priority 3)'"
check "explain names the Admin tier rule" sh -c "\"$ctl_bin\" --socket $tmp/npgw.sock explain --from y/a --to x/b --port 80 | grep -q 'denied by Admin tier: AdminNetworkPolicy/guard priority 7 rule \"no-y\"'"
check "explain from a pod to a Node's address names the Baseline tier" sh -c "\"$ctl_bin\" --socket $tmp/npgw.sock explain --from x/b --to 192.168.60.1 --port 22 | grep -q 'denied by Baseline tier: ClusterNetworkPolicy/base priority 3'"
check "delete the tier policies and the Node" ctl delete anp/guard cnp/base node/n1
check "deleted: none left" sh -c "! \"$ctl_bin\" --socket $tmp/npgw.sock get anp 2>&1 | grep -q guard"

# issue 18: a second npgw on the running one's file prefix says why it
# cannot start, not "(Success; ...)"
sed "s/socket: npgw.sock/socket: npgw2.sock/; s/state_dir: state/state_dir: state2/" "$tmp/npgw.yaml" >"$tmp/second.yaml"
"$npgw" --config "$tmp/second.yaml" >"$tmp/out" 2>&1
rc=$?
if [ $rc != 0 ] && grep -q "another DPDK process (another npgw) uses the same file prefix" "$tmp/out" &&
	! grep -q "Success" "$tmp/out"; then
	ok "a second npgw on the same file prefix says so"
else
	bad "second npgw on the same prefix: rc=$rc"
	cat "$tmp/out"
fi

# apply, wait, delete, replace
cp "$top/config/examples/02-namespace-isolation.yaml" "$tmp/iso.yaml"
cat >"$tmp/gone.yaml" <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: gone}
---
apiVersion: v1
kind: Pod
metadata: {namespace: gone, name: gone-pod}
status: {podIP: 10.0.9.9}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {namespace: gone, name: gone-policy}
spec: {podSelector: {}}
EOF
check "apply" ctl apply -f "$tmp/iso.yaml"
check "wait for the generation it made" ctl wait "$((g0 + 1))" --timeout 5
check "the applied policy is live" sh -c "\"$ctl_bin\" --socket $tmp/npgw.sock explain --from x/a --to y/b --port 80 | grep -q 'y/allow-same-namespace'"
check "delete" ctl delete netpol y/allow-same-namespace
if ctl delete netpol y/nope >/dev/null 2>&1; then bad "deleting a missing object succeeded"; else ok "deleting a missing object is refused"; fi
check "replace with the files" ctl replace -f "$tmp/policies"
check "wait returns at once for a live generation" ctl wait 1

# a Pod-only apply or delete compiles incrementally (npgw_compile_update_pods):
# a replica of x/a (same labels and ports) joins x/a's class
cat >"$tmp/replica.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {namespace: x, name: a2, labels: {pod: a}}
spec:
  containers:
  - name: cont-a
    image: registry.k8s.io/e2e-test-images/agnhost:2.43
    ports:
    - {name: serve-80-tcp, containerPort: 80, protocol: TCP}
    - {name: serve-80-udp, containerPort: 80, protocol: UDP}
    - {name: serve-80-sctp, containerPort: 80, protocol: SCTP}
    - {name: serve-81-tcp, containerPort: 81, protocol: TCP}
    - {name: serve-81-udp, containerPort: 81, protocol: UDP}
    - {name: serve-81-sctp, containerPort: 81, protocol: SCTP}
status: {phase: Running, podIP: 10.0.1.9, podIPs: [{ip: 10.0.1.9}, {ip: "fd00::1:9"}]}
EOF
incremental() { ctl status -o json | /usr/bin/python3 -c 'import json,sys; s=json.load(sys.stdin); print(s.get("incremental"), s.get("timing_ms")); sys.exit(0 if s["incremental"] else 1)'; }
check "apply a replica of x/a" ctl apply -f "$tmp/replica.yaml"
check "the Pod-only apply compiled incrementally" incremental
check "the replica is isolated as x/a is" sh -c "\"$ctl_bin\" --socket $tmp/npgw.sock explain --from y/a --to x/a2 --port 80 | grep -q 'x/default-deny-ingress'"
check "delete the replica" ctl delete pod x/a2
check "the Pod-only delete compiled incrementally" incremental
check "its address is no pod any more" sh -c "! \"$ctl_bin\" --socket $tmp/npgw.sock explain --from y/a --to 10.0.1.9 --port 80 | grep -q 'x/default-deny-ingress'"
if ctl wait 99999 --timeout 1 >/dev/null 2>&1; then bad "wait for a future generation returned"; else ok "wait for a future generation times out"; fi

# abuse while the workers forward
r0=$(rx)
check "misbehaving clients are refused, others served" /usr/bin/python3 "$top/tests/cli/ctl_abuse.py" "$tmp/npgw.sock"
cat "$tmp/out"
chmod 0711 "$tmp"
chmod 0666 "$tmp/npgw.sock"
if setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c "
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
d = b''
try:
    s.sendall(b'{\"id\":1,\"cmd\":\"status\"}\n')
except OSError:
    pass  # refused before the request was read: what matters is the answer
while not d.endswith(b'\n'):
    c = s.recv(4096)
    if not c:
        break
    d += c
print(d.decode(errors='replace').strip())
sys.exit(0 if b'forbidden' in d else 1)" "$tmp/npgw.sock"; then
	ok "a peer with another uid is refused (SO_PEERCRED)"
else
	bad "a peer with another uid was not refused"
fi
r1=$(rx)
if [ "$r1" -gt "$r0" ]; then ok "the workers kept forwarding ($r0 -> $r1 frames)"; else bad "rx did not grow: $r0 -> $r1"; fi

# a second daemon on the same state directory is kept out, with a clear error
sed "s/npgw.sock/npgw2.sock/; s/npgw-ctl-test-/npgw-ctl-test2-/" "$tmp/npgw.yaml" >"$tmp/npgw2.yaml"
if "$npgw" --config "$tmp/npgw2.yaml" >"$tmp/second.log" 2>&1; then
	bad "a second daemon on the state directory started"
elif grep -q "is in use by another npgw (pid $pid)" "$tmp/second.log"; then
	ok "a second daemon on the state directory is refused, naming the first"
else
	bad "second daemon: unexpected output"
	cat "$tmp/second.log"
fi

# deleting a Namespace takes its Pods and NetworkPolicies, in one generation
check "apply a namespace with a pod and a policy" ctl apply -f "$tmp/gone.yaml"
g2=$(gen)
check "delete the namespace" ctl delete ns gone
if [ "$(gen)" = "$((g2 + 1))" ] && ! ctl get pods -A | grep -q gone-pod &&
	! ctl get policies -A | grep -q gone-policy && ctl get pods -A | grep -q coredns; then
	ok "a Namespace delete removed its Pod and NetworkPolicy in one generation"
else
	bad "namespace delete: generation $(gen) (was $g2)"
	ctl get pods -A
fi

# kill -9 right after an acknowledged apply; the state is back, live before forwarding
check "apply before the kill" ctl apply -f "$tmp/iso.yaml"
g1=$(gen)
kill -KILL $pid
wait $pid 2>/dev/null
: >"$tmp/npgw.log"
start
if [ "$(gen)" = "$g1" ] && ctl get policies -n y | grep -q allow-same-namespace; then
	ok "after kill -9 the acknowledged state is back (generation $g1)"
else
	bad "after kill -9: generation $(gen), expected $g1"
fi
live=$(grep -n "is live" "$tmp/npgw.log" | head -1 | cut -d: -f1)
fwd=$(grep -n "forwarding with" "$tmp/npgw.log" | head -1 | cut -d: -f1)
if [ -n "$live" ] && [ -n "$fwd" ] && [ "$live" -lt "$fwd" ]; then
	ok "the restored generation was live before the workers started"
else
	bad "restored generation not live before forwarding"
	cat "$tmp/npgw.log"
fi

# socket mode: SIGHUP touches nothing, and the log says so
kill -HUP $pid
sleep 1
if [ "$(gen)" = "$g1" ] && ctl get policies -n y | grep -q allow-same-namespace &&
	grep -q "SIGHUP: the control socket owns the desired state" "$tmp/npgw.log"; then
	ok "SIGHUP in socket mode changes nothing and logs why"
else
	bad "SIGHUP in socket mode: generation $(gen) (was $g1)"
fi

# file mode: the files own the state; the socket's changes are refused;
# SIGHUP reloads the files
kill -TERM $pid
wait $pid
sed -i "s/^desired_state: socket/desired_state: files\npolicies: [policies]/" "$tmp/npgw.yaml"
: >"$tmp/npgw.log"
start
if ctl status -o json | grep -q '"desired_state": "files"' && ! ctl get policies -n y | grep -q allow-same-namespace &&
	ctl get policies -n x | grep -q default-deny-ingress; then
	ok "file mode: at start the policy files are the desired state"
else
	bad "file mode start"
fi
ctl apply -f "$tmp/iso.yaml" >"$tmp/out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "the policy files own the desired state" "$tmp/out"; then
	ok "file mode: an apply over the socket is refused, saying why"
else
	bad "file mode apply: rc=$rc"
	cat "$tmp/out"
fi
g3=$(gen)
cp "$tmp/iso.yaml" "$tmp/policies/"
kill -HUP $pid
for _ in $(seq 50); do
	[ "$(gen)" -gt "$g3" ] && break
	sleep 0.1
done
if [ "$(gen)" -gt "$g3" ] && ctl get policies -n y | grep -q allow-same-namespace; then
	ok "SIGHUP in file mode: the policy files are the desired state"
else
	bad "SIGHUP did not reload"
fi

# SIGTERM: exit 0 and the final counters
kill -TERM $pid
wait $pid
rc=$?
pid=
if [ $rc = 0 ] && grep -q "final counters" "$tmp/npgw.log"; then ok "SIGTERM: exit 0 with the final counters"; else
	bad "SIGTERM: exit $rc"
fi


# issue 18: a state directory others can write: refuse to start
chmod 777 "$tmp/state"
if "$npgw" --config "$tmp/npgw.yaml" >"$tmp/out" 2>&1; then bad "npgw started on a mode 777 state directory"; else
	if grep -q "refusing to start: the state directory" "$tmp/out" && grep -q "mode 0777" "$tmp/out"; then
		ok "a state directory others can write: npgw refuses to start"
	else
		bad "mode 777 state directory: unexpected output"
		cat "$tmp/out"
	fi
fi
chmod 700 "$tmp/state"
ln -sf "$tmp/state/state.json" "$tmp/state/evil.json"
if ! "$npgw" --config "$tmp/npgw.yaml" --check >"$tmp/out" 2>&1 && grep -q "is a symbolic link" "$tmp/out"; then
	ok "a symbolic link in the state directory: --check refuses too"
else
	bad "a symbolic link in the state directory was accepted"
fi
rm -f "$tmp/state/evil.json"

# issue 18: --check refuses what start would: an unknown EAL option, an
# option smuggled into a device string
sed 's/"--no-pci"/"--no-pci", "--bogus"/' "$tmp/npgw.yaml" >"$tmp/bad-eal.yaml"
sed 's/device: "net_null0"/device: "net_null0,--vdev=net_tap0"/' "$tmp/npgw.yaml" >"$tmp/bad-dev.yaml"
"$npgw" --config "$tmp/bad-eal.yaml" --check >"$tmp/out" 2>&1
rc=$?
if [ $rc != 0 ] && grep -q 'unknown EAL option "--bogus"' "$tmp/out"; then ok "--check: unknown EAL option"; else
	bad "--check with an unknown EAL option: rc=$rc"
	cat "$tmp/out"
fi
"$npgw" --config "$tmp/bad-dev.yaml" --check >"$tmp/out" 2>&1
rc=$?
if [ $rc != 0 ] && grep -q 'the argument "--vdev=net_tap0" is not key=value' "$tmp/out"; then ok "--check: smuggled device option"; else
	bad "--check with --vdev= in a device string: rc=$rc"
	cat "$tmp/out"
fi

# issue 18: generations near 2^53 are printed exactly and never wrap. A
# journal whose one record is generation 2^53 - 1 (written here, with its
# CRC32C) is restored; the next change goes live as 2^53, the one after is
# refused (generation-limit) and changes nothing.
kill -TERM $pid
wait $pid
sed -i "s/^desired_state: files/desired_state: socket/; /^policies: \[policies\]/d; s/^state_dir: state/state_dir: stategen/" "$tmp/npgw.yaml"
mkdir -m 700 "$tmp/stategen"
/usr/bin/python3 - "$tmp/stategen/journal.000001" 9007199254740991 <<'PY'
import json, sys
def crc32c(b):
    crc = 0xffffffff
    for x in b:
        crc ^= x
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xffffffff
payload = json.dumps({"generation": sys.argv[2], "changes": [{"items": [
    {"apiVersion": "v1", "kind": "Namespace",
     "metadata": {"name": "g", "labels": {"kubernetes.io/metadata.name": "g"}}}]}]},
    separators=(",", ":")).encode()
with open(sys.argv[1], "wb") as f:
    f.write(b"R %08x %d " % (crc32c(payload), len(payload)) + payload + b"\n")
PY
chmod 600 "$tmp/stategen/journal.000001"
: >"$tmp/npgw.log"
start
if ctl status | grep -qx "generation: 9007199254740991" &&
	ctl status -o json | grep -q '"generation": 9007199254740991,' && ctl get namespaces | grep -q "^g "; then
	ok "a journal at generation 2^53 - 1 is restored, its generation printed exactly"
else
	bad "restore at 2^53 - 1"
	ctl status
fi
printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: h}\n' >"$tmp/ns-h.yaml"
printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: i}\n' >"$tmp/ns-i.yaml"
if ctl apply -f "$tmp/ns-h.yaml" >"$tmp/out" 2>&1 && [ "$(gen)" = 9007199254740992 ] &&
	ctl wait 9007199254740992 >/dev/null; then
	ok "the change after 2^53 - 1 goes live as 2^53, and wait accepts it"
else
	bad "apply at 2^53 - 1: generation $(gen)"
	cat "$tmp/out"
fi
ctl apply -f "$tmp/ns-i.yaml" >"$tmp/out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "generation-limit: generation 9007199254740992 is the last" "$tmp/out" &&
	[ "$(gen)" = 9007199254740992 ] && ! ctl get namespaces | grep -q "^i "; then
	ok "a change past 2^53 is refused (generation-limit), nothing changed, no wrap"
else
	bad "apply past 2^53: rc=$rc, generation $(gen)"
	cat "$tmp/out"
fi
"$ctl_bin" --socket "$tmp/npgw.sock" wait 9007199254740993 >"$tmp/out" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q "is not a generation number" "$tmp/out"; then
	ok "wait refuses a generation above 2^53"
else
	bad "wait 2^53 + 1: rc=$rc"
	cat "$tmp/out"
fi
kill -TERM $pid
wait $pid
pid=

# issue 18: an apply of 100,000 Namespaces (6 MB) was parsed, compiled and
# built, then refused at save; with the journal it is accepted, and it is
# all back after a restart
sed -i "s/^state_dir: stategen/state_dir: state100k/" "$tmp/npgw.yaml"
/usr/bin/python3 -c '
import sys
with open(sys.argv[1], "w") as f:
    for i in range(100000):
        f.write("---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ns%d}\n" % i)
' "$tmp/ns100k.yaml"
: >"$tmp/npgw.log"
start
if ctl apply -f "$tmp/ns100k.yaml" >"$tmp/out" 2>&1 && grep -qx "objects: 100000" "$tmp/out"; then
	ok "an apply of 100,000 Namespaces is accepted"
else
	bad "apply of 100,000 Namespaces"
	head -5 "$tmp/out"
fi
kill -TERM $pid
wait $pid
start
n=$(ctl get namespaces -o json | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
if [ "$n" = 100000 ]; then ok "100,000 Namespaces are back after a restart"; else
	bad "after a restart: $n Namespaces, expected 100000"
fi
kill -TERM $pid
wait $pid
pid=

echo "$passes passed, $fails failed"
[ $fails = 0 ]
