#include "trainers/update_rules/adam.h"

#include <algorithm>
#include <cmath>

#include "framework/config.h"
#include "framework/error.h"

namespace lrlab::trainers {

AdamOptions AdamOptions::read(const Config& cfg, bool coupled_decay) {
  AdamOptions o;
  const auto betas = cfg.get<std::vector<double>>("betas", {o.beta1, o.beta2});
  if (betas.size() != 2 || !(betas[0] >= 0 && betas[0] < 1) || !(betas[1] >= 0 && betas[1] < 1))
    cfg.fail("betas", "must be two numbers in [0, 1), e.g. [0.9, 0.999]");
  o.beta1 = betas[0];
  o.beta2 = betas[1];
  o.eps = cfg.get<double>("eps", o.eps);
  if (!(o.eps > 0) || !std::isfinite(o.eps)) cfg.fail("eps", "must be finite and > 0");
  o.amsgrad = cfg.get<bool>("amsgrad", o.amsgrad);
  if (coupled_decay) {
    const auto wd = cfg.get_each<double>("weight_decay", 0.0);
    for (double v : wd)
      if (!(v >= 0) || !std::isfinite(v)) cfg.fail("weight_decay", "must be finite and >= 0, got " + std::to_string(v));
    o.weight_decay = PerReplica<double>(wd);
  }
  return o;
}

Adam::Adam(AdamOptions options, int64_t replicas, bool decoupled)
    : options_(std::move(options)), replicas_(replicas), decoupled_(decoupled) {
  for (double wd : options_.weight_decay.expand(static_cast<size_t>(replicas))) coupled_ = coupled_ || (!decoupled && wd != 0);
}

std::shared_ptr<Adam> Adam::from_config(const Config& cfg, int64_t replicas) {
  cfg.get<std::string>("type", "adam");
  auto rule = std::make_shared<Adam>(AdamOptions::read(cfg, /*coupled_decay=*/true), replicas);
  cfg.finish();
  return rule;
}

void Adam::init(const std::vector<models::Parameter*>& params) {
  m_.clear();
  v_.clear();
  vmax_.clear();
  on_sphere_.clear();
  for (auto* p : params) {
    const auto opts = p->value.options().requires_grad(false);
    m_.push_back(at::zeros(p->value.sizes(), opts));
    v_.push_back(at::zeros(p->value.sizes(), opts));
    vmax_.push_back(options_.amsgrad ? at::zeros(p->value.sizes(), opts) : at::Tensor());
    on_sphere_.push_back(p->on_sphere);
  }
  if (coupled_ && !params.empty()) {
    const auto wd = options_.weight_decay.expand(static_cast<size_t>(replicas_));
    decay_ = at::tensor(wd, at::TensorOptions().dtype(at::kDouble)).to(params[0]->value.options().requires_grad(false));
  }
}

void Adam::apply(size_t j, models::Parameter& p, const at::Tensor& grad, const at::Tensor& eta, int64_t step) {
  if (j >= m_.size()) throw Error("adam: init() was not called for parameter " + p.name);
  std::vector<int64_t> shape(p.value.dim(), 1);
  shape[0] = -1;  // [R] seen as [R, 1, ...]
  const double beta1 = options_.beta1, beta2 = options_.beta2;
  const double bc1 = 1 - std::pow(beta1, static_cast<double>(step));
  const double bc2 = 1 - std::pow(beta2, static_cast<double>(step));
  // The operations of torch::optim::Adam::step, with [R] tensors where an option is per replica.
  at::Tensor g = coupled_ && !p.on_sphere ? grad.addcmul(p.value, decay_.view(shape)) : grad;  // g + wd theta
  m_[j].mul_(beta1).add_(g, 1 - beta1);
  v_[j].mul_(beta2).addcmul_(g, g, 1 - beta2);
  at::Tensor second = v_[j];
  if (options_.amsgrad) {
    at::max_out(vmax_[j], vmax_[j], v_[j]);
    second = vmax_[j];
  }
  const at::Tensor denom = (second.sqrt() / std::sqrt(bc2)).add_(options_.eps);
  const at::Tensor neg_step = (eta / -bc1).view(shape);  // -eta / (1 - beta1^t)
  p.value.addcdiv_(m_[j] * neg_step, denom);
}

template <class T>
void Adam::step_replica(size_t j, int64_t r, T* value, const double* grad, int64_t n, double eta, int64_t step) {
  if (j >= m_.size()) throw Error("adam: init() was not called");
  const double beta1 = options_.beta1, beta2 = options_.beta2, eps = options_.eps;
  const double bc1 = 1 - std::pow(beta1, static_cast<double>(step));
  const double sqrt_bc2 = std::sqrt(1 - std::pow(beta2, static_cast<double>(step)));
  const double wd = coupled_ && !on_sphere_[j] ? options_.weight_decay[static_cast<size_t>(r)] : 0.0;
  const double neg_step = -eta / bc1;
  T* m = m_[j].data_ptr<T>() + r * n;
  T* v = v_[j].data_ptr<T>() + r * n;
  T* vmax = options_.amsgrad ? vmax_[j].data_ptr<T>() + r * n : nullptr;
  for (int64_t i = 0; i < n; ++i) {
    const double g = grad[i] + wd * static_cast<double>(value[i]);
    m[i] = static_cast<T>(static_cast<double>(m[i]) * beta1 + (1 - beta1) * g);
    v[i] = static_cast<T>(static_cast<double>(v[i]) * beta2 + (1 - beta2) * g * g);
    double second = static_cast<double>(v[i]);
    if (vmax) {
      vmax[i] = std::max(vmax[i], v[i]);
      second = static_cast<double>(vmax[i]);
    }
    const double denom = std::sqrt(second) / sqrt_bc2 + eps;
    value[i] = static_cast<T>(static_cast<double>(value[i]) + neg_step * static_cast<double>(m[i]) / denom);
  }
}

void Adam::apply_replica(size_t j, int64_t r, float* value, const double* grad, int64_t n, double eta, int64_t step) {
  step_replica(j, r, value, grad, n, eta, step);
}

void Adam::apply_replica(size_t j, int64_t r, double* value, const double* grad, int64_t n, double eta,
                         int64_t step) {
  step_replica(j, r, value, grad, n, eta, step);
}

}  // namespace lrlab::trainers
