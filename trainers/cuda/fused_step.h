#pragma once
/// The fused step of online SGD (docs/kernels.md, "Fused CUDA step"): every replica's updates between
/// two metric records in one launch of the CUDA kernel (fused_step.cu), one thread block per replica,
/// with Philox samples drawn inside (philox.h). This is the ATen glue: it gathers the components'
/// descriptors (models/fused_descriptor.h), decides whether the step applies and why not, and hands
/// raw pointers to the kernel. On a CPU model the same maths runs through fused::host_steps, which is
/// how the CPU build tests it (tests/trainers/cuda/); OnlineStep (trainers/online_step.h) chooses this
/// step only for models on CUDA in builds with LRLAB_CUDA_FUSED.

#include <ATen/ATen.h>

#include <memory>
#include <string>

#include "models/register.h"

namespace lrlab::trainers {

class UpdateRule;

/// The fused step of one model (built once per training run).
class FusedStep {
 public:
  /// The fused step for `model` (CPU or CUDA), or nullptr when it does not apply, with `why` saying
  /// why: dtype, update rule, a component without a descriptor, or a shape above the kernel's limits.
  /// The gradient must be analytic (the caller's choice).
  static std::unique_ptr<FusedStep> make(models::Model& model, int64_t batch, bool spherical, UpdateRule& rule,
                                         std::string* why);
  /// True when this build has the CUDA kernel (LRLAB_CUDA_FUSED).
  static bool built();
  virtual ~FusedStep() = default;
  /// Updates first .. first + n - 1 (counted from 1) of every replica in one launch, with learning
  /// rates lr [R] (before each parameter's lr_scale) and, when defined, decay [R] = lr * weight_decay,
  /// both constant over the n steps. Returns the mean over the n steps of each step's batch loss [R]
  /// when `want_loss` (valid until the next call), else an undefined tensor.
  virtual at::Tensor steps(int64_t first, int64_t n, const at::Tensor& lr, const at::Tensor& decay,
                           bool want_loss) = 0;
  /// Tests: the next steps() call of n steps uses inputs x [n, R, B, d] and label noise eps [n, R, B]
  /// (model dtype and device; eps undefined when no replica has label noise) instead of its draws.
  virtual void inject(const at::Tensor& x, const at::Tensor& eps) = 0;
};

/// The path name OnlineStep reports for a model on CUDA: "cuda_fused" when the fused step was made, else
/// "batched (<why>)" with, in this order, "fused CUDA step disabled" (`allow`: trainer.fused),
/// "built without the fused CUDA step" (`built`: FusedStep::built()), or `why_not` from FusedStep::make.
std::string fused_path_name(bool allow, bool built, bool made, const std::string& why_not);

}  // namespace lrlab::trainers
