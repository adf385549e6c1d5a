#pragma once
/// One step of online SGD for every replica of a model, the way the `online_sgd` trainer takes it:
/// fresh samples, labels, gradients, (weight decay,) update. The trainer's loop and the benchmark
/// (bench/) call this same function, so the benchmark measures the trainer's own code path.
///
/// Two implementations, chosen once at construction:
///  - fused (CPU, analytic gradients, rank1/lora adapters, low_rank teacher, a registered activation):
///    trainers/fused_step.h, plain loops per replica, no LibTorch operation per step;
///  - batched ATen (everything else, CUDA included): DataSampler::next_inputs, W x shared by teacher
///    and student, compute_gradients, apply_weight_decay, gradient_step, each a few tensor ops over
///    the whole [R, B, ...] group.
/// Both draw the same samples (per-replica streams on the CPU) and compute the same update to
/// rounding (tests/trainers/fused_step_test.cpp).

#include <ATen/ATen.h>

#include <memory>
#include <string>

#include "models/register.h"
#include "trainers/data_sampler.h"
#include "trainers/fused_step.h"
#include "trainers/gradients.h"

namespace lrlab::trainers {

/// The online-SGD step of one model (built once per training run; holds the sampler).
class OnlineStep {
 public:
  /// `batch`: samples per step B; `path`: gradient path (autograd marks the parameters as requiring
  /// grad); `spherical`: Riemannian step on the sphere; `allow_fused`: use the fused CPU step where
  /// it applies (analytic path only).
  OnlineStep(models::Model& model, int64_t batch, GradPath path, bool spherical, bool allow_fused = true);
  /// One step of every replica with learning rates lr [R] and, when defined, decay [R] = lr *
  /// weight_decay (decoupled weight decay). Returns the loss [R] of the step's batch when
  /// `want_loss` (valid until the next step), else an undefined tensor.
  at::Tensor step(const at::Tensor& lr, const at::Tensor& decay, bool want_loss);
  /// True when the fused CPU step is in use.
  bool fused() const { return fused_ != nullptr; }
  /// The fused step (nullptr when the batched path is in use).
  const FusedStep* fused_step() const { return fused_.get(); }
  /// "fused" or "batched (<why the fused step does not apply>)".
  const std::string& implementation() const { return implementation_; }
  /// The sampler (its per-replica streams).
  DataSampler& sampler() { return sampler_; }

 private:
  models::Model& model_;
  GradPath path_;
  bool spherical_;
  bool noisy_;  // some replica has label noise: eps is drawn every step
  DataSampler sampler_;
  std::unique_ptr<FusedStep> fused_;
  std::string implementation_;
};

}  // namespace lrlab::trainers
