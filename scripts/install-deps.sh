#!/bin/sh
# Install the Debian 12 packages npgw needs to build, test and run its demo.
# Idempotent: does nothing when every package is present already.
set -eu

PKGS="build-essential meson ninja-build pkg-config \
libdpdk-dev dpdk libyaml-dev libcjson-dev libcunit1-dev libpcap-dev libsystemd-dev \
iproute2 ethtool procps python3-scapy python3-yaml \
dpdk-dev python3-matplotlib lua5.3 python3-kubernetes systemd \
clang-14 libfuzzer-14-dev libclang-rt-14-dev libmicrohttpd-dev prometheus \
openvswitch-switch-dpdk"
# dpdk-dev: dpdk-testpmd, the reference of scripts/bench and the generator of
# scripts/loadtest.sh; python3-matplotlib: the benchmark plot; lua5.3: runs
# scripts/pktgen under a stand-in for pktgen; libsystemd-dev: sd_notify
# (npgw.service is Type=notify); python3-kubernetes: npgw-agent's client;
# systemd: systemd-analyze verify of the units; clang-14, libfuzzer-14-dev,
# libclang-rt-14-dev: the fuzz targets (scripts/fuzz.sh); libmicrohttpd-dev:
# npgw's /metrics server; prometheus (with promtool): the real server that
# tests/e2e/observability.py scrapes npgw with; openvswitch-switch-dpdk: the
# Open vSwitch peer of the throughput benchmark (scripts/bench/ovs_peer.py
# runs /usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk with a database
# of its own; it changes no alternative and uses no system Open vSwitch).

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing; run as root to install them" >&2
	exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
