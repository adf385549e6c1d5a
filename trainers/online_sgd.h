#pragma once
/// `online_sgd`: stochastic gradient descent on fresh samples every step (the seed paper's algorithm),
/// with the spherical (Riemannian) step for parameters on the sphere.

#include <string>

#include "trainers/gradients.h"
#include "trainers/trainer.h"

namespace lrlab {
class Config;
}

namespace lrlab::trainers {

/// Options of `online_sgd` (YAML section `trainer`).
struct OnlineSgdOptions {
  int64_t steps = 1000;               ///< step budget (ignored when steps_per_d > 0)
  double steps_per_d = 0;             ///< if > 0: budget = ceil(steps_per_d * d), for sweeps over d
  int64_t batch = 1;                  ///< samples per step B
  double lr = 0.5;                    ///< learning rate eta (may differ across replicas of a group)
  std::string lr_scaling = "none";    ///< none | inverse_d (the step is eta / d)
  std::string grad = "analytic";      ///< analytic (hand-derived) | autograd
  bool spherical = true;              ///< Riemannian step for parameters on the sphere
  bool early_stop = false;            ///< stop when every run reached every threshold

  /// Reads and validates the options.
  static OnlineSgdOptions from_config(const Config& cfg);
};

/// The registered `online_sgd` trainer.
class OnlineSgd : public Trainer {
 public:
  /// `lr` holds one learning rate per replica (before lr_scaling).
  OnlineSgd(const OnlineSgdOptions& options, const std::vector<double>& lr, const models::Model& model);
  std::string type() const override { return "online_sgd"; }
  int64_t steps() const override { return steps_; }
  bool early_stop() const override { return options_.early_stop; }
  void train(models::Model& model, Monitor& monitor) override;

 private:
  OnlineSgdOptions options_;
  int64_t steps_;
  at::Tensor lr_;  // [R], after lr_scaling
};

}  // namespace lrlab::trainers
