#!/bin/bash
# cleanup.sh: an interrupted end-to-end run leaves nothing behind.
#
#   cleanup.sh
#
# Starts tests/e2e/netpol.py, waits until its harness is up (pods, npgw),
# interrupts it (SIGINT as Ctrl-C does, then SIGTERM as meson's timeout
# does; the second a moment later, while a probe runs), and checks that no network namespace, veth, process or run
# directory of the harness is left; then that a run after the interrupted
# ones passes. Needs root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
run=${NPGW_E2E_RUN:-/tmp/npgw-e2e}
fails=0
[ "$(id -u)" = 0 ] || { echo "cleanup.sh: skipped: needs root"; exit 77; }
out=$(mktemp /tmp/npgw-cleanup.XXXXXX)
trap 'rm -f "$out"' EXIT
# The leftovers check looks at names any harness uses: hold the harness
# lock for the whole test (netpol.py then does not take it again), waiting
# as long as netpol.py would.
exec 9>/run/lock/npgw-e2e.lock
if ! flock -w "${NPGW_E2E_LOCK_WAIT:-1800}" 9; then
	echo "FAIL: another harness run holds /run/lock/npgw-e2e.lock"
	exit 1
fi
export NPGW_E2E_LOCK_HELD=1

leftovers() {
	ip netns list | grep -o '^npgw-[xyz]-[abc]'
	ip -o link show | grep -o 'np[xyz]-[abc]'
	[ -e "$run" ] && echo "$run"
	pgrep -f "$here/pods.py serve" >/dev/null && echo "pods.py serve"
	pgrep -f "file-prefix npgw-e2e" >/dev/null && echo "npgw"
	return 0
}

for sig in INT TERM; do
	delay=0
	[ $sig = TERM ] && delay=0.2
	/usr/bin/python3 "$here/netpol.py" no-policy >"$out" 2>&1 &
	pid=$!
	for _ in $(seq 2400); do # 120 s: a loaded machine takes 20 s and more
		grep -q "^harness up" "$out" && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.05
	done
	if ! grep -q "^harness up" "$out"; then
		echo "FAIL: the harness did not come up:"
		cat "$out"
		kill -KILL $pid 2>/dev/null
		exit 1
	fi
	sleep $delay
	kill -$sig $pid
	wait $pid
	rc=$?
	left=$(leftovers)
	if [ -z "$left" ] && [ $rc -ne 0 ]; then
		echo "ok: SIG$sig during a run: exit $rc, nothing left"
	else
		echo "FAIL: SIG$sig during a run: exit $rc, left: $left"
		fails=$((fails + 1))
	fi
done

# and the next run starts from nothing and passes
if /usr/bin/python3 "$here/netpol.py" no-policy >"$out" 2>&1 && [ -z "$(leftovers)" ]; then
	echo "ok: a run after the interrupted ones passes and leaves nothing"
else
	echo "FAIL: the run after the interrupted ones:"
	cat "$out"
	fails=$((fails + 1))
fi
exit $((fails > 0))
