#!/usr/bin/env bash
# The quickstart: install what is missing, build, and run lmc's main job on the built-in corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh release
./build/lmc --version
./build/lmc --help
