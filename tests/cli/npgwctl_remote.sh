#!/bin/sh
# npgwctl_remote.sh NPGWCTL FAKE_GATEWAY: the npgwctl commands that talk to
# a running gateway, against ctl_fake_gateway (the real control socket
# server with canned handlers): the args each command sends, its text,
# JSON and YAML output, and its exit status (0 ok, 1 refused, 2 usage or
# no connection).
set -u
ctl=$1
fake=$2
dir=$(mktemp -d)
sock=$dir/npgw.sock
out=$dir/out
err=$dir/err
fails=0

"$fake" "$sock" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
i=0
while [ ! -S "$sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done

# expect STATUS DESCRIPTION -- ARGS...: run npgwctl, check the exit status
expect() {
	want=$1
	what=$2
	shift 3
	"$ctl" "$@" >"$out" 2>"$err" </dev/null
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL: $what: exit $got, want $want"
		sed 's/^/  stdout: /' "$out"
		sed 's/^/  stderr: /' "$err"
		fails=$((fails + 1))
	else
		echo "ok: $what"
	fi
}

# has FILE TEXT: FILE contains the line TEXT exactly
has() {
	if ! grep -qxF -- "$2" "$1"; then
		echo "FAIL: missing line: $2"
		sed 's/^/  have: /' "$1"
		fails=$((fails + 1))
	fi
}

S="--socket $sock"
expect 0 "version" -- $S version
has "$out" "protocol: 1"
has "$out" "dpdk: DPDK fake"
NPGW_SOCKET=$sock "$ctl" version >"$out" 2>&1 || { echo "FAIL: NPGW_SOCKET"; fails=$((fails + 1)); }
has "$out" "protocol: 1"
expect 0 "list-commands" -- --socket="$sock" list-commands -o json
grep -q '"name": "wait"' "$out" || { echo "FAIL: list-commands json"; fails=$((fails + 1)); }
expect 0 "status" -- $S status
has "$out" "generation: 3"
has "$out" "  rules: 12"
expect 0 "stats --reset sends reset: true" -- $S stats --reset -o json
has "$out" '  "reset": true'
expect 0 "stats table" -- $S stats
has "$out" "  p0    10          9"
expect 0 "get pods" -- $S get pods
has "$out" "x          a     10.0.1.1,fd00::1  app=web"
expect 0 "get po -n y, yaml quotes what YAML 1.1 misreads" -- $S get po -n y -o yaml
has "$out" "    namespace: \"y\""
has "$out" "      app: \"yes\""
has "$out" "    podIP: \"10.0.2.1\""
expect 0 "get netpol" -- $S get netpol
has "$out" "x          allow-web  app=web       Ingress"
expect 2 "get -n for namespaces" -- $S get ns -n x
expect 2 "get unknown kind" -- $S get services

ex=$dir/ex.yaml
printf 'kind: Namespace\napiVersion: v1\nmetadata:\n  name: x\n' >"$ex"
expect 0 "apply -f file" -- $S apply -f "$ex" -o json
has "$out" "  \"documents\": [\"$ex\"],"
expect 0 "apply -f dir" -- $S apply -f "$dir"
has "$out" "documents: $ex"
"$ctl" $S apply -f - -o yaml <"$ex" >"$out" 2>"$err" || { echo "FAIL: apply -f -"; fails=$((fails + 1)); }
has "$out" '- "<stdin>"'
printf 'kind: BAD\n' >"$dir/bad.yaml"
expect 1 "apply refused with the validator's messages" -- $S apply -f "$dir/bad.yaml"
has "$err" "npgwctl apply: invalid: 1 error(s); nothing changed"
has "$err" "$dir/bad.yaml:2:3: spec.podSelector: error: BAD is not allowed here"
expect 2 "apply without -f" -- $S apply
expect 2 "apply of a missing file" -- $S apply -f "$dir/none.yaml"
expect 0 "replace" -- $S replace -f "$ex"
has "$out" "generation: 5"
expect 0 "delete pod" -- $S delete pod x/a y/b -o json
has "$out" '      "namespace": "y",'
expect 0 "delete namespace" -- $S delete ns x
has "$out" "  Namespace  x"
expect 1 "delete refused" -- $S delete pod x/missing
has "$err" "npgwctl delete: not-found: Pod x/missing not found"
expect 0 "delete pod NAME: in namespace default, as kubectl" -- $S delete pod a -o json
has "$out" '      "namespace": "default",'
expect 0 "delete -f" -- $S delete -f "$ex"
has "$out" "generation: 6"

expect 0 "wait for a live generation" -- $S wait 3
expect 1 "wait times out" -- $S wait 9 --timeout 0.3
has "$err" "npgwctl wait: timeout: no answer in time"
expect 2 "wait bad generation" -- $S wait -1
expect 2 "wait bad timeout" -- $S wait 3 --timeout x

expect 0 "explain" -- $S explain --from x/a --to 10.0.2.1 --port 80
has "$out" "ALLOWED: x/a -> 10.0.2.1 TCP/80 (generation 3)"
has "$out" "  ingress 10.0.2.1: allowed by policy x/allow-web, ingress rule 0"
expect 0 "explain json sends protocol and port" -- $S explain --from x/a --to 10.0.2.1 --port 81 --protocol UDP -o json
has "$out" '{"from":"x/a","to":"10.0.2.1","protocol":"UDP","port":81,"allowed":false,"egress":{"verdict":"not-isolated"},"ingress":{"verdict":"deny","policy":"x/allow-web"},"generation":3}'
expect 1 "explain refused" -- $S explain --from x/nope --to 10.0.2.1 --port 80
expect 2 "explain -f without --offline" -- $S explain -f "$ex" --from x/a --to y/b --port 80

expect 2 "no gateway" -- --socket "$dir/none.sock" status
grep -q "cannot connect to $dir/none.sock" "$err" || { echo "FAIL: no gateway message"; fails=$((fails + 1)); }
expect 2 "--socket without a path" -- --socket
expect 2 "unknown global option" -- --frob status
expect 0 "help lists every command" -- --help
for c in validate explain apply delete replace get status stats wait version list-commands; do
	grep -q "^  $c " "$out" || { echo "FAIL: --help lacks $c"; fails=$((fails + 1)); }
done
for c in apply delete replace get status stats wait version list-commands explain; do
	expect 0 "$c --help" -- $c --help
done
expect 2 "unknown option of a command" -- $S status --frob

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
