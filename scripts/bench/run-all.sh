#!/bin/sh
# run-all.sh: the whole benchmark suite; regenerates BENCHMARKS.md,
# docs/bench-throughput.png and docs/bench-stages.png. Runs as root (DPDK),
# no NIC.
#
#   sh scripts/bench/run-all.sh [--quick] [--no-huge] [--with-1m] [--with-100k]
#                               [--swap-seconds N]
#
# Builds build-release/ (meson --buildtype=release -Db_lto=true, everything,
# tests included) and DPDK's l3fwd sample (scripts/bench/build-l3fwd.sh,
# from Debian's dpdk-doc), times the flow table's hash candidates
# (npgw-bench-hash), generates the policy sets and captures into
# $NPGW_BENCH_DATA (default /tmp/npgw-bench-data; kept between runs, GiBs
# with the 1,000,000-flow captures), then runs throughput.py (npgw, testpmd,
# l3fwd and Open vSwitch), stages.py (perf: cycles per packet by stage),
# hotswap.py, update.py, events.py and report.py (with Debian's
# /usr/bin/python3, which has python3-matplotlib).
#
# Every program runs on 2 MiB hugepages, reserved on demand
# (NPGW_BENCH_HUGE=1; about 3 GB, 8 GB with --with-1m); --no-huge runs
# them on 4 KiB pages instead (what a machine without hugepages can do:
# the 1,000,000-flow captures then need about 6 GB each and Open vSwitch
# runs with --legacy-mem). Takes about an hour; --with-1m adds the
# 1,000,000-flow rows, --with-100k the 100,000-rule set (~11 s and
# ~1.5 GiB per build), --quick runs every script's smoke size (a minute).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
quick=""
with100k=""
with1m=""
huge=1
swap=60
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=--quick; shift ;;
	--with-100k) with100k=--with-100k; shift ;;
	--with-1m) with1m=--with-1m; shift ;;
	--no-huge) huge=0; shift ;;
	--swap-seconds) swap=$2; shift 2 ;;
	*) echo "usage: $0 [--quick] [--no-huge] [--with-1m] [--with-100k] [--swap-seconds N]" >&2
	   exit 2 ;;
	esac
done
data=${NPGW_BENCH_DATA:-/tmp/npgw-bench-data}
mkdir -p "$data"
sh scripts/install-deps.sh
command -v perf >/dev/null 2>&1 || apt-get install -y linux-perf
# release with link-time optimization (per-packet calls across lib/ inline)
# and debug info (the same code; stages.py attributes inlined code to its
# source file)
[ -d build-release ] || meson setup build-release --buildtype=release -Db_lto=true -Ddebug=true
ninja -C build-release
# the peer: DPDK's l3fwd from Debian's dpdk-doc sources (not kept here)
sh scripts/bench/build-l3fwd.sh build-release/bench-peers/l3fwd
./build-release/app/bench/npgw-bench-hash >"$data/hash.txt"
export NPGW_BENCH_BUILD="$top/build-release"
export NPGW_BENCH_HUGE=$huge

t="python3 scripts/bench/throughput.py $quick $with100k $with1m --data $data --json $data/throughput.json"
p="python3 scripts/bench/stages.py --data $data --json $data/stages.json"
s="python3 scripts/bench/hotswap.py $quick --duration $swap --data $data --json $data/hotswap.json"
u="python3 scripts/bench/update.py $quick --data $data --json $data/update.json"
e="python3 scripts/bench/events.py $quick --data $data --json $data/events.json"
[ -n "$quick" ] && p="true"
printf '%s\n' "sh scripts/bench/run-all.sh $quick $with100k $with1m --swap-seconds $swap$([ $huge = 0 ] && echo ' --no-huge')" \
	"# which runs, with NPGW_BENCH_BUILD=build-release NPGW_BENCH_HUGE=$huge:" \
	"$t" "$p" "$s" "$u" "$e" >"$data/commands.txt"
rc=0
$t || rc=1
$p || rc=1
$s || rc=1
$u || rc=1
$e || rc=1
/usr/bin/python3 scripts/bench/report.py --data "$data" --out BENCHMARKS.md \
	--plot docs/bench-throughput.png --stages-plot docs/bench-stages.png \
	--notes scripts/bench/notes.md
echo "run-all: BENCHMARKS.md, docs/bench-throughput.png and docs/bench-stages.png written (loss check: $([ $rc = 0 ] && echo ok || echo FAILED))"
exit $rc
