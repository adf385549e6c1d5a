#!/usr/bin/env bash
# Configures and builds lrlab in $BUILD_DIR (default: build), $BUILD_TYPE (default: Release),
# with all cores (or $JOBS).
#
#   bash scripts/build.sh                          # Release build in build/
#   BUILD_DIR=build-debug BUILD_TYPE=Debug bash scripts/build.sh
#   bash scripts/build.sh -DLRLAB_USE_PCH=OFF      # extra arguments go to cmake's configure step
#
# Uses Ninja when installed, else Makefiles; an existing build folder keeps its generator.
# Does not install anything: run scripts/setup.sh first (quickstart.sh and test.sh do).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-Release}
JOBS=${JOBS:-$(nproc)}

generator=()
if [[ ! -f $BUILD_DIR/CMakeCache.txt ]] && command -v ninja >/dev/null 2>&1; then
  generator=(-G Ninja)
fi

echo "[build] configuring $BUILD_DIR ${generator[*]} $*"
cmake -S . -B "$BUILD_DIR" "${generator[@]}" -DCMAKE_BUILD_TYPE="$BUILD_TYPE" "$@"
echo "[build] building with $JOBS jobs"
cmake --build "$BUILD_DIR" --parallel "$JOBS"
