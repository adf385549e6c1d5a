#pragma once
/// The machine's limits, measured in the benchmark's own process at its thread count, against which
/// each configuration's time is compared (DESIGN.md, "Performance model"):
///   arithmetic: GFLOP/s of a large square matmul (at::mm, i.e. the BLAS / cuBLAS LibTorch uses);
///   sampling:   the fastest standard-normal generator available (LibTorch's at::normal_ and, on the
///               CPU, lrlab's NormalGenerator), in ns per number;
///   memory:     read bandwidth for a working set of a given size (cache or DRAM, as the size decides).
/// The roofline time of a step is the largest of FLOPs / GFLOP/s, samples x ns/sample, bytes / bandwidth.

#include <ATen/ATen.h>

#include <string>

namespace lrlab::bench {

/// Measured limits for one device, dtype and thread count.
struct Roofline {
  int64_t matmul_n = 0;             ///< side of the square matmul
  double matmul_gflops = 0;         ///< its best rate, GFLOP/s
  double aten_normal_ns = 0;        ///< at::normal_ on a large tensor, ns per number
  double lrlab_normal_ns = 0;       ///< NormalGenerator::fill, ns per number (CPU; 0 on CUDA)
  double best_normal_ns = 0;        ///< the faster of the two
  std::string best_normal;          ///< "aten" or "lrlab"
};

/// Measures the limits on `device` in `dtype` (about 6 x min_seconds).
Roofline measure_roofline(c10::Device device, at::ScalarType dtype, double min_seconds);

/// Read bandwidth in bytes per second for a working set of `bytes` bytes on `device` (CPU: a
/// vectorised sum of squares, repeated; CUDA: at::sum).
double read_bandwidth(c10::Device device, at::ScalarType dtype, int64_t bytes, double min_seconds);

}  // namespace lrlab::bench
