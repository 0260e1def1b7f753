#!/bin/sh
# e2e.sh: the end-to-end harness by hand (tests/e2e/harness.sh), and the
# end-to-end tests.
#
#   sh scripts/e2e.sh up [--revoke drop|keep|reset]
#                       nine pods in network namespaces, npgw between them,
#                       the cluster's Pods and Namespaces applied
#   sh scripts/e2e.sh table [--port N] [--protocol tcp|udp] [--family 4|6]
#                       the truth table from real connections
#   sh scripts/e2e.sh apply FILE...     npgwctl apply -f, wait until live
#   sh scripts/e2e.sh delete ARGS...    npgwctl delete, wait until live
#   sh scripts/e2e.sh ctl ARGS...       npgwctl on the harness's socket
#   sh scripts/e2e.sh talk FROM TO      a long TCP connection between two
#                       pods (x/a ...) on port 82, reported every second
#   sh scripts/e2e.sh down              remove everything the harness made
#   sh scripts/e2e.sh test [CASE...]    the end-to-end tests (--list: cases)
#
# Root only. Builds first when build/ has no npgw.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
harness=$top/tests/e2e/harness.sh
cmd=${1:-}
[ $# -gt 0 ] && shift

if [ ! -x "$top/build/app/npgw/npgw" ] && [ -z "${NPGW:-}" ]; then
	sh "$top/scripts/build.sh" >/dev/null
fi

case $cmd in
up)
	# the tests and the demo hold this lock while they run
	if ! flock -n /run/lock/npgw-e2e.lock true; then
		echo "e2e.sh: the end-to-end tests or the demo are running; try later" >&2
		exit 1
	fi
	bash "$harness" up
	bash "$harness" start "$@" || {
		bash "$harness" down
		exit 1
	}
	echo "harness up: sh scripts/e2e.sh table | apply FILE | ctl stats | down"
	;;
talk)
	[ $# = 2 ] || { echo "usage: e2e.sh talk FROM TO (pods, e.g. y/a x/a)" >&2; exit 2; }
	from=$(echo "$1" | tr / -)
	to=$(echo "$2" | tr / -)
	addr=$(bash "$harness" specs | tr ' ' '\n' | sed -n "s|^$2=[^:]*:\([^,]*\),.*|\1|p")
	[ -n "$addr" ] || { echo "e2e.sh: no pod $2" >&2; exit 2; }
	exec /usr/bin/python3 "$top/tests/e2e/pods.py" talk "npgw-$from" "npgw-$to" "$addr" --seconds 3600
	;;
test)
	exec /usr/bin/python3 "$top/tests/e2e/netpol.py" "$@"
	;;
down | table | apply | delete | ctl | stop | config | specs)
	exec bash "$harness" "$cmd" "$@"
	;;
*)
	sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
