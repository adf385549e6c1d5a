#include "trainers/update_rules/sgd.h"

#include <vector>

#include "framework/config.h"

namespace lrlab::trainers {

namespace {

template <class T>
void descend(T* value, const double* grad, int64_t n, double eta) {
  for (int64_t i = 0; i < n; ++i) value[i] = static_cast<T>(value[i] - eta * grad[i]);
}

}  // namespace

std::shared_ptr<Sgd> Sgd::from_config(const Config& cfg, int64_t) {
  cfg.get<std::string>("type", "sgd");
  cfg.finish();
  return std::make_shared<Sgd>();
}

void Sgd::apply(size_t, models::Parameter& p, const at::Tensor& grad, const at::Tensor& eta, int64_t) {
  std::vector<int64_t> shape(p.value.dim(), 1);
  shape[0] = -1;
  p.value.addcmul_(grad, eta.view(shape), -1.0);  // theta <- theta - eta_r g, eta [R] as [R, 1, ...]
}

void Sgd::apply_replica(size_t, int64_t, float* value, const double* grad, int64_t n, double eta, int64_t) {
  descend(value, grad, n, eta);
}

void Sgd::apply_replica(size_t, int64_t, double* value, const double* grad, int64_t n, double eta, int64_t) {
  descend(value, grad, n, eta);
}

}  // namespace lrlab::trainers
