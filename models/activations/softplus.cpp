#include "models/activations/softplus.h"

#include <cmath>

#include "framework/config.h"
#include "models/activations/common.h"

namespace lrlab::models {

namespace {

void validate(const SoftplusOptions& o, const Config* cfg) {
  if (!(o.beta > 0.0) || !std::isfinite(o.beta))
    detail::option_fail(cfg, "softplus", "beta", "beta must be a finite number > 0, got " + std::to_string(o.beta));
  const std::string problem = detail::quadrature_nodes_problem(o.quadrature_nodes);
  if (!problem.empty()) detail::option_fail(cfg, "softplus", "quadrature_nodes", problem);
}

}  // namespace

SoftplusOptions SoftplusOptions::from_config(const Config& cfg) {
  SoftplusOptions o;
  o.beta = cfg.get<double>("beta", o.beta);
  o.quadrature_nodes = detail::read_quadrature_nodes(cfg);
  cfg.finish();
  validate(o, &cfg);
  return o;
}

Softplus::Softplus(const SoftplusOptions& options) : beta_(options.beta) {
  validate(options, nullptr);
  quadrature_nodes_ = options.quadrature_nodes;
}

Softplus::Softplus(const Config& cfg) : Softplus(SoftplusOptions::from_config(cfg)) {}

// log(1 + exp(beta z)) / beta = -log_sigmoid(-beta z) / beta: stable for every z (no overflow of exp,
// no switch to the identity above a threshold as at::softplus does), and its autograd derivative is
// sigmoid(beta z) everywhere, including z = 0 (unlike the relu(z) + log1p(exp(-|z|)) form).
at::Tensor Softplus::value(const at::Tensor& z) const { return at::log_sigmoid(z * (-beta_)) * (-1.0 / beta_); }

at::Tensor Softplus::derivative(const at::Tensor& z) const { return at::sigmoid(z * beta_); }

// log(1 + e^{bz}) / b = (max(bz, 0) + log1p(e^{-|bz|})) / b, stable for all z; sigma' = sigmoid(bz).
void Softplus::cpu_values(const double* z, double* v, double* dv, int64_t n) const {
  const double beta = beta_;
  detail::scalar_values(z, v, dv, n, [beta](double x, double& value, double& slope) {
    const double bz = beta * x;
    value = ((bz > 0 ? bz : 0.0) + std::log1p(std::exp(-std::fabs(bz)))) / beta;
    slope = 1.0 / (1.0 + std::exp(-bz));
  });
}

std::optional<fused::ActivationDesc> Softplus::cuda_descriptor(std::string*) const {
  fused::ActivationDesc desc;
  desc.kind = fused::ActivationKind::kSoftplus;
  desc.beta = beta_;
  return desc;
}

}  // namespace lrlab::models
