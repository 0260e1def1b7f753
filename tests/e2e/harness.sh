#!/bin/bash
# harness.sh: a small cluster on one machine, with npgw between its pods.
#
# Namespaces x, y, z, each with pods a, b, c: every pod is a Linux network
# namespace (npgw-x-a ...) with a veth whose far end (npx-a ...) is a
# net_af_packet port of npgw; all nine ports form one bridge domain, the
# way DPDK CNIs attach pods. Addresses are those of
# config/examples/cluster.yaml: 10.0.N.M and fd00::N:M (N = 1, 2, 3 for
# x, y, z; M = 1, 2, 3 for a, b, c). Every pod serves TCP and UDP on ports
# 80 and 81 (tests/e2e/pods.py), answering its name.
#
# Source it for the functions, or run it:
#   harness.sh up | down | start POLICY_DIR | stop | table [probe options]
# Everything it creates it removes (`down`, also run first by `up`).
# Needs root. Traffic stays inside the namespaces it creates.

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HARNESS_DIR/../.." && pwd)
NPGW=${NPGW:-$TOP/build/app/npgw/npgw}
NPGWCTL=${NPGWCTL:-$TOP/build/app/npgwctl/npgwctl}
RUN=${NPGW_E2E_RUN:-/tmp/npgw-e2e}
NSS="x y z"
PODS="a b c"

ns_index() { case $1 in x) echo 1 ;; y) echo 2 ;; z) echo 3 ;; esac; }
pod_index() { case $1 in a) echo 1 ;; b) echo 2 ;; c) echo 3 ;; esac; }

# "x/a=npgw-x-a:10.0.1.1,fd00::1:1 ..." for pods.py
pod_specs() {
	local n p
	for n in $NSS; do
		for p in $PODS; do
			printf '%s/%s=npgw-%s-%s:10.0.%s.%s,fd00::%s:%s ' "$n" "$p" "$n" "$p" \
				"$(ns_index "$n")" "$(pod_index "$p")" "$(ns_index "$n")" "$(pod_index "$p")"
		done
	done
}

harness_down() {
	local n p
	if [ -f "$RUN/npgw.pid" ]; then
		kill -TERM "$(cat "$RUN/npgw.pid")" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$(cat "$RUN/npgw.pid")" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$(cat "$RUN/npgw.pid")" 2>/dev/null
		rm -f "$RUN/npgw.pid"
	fi
	if [ -f "$RUN/pods.pid" ]; then
		kill "$(cat "$RUN/pods.pid")" 2>/dev/null
		rm -f "$RUN/pods.pid"
	fi
	for n in $NSS; do
		for p in $PODS; do
			ip link del "np$n-$p" 2>/dev/null
			ip netns del "npgw-$n-$p" 2>/dev/null
		done
	done
	return 0
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
	/usr/bin/python3 "$HARNESS_DIR/pods.py" serve $(pod_specs) >"$RUN/pods.log" 2>&1 &
	echo $! >"$RUN/pods.pid"
	for _ in $(seq 50); do
		grep -q serving "$RUN/pods.log" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "harness: the pod servers did not start:" >&2
	cat "$RUN/pods.log" >&2
	return 1
}

# The npgw config for the harness: one af_packet port per pod, one bridge.
harness_config() {
	local policies=$1 n p i=0
	cat <<EOF
policies: [$policies]
control:
  socket: $RUN/npgw.sock
state_dir: $RUN/state
posture: fail-closed
non_ip: pass
ports:
EOF
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
	cat <<EOF
workers:
  - lcore: 1
mempool: {mbufs: 8191, cache: 256}
eal: ["--no-huge", "-m", "512", "--no-pci", "--file-prefix", "npgw-e2e", "--log-level", "error"]
EOF
}

# Start npgw on the policies of a directory; wait until it forwards.
harness_start() {
	local policies=$1
	harness_config "$policies" >"$RUN/npgw.yaml"
	"$NPGW" --config "$RUN/npgw.yaml" >"$RUN/npgw.log" 2>&1 &
	echo $! >"$RUN/npgw.pid"
	for _ in $(seq 100); do
		grep -q "forwarding with" "$RUN/npgw.log" 2>/dev/null && return 0
		kill -0 "$(cat "$RUN/npgw.pid")" 2>/dev/null || break
		sleep 0.1
	done
	echo "harness: npgw did not start:" >&2
	cat "$RUN/npgw.log" >&2
	return 1
}

# Reload the policy files (SIGHUP) and wait for the new generation.
harness_reload() {
	local before after
	before=$(grep -c "is live" "$RUN/npgw.log")
	kill -HUP "$(cat "$RUN/npgw.pid")"
	for _ in $(seq 100); do
		after=$(grep -c "is live" "$RUN/npgw.log")
		[ "$after" -gt "$before" ] && return 0
		grep -q "live generation stays" "$RUN/npgw.log" && break
		sleep 0.1
	done
	echo "harness: reload did not make a new generation live:" >&2
	tail -20 "$RUN/npgw.log" >&2
	return 1
}

harness_stop() {
	[ -f "$RUN/npgw.pid" ] || return 0
	kill -TERM "$(cat "$RUN/npgw.pid")"
	for _ in $(seq 100); do
		kill -0 "$(cat "$RUN/npgw.pid")" 2>/dev/null || break
		sleep 0.1
	done
	wait "$(cat "$RUN/npgw.pid")" 2>/dev/null
	rm -f "$RUN/npgw.pid"
}

# The truth table from real connections. Options go to pods.py probe.
harness_table() {
	# shellcheck disable=SC2046
	/usr/bin/python3 "$HARNESS_DIR/pods.py" probe "$@" $(pod_specs)
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	cmd=${1:-}
	shift || true
	case $cmd in
	up) harness_up ;;
	down) harness_down ;;
	start) harness_start "$@" ;;
	reload) harness_reload ;;
	stop) harness_stop ;;
	table) harness_table "$@" ;;
	config) harness_config "$@" ;;
	*)
		echo "usage: harness.sh up|down|start POLICY_DIR|reload|stop|table [--port N] [--protocol tcp|udp] [--family 4|6]" >&2
		exit 2
		;;
	esac
fi
