#include "models/activations/erf.h"

#include <cmath>

#include "framework/config.h"
#include "models/activations/common.h"

namespace lrlab::models {

namespace {

void validate(const ErfOptions& o, const Config* cfg) {
  const std::string problem = detail::quadrature_nodes_problem(o.quadrature_nodes);
  if (!problem.empty()) detail::option_fail(cfg, "erf", "quadrature_nodes", problem);
}

}  // namespace

ErfOptions ErfOptions::from_config(const Config& cfg) {
  ErfOptions o;
  o.quadrature_nodes = detail::read_quadrature_nodes(cfg);
  cfg.finish();
  validate(o, &cfg);
  return o;
}

Erf::Erf(const ErfOptions& options) {
  validate(options, nullptr);
  quadrature_nodes_ = options.quadrature_nodes;
}

Erf::Erf(const Config& cfg) : Erf(ErfOptions::from_config(cfg)) {}

// sigma(z) = erf(z / sqrt 2) = 2 Phi(z) - 1 (MATH.md): the scaling that makes the kernel below exact
// with no factors of 2 (the textbook erf(z) kernel has 2 <a,b> / sqrt((1 + 2|a|^2)(1 + 2|b|^2))).
at::Tensor Erf::value(const at::Tensor& z) const { return at::erf(z * M_SQRT1_2); }

// d/dz erf(z / sqrt 2) = (2 / sqrt pi) exp(-z^2 / 2) / sqrt 2 = sqrt(2 / pi) exp(-z^2 / 2).
at::Tensor Erf::derivative(const at::Tensor& z) const { return (M_2_SQRTPI * M_SQRT1_2) * at::exp(-0.5 * z * z); }

// K(a, b) = (2/pi) arcsin(sab / sqrt((1 + saa)(1 + sbb))) (Williams 1998, with z / sqrt 2), evaluated as
//   K = (2/pi) atan2(sab, sqrt((1 + saa)(1 + sbb) - sab^2)).
// The two are equal (sin of the angle is sab / sqrt((1+saa)(1+sbb))), but atan2 needs no clamp and has
// bounded gradients: the second argument is 1 + saa + sbb + (saa sbb - sab^2) >= 1 for every PSD
// covariance, so zero vectors (K = 0) and parallel vectors are regular points.
at::Tensor Erf::kernel(const at::Tensor& saa, const at::Tensor& sbb, const at::Tensor& sab) const {
  const at::Tensor cos_part = at::sqrt((1.0 + saa) * (1.0 + sbb) - sab * sab);
  return M_2_PI * at::atan2(sab, cos_part);
}

void Erf::cpu_values(const double* z, double* v, double* dv, int64_t n) const {
  detail::scalar_values(z, v, dv, n, [](double x, double& value, double& slope) {
    value = std::erf(x * M_SQRT1_2);
    slope = (M_2_SQRTPI * M_SQRT1_2) * std::exp(-0.5 * x * x);
  });
}

std::optional<fused::ActivationDesc> Erf::cuda_descriptor(std::string*) const {
  fused::ActivationDesc desc;
  desc.kind = fused::ActivationKind::kErf;
  return desc;
}

}  // namespace lrlab::models
