#pragma once
/// `population_gd`: gradient descent on the exact population loss L (models/population.h), the
/// deterministic (noise-free) limit of online SGD: online SGD with learning rate eta takes steps whose
/// mean is -eta grad L, so `population_gd` with the same eta, lr_scaling and schedule follows the
/// curve that online SGD fluctuates around, at matched times t = steps * eta.
///
/// Update s (0-based), per replica, for every parameter theta with group multiplier lr_scale:
///   theta <- theta - eta_s * weight_decay * lr_scale * theta   (not on the sphere)
///   theta <- theta - eta_s * lr_scale * dL/dtheta              (spherical step on the sphere when spherical)
/// `train_loss` records the population loss before each step (averaged between records).

#include <memory>
#include <string>
#include <vector>

#include "models/population.h"
#include "trainers/lr_schedule.h"
#include "trainers/trainer.h"

namespace lrlab {
class Config;
}

namespace lrlab::trainers {

/// Options of `population_gd` (YAML section `trainer`).
struct PopulationGdOptions {
  int64_t steps = 1000;             ///< step budget (ignored when steps_per_d > 0)
  double steps_per_d = 0;           ///< if > 0: budget = ceil(steps_per_d * d)
  double lr = 0.5;                  ///< learning rate (may differ across replicas of a group)
  std::string lr_scaling = "none";  ///< none | inverse_d (the step is lr / d), as online_sgd
  std::string grad = "analytic";    ///< analytic (hand-derived dL/dQ + adapter chain rule) | autograd
  bool spherical = true;            ///< Riemannian step for parameters on the sphere
  bool early_stop = false;          ///< stop when every run reached every threshold
  LrScheduleOptions schedule;       ///< learning-rate schedule (lr_schedule.h), replica 0's
  double weight_decay = 0.0;        ///< decoupled L2 on non-sphere parameters (may differ across replicas)

  /// Reads and validates the options.
  static PopulationGdOptions from_config(const Config& cfg);
};

/// The registered `population_gd` trainer.
class PopulationGd : public Trainer {
 public:
  /// `lr`: per replica, before lr_scaling; `schedules`, `weight_decay`: per replica (empty: options').
  PopulationGd(const PopulationGdOptions& options, const std::vector<double>& lr, const models::Model& model,
               std::vector<LrScheduleOptions> schedules = {}, std::vector<double> weight_decay = {});
  /// Builds from the `trainer` section; a model without a population loss (a linearized adapter on
  /// degenerate base rows) is a ConfigError at `trainer.type`.
  static std::shared_ptr<PopulationGd> from_config(const Config& cfg, const models::Model& model);
  /// The options that may differ across the replicas of a group.
  static std::vector<std::string> stackable();
  std::string type() const override { return "population_gd"; }
  int64_t steps() const override { return steps_; }
  bool early_stop() const override { return options_.early_stop; }
  void train(models::Model& model, Monitor& monitor) override;

 private:
  PopulationGdOptions options_;
  int64_t steps_;
  LearningRates rates_;
};

}  // namespace lrlab::trainers
