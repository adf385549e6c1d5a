#pragma once
/// The teacher: the base network with a perturbed first layer W* = W + Delta*, plus label noise.

#include <ATen/ATen.h>

#include <memory>
#include <optional>
#include <string>

#include "models/base_network.h"
#include "models/fused_descriptor.h"
#include "models/teacher_kernel.h"

namespace lrlab::models {

/// A teacher built on a base network. Labels reuse the base pre-activations W x, so the teacher adds
/// only the cost of its perturbation.
class Teacher {
 public:
  virtual ~Teacher() = default;
  /// Registry key of the concrete type.
  virtual std::string type() const = 0;
  /// Teacher pre-activations W* x = W x + Delta* x: x [R, B, d], wx = W x [R, B, k] -> [R, B, k].
  virtual at::Tensor preactivations(const at::Tensor& x, const at::Tensor& wx) const = 0;
  /// Delta* [R, k, d] (dense; for metrics and saving, not for the hot path).
  virtual at::Tensor delta() const = 0;
  /// Orthonormal basis U* [R, d, r] of Delta*'s row space.
  virtual const at::Tensor& subspace() const = 0;
  /// Rank r of the perturbation.
  virtual int64_t rank() const = 0;
  /// Label noise standard deviation tau [R].
  virtual const at::Tensor& tau() const = 0;

  /// The perturbed first layer W* = W + Delta* [R, k, d].
  at::Tensor weight() const { return base().weight() + delta(); }
  /// Clean teacher outputs f_{W*}(x) [R, B].
  at::Tensor clean_labels(const at::Tensor& x, const at::Tensor& wx) const {
    return base().output(preactivations(x, wx));
  }
  /// Noisy labels y = f_{W*}(x) + tau eps, eps [R, B] standard normal.
  at::Tensor labels(const at::Tensor& x, const at::Tensor& wx, const at::Tensor& eps) const {
    return clean_labels(x, wx) + tau().unsqueeze(1) * eps;
  }
  /// The base network it perturbs.
  virtual const BaseNetwork& base() const = 0;
  /// The CPU kernel of this teacher for `dtype` (models/teacher_kernel.h), or nullptr with `why` set.
  /// Default: none.
  virtual std::unique_ptr<TeacherKernelBase> cpu_kernel(at::ScalarType dtype, std::string* why) const {
    if (why) *why = "teacher '" + type() + "' provides no CPU kernel";
    return nullptr;
  }
  /// The descriptor of this teacher for the fused CUDA step (models/fused_descriptor.h), or none with
  /// `why` (if given) saying why. Default: none.
  virtual std::optional<fused::TeacherDesc> cuda_descriptor(std::string* why) const {
    if (why) *why = "teacher '" + type() + "' has no fused CUDA step";
    return std::nullopt;
  }
};

}  // namespace lrlab::models
