#!/bin/sh
# check.sh: what can be checked of scripts/pktgen without pktgen: the Lua
# parses (luac5.3 -p) and npgw_flows.lua's addresses are still allowed,
# resp. denied, by the policy set they were generated from.
#   check.sh [NPGWCTL]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
npgwctl=${1:-$here/../../build/app/npgwctl}
for f in "$here"/*.lua; do
	luac5.3 -p "$f"
	echo "luac5.3 -p $(basename "$f"): ok"
done
tmp=$(mktemp -d /tmp/npgw-pktgen.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
python3 "$here/../bench/make_set.py" --rules 1k --out "$tmp/set"
python3 "$here/gen_flows.py" --set "$tmp/set" --npgwctl "$npgwctl" --check "$here/npgw_flows.lua"
