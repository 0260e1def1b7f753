#!/bin/sh
# README command (1): install what is missing, build, and show npgw
# enforcing a NetworkPolicy between real pods.
#
# Creates the end-to-end harness's cluster (tests/e2e/harness.sh): nine
# pods, x/a ... z/c, each a network namespace whose veth is a
# net_af_packet port of npgw; npgw starts with no objects and the
# cluster's Pods and Namespaces are applied over its control socket, as an
# agent would. Every truth table below comes from real TCP connections
# between the pods, through npgw. Then a policy from config/examples/ is
# applied, the table is probed again, and the counters and one explain of
# a denied pair are shown. Everything is removed at the end, also on
# failure or Ctrl-C. Root only.
set -eu
cd "$(dirname "$0")/.."

sh scripts/install-deps.sh
# only the two programs the demo runs (scripts/build.sh builds everything)
echo "build: npgw and npgwctl in build/"
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build app/npgw/npgw app/npgwctl >/dev/null

harness=tests/e2e/harness.sh
ctl() { bash $harness ctl "$@"; }
example=config/examples/02-namespace-isolation.yaml
tmp=$(mktemp -d /tmp/npgw-demo.XXXXXX)

# One harness at a time on this machine (the end-to-end tests take the
# same lock); everything goes on any exit.
exec 9>/run/lock/npgw-e2e.lock
if ! flock -n 9; then
	echo "demo: waiting for another harness run (end-to-end tests?) to finish"
	flock -w 300 9
fi
cleanup() {
	bash $harness down
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() { printf '\n== %s\n' "$1"; }
cmdline() { printf '$ %s\n' "$1"; }

# mark_changes BEFORE AFTER: print AFTER with a '*' after every cell that
# differs from BEFORE (the tables are tab-separated, one header line).
mark_changes() {
	awk -F'\t' 'NR == FNR { for (i = 1; i <= NF; i++) b[FNR, i] = $i; next }
		{ line = $1
		  for (i = 2; i <= NF; i++) line = line "\t" $i ((FNR > 1 && b[FNR, i] != $i) ? "*" : "")
		  print line }' "$1" "$2"
}

step "Create the cluster: 9 pods (namespaces x, y, z; pods a, b, c), npgw between them"
start=$(date +%s)
bash $harness up
bash $harness start
cmdline "npgwctl get pods -n x    # applied over the control socket, like an agent"
ctl get pods -n x
cmdline "npgwctl status"
ctl status | grep -E '^(ready|generation|classes|objects|  (namespaces|pods|policies)):'

step "No policy: every pod reaches every pod (TCP/80, real connections; rows connect to columns)"
cmdline "sh scripts/e2e.sh table --port 80"
bash $harness table --port 80 | tee "$tmp/before"

step "Apply a policy: $example"
sed -n '/^apiVersion/,$p' $example
cmdline "npgwctl apply -f $example"
ctl apply -f $example

step "The same probe again; '*' marks what changed: y admits only y, and y's own connections are still answered (stateful)"
bash $harness table --port 80 >"$tmp/after"
mark_changes "$tmp/before" "$tmp/after"

step "The gateway's counters"
cmdline "npgwctl stats"
ctl stats

step "What npgw decided about new flows, as events (like hubble observe)"
cmdline "npgwctl observe --pod y/b --verdict allowed --last 3"
ctl observe --pod y/b --verdict allowed --last 3
cmdline "npgwctl observe --pod y/b --verdict denied --last 3"
ctl observe --pod y/b --verdict denied --last 3

step "The same counters for Prometheus (metrics.listen in the harness's config)"
cmdline "curl -s localhost:19469/metrics | head"
/usr/bin/python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:19469/metrics").read().decode(), end="")' |
	head
cmdline "curl -s localhost:19469/metrics | grep -E 'npgw_(packets_total|policy_rule_hits_total)'"
/usr/bin/python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:19469/metrics").read().decode(), end="")' |
	grep -E '^npgw_(packets_total|policy_rule_hits_total)'

step "Why x/a may not connect to y/b"
cmdline "npgwctl explain --from x/a --to y/b --port 80"
ctl explain --from x/a --to y/b --port 80 || true

step "Tear down"
trap - EXIT
cleanup
echo "removed the pods, npgw and its state ($(($(date +%s) - start)) s from cluster to teardown)"
