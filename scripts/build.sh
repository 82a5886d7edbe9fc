#!/usr/bin/env bash
# Configure and build lmc. Usage: scripts/build.sh [release|asan] (default release).
#   release -> build/       -O3 -march=native (add -DLMC_PORTABLE=ON via LMC_CMAKE_ARGS for portable)
#   asan    -> build-asan/  AddressSanitizer + UndefinedBehaviorSanitizer
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-release}"
jobs="$(nproc)"
case "$kind" in
  release) dir=build; args=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan)    dir=build-asan; args=(-DCMAKE_BUILD_TYPE=Debug -DLMC_SANITIZE=ON) ;;
  *) echo "usage: $0 [release|asan]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -DLMC_WERROR=ON "${args[@]}" ${LMC_CMAKE_ARGS:-} >/dev/null
cmake --build "$dir" -j"$jobs"
