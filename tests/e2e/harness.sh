#!/bin/bash
# harness.sh: a small cluster on one machine, with npgw between its pods.
#
# Namespaces x, y, z, each with pods a, b, c: every pod is a Linux network
# namespace (npgw-x-a ...) with a veth whose far end (npx-a ...) is a
# net_af_packet port of npgw; all nine ports form one bridge domain, the
# way DPDK CNIs attach pods. Addresses are those of
# config/examples/cluster.yaml: 10.0.N.M and fd00::N:M (N = 1, 2, 3 for
# x, y, z; M = 1, 2, 3 for a, b, c). Every pod serves TCP and UDP on ports
# 80 and 81 (tests/e2e/pods.py), answering its name. This kernel has no
# SCTP sockets, so there is no SCTP server.
#
# npgw starts with no objects at all; the harness then applies the Pod and
# Namespace objects of config/examples/cluster.yaml over the control
# socket (npgwctl apply -f), exactly as an agent would, and policies go the
# same way.
#
# Source it for the functions, or run it (scripts/e2e.sh does):
#   harness.sh up | down | start [--revoke MODE] | stop | apply FILE... |
#              delete ARGS... | ctl ARGS... | table [probe options] |
#              config [--revoke MODE] | specs
# Everything it creates it removes: `down` (also run first by `up`, and by
# `up` when it fails or is interrupted). A script that sources it calls
# harness_trap to get the same on its own exit. Needs root. Traffic stays
# inside the namespaces it creates. One harness at a time: the names are
# fixed.

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HARNESS_DIR/../.." && pwd)
NPGW=${NPGW:-$TOP/build/app/npgw/npgw}
NPGWCTL=${NPGWCTL:-$TOP/build/app/npgwctl}
RUN=${NPGW_E2E_RUN:-/tmp/npgw-e2e}
# npgw's Prometheus endpoint (tests/e2e/observability.py scrapes it)
METRICS_LISTEN=${NPGW_E2E_METRICS:-127.0.0.1:19469}
CLUSTER=$TOP/config/examples/cluster.yaml
NSS="x y z"
PODS="a b c"

ns_index() { case $1 in x) echo 1 ;; y) echo 2 ;; z) echo 3 ;; esac; }
pod_index() { case $1 in a) echo 1 ;; b) echo 2 ;; c) echo 3 ;; esac; }

# "x/a=npgw-x-a:10.0.1.1,fd00::1:1 ..." for pods.py
harness_specs() {
	local n p
	for n in $NSS; do
		for p in $PODS; do
			printf '%s/%s=npgw-%s-%s:10.0.%s.%s,fd00::%s:%s ' "$n" "$p" "$n" "$p" \
				"$(ns_index "$n")" "$(pod_index "$p")" "$(ns_index "$n")" "$(pod_index "$p")"
		done
	done
}

# Whether a process runs (a zombie does not: its parent may be gone).
alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	case $st in Z*) return 1 ;; esac
	return 0
}

# Stop the process whose pid is in a file: TERM, up to 5 s, then KILL.
stop_pidfile() {
	local f=$1 pid
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	if kill -TERM "$pid" 2>/dev/null; then
		for _ in $(seq 50); do
			alive "$pid" || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	fi
	rm -f "$f"
	return 0
}

# Remove everything the harness made: npgw, the pod servers, the network
# namespaces and veths, the run directory. Safe to run at any time.
harness_down() {
	local n p
	stop_pidfile "$RUN/npgw.pid"
	stop_pidfile "$RUN/pods.pid"
	for n in $NSS; do
		for p in $PODS; do
			ip link del "np$n-$p" 2>/dev/null
			ip netns del "npgw-$n-$p" 2>/dev/null
		done
	done
	rm -rf "$RUN"
	return 0
}

# Clean up when the calling script exits, fails or is interrupted.
harness_trap() {
	trap 'harness_down' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

harness_up() {
	local n p N M
	harness_down
	mkdir -p "$RUN"
	for n in $NSS; do
		for p in $PODS; do
			N=$(ns_index "$n")
			M=$(pod_index "$p")
			ip netns add "npgw-$n-$p" || return 1
			ip link add "np$n-$p" type veth peer name eth0 netns "npgw-$n-$p" || return 1
			ip link set "np$n-$p" up promisc on
			# no IPv6 on the gateway side: it is a wire, not a host
			sysctl -qw "net.ipv6.conf.np$n-$p.disable_ipv6=1"
			ethtool -K "np$n-$p" tx off rx off >/dev/null 2>&1
			ip -n "npgw-$n-$p" link set lo up
			ip -n "npgw-$n-$p" link set eth0 address "02:00:00:00:0$N:0$M"
			ip -n "npgw-$n-$p" addr add "10.0.$N.$M/16" dev eth0
			ip -n "npgw-$n-$p" addr add "fd00::$N:$M/64" dev eth0 nodad
			ip -n "npgw-$n-$p" link set eth0 up
			# af_packet sees checksum-offloaded frames: compute them in software
			ip netns exec "npgw-$n-$p" ethtool -K eth0 tx off rx off >/dev/null 2>&1
		done
	done
	# shellcheck disable=SC2046
	/usr/bin/python3 "$HARNESS_DIR/pods.py" serve $(harness_specs) >"$RUN/pods.log" 2>&1 &
	echo $! >"$RUN/pods.pid"
	for _ in $(seq 50); do
		grep -q serving "$RUN/pods.log" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "harness: the pod servers did not start:" >&2
	cat "$RUN/pods.log" >&2
	return 1
}

# The npgw config for the harness: no objects (they come over the control
# socket), one af_packet port per pod, one bridge. --revoke MODE sets what
# a policy change does to established connections (drop, keep, reset);
# without it npgw's default applies.
harness_config() {
	local revoke="" n p i=0
	if [ "${1:-}" = "--revoke" ]; then
		revoke=$2
	fi
	printf 'policies: []\n'
	printf 'control:\n  socket: %s/npgw.sock\n' "$RUN"
	printf 'state_dir: %s/state\n' "$RUN"
	printf 'posture: fail-closed\nnon_ip: pass\nports:\n'
	for n in $NSS; do
		for p in $PODS; do
			printf '  - {name: %s-%s, device: "net_af_packet%d,iface=np%s-%s"}\n' \
				"$n" "$p" "$i" "$n" "$p"
			i=$((i + 1))
		done
	done
	printf 'bridges:\n  - name: pods\n    ports: ['
	i=0
	for n in $NSS; do
		for p in $PODS; do
			[ $i -gt 0 ] && printf ', '
			printf '%s-%s' "$n" "$p"
			i=$((i + 1))
		done
	done
	printf ']\n'
	if [ -n "$revoke" ]; then
		printf 'conntrack:\n  revoke: %s\n' "$revoke"
	fi
	printf 'workers:\n  - lcore: 1\n'
	printf 'metrics: {listen: "%s"}\n' "$METRICS_LISTEN"
	printf 'mempool: {mbufs: 32767, cache: 256}\n'
	printf 'eal: ["--no-huge", "-m", "512", "--no-pci", "--file-prefix", "npgw-e2e", "--log-level", "lib.*:error", "--log-level", "pmd.*:error"]\n'
}

harness_ctl() { "$NPGWCTL" --socket "$RUN/npgw.sock" "$@"; }

# Run an npgwctl command that makes a generation (apply, delete, replace)
# and wait until that generation is live. Quiet unless it fails.
ctl_and_wait() {
	local out gen
	if ! out=$(harness_ctl "$@" -o json 2>&1); then
		echo "harness: npgwctl $* failed:" >&2
		echo "$out" >&2
		return 1
	fi
	gen=$(printf '%s\n' "$out" | sed -n 's/.*"generation": *\([0-9][0-9]*\).*/\1/p' | head -1)
	if [ -z "$gen" ]; then
		echo "harness: npgwctl $* gave no generation: $out" >&2
		return 1
	fi
	harness_ctl wait "$gen" --timeout 10 >/dev/null
}

# Apply objects as an agent would: npgwctl apply -f FILE..., then wait
# until the generation it made is live.
harness_apply() {
	local args=() f
	for f in "$@"; do args+=(-f "$f"); done
	ctl_and_wait apply "${args[@]}"
}

# npgwctl delete ARGS..., then wait for the generation it made.
harness_delete() { ctl_and_wait delete "$@"; }

# Start npgw with no objects, wait until it answers on its control socket,
# then apply the cluster's Pods and Namespaces. Options go to
# harness_config. The saved state of an earlier run is discarded first.
harness_start() {
	local pid
	stop_pidfile "$RUN/npgw.pid"
	rm -rf "$RUN/state"
	mkdir -p "$RUN"
	harness_config "$@" >"$RUN/npgw.yaml" || return 1
	"$NPGW" --config "$RUN/npgw.yaml" >"$RUN/npgw.log" 2>&1 &
	pid=$!
	echo $pid >"$RUN/npgw.pid"
	for _ in $(seq 150); do
		if grep -q "forwarding with" "$RUN/npgw.log" 2>/dev/null &&
			harness_ctl status >/dev/null 2>&1; then
			harness_apply "$CLUSTER" && return 0
			break
		fi
		alive $pid || break
		sleep 0.1
	done
	echo "harness: npgw did not start:" >&2
	cat "$RUN/npgw.log" >&2
	stop_pidfile "$RUN/npgw.pid"
	return 1
}

harness_stop() { stop_pidfile "$RUN/npgw.pid"; }

# The truth table from real connections. Options go to pods.py probe.
harness_table() {
	# shellcheck disable=SC2046
	/usr/bin/python3 "$HARNESS_DIR/pods.py" probe "$@" $(harness_specs)
}

harness_usage() {
	cat <<'USAGE'
usage: harness.sh up                 create the pods and their servers
       harness.sh start [--revoke drop|keep|reset]
                                     start npgw with no objects, then apply
                                     the cluster's Pods and Namespaces
       harness.sh apply FILE...      npgwctl apply -f, wait for the generation
       harness.sh delete ARGS...     npgwctl delete, wait for the generation
       harness.sh ctl ARGS...        npgwctl --socket <the harness's socket>
       harness.sh table [--port N] [--protocol tcp|udp] [--family 4|6]
                                     the truth table from real connections
       harness.sh stop               stop npgw
       harness.sh down               remove everything the harness made
USAGE
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	cmd=${1:-}
	shift || true
	case $cmd in
	up)
		# a failed or interrupted set-up leaves nothing behind
		trap 'harness_down; exit 130' INT
		trap 'harness_down; exit 143' TERM
		harness_up || {
			rc=$?
			harness_down
			exit $rc
		}
		;;
	start)
		trap 'harness_stop; exit 130' INT
		trap 'harness_stop; exit 143' TERM
		harness_start "$@"
		;;
	down) harness_down ;;
	stop) harness_stop ;;
	apply) harness_apply "$@" ;;
	delete) harness_delete "$@" ;;
	ctl) harness_ctl "$@" ;;
	table) harness_table "$@" ;;
	config) harness_config "$@" ;;
	specs) harness_specs && echo ;;
	*)
		harness_usage >&2
		exit 2
		;;
	esac
fi
