#pragma once
/// Logistic sigmoid activation; its kernel is 2-D Gauss-Hermite quadrature.

#include "models/activation.h"

namespace lrlab::models {

/// Options of `sigmoid` (YAML: `{type: sigmoid, quadrature_nodes: 40}`).
struct SigmoidOptions {
  /// Gauss-Hermite nodes per dimension of the quadrature kernel (2..300). The rule resolves sigma's
  /// features down to about |a| pi / sqrt(2n) in z: 40 serves norms up to ~1 (errors ~1e-6 or less);
  /// norms ~2.5 need ~160 (tanh at |a| = |b| = 2.5: error 5e-3 with 40 nodes, 3e-6 with 160).
  int quadrature_nodes = 40;
  /// Reads the options from the activation's config section, validates them (errors name the key)
  /// and rejects unknown keys (cfg.finish()).
  static SigmoidOptions from_config(const Config& cfg);
};

/// sigma(z) = 1 / (1 + exp(-z)); K(a, b) by quadrature (no closed form).
class Sigmoid : public Activation {
 public:
  /// Builds from options set in code; invalid options throw ConfigError naming the option.
  explicit Sigmoid(const SigmoidOptions& options = {});
  /// Builds from a config section (reads, validates and finishes it).
  explicit Sigmoid(const Config& cfg);
  /// "sigmoid".
  std::string type() const override { return "sigmoid"; }
  /// 1 / (1 + exp(-z)); z any shape.
  at::Tensor value(const at::Tensor& z) const override;
  /// sigmoid(z) (1 - sigmoid(z)); z any shape.
  at::Tensor derivative(const at::Tensor& z) const override;
  /// True: cpu_values is provided.
  bool has_cpu_values() const override { return true; }
  /// Scalar CPU kernel (the expressions of value/derivative in double precision).
  void cpu_values(const double* z, double* v, double* dv, int64_t n) const override;
  /// The fused CUDA step's descriptor (kind kSigmoid).
  std::optional<fused::ActivationDesc> cuda_descriptor(std::string* why) const override;
};

}  // namespace lrlab::models
