#!/usr/bin/env bash
# Configure and build lmc. Usage: scripts/build.sh [release|asan|fuzz] (default release).
#   release -> build/       -O3 -march=native (add -DLMC_PORTABLE=ON via LMC_CMAKE_ARGS for portable)
#   asan    -> build-asan/  AddressSanitizer + UndefinedBehaviorSanitizer
#   fuzz    -> build-fuzz/  clang, the library instrumented for libFuzzer + ASan/UBSan; builds only
#                           the fuzz_* targets (scripts/fuzz.sh runs them)
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-release}"
jobs="$(nproc)"
case "$kind" in
  release) dir=build; args=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan)    dir=build-asan; args=(-DCMAKE_BUILD_TYPE=Debug -DLMC_SANITIZE=ON) ;;
  fuzz)    dir=build-fuzz; args=(-DCMAKE_BUILD_TYPE=Debug -DLMC_FUZZ=ON -DCMAKE_C_COMPILER=clang); target=(--target fuzz) ;;
  *) echo "usage: $0 [release|asan|fuzz]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -DLMC_WERROR=ON "${args[@]}" ${LMC_CMAKE_ARGS:-} >/dev/null
cmake --build "$dir" -j"$jobs" ${target[@]+"${target[@]}"}
