#include "models/activations/tanh.h"

#include <cmath>

#include "framework/config.h"
#include "models/activations/common.h"

namespace lrlab::models {

namespace {

void validate(const TanhOptions& o, const Config* cfg) {
  const std::string problem = detail::quadrature_nodes_problem(o.quadrature_nodes);
  if (!problem.empty()) detail::option_fail(cfg, "tanh", "quadrature_nodes", problem);
}

}  // namespace

TanhOptions TanhOptions::from_config(const Config& cfg) {
  TanhOptions o;
  o.quadrature_nodes = detail::read_quadrature_nodes(cfg);
  cfg.finish();
  validate(o, &cfg);
  return o;
}

Tanh::Tanh(const TanhOptions& options) {
  validate(options, nullptr);
  quadrature_nodes_ = options.quadrature_nodes;
}

Tanh::Tanh(const Config& cfg) : Tanh(TanhOptions::from_config(cfg)) {}

at::Tensor Tanh::value(const at::Tensor& z) const { return at::tanh(z); }

at::Tensor Tanh::derivative(const at::Tensor& z) const {
  const at::Tensor t = at::tanh(z);
  return 1.0 - t * t;
}

void Tanh::cpu_values(const double* z, double* v, double* dv, int64_t n) const {
  detail::scalar_values(z, v, dv, n, [](double x, double& value, double& slope) {
    value = std::tanh(x);
    slope = 1.0 - value * value;
  });
}

std::optional<fused::ActivationDesc> Tanh::cuda_descriptor(std::string*) const {
  fused::ActivationDesc desc;
  desc.kind = fused::ActivationKind::kTanh;
  return desc;
}

}  // namespace lrlab::models
