#!/bin/sh
# Install what is missing, build twice (normal, and ASan+UBSan), run every
# test in both builds, then each fuzz target for 30 s (scripts/fuzz.sh).
# This is README command (2) and all .ci/run does.
set -eu
cd "$(dirname "$0")/.."

sh scripts/install-deps.sh

run_suite() {
	dir=$1
	shift
	BUILD_DIR=$dir sh scripts/build.sh "$@"
	# --print-errorlogs shows a failing test's output; each test prints its
	# CUnit summary, which the log below repeats so a reader sees the counts.
	if ! meson test -C "$dir" --print-errorlogs --num-processes 2; then
		echo "test.sh: tests failed in $dir" >&2
		exit 1
	fi
	# the benchmarks' smoke runs, out of the default run: one at a time,
	# since they measure
	if ! meson test -C "$dir" --setup bench --suite bench --print-errorlogs \
		--num-processes 1 --logbase benchlog; then
		echo "test.sh: benchmark smoke runs failed in $dir" >&2
		exit 1
	fi
	grep -hE '^ *(Run Summary|suites|tests|asserts) ' "$dir/meson-logs/testlog.txt" || true
	grep -hE '^ *[0-9]+/[0-9]+ ' "$dir/meson-logs/benchlog-bench.txt" || true
}

echo "== normal build =="
run_suite build
echo "== ASan + UBSan build =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_suite build-asan -Db_sanitize=address,undefined -Db_lundef=false
# Every libFuzzer target for 30 s (FUZZ_SECONDS), from its seed corpus;
# a crash fails the run (scripts/fuzz.sh says where the input is).
echo "== fuzz (clang-14, libFuzzer, ASan + UBSan) =="
sh scripts/fuzz.sh --time "${FUZZ_SECONDS:-30}"
echo "test.sh: all tests passed in both builds, and the fuzzers found nothing"
