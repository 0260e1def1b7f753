#!/bin/sh
# check.sh: what can be checked of scripts/pktgen without pktgen (Debian
# does not package it):
#  1. every Lua file parses (luac5.3 -p);
#  2. the stand-in catches what breaks a script in pktgen: each file of
#     standin/bad/ must fail under it, with the message its first line names;
#  3. flow_sweep.lua, rate_sweep.lua and rfc2544.lua run under lua5.3
#     against the stand-in for pktgen's Lua API (standin/pktgen_standin.lua:
#     pktgen 23.03's functions with the argument counts pktgen checks, no
#     global pktgen lacks) in every mode, and print what they must: both
#     sweeps as expected, ten rates, RFC 2544's first trial, its search
#     converging on a simulated capacity, and its "no zero-loss rate" case;
#  4. npgw_flows.lua's addresses are still allowed, resp. denied, by the
#     policy set they were generated from (gen_flows.py --check).
#   check.sh [NPGWCTL]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
npgwctl=${1:-$here/../../build/app/npgwctl}
standin=$here/standin/pktgen_standin.lua
tmp=$(mktemp -d /tmp/npgw-pktgen.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
passes=0

ok() {
	passes=$((passes + 1))
	printf "ok: %s\n" "$*"
}
bad() {
	fails=$((fails + 1))
	printf "FAIL: %s\n" "$*"
}

# 1. Syntax.
for f in "$here"/*.lua "$here"/standin/*.lua "$here"/standin/bad/*.lua; do
	if luac5.3 -p "$f"; then
		ok "luac5.3 -p $(basename "$f")"
	else
		bad "luac5.3 -p $f"
	fi
done

# run NAME SCRIPT [VAR=VALUE...]: the script under the stand-in, with the
# defaults of this check (2-second trials) and the given variables; output
# in $tmp/NAME.out, exit status in $tmp/NAME.rc.
run() {
	name=$1 script=$2
	shift 2
	rc=0
	env NPGW_PKTGEN_DIR="$here" NPGW_PKTGEN_SECS=2 "$@" \
		lua5.3 "$standin" "$script" >"$tmp/$name.out" 2>&1 || rc=$?
	echo "$rc" >"$tmp/$name.rc"
}

# expect NAME PATTERN...: the run succeeded and its output has every
# pattern (grep -E); else its output is shown.
expect() {
	name=$1
	shift
	if [ "$(cat "$tmp/$name.rc")" != 0 ]; then
		bad "$name: exit status $(cat "$tmp/$name.rc")"
		sed 's/^/    /' "$tmp/$name.out"
		return
	fi
	for pat in "$@"; do
		if ! grep -Eq -- "$pat" "$tmp/$name.out"; then
			bad "$name: no line matches '$pat'"
			sed 's/^/    /' "$tmp/$name.out"
			return
		fi
	done
	ok "$name"
}

# refuse NAME PATTERN: the run failed, with a message matching PATTERN.
refuse() {
	name=$1 pat=$2
	if [ "$(cat "$tmp/$name.rc")" = 0 ]; then
		bad "$name: ran, but must fail"
		sed 's/^/    /' "$tmp/$name.out"
	elif ! grep -Eq -- "$pat" "$tmp/$name.out"; then
		bad "$name: failed, but not with '$pat'"
		sed 's/^/    /' "$tmp/$name.out"
	else
		ok "$name: refused ($pat)"
	fi
}

# 2. The stand-in itself: what fails in pktgen fails here. The first line
# of each file is "-- expect: PATTERN".
for f in "$here"/standin/bad/*.lua; do
	n=bad-$(basename "$f" .lua)
	run "$n" "$f"
	refuse "$n" "$(sed -n '1s/^-- expect: //p' "$f")"
done

# 3. The scripts.
run flow_sweep "$here/flow_sweep.lua"
expect flow_sweep '^mode stateless: .*measures classification' \
	'^allowed .* port 5432 .*received ([0-9]+) .*expected \1: ok$' \
	'^denied .* port 22 .*received 0 .*expected 0: ok$' \
	'^flow_sweep: every sweep as expected$'
run flow_sweep-tcp-loose "$here/flow_sweep.lua" NPGW_PKTGEN_MODE=tcp-loose NPGW_PKTGEN_QUIT=1
expect flow_sweep-tcp-loose '^mode tcp-loose: .*conntrack.tcp_loose: true' \
	'^flow_sweep: every sweep as expected$' 'stand-in: pktgen.quit\(\)'
run flow_sweep-pcap "$here/flow_sweep.lua" NPGW_PKTGEN_MODE=pcap STANDIN_PCAP_PORTS=0,1 \
	NPGW_PKTGEN_HANDSHAKES=3000
expect flow_sweep-pcap '^pcap: 3000 handshake frames sent through port 1$' \
	'^capture +port 0: sent [1-9][0-9]*, .*: ok$' '^flow_sweep: every sweep as expected$'
run flow_sweep-pcap-none "$here/flow_sweep.lua" NPGW_PKTGEN_MODE=pcap NPGW_PKTGEN_HANDSHAKES=3000
refuse flow_sweep-pcap-none 'has no capture loaded'
run flow_sweep-pcap-count "$here/flow_sweep.lua" NPGW_PKTGEN_MODE=pcap STANDIN_PCAP_PORTS=0,1
refuse flow_sweep-pcap-count 'needs NPGW_PKTGEN_HANDSHAKES'
run flow_sweep-mode "$here/flow_sweep.lua" NPGW_PKTGEN_MODE=stateful
refuse flow_sweep-mode "NPGW_PKTGEN_MODE: unknown mode 'stateful'"
run flow_sweep-secs "$here/flow_sweep.lua" NPGW_PKTGEN_SECS=ten
refuse flow_sweep-secs "NPGW_PKTGEN_SECS: not a number: 'ten'"
# The gateway drops what it should not: the sweep says so.
run flow_sweep-leak "$here/flow_sweep.lua" STANDIN_DENY_DPORTS=22,5432
expect flow_sweep-leak '^allowed .*UNEXPECTED$' '^flow_sweep: 1 sweep\(s\) not as expected$'

run rate_sweep "$here/rate_sweep.lua" NPGW_PKTGEN_SIZE=128
if [ "$(grep -Ec '^ +(10|20|30|40|50|60|70|80|90|100) +[1-9][0-9]* +[0-9]+ +0\.0000$' \
	"$tmp/rate_sweep.out")" = 10 ]; then
	expect rate_sweep '^ *rate% +sent +received +loss%$'
else
	bad "rate_sweep: not ten loss-free rates"
	sed 's/^/    /' "$tmp/rate_sweep.out"
fi
run rate_sweep-loss "$here/rate_sweep.lua" STANDIN_CAPACITY=55
expect rate_sweep-loss '^ +50 +([0-9]+) +\1 +0\.0000$' '^ +60 +[0-9]+ +[0-9]+ +8\.33[0-9]*$'

run rfc2544-full "$here/rfc2544.lua"
expect rfc2544-full '^trial 100\.000%: sent ([0-9]+), received \1, lost 0$' \
	'64-byte frames: 100\.000% of line rate with zero loss$'
run rfc2544-search "$here/rfc2544.lua" STANDIN_CAPACITY=37 NPGW_PKTGEN_RES=0.5
expect rfc2544-search '^trial 100\.000%: .*\(loss\)$' '^trial  25\.000%: .* lost 0$' \
	'64-byte frames: 36\.719% of line rate with zero loss$'
run rfc2544-none "$here/rfc2544.lua" STANDIN_CAPACITY=0 NPGW_PKTGEN_RES=5
expect rfc2544-none 'no zero-loss rate found \(every trial lost frames, down to 3\.125% of line rate\)$'
if grep -q 'with zero loss$' "$tmp/rfc2544-none.out"; then
	bad "rfc2544-none: claims a zero-loss rate"
fi
run rfc2544-res "$here/rfc2544.lua" NPGW_PKTGEN_RES=0
refuse rfc2544-res 'NPGW_PKTGEN_RES: must be above 0'

# 4. The addresses against the policies.
if python3 "$here/../bench/make_set.py" --rules 1k --out "$tmp/set" >"$tmp/set.out" 2>&1 &&
	python3 "$here/gen_flows.py" --set "$tmp/set" --npgwctl "$npgwctl" \
		--check "$here/npgw_flows.lua" >"$tmp/flows.out" 2>&1; then
	sed 's/^/    /' "$tmp/flows.out"
	ok "gen_flows.py --check npgw_flows.lua"
else
	cat "$tmp/set.out" "$tmp/flows.out" 2>/dev/null | sed 's/^/    /'
	bad "gen_flows.py --check npgw_flows.lua"
fi

echo "pktgen check: $passes passed, $fails failed"
[ "$fails" = 0 ]
