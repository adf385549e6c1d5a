#pragma once
/// `sign_sgd`: theta <- theta - eta sign(g), elementwise, with sign(0) = 0 (a zero gradient component
/// does not move its coordinate). With the shared steps of trainers/update_rule.h, g is the tangent
/// gradient on the sphere (then u is retracted) and decoupled weight decay applies elsewhere. No
/// options, no state. The worked example of docs/adding-a-trainer.md.

#include <memory>
#include <string>

#include "trainers/update_rules/elementwise.h"

namespace lrlab {
class Config;
}

namespace lrlab::trainers {

/// The registered `sign_sgd` update rule.
class SignSgd : public ElementwiseRule<SignSgd> {
 public:
  /// Reads (no) options from the `update` section and rejects unknown keys.
  static std::shared_ptr<SignSgd> from_config(const Config& cfg, int64_t replicas);
  std::string type() const override { return "sign_sgd"; }
  /// phi(g) = sign(g), sign(0) = 0 (as at::sign).
  static at::Tensor direction(const at::Tensor& g) { return g.sign(); }
  /// phi(g) = sign(g), sign(0) = 0.
  static double direction(double g) { return static_cast<double>((g > 0) - (g < 0)); }
};

}  // namespace lrlab::trainers
