#pragma once
/// Fresh Gaussian inputs for online training, one independent stream per replica.
///
/// On the CPU each replica draws from its own NormalGenerator (seeded by the run seed and the stream),
/// always in the same order (its inputs x, then its label noise eps when the step needs it), so
/// replica i of a stacked group sees exactly the samples of the same seed run alone, whichever path
/// (batched next_inputs or the fused per-replica draw_inputs) consumes them.
/// On CUDA one device generator, seeded by the first replica's seed, fills the whole [R, B, d] block in
/// one kernel (a stream per replica would cost R launches per step): runs are reproducible, but a
/// replica's samples then depend on the group it ran in.

#include <ATen/ATen.h>

#include <vector>

#include "framework/context.h"
#include "trainers/normal_generator.h"

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

  /// CPU only: replica r's next inputs [B, d] (row-major, B d numbers) written to `out`; the same
  /// numbers next_inputs() would put in x[r].
  void draw_inputs(int64_t r, float* out) { generators_[r].fill(out, batch_ * d_); }
  /// CPU only: as above in double precision.
  void draw_inputs(int64_t r, double* out) { generators_[r].fill(out, batch_ * d_); }
  /// CPU only: replica r's next label noise [B] (what next_noise() would put in eps[r]).
  void draw_noise(int64_t r, float* out) { generators_[r].fill(out, batch_); }
  /// CPU only: as above in double precision.
  void draw_noise(int64_t r, double* out) { generators_[r].fill(out, batch_); }

  /// Samples per step B.
  int64_t batch() const { return batch_; }
  /// Input dimension d.
  int64_t d() const { return d_; }
  /// True when the per-replica CPU generators are in use (draw_inputs / draw_noise are available).
  bool per_replica() const { return !generators_.empty(); }

 private:
  void fill(at::Tensor& t);
  Context ctx_;
  int64_t batch_, d_;
  std::vector<NormalGenerator> generators_;  // CPU: one per replica
  at::Generator device_generator_;           // CUDA: one for the group
  at::Tensor x_, eps_;
};

}  // namespace lrlab::trainers
