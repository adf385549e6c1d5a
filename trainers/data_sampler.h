#pragma once
/// Fresh Gaussian inputs for online training, one independent stream per replica.
///
/// On the CPU each replica draws from its own generator (seeded by the run seed), so replica i of a
/// stacked group sees exactly the samples of the same seed run alone. On CUDA one device generator,
/// seeded by the first replica's seed, fills the whole [R, B, d] block in one kernel (a stream per
/// replica would cost R launches per step): runs are reproducible, but a replica's samples then depend
/// on the group it ran in.

#include <ATen/ATen.h>

#include <vector>

#include "framework/context.h"

namespace lrlab::trainers {

/// Draws x [R, B, d] ~ N(0, I) and label noise eps [R, B].
class DataSampler {
 public:
  /// Generators for `stream` of every replica of `ctx`.
  DataSampler(const Context& ctx, int64_t batch, int64_t d, Stream stream = Stream::kData);
  /// Fills and returns the next x [R, B, d] (the same buffer every call: no allocation per step).
  const at::Tensor& next_inputs();
  /// Fills and returns the next eps [R, B].
  const at::Tensor& next_noise();
  /// Fresh inputs [R, n, d] (allocates; for data sets and initialisation samples).
  at::Tensor inputs(int64_t n);

 private:
  void fill(at::Tensor& t);
  Context ctx_;
  std::vector<at::Generator> generators_;
  at::Tensor x_, eps_;
};

}  // namespace lrlab::trainers
