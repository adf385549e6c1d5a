#include "models/activations/sigmoid.h"

#include <cmath>

#include "framework/config.h"
#include "models/activations/common.h"

namespace lrlab::models {

namespace {

void validate(const SigmoidOptions& o, const Config* cfg) {
  const std::string problem = detail::quadrature_nodes_problem(o.quadrature_nodes);
  if (!problem.empty()) detail::option_fail(cfg, "sigmoid", "quadrature_nodes", problem);
}

}  // namespace

SigmoidOptions SigmoidOptions::from_config(const Config& cfg) {
  SigmoidOptions o;
  o.quadrature_nodes = detail::read_quadrature_nodes(cfg);
  cfg.finish();
  validate(o, &cfg);
  return o;
}

Sigmoid::Sigmoid(const SigmoidOptions& options) {
  validate(options, nullptr);
  quadrature_nodes_ = options.quadrature_nodes;
}

Sigmoid::Sigmoid(const Config& cfg) : Sigmoid(SigmoidOptions::from_config(cfg)) {}

at::Tensor Sigmoid::value(const at::Tensor& z) const { return at::sigmoid(z); }

at::Tensor Sigmoid::derivative(const at::Tensor& z) const {
  const at::Tensor s = at::sigmoid(z);
  return s * (1.0 - s);
}

void Sigmoid::cpu_values(const double* z, double* v, double* dv, int64_t n) const {
  detail::scalar_values(z, v, dv, n, [](double x, double& value, double& slope) {
    value = 1.0 / (1.0 + std::exp(-x));
    slope = value * (1.0 - value);
  });
}

std::optional<fused::ActivationDesc> Sigmoid::cuda_descriptor(std::string*) const {
  fused::ActivationDesc desc;
  desc.kind = fused::ActivationKind::kSigmoid;
  return desc;
}

}  // namespace lrlab::models
