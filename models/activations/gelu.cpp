#include "models/activations/gelu.h"

#include <cmath>

#include "framework/config.h"
#include "models/activations/common.h"

namespace lrlab::models {

namespace {

void validate(const GeluOptions& o, const Config* cfg) {
  const std::string problem = detail::quadrature_nodes_problem(o.quadrature_nodes);
  if (!problem.empty()) detail::option_fail(cfg, "gelu", "quadrature_nodes", problem);
}

}  // namespace

GeluOptions GeluOptions::from_config(const Config& cfg) {
  GeluOptions o;
  o.quadrature_nodes = detail::read_quadrature_nodes(cfg);
  cfg.finish();
  validate(o, &cfg);
  return o;
}

Gelu::Gelu(const GeluOptions& options) {
  validate(options, nullptr);
  quadrature_nodes_ = options.quadrature_nodes;
}

Gelu::Gelu(const Config& cfg) : Gelu(GeluOptions::from_config(cfg)) {}

// Written out rather than at::gelu, whose signature differs between LibTorch 1.13 and 2.x and whose
// backward is not itself differentiable in every version.
at::Tensor Gelu::value(const at::Tensor& z) const { return 0.5 * z * (1.0 + at::erf(z * M_SQRT1_2)); }

// d/dz [z Phi(z)] = Phi(z) + z phi(z), phi(z) = exp(-z^2/2) / sqrt(2 pi).
at::Tensor Gelu::derivative(const at::Tensor& z) const {
  const double inv_sqrt_2pi = 0.5 * M_2_SQRTPI * M_SQRT1_2;
  return 0.5 * (1.0 + at::erf(z * M_SQRT1_2)) + z * at::exp(-0.5 * z * z) * inv_sqrt_2pi;
}

void Gelu::cpu_values(const double* z, double* v, double* dv, int64_t n) const {
  detail::scalar_values(z, v, dv, n, [](double x, double& value, double& slope) {
    const double cdf2 = 1.0 + std::erf(x * M_SQRT1_2);  // 2 Phi(x)
    value = 0.5 * x * cdf2;
    slope = 0.5 * cdf2 + x * std::exp(-0.5 * x * x) * (0.5 * M_2_SQRTPI * M_SQRT1_2);
  });
}

std::optional<fused::ActivationDesc> Gelu::cuda_descriptor(std::string*) const {
  fused::ActivationDesc desc;
  desc.kind = fused::ActivationKind::kGelu;
  return desc;
}

}  // namespace lrlab::models
