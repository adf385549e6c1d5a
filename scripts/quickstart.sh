#!/usr/bin/env bash
# Quick start: install the system packages (once), build, and run the default study.
#
#   bash scripts/quickstart.sh                     # runs configs/quickstart.yaml
#   bash scripts/quickstart.sh trainer.steps_per_d=100   # extra arguments (overrides, options) go to `lrlab run`
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR=${BUILD_DIR:-build}
export BUILD_DIR

bash scripts/setup.sh
bash scripts/build.sh
exec "$BUILD_DIR/apps/lrlab" run configs/quickstart.yaml "$@"
