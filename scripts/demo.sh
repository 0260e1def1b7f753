#!/bin/sh
# README command (1): install what is missing, build, and run the demo.
# Every answer below comes from the real compiled tables (rte_acl, through
# the data plane's classify path), never from a second evaluator.
set -eu
cd "$(dirname "$0")/.."

sh scripts/install-deps.sh
sh scripts/build.sh >/dev/null
ctl=build/app/npgwctl
ex=config/examples

step() { printf '\n== %s\n$ %s\n' "$1" "$2"; }

step "Check the example policies and the demo cluster" "npgwctl validate -f $ex"
$ctl validate -f $ex

dns=kube-system/coredns-5d78c9869d-7bq4k
step "An allowed pair: x may send DNS to kube-dns (policy x/allow-dns)" \
     "npgwctl explain --offline -f $ex --from x/a --to $dns --protocol UDP --port 53"
$ctl explain --offline -f $ex --from x/a --to $dns --protocol UDP --port 53

step "A denied pair: x denies ingress by default" \
     "npgwctl explain --offline -f $ex --from y/b --to x/b --port 80"
$ctl explain --offline -f $ex --from y/b --to x/b --port 80

step "Both sides must allow: z/c admits x/a on serve-81-tcp, but x/a may only send DNS" \
     "npgwctl explain --offline -f $ex --from x/a --to z/c --port 81"
$ctl explain --offline -f $ex --from x/a --to z/c --port 81

step "Batch queries for tools, one JSON line in, one out" \
     "printf '...' | npgwctl explain --offline -f $ex --batch - -o json"
printf '%s\n' \
	"{\"from\": \"x/a\", \"to\": \"$dns\", \"protocol\": \"UDP\", \"port\": 53}" \
	'{"from": "y/a", "to": "fd00::2:2", "port": 80}' \
	'{"from": "x/a", "to": "y/b", "port": "eighty"}' |
	$ctl explain --offline -f $ex --batch - -o json
