#include "trainers/parameter_ops.h"

#include <cmath>
#include <vector>

#include "trainers/update_rule.h"

namespace lrlab::trainers {

at::Tensor project_tangent(const at::Tensor& u, const at::Tensor& g) { return g - (g * u).sum(-1, true) * u; }

void retract(at::Tensor& u) { u.div_(u.norm(2, {-1}, true)); }

void apply_weight_decay(models::Adapter& adapter, const at::Tensor& decay) {
  if (!decay.defined()) return;
  at::NoGradGuard no_grad;
  for (auto* p : adapter.parameters()) {
    if (p->on_sphere) continue;
    std::vector<int64_t> shape(p->value.dim(), 1);
    shape[0] = -1;
    // theta <- theta - (lr_s wd) lr_scale theta, in place: [R] viewed as [R, 1, ...].
    p->value.addcmul_(p->value, decay.view(shape), -p->lr_scale);
  }
}

void apply_updates(models::Adapter& adapter, UpdateRule& rule, const at::Tensor& lr, const at::Tensor& decay,
                   bool spherical, int64_t step) {
  at::NoGradGuard no_grad;
  if (decay.defined() && rule.decoupled_decay()) apply_weight_decay(adapter, decay);
  const auto params = adapter.parameters();
  for (size_t j = 0; j < params.size(); ++j) {
    models::Parameter& p = *params[j];
    if (!p.grad.defined()) continue;
    const at::Tensor g = p.on_sphere && spherical ? project_tangent(p.value, p.grad) : p.grad;
    rule.apply(j, p, g, p.lr_scale == 1.0 ? lr : lr * p.lr_scale, step);
    if (p.on_sphere) retract(p.value);
  }
  adapter.after_update();
}

template <class T>
void project_tangent(const T* u, double* g, int64_t n) {
  double gu = 0.0;
  for (int64_t i = 0; i < n; ++i) gu += g[i] * static_cast<double>(u[i]);
  for (int64_t i = 0; i < n; ++i) g[i] -= gu * static_cast<double>(u[i]);
}

template <class T>
void retract(T* u, int64_t n) {
  double ss = 0.0;
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(u[i]) * static_cast<double>(u[i]);
  const double inv = 1.0 / std::sqrt(ss);
  for (int64_t i = 0; i < n; ++i) u[i] = static_cast<T>(u[i] * inv);
}

template <class T>
void scale_values(T* v, int64_t n, double factor) {
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<T>(v[i] * factor);
}

template void project_tangent<float>(const float*, double*, int64_t);
template void project_tangent<double>(const double*, double*, int64_t);
template void retract<float>(float*, int64_t);
template void retract<double>(double*, int64_t);
template void scale_values<float>(float*, int64_t, double);
template void scale_values<double>(double*, int64_t, double);

}  // namespace lrlab::trainers
