#!/bin/sh
# npgw_sighup_refused.sh NPGW NPGWCTL: a gateway that started with refused
# policy files (no generation, fail-closed) takes the fixed files at the
# next SIGHUP and goes live; it used to crash there (no desired state was
# set up when the start-up files were refused).
set -u
npgw=$1
npgwctl=$2
tmp=$(mktemp -d /tmp/npgw-hup.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$tmp/log" ] && tail -20 "$tmp/log"; exit 1; }

cat >"$tmp/p.yaml" <<EOT
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: 70000}]
EOT
cat >"$tmp/npgw.yaml" <<EOT
policies: [$tmp/p.yaml]
control: {socket: $tmp/s.sock}
state_dir: $tmp/state
ports:
  - {name: a, device: net_null0}
  - {name: b, device: net_null1}
bridges: [{name: w, ports: [a, b]}]
eal: ["--no-huge", "-m", "256", "--no-pci", "--file-prefix", "npgw-hup-$$", "--log-level", "error"]
EOT
"$npgw" --config "$tmp/npgw.yaml" >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 600); do
	[ -S "$tmp/s.sock" ] && break
	kill -0 "$pid" 2>/dev/null || fail "npgw exited at start"
	sleep 0.1
done
"$npgwctl" --socket "$tmp/s.sock" status | grep -q '^ready: false' ||
	fail "a refused policy file at start should leave no generation"
echo "ok: refused policy files at start: no generation"
sed -i 's/70000/80/' "$tmp/p.yaml"
kill -HUP "$pid"
for _ in $(seq 300); do
	kill -0 "$pid" 2>/dev/null || fail "npgw died at SIGHUP"
	"$npgwctl" --socket "$tmp/s.sock" status 2>/dev/null | grep -q '^ready: true' && break
	sleep 0.1
done
"$npgwctl" --socket "$tmp/s.sock" status | grep -q '^ready: true' ||
	fail "the fixed files did not go live at SIGHUP"
"$npgwctl" --socket "$tmp/s.sock" get networkpolicies -A | grep -q 'p' ||
	fail "the policy is not in the desired state"
echo "ok: SIGHUP with the files fixed: live"
kill "$pid"
wait "$pid"
rc=$?
pid=
[ $rc -eq 0 ] || fail "SIGTERM: exit $rc"
echo "ok: SIGTERM: exit 0"
echo "3 passed, 0 failed"
