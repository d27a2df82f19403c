#!/usr/bin/env bash
# Configures and builds one flavour of recistry.
#   scripts/build.sh [release|asan] [BUILD_DIR]     (default: release, build/ or build-asan/)
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
case "$flavour" in
  release) dir=${2:-build};      flags=(-DRCY_SANITIZE=OFF) ;;
  # -O1, as AddressSanitizer's documentation recommends for reasonable speed (the suite ran at -O0 before).
  asan)    dir=${2:-build-asan}; flags=(-DRCY_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_FLAGS_DEBUG=-g -O1" "-DCMAKE_CXX_FLAGS_DEBUG=-g -O1") ;;
  *) echo "usage: scripts/build.sh [release|asan] [BUILD_DIR]" >&2; exit 2 ;;
esac
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B "$dir" -DRCY_WERROR=ON "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$jobs"
if [ -x scripts/build-ui.sh ]; then scripts/build-ui.sh; fi
