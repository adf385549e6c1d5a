#pragma once
/// The erf activation sigma(z) = erf(z / sqrt 2) with its closed-form (arcsine) kernel.

#include "models/activation.h"

namespace lrlab::models {

/// Options of `erf` (YAML: `{type: erf, quadrature_nodes: 40}`).
struct ErfOptions {
  /// Gauss-Hermite nodes per dimension used by `gauss_hermite_expectation` (2..300); the kernel itself
  /// is a closed form.
  int quadrature_nodes = 40;
  /// Reads the options from the activation's config section, validates them (errors name the key)
  /// and rejects unknown keys (cfg.finish()).
  static ErfOptions from_config(const Config& cfg);
};

/// sigma(z) = erf(z / sqrt 2) = 2 Phi(z) - 1 (MATH.md's scaling; Phi the standard normal CDF, so
/// sigma'(0) = sqrt(2/pi)), with K(a, b) = (2/pi) arcsin(<a,b> / sqrt((1+|a|^2)(1+|b|^2))) in closed form.
class Erf : public Activation {
 public:
  /// Builds from options set in code; invalid options throw ConfigError naming the option.
  explicit Erf(const ErfOptions& options = {});
  /// Builds from a config section (reads, validates and finishes it).
  explicit Erf(const Config& cfg);
  /// "erf".
  std::string type() const override { return "erf"; }
  /// erf(z / sqrt 2); z any shape.
  at::Tensor value(const at::Tensor& z) const override;
  /// sqrt(2/pi) exp(-z^2 / 2); z any shape.
  at::Tensor derivative(const at::Tensor& z) const override;
  /// Closed form (numerical care documented in the .cpp): saa = |a|^2, sbb = |b|^2, sab = <a, b>,
  /// broadcastable tensors of one floating dtype; the result has the broadcast shape.
  at::Tensor kernel(const at::Tensor& saa, const at::Tensor& sbb, const at::Tensor& sab) const override;
  /// True: cpu_values is provided.
  bool has_cpu_values() const override { return true; }
  /// Scalar CPU kernel (the expressions of value/derivative in double precision).
  void cpu_values(const double* z, double* v, double* dv, int64_t n) const override;
  /// The fused CUDA step's descriptor (kind kErf).
  std::optional<fused::ActivationDesc> cuda_descriptor(std::string* why) const override;
  /// True: the kernel is a closed form.
  bool kernel_is_exact() const override { return true; }
};

}  // namespace lrlab::models
