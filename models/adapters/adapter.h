#pragma once
/// The adapter interface: the trainable part of the student f(x) = lam^T sigma((W + Delta(theta)) x).
///
/// Two gradient paths share one forward pass:
///  - analytic: `forward` then `backward` fill every Parameter::grad with the hand-derived gradient
///    (MATH.md; each adapter documents its derivation with shapes);
///  - autograd: the same `forward` is built from differentiable ATen ops, so autograd can be run
///    through it (used by `grad: autograd` and by the gradient checks in the tests).

#include <ATen/ATen.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/adapters/adapter_kernel.h"
#include "models/base_network.h"
#include "models/fused_descriptor.h"
#include "models/teacher.h"

namespace lrlab {
struct Context;
}

namespace lrlab::models {

/// One trainable tensor of an adapter, stacked over replicas: value [R, ...].
struct Parameter {
  std::string name;          ///< "u", "c", "A", "B", ...
  at::Tensor value;          ///< [R, ...]
  at::Tensor grad;           ///< same shape as value; filled by backward (analytic) or autograd
  bool on_sphere = false;    ///< value[r] lies on the unit sphere: trainers take the spherical step
  double lr_scale = 1.0;     ///< per-parameter-group learning-rate multiplier (e.g. LoRA+ ratio on B)
};

/// What an adapter may look at when it is built.
struct AdapterInputs {
  const Context& ctx;                          ///< device, dtype, seeds
  std::shared_ptr<const BaseNetwork> base;     ///< the frozen base network
  std::shared_ptr<const Teacher> teacher;      ///< the teacher (for "known c" and data-driven inits)
};

/// Base class of every adapter.
class Adapter {
 public:
  virtual ~Adapter() = default;
  /// Registry key of the concrete type.
  virtual std::string type() const = 0;
  /// The trainable parameters, in a fixed order.
  virtual std::vector<Parameter*> parameters() = 0;
  /// Frozen tensors [R, ...] that define the adapter besides its parameters (VeRA's random A and B,
  /// PiSSA's frozen top-r part): saved and loaded with it, never trained. Default: none.
  virtual std::vector<Parameter*> buffers() { return {}; }

  /// Student pre-activations h = (W + Delta) x: x [R, B, d], wx = W x [R, B, k] -> [R, B, k].
  virtual at::Tensor preactivations(const at::Tensor& x, const at::Tensor& wx) = 0;
  /// Hand-derived gradients from g = dl/dh [R, B, k] (the batch mean is already in g): sets every
  /// Parameter::grad. `x` and `wx` are the arguments of the preceding `preactivations` call.
  virtual void backward_preactivations(const at::Tensor& x, const at::Tensor& wx, const at::Tensor& g) = 0;

  /// Student output f [R, B] (default: lam^T sigma(h)); caches h for `backward`.
  virtual at::Tensor forward(const at::Tensor& x, const at::Tensor& wx);
  /// Hand-derived gradients from df = dl/df [R, B] (batch mean included): by default
  /// g = df lam (.) sigma'(h), then backward_preactivations.
  virtual void backward(const at::Tensor& x, const at::Tensor& wx, const at::Tensor& df);

  /// Delta [R, k, d] as a dense matrix (for metrics and saving only).
  virtual at::Tensor delta() const = 0;
  /// The student's effective first layer [R, k, d] (W + Delta by default; DoRA renormalises).
  virtual at::Tensor effective_weight() const { return base_->weight() + delta(); }
  /// An orthonormal basis [R, d, r] of the top-r row space of Delta (default: SVD of delta()).
  virtual at::Tensor row_space(int64_t r) const;
  /// Called after every parameter update (e.g. to keep derived quantities in sync).
  virtual void after_update() {}
  /// The CPU kernel of this adapter for `dtype` (models/adapters/adapter_kernel.h), used by the fast
  /// online-SGD path; nullptr when there is none, with `why` (if given) saying why. Default: none.
  virtual std::unique_ptr<AdapterKernelBase> cpu_kernel(at::ScalarType dtype, std::string* why);
  /// The descriptor of this adapter for the fused CUDA step (models/fused_descriptor.h), or none with
  /// `why` (if given) saying why. Default: none.
  virtual std::optional<fused::AdapterDesc> cuda_descriptor(std::string* why);

  /// The base network this adapter modifies.
  const BaseNetwork& base() const { return *base_; }

 protected:
  /// Keeps the base network.
  explicit Adapter(std::shared_ptr<const BaseNetwork> base) : base_(std::move(base)) {}

  std::shared_ptr<const BaseNetwork> base_;
  at::Tensor h_;  // pre-activations [R, B, k] of the last forward (for backward)
};

/// The learning-rate-free gradient of the per-sample squared loss through the output layer:
/// g = df lam (.) sigma'(h): df [R, B], lam [R, k], h [R, B, k] -> [R, B, k].
at::Tensor output_to_preactivation_grad(const BaseNetwork& base, const at::Tensor& h, const at::Tensor& df);

}  // namespace lrlab::models
