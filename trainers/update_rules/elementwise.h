#pragma once
/// A stateless elementwise rule theta <- theta - eta phi(g) (sgd: phi(g) = g; sign_sgd: phi = sign),
/// written once for both versions of trainers/update_rule.h: `Derived` provides
/// `static at::Tensor direction(const at::Tensor& g)` and `static double direction(double g)`.

#include <ATen/ATen.h>

#include <vector>

#include "trainers/update_rule.h"

namespace lrlab::trainers {

/// Implements apply / apply_replica from Derived::direction.
template <class Derived>
class ElementwiseRule : public UpdateRule {
 public:
  /// theta <- theta - eta_r phi(g), eta [R] viewed as [R, 1, ...].
  void apply(size_t, models::Parameter& p, const at::Tensor& grad, const at::Tensor& eta, int64_t) override {
    std::vector<int64_t> shape(p.value.dim(), 1);
    shape[0] = -1;
    p.value.addcmul_(Derived::direction(grad), eta.view(shape), -1.0);
  }
  /// One replica's slice in single precision.
  void apply_replica(size_t, int64_t, float* value, const double* grad, int64_t n, double eta, int64_t) override {
    descend(value, grad, n, eta);
  }
  /// One replica's slice in double precision.
  void apply_replica(size_t, int64_t, double* value, const double* grad, int64_t n, double eta, int64_t) override {
    descend(value, grad, n, eta);
  }

 private:
  template <class T>
  static void descend(T* value, const double* grad, int64_t n, double eta) {
    for (int64_t i = 0; i < n; ++i) value[i] = static_cast<T>(value[i] - eta * Derived::direction(grad[i]));
  }
};

}  // namespace lrlab::trainers
