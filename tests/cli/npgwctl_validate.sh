#!/bin/sh
# npgwctl_validate.sh NPGWCTL SOURCE_ROOT: npgwctl validate passes the
# shipped examples, fails a bad file with the expected FILE:LINE:COL lines,
# and tells usage errors (exit 2) from validation errors (exit 1).
set -u
ctl=$1
root=$2
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
fails=0

# expect STATUS DESCRIPTION -- ARGS...: run npgwctl, check the exit status
expect() {
	want=$1
	what=$2
	shift 3
	"$ctl" "$@" >"$out" 2>"$err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL: $what: exit $got, want $want"
		sed 's/^/  stdout: /' "$out"
		sed 's/^/  stderr: /' "$err"
		fails=$((fails + 1))
	else
		echo "ok: $what"
	fi
}

# has FILE TEXT: FILE contains the line TEXT exactly
has() {
	if ! grep -qxF -- "$2" "$1"; then
		echo "FAIL: missing line: $2"
		sed 's/^/  have: /' "$1"
		fails=$((fails + 1))
	fi
}

expect 0 "examples validate" -- validate -f "$root/config/examples"
has "$err" "0 errors, 0 warnings in 19 objects"

bad="$root/tests/data/k8s-bad/db.yaml"
expect 1 "bad file fails" -- validate -f "$bad"
has "$out" "$bad:16:16: spec.ingress[0].ports[1].endPort: 79 is below port 80"
has "$out" "$bad:20:19: spec.ingress[0].from[0].podSelector.matchLabels.backup: expected a string, got a boolean (quote it: \"yes\")"
has "$err" "2 errors, 0 warnings in 1 object"

expect 1 "bad file fails, json output" -- validate -o json -f "$bad"
grep -qF '"line":16,"column":16,"path":"spec.ingress[0].ports[1].endPort","message":"79 is below port 80","severity":"error"' "$out" ||
	{ echo "FAIL: json output"; cat "$out"; fails=$((fails + 1)); }

# cross-object errors fail too: the examples twice define every object twice
expect 1 "duplicates across paths fail" -- validate -f "$root/config/examples" -f "$root/config/examples/cluster.yaml"
grep -q "Namespace x is defined twice" "$out" || { echo "FAIL: duplicate message"; fails=$((fails + 1)); }

expect 2 "no -f" -- validate
expect 2 "unknown option" -- validate --frobnicate -f "$bad"
has "$err" "npgwctl validate: unknown option '--frobnicate'"
expect 2 "unknown output format" -- validate -o xml -f "$bad"
expect 2 "unreadable path" -- validate -f "$root/no/such/file.yaml"
has "$err" "npgwctl validate: cannot read $root/no/such/file.yaml: No such file or directory"
expect 2 "unknown command" -- frobnicate
expect 0 "help" -- --help
grep -q "validate" "$out" || { echo "FAIL: --help lists validate"; fails=$((fails + 1)); }
expect 0 "validate --help" -- validate --help
grep -q -- "--filename" "$out" || { echo "FAIL: validate --help"; fails=$((fails + 1)); }

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
