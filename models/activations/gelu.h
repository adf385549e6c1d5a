#pragma once
/// GELU activation in its exact erf form; its kernel is 2-D Gauss-Hermite quadrature.

#include "models/activation.h"

namespace lrlab::models {

/// Options of `gelu` (YAML: `{type: gelu, quadrature_nodes: 40}`).
struct GeluOptions {
  /// Gauss-Hermite nodes per dimension of the quadrature kernel (2..300). The rule resolves sigma's
  /// features down to about |a| pi / sqrt(2n) in z: 40 serves norms up to ~1 (errors ~1e-6 or less);
  /// norms ~2.5 need ~160 (tanh at |a| = |b| = 2.5: error 5e-3 with 40 nodes, 3e-6 with 160).
  int quadrature_nodes = 40;
  /// Reads the options from the activation's config section, validates them (errors name the key)
  /// and rejects unknown keys (cfg.finish()).
  static GeluOptions from_config(const Config& cfg);
};

/// sigma(z) = z Phi(z) = z (1 + erf(z / sqrt 2)) / 2 (the exact form, not the tanh approximation);
/// K(a, b) by quadrature.
class Gelu : public Activation {
 public:
  /// Builds from options set in code; invalid options throw ConfigError naming the option.
  explicit Gelu(const GeluOptions& options = {});
  /// Builds from a config section (reads, validates and finishes it).
  explicit Gelu(const Config& cfg);
  /// "gelu".
  std::string type() const override { return "gelu"; }
  /// z Phi(z); z any shape.
  at::Tensor value(const at::Tensor& z) const override;
  /// Phi(z) + z phi(z), phi the standard normal density; z any shape.
  at::Tensor derivative(const at::Tensor& z) const override;
  /// True: cpu_values is provided.
  bool has_cpu_values() const override { return true; }
  /// Scalar CPU kernel (the expressions of value/derivative in double precision).
  void cpu_values(const double* z, double* v, double* dv, int64_t n) const override;
  /// The fused CUDA step's descriptor (kind kGelu).
  std::optional<fused::ActivationDesc> cuda_descriptor(std::string* why) const override;
};

}  // namespace lrlab::models
