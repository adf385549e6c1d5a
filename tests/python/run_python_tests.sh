#!/usr/bin/env bash
# The Python loader against a real results folder: runs a small study with the lrlab binary (a
# whole-section sweep of the adapter crossed with d), exports its lora run to PEFT's layout, then runs
# tests/python/test_*.py (unittest) with Debian's python3-numpy / python3-pandas.
# Usage: run_python_tests.sh LRLAB_BINARY SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
work=$(mktemp -d /tmp/lrlab_python_XXXXXX)
trap 'rm -rf "$work"' EXIT

cat >"$work/study.yaml" <<'YAML'
name: python_loader
dtype: float64
base: {d: 8, k: 2}
teacher: {rank: 1, xi: 1.0}
adapter: {type: rank1}
trainer: {steps: 120, lr: 0.1}
metrics: {names: [overlap, delta_error], every: 20, thresholds: {overlap: [0.3]}}
study:
  sweep:
    adapter: [{type: rank1}, {type: lora, rank: 2, alpha: 2.0}]
    base.d: [8, 16]
  seeds: 2
  fit: {x: base.d, y: final_delta_error, by: [adapter]}
YAML
"$bin" run "$work/study.yaml" --out "$work/out" -q
# p002_s00: the first lora run (points: rank1 x {8, 16}, then lora x {8, 16}).
"$bin" export "$work/out" --run p002_s00 --peft "$work/peft" --target-module fc1

python=
for candidate in /usr/bin/python3 python3; do
  if "$candidate" -c 'import numpy' 2>/dev/null; then python=$candidate; break; fi
done
[[ -n $python ]] || { echo "no python3 with numpy (bash scripts/setup.sh installs python3-numpy)" >&2; exit 1; }
LRLAB_RESULTS="$work/out" LRLAB_PEFT="$work/peft" PYTHONPATH="$src/python" \
  "$python" -m unittest discover -s "$src/tests/python" -p 'test_*.py' -v
