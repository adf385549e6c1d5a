#pragma once
/// ReLU activation with the closed-form arc-cosine kernel.

#include "models/activation.h"

namespace lrlab::models {

/// Options of `relu` (YAML: `{type: relu, quadrature_nodes: 40}`).
struct ReluOptions {
  /// Gauss-Hermite nodes per dimension used by `gauss_hermite_expectation` (2..300); the kernel itself
  /// is a closed form.
  int quadrature_nodes = 40;
  /// Reads the options from the activation's config section, validates them (errors name the key)
  /// and rejects unknown keys (cfg.finish()).
  static ReluOptions from_config(const Config& cfg);
};

/// sigma(z) = max(z, 0); K(a, b) = |a||b| (sin t + (pi - t) cos t) / (2 pi) in closed form (MATH.md).
class Relu : public Activation {
 public:
  /// Builds from options set in code; invalid options throw ConfigError naming the option.
  explicit Relu(const ReluOptions& options = {});
  /// Builds from a config section (reads, validates and finishes it).
  explicit Relu(const Config& cfg);
  /// "relu".
  std::string type() const override { return "relu"; }
  /// max(z, 0); z any shape.
  at::Tensor value(const at::Tensor& z) const override;
  /// 1[z > 0] (0 at z = 0); z any shape.
  at::Tensor derivative(const at::Tensor& z) const override;
  /// Closed form (numerical care documented in the .cpp): saa = |a|^2, sbb = |b|^2, sab = <a, b>,
  /// broadcastable tensors of one floating dtype; the result has the broadcast shape.
  at::Tensor kernel(const at::Tensor& saa, const at::Tensor& sbb, const at::Tensor& sab) const override;
  /// True: cpu_values is provided.
  bool has_cpu_values() const override { return true; }
  /// Scalar CPU kernel (the expressions of value/derivative in double precision).
  void cpu_values(const double* z, double* v, double* dv, int64_t n) const override;
  /// The fused CUDA step's descriptor (kind kRelu).
  std::optional<fused::ActivationDesc> cuda_descriptor(std::string* why) const override;
  /// True: the kernel is a closed form.
  bool kernel_is_exact() const override { return true; }
};

}  // namespace lrlab::models
