#!/bin/sh
# npgwctl_grammar.sh NPGWCTL FAKE_GATEWAY SOURCE_ROOT: npgwctl in kubectl's grammar, one
# check for every line of issue 15's "fails today" list first, then the
# endpoint view, dry runs, selectors and output formats, against
# ctl_fake_gateway (the real control socket server with canned objects:
# namespace x, pods x/a (app=web) and y/b (app=yes), policy x/allow-web
# selecting app=web for ingress on port 80).
set -u
ctl=$1
fake=$2
top=$3
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

# lacks FILE TEXT: no line of FILE contains TEXT
lacks() {
	if grep -qF -- "$2" "$1"; then
		echo "FAIL: unexpected: $2"
		sed 's/^/  have: /' "$1"
		fails=$((fails + 1))
	fi
}

S="--socket $sock"
pol=$dir/p.yaml
cat >"$pol" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-web, namespace: x}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - ports: [{port: 8080}]
YAML

echo "== the fails-today list of issue 15 =="
# 1. npgwctl delete networkpolicy allow-web -n x
expect 0 "delete networkpolicy allow-web -n x" -- $S delete networkpolicy allow-web -n x -o json
has "$out" '      "kind": "NetworkPolicy",'
has "$out" '      "namespace": "x",'
has "$out" '      "name": "allow-web"'
# 2. npgwctl get policy x/foo: a name, found or not
expect 1 "get policy x/foo: not found" -- $S get policy x/foo
has "$err" 'npgwctl get: networkpolicy "x/foo" not found'
expect 0 "get policy x/allow-web" -- $S get policy x/allow-web
has "$out" "x          allow-web  app=web       Ingress"
# 3. npgwctl get pods -o wide
expect 0 "get pods -o wide" -- $S get pods -o wide
has "$out" "NAMESPACE  NAME  IPS               LABELS   PORTS  PHASE"
has "$out" "x          a     10.0.1.1,fd00::1  app=web  -      -"
# 4. npgwctl status --socket S: global flags anywhere
expect 0 "status --socket S" -- status --socket "$sock"
has "$out" "generation: 3"
expect 0 "get pods -n y --socket=S" -- get pods -n y --socket="$sock"
has "$out" "y          b     10.0.2.1  app=yes"
# 5. explain --protocol tcp: protocols in any case
expect 0 "explain --protocol tcp" -- $S explain --from x/a --to 10.0.2.1 --port 80 --protocol tcp -o json
grep -q '"protocol":"TCP"' "$out" || { echo "FAIL: explain sends TCP"; fails=$((fails + 1)); }
expect 0 "flows --protocol udp" -- $S flows --protocol udp -o json
# 6. cat p.yaml | npgwctl validate -f -
"$ctl" validate -f - <"$pol" >"$out" 2>"$err"
rc=$?
[ "$rc" -eq 0 ] || { echo "FAIL: validate -f -: exit $rc"; cat "$err"; fails=$((fails + 1)); }
grep -q "0 errors, 0 warnings in 1 object" "$err" || { echo "FAIL: validate -f - summary"; cat "$err"; fails=$((fails + 1)); }
printf 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\nspec: {podSelectr: {}}\n' |
	"$ctl" validate -f - >"$out" 2>"$err"
rc=$?
[ "$rc" -eq 1 ] || { echo "FAIL: validate -f - with an error: exit $rc"; fails=$((fails + 1)); }
has "$out" '<stdin>:4:8: spec.podSelectr: unknown field "podSelectr" (a NetworkPolicy spec has podSelector, policyTypes, ingress and egress)'
echo "ok: validate -f -"
printf 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\nspec: {podSelectr: {}}\n' |
	"$ctl" validate -f - -o yaml >"$out" 2>"$err"
has "$out" '  path: spec.podSelectr'
echo "ok: validate -o yaml"
# 7. npgwctl version with no daemon: the client's version, then exit 2
expect 2 "version, no daemon" -- --socket "$dir/none.sock" version
has "$out" "npgwctl: 0.1.0 (protocol 1)"
grep -q "cannot connect to $dir/none.sock" "$err" || { echo "FAIL: version says why"; fails=$((fails + 1)); }
expect 0 "version --client, no daemon" -- --socket "$dir/none.sock" version --client
has "$out" "npgwctl: 0.1.0 (protocol 1)"
expect 0 "version with a daemon: both" -- $S version
has "$out" "npgwctl: 0.1.0 (protocol 1)"
has "$out" "dpdk: DPDK fake"
# 8. npgwctl help validate
expect 0 "help validate" -- help validate
grep -q "^usage: npgwctl validate" "$out" || { echo "FAIL: help validate is validate's help"; fails=$((fails + 1)); }
expect 2 "help nosuch" -- help nosuch
# 9. npgwctl stats --watch
timeout --preserve-status -s INT 3 "$ctl" $S stats --watch --interval 0.2 >"$out" 2>"$err"
rc=$?
n=$(grep -c '^--- ' "$out")
if [ "$rc" -ne 0 ] || [ "$n" -lt 2 ]; then
	echo "FAIL: stats --watch: exit $rc, $n answers"
	fails=$((fails + 1))
else
	echo "ok: stats --watch ($n answers, exit 0 on SIGINT)"
fi
timeout --preserve-status -s INT 2 "$ctl" $S get pods -w --interval 0.2 >"$out" 2>"$err"
[ "$(grep -c '^NAMESPACE' "$out")" -eq 1 ] || { echo "FAIL: get -w prints an unchanged table once"; fails=$((fails + 1)); }
echo "ok: get --watch"
timeout --preserve-status -s INT 2 "$ctl" $S flows --watch --interval 0.2 >"$out" 2>"$err"
[ "$(grep -c '^--- ' "$out")" -ge 2 ] || { echo "FAIL: flows --watch"; fails=$((fails + 1)); }
echo "ok: flows --watch"
# 10. npgwctl completion bash
expect 0 "completion bash" -- completion bash
got=$(bash -c ". $out; COMP_WORDS=(npgwctl ge); COMP_CWORD=1; _npgwctl; echo \${COMPREPLY[*]}")
[ "$got" = "get" ] || { echo "FAIL: bash completes 'ge' to '$got'"; fails=$((fails + 1)); }
got=$(bash -c ". $out; COMP_WORDS=(npgwctl get net); COMP_CWORD=2; _npgwctl; echo \${COMPREPLY[*]}")
[ "$got" = "networkpolicies networkpolicy netpol netpols" ] || { echo "FAIL: bash completes kinds: '$got'"; fails=$((fails + 1)); }
expect 0 "completion zsh" -- completion zsh
has "$out" "compdef _npgwctl npgwctl"
if command -v zsh >/dev/null; then
	zsh -n "$out" || { echo "FAIL: zsh -n"; fails=$((fails + 1)); }
fi
expect 2 "completion fish" -- completion fish

echo "== kinds, names, selectors, formats =="
for k in networkpolicy networkpolicies netpol NetworkPolicy; do
	expect 0 "get $k" -- $S get $k
	has "$out" "x          allow-web  app=web       Ingress"
done
for k in pod pods po; do
	expect 0 "get $k" -- $S get $k
done
for k in namespace namespaces ns; do
	expect 0 "get $k" -- $S get $k
	has "$out" "x     kubernetes.io/metadata.name=x"
done
expect 0 "get pod a (any namespace)" -- $S get pod a
has "$out" "x          a     10.0.1.1,fd00::1  app=web"
lacks "$out" "y          b"
expect 0 "get pods/b -n y -o name" -- $S get pods/b -n y -o name
has "$out" "pod/y/b"
expect 0 "get pods -o name" -- $S get pods -o name
has "$out" "pod/x/a"
expect 0 "get pod x/a -o yaml: the object itself" -- $S get pod x/a -o yaml
has "$out" "kind: Pod"
lacks "$out" "kind: List"
expect 0 "get pods -l app=web" -- $S get pods -l app=web
lacks "$out" "y          b"
expect 0 "get pods -l 'app in (web,yes),!legacy'" -- $S get pods -l 'app in (web,yes),!legacy'
has "$out" "y          b     10.0.2.1          app=yes"
expect 0 "get pods -l app!=web" -- $S get pods -l app!=web -o name
has "$out" "pod/y/b"
lacks "$out" "pod/x/a"
expect 2 "get pods -l with a bad term" -- $S get pods -l 'app in web'
expect 2 "get -o bogus names the formats" -- $S get pods -o bogus
has "$err" "npgwctl get: -o: 'bogus' is not text, wide, json, yaml or name"
expect 2 "status -o wide is not a status format" -- $S status -o wide
expect 0 "-o YAML in any case" -- $S status -o YAML
has "$out" "generation: 3"
expect 0 "delete pods/x/a (KIND/NS/NAME, as get -o name prints)" -- $S delete pod/x/a -o json
has "$out" '      "name": "a"'
expect 2 "delete -n on namespaces" -- $S delete ns x -n y

echo "== the endpoint view =="
expect 0 "describe pod x/a" -- $S describe pod x/a
has "$out" "Name:        a"
has "$out" "Addresses:   10.0.1.1, fd00::1"
has "$out" "Ingress:     isolated by x/allow-web"
has "$out" "  x/allow-web spec.ingress[0]"
has "$out" "      any peer"
has "$out" "    ports: TCP/80"
has "$out" "Egress:      not isolated: no policy selects it for egress; everything is allowed"
expect 0 "describe pod b -n y: not isolated" -- $S describe pod b -n y
has "$out" "Ingress:     not isolated: no policy selects it for ingress; everything is allowed"
expect 1 "describe pod x/nope" -- $S describe pod x/nope
expect 0 "describe pod x/a -o json" -- $S describe pod x/a -o json
has "$out" '    "isolated": true,'
expect 0 "get endpoints" -- $S get endpoints
has "$out" "x          a     10.0.1.1,fd00::1  x/allow-web  open"
has "$out" "y          b     10.0.2.1          open         open"

echo "== dry runs =="
expect 1 "diff -f: a changed port" -- $S diff -f "$pol"
has "$out" "networkpolicy/x/allow-web changed "
has "$out" "  ~ spec.ingress[0].ports[0].port: 80 -> 8080"
has "$out" "rules: 2 -> 2, address classes: 2 -> 2"
sed 's/port: 8080/port: 80/' "$pol" >"$dir/same.yaml"
expect 0 "diff -f: nothing changes" -- $S diff -f "$dir/same.yaml"
has "$out" "no object would change"
expect 0 "apply --dry-run: would be accepted" -- $S apply --dry-run -f "$pol"
has "$out" "  ~ spec.ingress[0].ports[0].port: 80 -> 8080"
sed 's/port: 8080/port: 70000/' "$pol" >"$dir/bad.yaml"
expect 1 "apply --dry-run: the validator's errors" -- $S apply --dry-run -f "$dir/bad.yaml"
grep -q "bad.yaml:8:20: spec.ingress\[0\].ports\[0\].port: .*70000" "$err" || { echo "FAIL: dry-run names the error"; cat "$err"; fails=$((fails + 1)); }
"$ctl" $S diff -f - -o json <"$pol" >"$out" 2>"$err"
grep -q '"change": "changed"' "$out" || { echo "FAIL: diff -f - -o json"; fails=$((fails + 1)); }
echo "ok: diff -f - -o json"

echo "== explain names where a rule is written =="
ex=$top/config/examples
expect 0 "explain --offline names file and line" -- explain --offline -f "$ex" --from y/a --to y/b --port 80 --protocol Tcp
has "$out" "  ingress y/b: allowed by policy y/allow-same-namespace spec.ingress[0] ($ex/02-namespace-isolation.yaml:16)"
expect 0 "explain --offline -o json carries rule_path, file, line" -- explain --offline -f "$ex" --from y/a --to y/b --port 80 -o json
grep -q '"rule":0,"rule_path":"spec.ingress\[0\]","file":"'"$ex"'/02-namespace-isolation.yaml","line":16' "$out" ||
	{ echo "FAIL: explain json location"; cat "$out"; fails=$((fails + 1)); }
expect 0 "explain --offline -o yaml" -- explain --offline -f "$ex" --from y/a --to y/b --port 80 -o yaml
has "$out" "  rule_path: \"spec.ingress[0]\""
# issue 16: an Admin Pass is shown before the NetworkPolicy rule that
# decided; a side no Admin rule matched says so
cat >"$dir/pass.yaml" <<'EOF'
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: hand-over}
spec:
  priority: 5
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}
  ingress:
  - {name: y-to-netpol, action: Pass, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: "y"}}}]}
EOF
expect 0 "explain --offline shows an Admin Pass, then the NetworkPolicy decision" -- explain --offline -f "$ex/cluster.yaml" -f "$ex/01-default-deny-ingress.yaml" -f "$dir/pass.yaml" --from y/a --to x/b --port 80
has "$out" "  ingress x/b: Admin tier passed it on: AdminNetworkPolicy/hand-over priority 5 rule \"y-to-netpol\" spec.ingress[0] ($dir/pass.yaml:8)"
has "$out" "  ingress x/b: denied: policy x/default-deny-ingress ($ex/01-default-deny-ingress.yaml:8) isolates it for ingress, and no ingress rule of any policy selecting it allows TCP/80 from 10.0.2.1"
has "$out" "  egress  y/a: Admin tier: no rule matched (or no Admin policy selects it)"

echo "== one file size limit (lib/doc's), checked before sending =="
head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' '#' >"$dir/big.yaml"
expect 2 "apply of a file over 16 MiB" -- $S apply -f "$dir/big.yaml"
has "$err" "$dir/big.yaml:0:0: larger than the limit of 16 MiB"
expect 1 "validate of a file over 16 MiB: an error of the input" -- validate -f "$dir/big.yaml"
has "$out" "$dir/big.yaml:0:0: larger than the limit of 16 MiB"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
