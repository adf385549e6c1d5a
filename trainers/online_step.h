#pragma once
/// One step of online training for every replica of a model: fresh samples, labels, gradients, and the
/// update (trainers/update_rule.h, with the shared steps of trainers/parameter_ops.h). The descent loop
/// and the benchmark (bench/) call this same class, so the benchmark measures the trainer's own path.
///
/// Four paths, chosen once at construction (one place decides; `path()` says which ran and why):
///  - cuda_fused: on CUDA, analytic gradients, in builds with LRLAB_CUDA_FUSED, when the activation,
///    the teacher and the adapter each provide a descriptor and the rule is sgd: trainers/cuda/
///    fused_step.h runs every replica's steps between two records in one kernel launch (`steps`),
///    with its own counter-based samples (trainers/cuda/philox.h: same distribution as the CPU
///    streams, not the same numbers);
///  - kernel: on the CPU, analytic gradients, when the adapter, the teacher and the activation each
///    provide a CPU kernel and the update rule has a raw version: trainers/kernel_step.h runs each
///    replica's whole step (sampling, forward, backward, update) in plain loops;
///  - batched: tensor ops over the whole [R, B, ...] group (any device): DataSampler::next_inputs,
///    W x shared by teacher and student, compute_gradients, apply_updates;
///  - autograd: as batched, with the gradient from autograd through the same forward pass.
/// The kernel and batched paths draw the same samples (per-replica CPU streams) and compute the same
/// update to rounding (tests/trainers/kernel_step_test.cpp checks every registered adapter).

#include <ATen/ATen.h>

#include <memory>
#include <string>

#include "models/register.h"
#include "trainers/data_sampler.h"
#include "trainers/gradients.h"

namespace lrlab::trainers {

class FusedStep;
class KernelStep;
class UpdateRule;

/// The online step of one model (built once per training run; holds the sampler).
class OnlineStep {
 public:
  /// `batch`: samples per step B; `path`: analytic or autograd gradients; `spherical`: tangent
  /// projection on the sphere; `rule`: the update rule (kept by reference, must outlive this);
  /// `allow_kernel`: use the kernel path where it applies; `allow_fused`: use the fused CUDA step where
  /// it applies (the `fused: auto | off` option of the online data source).
  OnlineStep(models::Model& model, int64_t batch, GradPath path, bool spherical, UpdateRule& rule,
             bool allow_kernel = true, bool allow_fused = true);
  ~OnlineStep();
  /// Update `step` (counted from 1) of every replica with learning rates lr [R] (before each
  /// parameter's lr_scale) and, when defined, decay [R] = lr * weight_decay. Returns the loss [R] of the
  /// step's batch when `want_loss` (valid until the next step), else an undefined tensor.
  at::Tensor step(int64_t step, const at::Tensor& lr, const at::Tensor& decay, bool want_loss);
  /// Updates first .. first + n - 1 with rates lr [R] and decay [R] constant over them: one launch on
  /// the fused path (multi_step()), else n calls of step(). Returns the mean over the n steps of each
  /// step's batch loss [R] when `want_loss`, else an undefined tensor.
  at::Tensor steps(int64_t first, int64_t n, const at::Tensor& lr, const at::Tensor& decay, bool want_loss);
  /// True when steps() runs many updates at once (the fused CUDA path): the descent loop then covers
  /// the updates between two records with one call.
  bool multi_step() const { return fused_ != nullptr; }
  /// The fused step (nullptr on the other paths).
  FusedStep* fused_step() const { return fused_.get(); }
  /// True when the kernel path is in use.
  bool kernel() const { return kernel_ != nullptr; }
  /// The kernel step (nullptr on the batched and autograd paths).
  const KernelStep* kernel_step() const { return kernel_.get(); }
  /// "kernel", "cuda_fused", "batched (<why the kernel or fused path does not apply>)" or "autograd".
  const std::string& path() const { return path_; }
  /// The sampler (its per-replica streams).
  DataSampler& sampler() { return sampler_; }

 private:
  // The path (and its step object): the one place that decides.
  std::string choose(int64_t batch, bool allow_kernel, bool allow_fused);
  models::Model& model_;
  GradPath grad_path_;
  bool spherical_;
  UpdateRule& rule_;
  bool noisy_;  // some replica has label noise: eps is drawn every step
  DataSampler sampler_;
  std::unique_ptr<KernelStep> kernel_;
  std::unique_ptr<FusedStep> fused_;
  std::string path_;
};

}  // namespace lrlab::trainers
