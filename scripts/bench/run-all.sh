#!/bin/sh
# run-all.sh: the whole benchmark suite; regenerates BENCHMARKS.md and
# docs/bench-throughput.png. Runs as root (DPDK), no hugepages, no NIC.
#
#   sh scripts/bench/run-all.sh [--quick] [--with-100k] [--swap-seconds N]
#
# Builds build-release/ (meson --buildtype=release -Db_lto=true, everything,
# tests included) and DPDK's l3fwd sample (scripts/bench/build-l3fwd.sh,
# from Debian's dpdk-doc), times the flow table's hash candidates
# (npgw-bench-hash), generates the policy
# sets and captures into $NPGW_BENCH_DATA (default /tmp/npgw-bench-data; kept
# between runs, several GiB with the 1,000,000-flow captures), then runs
# throughput.py, hotswap.py and update.py and report.py (with Debian's
# /usr/bin/python3, which has python3-matplotlib). Takes about an
# hour; --with-100k adds the 100,000-rule set (~11 s and ~1.5 GiB per build;
# today refused at start: its state is over the 16 MiB state-file limit),
# --quick runs every script's smoke size (a minute).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
quick=""
with100k=""
swap=60
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=--quick; shift ;;
	--with-100k) with100k=--with-100k; shift ;;
	--swap-seconds) swap=$2; shift 2 ;;
	*) echo "usage: $0 [--quick] [--with-100k] [--swap-seconds N]" >&2; exit 2 ;;
	esac
done
data=${NPGW_BENCH_DATA:-/tmp/npgw-bench-data}
mkdir -p "$data"
sh scripts/install-deps.sh
# release with link-time optimization: per-packet calls across lib/ inline
[ -d build-release ] || meson setup build-release --buildtype=release -Db_lto=true
ninja -C build-release
# the peer: DPDK's l3fwd from Debian's dpdk-doc sources (not kept here)
sh scripts/bench/build-l3fwd.sh build-release/bench-peers/l3fwd
./build-release/app/bench/npgw-bench-hash >"$data/hash.txt"
export NPGW_BENCH_BUILD="$top/build-release"

t="python3 scripts/bench/throughput.py $quick $with100k --data $data --json $data/throughput.json"
s="python3 scripts/bench/hotswap.py $quick --duration $swap --data $data --json $data/hotswap.json"
u="python3 scripts/bench/update.py $quick --data $data --json $data/update.json"
printf '%s\n' "sh scripts/bench/run-all.sh $quick $with100k --swap-seconds $swap" \
	"# which runs, with NPGW_BENCH_BUILD=build-release:" "$t" "$s" "$u" >"$data/commands.txt"
rc=0
$t || rc=1
$s || rc=1
$u || rc=1
/usr/bin/python3 scripts/bench/report.py --data "$data" --out BENCHMARKS.md \
	--plot docs/bench-throughput.png --notes scripts/bench/notes.md
echo "run-all: BENCHMARKS.md and docs/bench-throughput.png written (loss check: $([ $rc = 0 ] && echo ok || echo FAILED))"
exit $rc
