#pragma once
/// The kernel path of online training (see trainers/online_step.h): for each replica, in plain loops
/// over raw arrays with no LibTorch operation and no allocation per step, draw the batch from the
/// replica's stream, compute W x_b, the teacher's and the adapter's row products in one pass over x
/// (the components' CPU kernels: models/adapters/adapter_kernel.h, models/teacher_kernel.h,
/// Activation::cpu_values), the labels, the loss, g = dL/dh, the adapter's parameter gradients, and
/// apply the update rule's raw version with the shared steps of trainers/parameter_ops.h
/// (docs/kernels.md). Gradients of every parameter are computed before any is updated, so the result
/// equals the batched path's to rounding (tests/trainers/kernel_step_test.cpp).
///
/// With more than one intra-op thread (at::set_num_threads) and at least 131072 numbers drawn per step,
/// the replicas are split across threads (at::parallel_for, OpenMP: kernel_step.cpp is compiled with the
/// OpenMP flag, see trainers/CMakeLists.txt). Each replica draws from its own stream, so the result
/// does not depend on the thread count.

#include <ATen/ATen.h>

#include <memory>
#include <string>

#include "models/register.h"
#include "trainers/data_sampler.h"

namespace lrlab::trainers {

class UpdateRule;

/// The kernel step for one model (built once per training run).
class KernelStep {
 public:
  /// The kernel step for `model`, or nullptr when it does not apply; then `why` says why (not on the
  /// CPU, dtype not float32/float64, a component without a CPU kernel, ...).
  static std::unique_ptr<KernelStep> make(models::Model& model, int64_t batch, bool spherical, UpdateRule& rule,
                                          std::string* why);
  virtual ~KernelStep() = default;
  /// One update (`step`, from 1) of every replica: draws from `sampler` (x, then eps when `noisy`),
  /// learning rates lr [R], decay [R] = lr * weight_decay when defined. Returns the loss [R] when
  /// `want_loss` (a buffer reused by the next step), else an undefined tensor.
  virtual at::Tensor step(DataSampler& sampler, int64_t step, const at::Tensor& lr, const at::Tensor& decay,
                          bool noisy, bool want_loss) = 0;
  /// How many threads ran replicas in the last step.
  virtual int threads_used() const = 0;
  /// True when the kernel step was compiled with OpenMP (else it runs on one thread).
  static bool parallel_available();
};

}  // namespace lrlab::trainers
