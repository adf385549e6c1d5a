#!/usr/bin/env bash
# Installs the system packages (once), builds, and runs the test suite with ctest.
#
#   bash scripts/test.sh                           # every test
#   bash scripts/test.sh -R config                 # extra arguments go to ctest
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR=${BUILD_DIR:-build}
export BUILD_DIR

bash scripts/setup.sh
bash scripts/build.sh
exec ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 "$@"
