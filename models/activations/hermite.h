#pragma once
/// Hermite activations sigma = sum_p a_p He_p / p! (probabilists' Hermite polynomials, MATH.md):
/// a single He_p (p = 1..6) or a user-given coefficient list, with the exact population kernel.

#include <vector>

#include "models/activation.h"

namespace lrlab::models {

/// Options of `hermite`: exactly one of `p` and `coefficients`.
/// YAML: `{type: hermite, p: 3}` (sigma = He_3) or `{type: hermite, coefficients: [0, 1, 0, 2]}`
/// (sigma = He_1 + 2 He_3 / 3!), optionally `normalize: true`.
struct HermiteOptions {
  /// Degree of sigma = He_p, 1..6; 0 means "not given" (then `coefficients` must be).
  int p = 0;
  /// a_0, a_1, ..., a_P of sigma = sum_p a_p He_p / p! (a_p = E[sigma(z) He_p(z)], z ~ N(0, 1));
  /// empty means "not given". At most 31 entries (degree 30), some a_p with p >= 1 non-zero.
  std::vector<double> coefficients;
  /// When true, sigma is rescaled to E[sigma(z)^2] = 1 for z ~ N(0, 1) (He_p becomes He_p / sqrt(p!)).
  bool normalize = false;
  /// Gauss-Hermite nodes per dimension of `gauss_hermite_expectation` (the kernel itself is exact).
  int quadrature_nodes = 40;
  /// Reads the options from the activation's config section (only the keys present: `p` or
  /// `coefficients`), validates them (errors name the key) and rejects unknown keys (cfg.finish()).
  static HermiteOptions from_config(const Config& cfg);
};

/// sigma = sum_p a_p He_p / p! with value, derivative (He_p' = p He_{p-1}) and the exact kernel for
/// any norms (derivation in hermite.cpp).
class Hermite : public Activation {
 public:
  /// Builds from options set in code; invalid options throw ConfigError naming the option.
  explicit Hermite(const HermiteOptions& options);
  /// Builds from a config section (reads, validates and finishes it).
  explicit Hermite(const Config& cfg);
  /// "hermite".
  std::string type() const override { return "hermite"; }
  /// sum_p a_p He_p(z) / p!; z any shape.
  at::Tensor value(const at::Tensor& z) const override;
  /// sum_{p>=1} a_p He_{p-1}(z) / (p-1)!; z any shape.
  at::Tensor derivative(const at::Tensor& z) const override;
  /// Exact polynomial in saa, sbb, sab (valid for any norms, zero vectors included); broadcasting,
  /// result has the broadcast shape.
  at::Tensor kernel(const at::Tensor& saa, const at::Tensor& sbb, const at::Tensor& sab) const override;
  /// True: cpu_values is provided.
  bool has_cpu_values() const override { return true; }
  /// Scalar CPU kernel (the expressions of value/derivative in double precision).
  void cpu_values(const double* z, double* v, double* dv, int64_t n) const override;
  /// The fused CUDA step's descriptor (kind kHermite).
  std::optional<fused::ActivationDesc> cuda_descriptor(std::string* why) const override;
  /// True: the kernel is a closed form.
  bool kernel_is_exact() const override { return true; }
  /// The coefficients a_0..a_P of sigma = sum_p a_p He_p / p! (after normalisation; for `p` they are
  /// zero except a_p = p!, or sqrt(p!) when normalised).
  const std::vector<double>& coefficients() const { return coefficients_; }
  /// The information exponent: the smallest p >= 1 with a_p != 0.
  int information_exponent() const { return information_exponent_; }

 private:
  std::vector<double> coefficients_;  // a_p, p = 0..P
  std::vector<double> value_coef_;       // a_p / p!      (sigma  = sum_p value_coef_p He_p)
  std::vector<double> derivative_coef_;  // a_{p+1} / p!  (sigma' = sum_p derivative_coef_p He_p)
  int information_exponent_ = 0;
};

}  // namespace lrlab::models
