// The fused CUDA step: one thread block per replica runs all n updates of a launch (the steps between
// two metric records) with no host round trip: Philox draws (philox.h), the dot products of the pass
// over x by block reduction, the O(B k) scalars on thread 0, and the u update with one more block
// reduction for the retraction. The maths is fused_math.h's, the same functions host_steps runs on
// the CPU (tests/trainers/cuda/fused_math_test.cpp). Why a custom kernel: docs/kernels.md.
//
// Per block (replica r), per step, with bs threads and element j = b d + i of the [B, d] inputs:
//   1. each thread draws pairs of normals (j = 2m, 2m + 1; one Philox call each), stores x_j in the
//      replica's scratch row and adds x_j * row_q[i] to its partial dots [B, n] (n = k + r_t + 1);
//   2. block_sum -> dots [B, n] in shared memory;
//   3. thread 0: labels, loss, a_b, <g, u>, dL/dc, dL/dxi (replica_scalars);
//   4. each thread: u_i <- u_i - eta (sum_b a_b x_bi - <g, u> u_i); block_sum of u_i^2; u_i /= |u|;
//   5. thread 0: c, xi updates (update_small).

#include <cuda_runtime.h>

#include "trainers/cuda/fused_launch.h"

namespace lrlab::fused {

namespace {

constexpr int kMaxThreads = 256;
constexpr int kWarp = 32;

// out[v] = sum over the block's threads of part[v], v < nv (every thread gets the result).
__device__ void block_sum(const double* part, int nv, double* red, double* out) {
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, warps = blockDim.x / kWarp;
  for (int v = 0; v < nv; ++v) {
    double x = part[v];
    for (int o = kWarp / 2; o > 0; o /= 2) x += __shfl_down_sync(0xffffffffu, x, o);
    if (lane == 0) red[warp * nv + v] = x;
  }
  __syncthreads();
  for (int v = threadIdx.x; v < nv; v += blockDim.x) {
    double acc = 0.0;
    for (int w = 0; w < warps; ++w) acc += red[w * nv + v];
    out[v] = acc;
  }
  __syncthreads();
}

// Step 1: the inputs of replica r at update `step` (launch step s) into xs [B, d] and the partial dots.
template <class T>
__device__ void draw_and_dot(const Problem<T>& p, int64_t r, int64_t step, int64_t s, T* xs, double* part) {
  const int64_t bd = p.batch * p.d;
  if (p.x_injected) {
    for (int64_t j = threadIdx.x; j < bd; j += blockDim.x) {
      const T x = input(p, r, step, s, j);
      xs[j] = x;
      accumulate_dots(p, r, j / p.d, j % p.d, x, part);
    }
    return;
  }
  for (int64_t m = threadIdx.x; 2 * m < bd; m += blockDim.x) {
    double n01[2];
    box_muller(normal_block(p.seeds[r], static_cast<uint64_t>(step), kDrawInputs, static_cast<uint32_t>(m)), &n01[0],
               &n01[1]);
    for (int64_t j = 2 * m; j < 2 * m + 2 && j < bd; ++j) {
      const T x = static_cast<T>(n01[j - 2 * m]);
      xs[j] = x;
      accumulate_dots(p, r, j / p.d, j % p.d, x, part);
    }
  }
}

template <class T>
__global__ void __launch_bounds__(kMaxThreads) fused_kernel(Problem<T> p, int64_t first, int64_t n) {
  __shared__ double red[kMaxThreads / kWarp * kMaxDots];
  __shared__ double dots[kMaxDots];
  __shared__ double eps[kMaxBatch];
  __shared__ Scalars sc;
  const int64_t r = blockIdx.x;
  const int nv = dots_per_sample(p) * static_cast<int>(p.batch);
  T* xs = p.x_scratch + r * p.batch * p.d;
  T* u = p.u + r * p.d;
  double loss_sum = 0.0;  // thread 0's: the launch's mean loss
  for (int64_t s = 0; s < n; ++s) {
    const int64_t step = first + s;
    double part[kMaxDots];
    for (int v = 0; v < nv; ++v) part[v] = 0.0;
    draw_and_dot(p, r, step, s, xs, part);
    block_sum(part, nv, red, dots);  // also makes xs visible to every thread
    if (threadIdx.x == 0) {
      if (p.noisy)
        for (int64_t b = 0; b < p.batch; ++b) eps[b] = noise(p, r, step, s, b);
      replica_scalars(p, r, dots, eps, &sc);
      loss_sum += sc.loss;
      if (p.loss && s == n - 1) p.loss[r] = static_cast<T>(loss_sum / static_cast<double>(n));
    }
    __syncthreads();
    double ss = 0.0;
    for (int64_t i = threadIdx.x; i < p.d; i += blockDim.x) {
      const T v = u_stepped(p, r, sc, xs, i);
      ss += static_cast<double>(v) * static_cast<double>(v);
      u[i] = v;  // element i is read only by this thread's u_stepped(i)
    }
    block_sum(&ss, 1, red, dots);
    const double inv = 1.0 / sqrt(dots[0]);
    for (int64_t i = threadIdx.x; i < p.d; i += blockDim.x) u[i] = static_cast<T>(u[i] * inv);
    if (threadIdx.x == 0) update_small(p, r, sc);
    __syncthreads();  // the next step's dots read u, c and xi
  }
}

template <class T>
const char* launch(const Problem<T>& p, int64_t first, int64_t n) {
  if (p.replicas == 0 || n == 0) return nullptr;
  fused_kernel<T><<<static_cast<unsigned>(p.replicas), block_threads(p.d)>>>(p, first, n);
  const cudaError_t err = cudaGetLastError();
  return err == cudaSuccess ? nullptr : cudaGetErrorString(err);
}

}  // namespace

const char* launch_steps(const Problem<float>& p, int64_t first, int64_t n) { return launch(p, first, n); }

const char* launch_steps(const Problem<double>& p, int64_t first, int64_t n) { return launch(p, first, n); }

}  // namespace lrlab::fused
