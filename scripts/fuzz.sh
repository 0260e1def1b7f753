#!/bin/sh
# Build the libFuzzer targets (tests/fuzz) with clang-14, ASan and UBSan in
# build-fuzz/, and run each for SECONDS (default 30). Usage:
#   sh scripts/fuzz.sh [--time SECONDS] [TARGET...]
# Targets: doc_yaml doc_json k8s config pkt ct ctl (default: all).
# scripts/test.sh runs it with the default 30 s per target; a long run:
#   sh scripts/fuzz.sh --time 3600 k8s
# Each target starts from its seed corpus (the tests' inputs, see
# tests/fuzz/meson.build) and keeps what it learns in
# build-fuzz/corpus/TARGET, so the next run goes on from there. A crash
# stops the run with exit status 1 and leaves the input in
# build-fuzz/crashes/TARGET/; copy it into tests/fuzz/regress/TARGET/ once
# fixed, so that every build replays it (suite 'fuzz').
set -eu
cd "$(dirname "$0")/.."

secs=30
while [ $# -gt 0 ]; do
	case $1 in
	--time) secs=$2; shift 2 ;;
	-h|--help) sed -n '2,13p' "$0"; exit 0 ;;
	-*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
all="doc_yaml doc_json k8s config pkt ct ctl"
targets=${*:-$all}

dir=build-fuzz
if [ ! -f "$dir/build.ninja" ]; then
	CC=clang-14 meson setup "$dir" -Dfuzz=true -Db_sanitize=address,undefined \
		-Db_lundef=false >/dev/null
fi
exes=""
for t in $targets; do
	case " $all " in *" $t "*) ;; *) echo "fuzz.sh: no target $t ($all)" >&2; exit 2 ;; esac
	exes="$exes tests/fuzz/fuzz_$t"
done
# shellcheck disable=SC2086
ninja -C "$dir" $exes >/dev/null

# seed directories of a target, from tests/fuzz/meson.build's table
seeds() {
	case $1 in
	doc_yaml) echo tests/data/hostile config/examples tests/data/k8s tests/fuzz/seeds/doc ;;
	doc_json) echo tests/data/hostile tests/data/k8s tests/fuzz/seeds/doc ;;
	k8s) echo config/examples tests/data/k8s tests/data/k8s-bad tests/fuzz/seeds/k8s ;;
	config) echo config tests/fuzz/seeds/config ;;
	*) echo "tests/fuzz/seeds/$1" ;;
	esac
	[ -d "tests/fuzz/regress/$1" ] && echo "tests/fuzz/regress/$1"
	return 0
}
dict() {
	case $1 in
	doc_yaml) echo yaml ;; doc_json) echo json ;; ct) echo pkt ;; *) echo "$1" ;;
	esac
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=""
for t in $targets; do
	corpus=$dir/corpus/$t
	crashes=$dir/crashes/$t
	mkdir -p "$corpus" "$crashes"
	log=$dir/fuzz-$t.log
	# -max_len: fuzz_ctl's messages are capped at 4 KiB, frames at 64 KiB;
	# documents get room for nesting and several objects.
	case $t in pkt) max=2048 ;; ct) max=8192 ;; ctl) max=16384 ;; *) max=65536 ;; esac
	# shellcheck disable=SC2046
	if "$dir/tests/fuzz/fuzz_$t" -max_total_time="$secs" -max_len=$max -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-dict="tests/fuzz/dict/$(dict "$t").dict" -artifact_prefix="$crashes/" \
		"$corpus" $(seeds "$t") >"$log" 2>&1; then
		status=ok
	else
		status=CRASH
		failed="$failed $t"
	fi
	runs=$(grep -h 'stat::number_of_executed_units' "$log" | awk '{s += $2} END {print s + 0}')
	echo "fuzz.sh: $t: $status, $runs executions in ${secs} s, corpus $(ls "$corpus" | wc -l) inputs"
done
if [ -n "$failed" ]; then
	for t in $failed; do
		echo "fuzz.sh: $t crashed; its log: $dir/fuzz-$t.log, input in $dir/crashes/$t/" >&2
		grep -m 20 -E 'ERROR|SUMMARY|==[0-9]+==|#[0-9]+ 0x' "$dir/fuzz-$t.log" | head -20 >&2
	done
	exit 1
fi
