#pragma once
/// The host side of the fused CUDA kernel (fused_step.cu), free of LibTorch so that the .cu compiles
/// with nvcc alone (scripts/check-cuda-compile.sh). Defined only in builds with LRLAB_CUDA_FUSED;
/// the ATen glue (fused_step.h) calls it with device pointers.

#include <cstdint>

#include "trainers/cuda/fused_math.h"

namespace lrlab::fused {

/// Threads per block for input dimension d (a multiple of the warp size, at most 256).
inline int block_threads(int64_t d) { return d >= 2048 ? 256 : 128; }

/// Runs updates first .. first + n - 1 of every replica of `p` (device pointers) in one launch: one
/// thread block per replica, on the legacy default stream (the one LibTorch uses unless told
/// otherwise). Returns null, or the CUDA error's text.
const char* launch_steps(const Problem<float>& p, int64_t first, int64_t n);
/// As above in double precision.
const char* launch_steps(const Problem<double>& p, int64_t first, int64_t n);

}  // namespace lrlab::fused
