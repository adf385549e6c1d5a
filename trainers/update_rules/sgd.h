#pragma once
/// `sgd`: plain gradient descent, theta <- theta - eta g (the seed paper's update). With the shared
/// steps of trainers/update_rule.h this is the spherical (Riemannian) step for parameters on the sphere
/// and decoupled weight decay elsewhere. No options, no state.

#include <memory>
#include <string>

#include "trainers/update_rule.h"

namespace lrlab {
class Config;
}

namespace lrlab::trainers {

/// The registered `sgd` update rule.
class Sgd : public UpdateRule {
 public:
  /// Reads (no) options from the `update` section and rejects unknown keys.
  static std::shared_ptr<Sgd> from_config(const Config& cfg, int64_t replicas);
  std::string type() const override { return "sgd"; }
  void apply(size_t j, models::Parameter& p, const at::Tensor& grad, const at::Tensor& eta, int64_t step) override;
  void apply_replica(size_t j, int64_t r, float* value, const double* grad, int64_t n, double eta,
                     int64_t step) override;
  void apply_replica(size_t j, int64_t r, double* value, const double* grad, int64_t n, double eta,
                     int64_t step) override;
};

}  // namespace lrlab::trainers
