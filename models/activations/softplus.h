#pragma once
/// Softplus activation sigma(z) = log(1 + exp(beta z)) / beta; its kernel is 2-D Gauss-Hermite quadrature.

#include "models/activation.h"

namespace lrlab::models {

/// Options of `softplus` (YAML: `{type: softplus, beta: 1.0, quadrature_nodes: 40}`).
struct SoftplusOptions {
  /// Sharpness beta > 0 (beta -> infinity tends to ReLU); 1 is the usual softplus.
  double beta = 1.0;
  /// Gauss-Hermite nodes per dimension of the quadrature kernel (2..300). The rule resolves sigma's
  /// features down to about |a| pi / sqrt(2n) in z: 40 serves norms up to ~1 (errors ~1e-6 or less);
  /// norms ~2.5 need ~160 (tanh at |a| = |b| = 2.5: error 5e-3 with 40 nodes, 3e-6 with 160).
  int quadrature_nodes = 40;
  /// Reads the options from the activation's config section, validates them (errors name the key)
  /// and rejects unknown keys (cfg.finish()).
  static SoftplusOptions from_config(const Config& cfg);
};

/// sigma(z) = log(1 + exp(beta z)) / beta, evaluated stably for all z; K(a, b) by quadrature.
class Softplus : public Activation {
 public:
  /// Builds from options set in code; invalid options throw ConfigError naming the option.
  explicit Softplus(const SoftplusOptions& options = {});
  /// Builds from a config section (reads, validates and finishes it).
  explicit Softplus(const Config& cfg);
  /// "softplus".
  std::string type() const override { return "softplus"; }
  /// log(1 + exp(beta z)) / beta; z any shape.
  at::Tensor value(const at::Tensor& z) const override;
  /// sigmoid(beta z); z any shape.
  at::Tensor derivative(const at::Tensor& z) const override;
  /// True: cpu_values is provided.
  bool has_cpu_values() const override { return true; }
  /// Scalar CPU kernel (the expressions of value/derivative in double precision).
  void cpu_values(const double* z, double* v, double* dv, int64_t n) const override;
  /// The fused CUDA step's descriptor (kind kSoftplus).
  std::optional<fused::ActivationDesc> cuda_descriptor(std::string* why) const override;
  /// The sharpness beta.
  double beta() const { return beta_; }

 private:
  double beta_;
};

}  // namespace lrlab::models
