#!/usr/bin/env bash
# The full test suite: install dependencies, build the release and the sanitizer builds, and run
# every test (ctest) in both. This is exactly what CI runs (.ci/run).
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
echo "== all tests passed in both builds ($(( $(date +%s) - start ))s) =="
