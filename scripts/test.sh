#!/usr/bin/env bash
# The full test suite: install dependencies, build the release and the sanitizer builds, and run
# every test (ctest) in both; then build the fuzz build and run every fuzz target for a bounded time
# (LMC_FUZZ_SECONDS each, default 15). This is exactly what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
jobs="$(nproc)"
start=$(date +%s)
echo "== release build =="
scripts/build.sh release
(cd build && ctest --output-on-failure -j"$jobs")
echo "== ASan + UBSan build =="
scripts/build.sh asan
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j"$jobs")
echo "== fuzz smoke: every libFuzzer target replays its corpus, then fuzzes ${LMC_FUZZ_SECONDS:-15}s (ASan + UBSan) =="
fstart=$(date +%s)
scripts/fuzz.sh --ci "${LMC_FUZZ_SECONDS:-15}"
echo "== fuzz smoke passed ($(( $(date +%s) - fstart ))s, build included) =="
echo "== all tests passed in the release, sanitizer and fuzz builds ($(( $(date +%s) - start ))s) =="
