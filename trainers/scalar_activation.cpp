#include "trainers/scalar_activation.h"

#include <typeinfo>

#include "models/activations/erf.h"
#include "models/activations/gelu.h"
#include "models/activations/hermite.h"
#include "models/activations/relu.h"
#include "models/activations/sigmoid.h"
#include "models/activations/softplus.h"
#include "models/activations/tanh.h"

namespace lrlab::trainers {

std::optional<ScalarActivation> ScalarActivation::from(const models::Activation& act) {
  // Exact types only: a subclass may change value or derivative.
  const std::type_info& t = typeid(act);
  if (t == typeid(models::Relu)) return ScalarActivation(Kind::kRelu);
  if (t == typeid(models::Tanh)) return ScalarActivation(Kind::kTanh);
  if (t == typeid(models::Erf)) return ScalarActivation(Kind::kErf);
  if (t == typeid(models::Sigmoid)) return ScalarActivation(Kind::kSigmoid);
  if (t == typeid(models::Gelu)) return ScalarActivation(Kind::kGelu);
  if (t == typeid(models::Softplus)) {
    ScalarActivation s(Kind::kSoftplus);
    s.beta_ = static_cast<const models::Softplus&>(act).beta();
    return s;
  }
  if (t == typeid(models::Hermite)) {
    ScalarActivation s(Kind::kHermite);
    const std::vector<double>& a = static_cast<const models::Hermite&>(act).coefficients();
    double factorial = 1.0;  // p!
    for (size_t p = 0; p < a.size(); ++p) {
      if (p > 0) factorial *= static_cast<double>(p);
      s.value_coef_.push_back(a[p] / factorial);
      if (p + 1 < a.size()) s.derivative_coef_.push_back(a[p + 1] / factorial);
    }
    return s;
  }
  return std::nullopt;
}

void ScalarActivation::values(double* z, int64_t n) const {
  if (kind_ == Kind::kRelu) {
    for (int64_t i = 0; i < n; ++i) z[i] = z[i] > 0 ? z[i] : 0.0;  // branch-free: signs are random
    return;
  }
  for (int64_t i = 0; i < n; ++i) z[i] = value(z[i]);
}

void ScalarActivation::values_and_derivatives(const double* z, double* v, double* dv, int64_t n) const {
  switch (kind_) {
    case Kind::kRelu:
      for (int64_t i = 0; i < n; ++i) {
        v[i] = z[i] > 0 ? z[i] : 0.0;
        dv[i] = z[i] > 0 ? 1.0 : 0.0;
      }
      return;
    case Kind::kTanh:
      for (int64_t i = 0; i < n; ++i) {
        const double t = std::tanh(z[i]);
        v[i] = t;
        dv[i] = 1.0 - t * t;
      }
      return;
    case Kind::kSigmoid:
      for (int64_t i = 0; i < n; ++i) {
        const double s = 1.0 / (1.0 + std::exp(-z[i]));
        v[i] = s;
        dv[i] = s * (1.0 - s);
      }
      return;
    default:
      for (int64_t i = 0; i < n; ++i) {
        v[i] = value(z[i]);
        dv[i] = derivative(z[i]);
      }
  }
}

}  // namespace lrlab::trainers
