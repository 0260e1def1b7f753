#!/bin/sh
# Build DPDK's l3fwd sample, the benchmark's peer, from the sources Debian's
# dpdk-doc package ships (/usr/share/dpdk/examples), into OUT (default
# build-release/bench-peers/l3fwd/l3fwd). Two changes for the benchmark's
# ports, made on the copy: the pcap PMD offers no Rx checksum offload, which
# l3fwd requests (its port set-up would fail), and its pool has a floor of
# 8192 mbufs, too few for a looped capture preloaded into mbufs (the floor
# becomes 262143). Nothing of l3fwd is kept in this repository.
set -eu
out=${1:-build-release/bench-peers/l3fwd}
src=/usr/share/dpdk/examples
if [ ! -d "$src/l3fwd" ]; then
	# the sources come with Debian's documentation package: only the
	# benchmark needs them, so scripts/install-deps.sh does not install it
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpdk-doc >/dev/null ||
		{ echo "build-l3fwd: cannot install dpdk-doc" >&2; exit 1; }
fi
[ -x "$out/l3fwd" ] && exit 0
work=$(mktemp -d /tmp/npgw-l3fwd.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$src/l3fwd" "$src/common" "$work/"
sed -i -e 's/\.offloads = RTE_ETH_RX_OFFLOAD_CHECKSUM,/.offloads = 0,/' \
	-e 's/(unsigned)8192)/(unsigned)262143)/' "$work/l3fwd/main.c"
grep -q '\.offloads = 0,' "$work/l3fwd/main.c"
grep -q '(unsigned)262143)' "$work/l3fwd/main.c"
make -s -C "$work/l3fwd" >/dev/null
mkdir -p "$out"
cp "$work/l3fwd/build/l3fwd-shared" "$out/l3fwd"
echo "build-l3fwd: $out/l3fwd"
