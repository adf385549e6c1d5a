#pragma once
/// Scalar (one number at a time) versions of the registered activations, for the fused CPU step.
///
/// The tensor activations (models/activations/) stay the reference: each scalar formula here is the
/// same expression evaluated in double precision, and tests/trainers/scalar_activation_test.cpp checks
/// them against the tensor versions. An activation type without a scalar version (a user's new one)
/// makes `from` return nothing, and the trainer keeps the batched ATen path.

#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "models/activation.h"

namespace lrlab::trainers {

/// sigma and sigma' of one registered activation on doubles.
class ScalarActivation {
 public:
  /// The activation families with a scalar version.
  enum class Kind { kRelu, kTanh, kErf, kSigmoid, kGelu, kSoftplus, kHermite };

  /// The scalar version of `act` (exact type relu, tanh, erf, sigmoid, gelu, softplus or hermite),
  /// or nothing for other types.
  static std::optional<ScalarActivation> from(const models::Activation& act);

  /// Which family.
  Kind kind() const { return kind_; }
  /// sigma(z).
  double value(double z) const {
    switch (kind_) {
      case Kind::kRelu: return !(z <= 0) ? z : 0.0;  // NaN stays NaN, as at::relu (divergence shows in the loss)
      case Kind::kTanh: return std::tanh(z);
      case Kind::kErf: return std::erf(z * M_SQRT1_2);
      case Kind::kSigmoid: return 1.0 / (1.0 + std::exp(-z));
      case Kind::kGelu: return 0.5 * z * (1.0 + std::erf(z * M_SQRT1_2));
      case Kind::kSoftplus: {
        const double bz = beta_ * z;  // log(1 + e^{bz}) = max(bz, 0) + log1p(e^{-|bz|})
        return ((bz > 0 ? bz : 0.0) + std::log1p(std::exp(-std::fabs(bz)))) / beta_;
      }
      case Kind::kHermite: return hermite_sum(value_coef_, z);
    }
    return 0.0;
  }
  /// sigma'(z) (ReLU: 1[z > 0]).
  double derivative(double z) const {
    switch (kind_) {
      case Kind::kRelu: return z > 0 ? 1.0 : 0.0;
      case Kind::kTanh: {
        const double t = std::tanh(z);
        return 1.0 - t * t;
      }
      case Kind::kErf: return (M_2_SQRTPI * M_SQRT1_2) * std::exp(-0.5 * z * z);
      case Kind::kSigmoid: {
        const double s = 1.0 / (1.0 + std::exp(-z));
        return s * (1.0 - s);
      }
      case Kind::kGelu:
        return 0.5 * (1.0 + std::erf(z * M_SQRT1_2)) + z * std::exp(-0.5 * z * z) * (0.5 * M_2_SQRTPI * M_SQRT1_2);
      case Kind::kSoftplus: return 1.0 / (1.0 + std::exp(-beta_ * z));
      case Kind::kHermite: return hermite_sum(derivative_coef_, z);
    }
    return 0.0;
  }

  /// z[i] <- sigma(z[i]) for i < n (the family is chosen once, outside the loop; ReLU vectorises).
  void values(double* z, int64_t n) const;
  /// v[i] = sigma(z[i]), dv[i] = sigma'(z[i]) for i < n.
  void values_and_derivatives(const double* z, double* v, double* dv, int64_t n) const;

 private:
  explicit ScalarActivation(Kind kind) : kind_(kind) {}
  /// sum_p coef[p] He_p(z) with He_0 = 1, He_1 = z, He_{p+1} = z He_p - p He_{p-1}.
  static double hermite_sum(const std::vector<double>& coef, double z) {
    double prev = 1.0, cur = z, out = coef.empty() ? 0.0 : coef[0];
    for (size_t p = 1; p < coef.size(); ++p) {
      out += coef[p] * cur;
      const double next = z * cur - static_cast<double>(p) * prev;
      prev = cur;
      cur = next;
    }
    return out;
  }

  Kind kind_;
  double beta_ = 1.0;                    // softplus sharpness
  std::vector<double> value_coef_;       // hermite: a_p / p!        (sigma  = sum a_p He_p / p!)
  std::vector<double> derivative_coef_;  // hermite: a_{p+1} / p!    (sigma' = sum a_{p+1} He_p / p!)
};

}  // namespace lrlab::trainers
