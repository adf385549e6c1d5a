#pragma once
/// `sgd`: plain gradient descent, theta <- theta - eta g (the seed paper's update). With the shared
/// steps of trainers/update_rule.h this is the spherical (Riemannian) step for parameters on the sphere
/// and decoupled weight decay elsewhere. No options, no state.

#include <memory>
#include <string>

#include "trainers/update_rules/elementwise.h"

namespace lrlab {
class Config;
}

namespace lrlab::trainers {

/// The registered `sgd` update rule.
class Sgd : public ElementwiseRule<Sgd> {
 public:
  /// Reads (no) options from the `update` section and rejects unknown keys.
  static std::shared_ptr<Sgd> from_config(const Config& cfg, int64_t replicas);
  std::string type() const override { return "sgd"; }
  /// True: the fused CUDA step runs sgd.
  bool plain_descent() const override { return true; }
  /// phi(g) = g.
  static const at::Tensor& direction(const at::Tensor& g) { return g; }
  /// phi(g) = g.
  static double direction(double g) { return g; }
};

}  // namespace lrlab::trainers
