#!/usr/bin/env bash
# Compiles the fused CUDA kernel (trainers/cuda/fused_step.cu) with nvcc alone: the .cu holds no
# LibTorch, so this checks the device code on any machine with the CUDA toolkit, GPU or not.
#
#   bash scripts/check-cuda-compile.sh           # nvcc from $NVCC, PATH or /usr/local/cuda/bin
#   CUDA_ARCH=sm_80 bash scripts/check-cuda-compile.sh
#
# Exit 0: compiled; 77: no nvcc (CTest's SKIP_RETURN_CODE for the `cuda_compile` test); else nvcc's error.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

nvcc=${NVCC:-}
if [[ -z $nvcc ]]; then
  nvcc=$(command -v nvcc || true)
  [[ -z $nvcc && -x /usr/local/cuda/bin/nvcc ]] && nvcc=/usr/local/cuda/bin/nvcc
fi
if [[ -z $nvcc ]]; then
  echo "[cuda-compile] skipped: no nvcc (set NVCC or install the CUDA toolkit)"
  exit 77
fi
arch=${CUDA_ARCH:-sm_90}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "[cuda-compile] $("$nvcc" --version | tail -1)"
echo "[cuda-compile] $nvcc -std=c++17 -arch=$arch -c trainers/cuda/fused_step.cu"
"$nvcc" -std=c++17 -arch="$arch" -I. -Xptxas -v -Werror all-warnings -c trainers/cuda/fused_step.cu \
  -o "$out/fused_step.o" 2>&1 | grep -v "^ptxas info    : \(Compiling\|Function properties\)" || true
test -s "$out/fused_step.o"
echo "[cuda-compile] ok"
