#pragma once
/// `online_sgd`: stochastic gradient descent on fresh samples every step (the seed paper's algorithm),
/// with the spherical (Riemannian) step for parameters on the sphere, learning-rate schedules and
/// decoupled weight decay.
///
/// Update s (0-based) of replica r, for every parameter theta with group multiplier lr_scale:
///   eta = schedule_r(lr_r, s) (lr_r after lr_scaling; see lr_schedule.h)
///   theta <- theta - eta * weight_decay_r * lr_scale * theta     (not for parameters on the sphere)
///   theta <- theta - eta * lr_scale * grad                        (spherical step on the sphere)

#include <memory>
#include <string>
#include <vector>

#include "trainers/gradients.h"
#include "trainers/lr_schedule.h"
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
  std::string lr_scaling = "none";    ///< none | inverse_d (the step is eta / d; min_lr scales alike)
  std::string grad = "analytic";      ///< analytic (hand-derived) | autograd
  bool spherical = true;              ///< Riemannian step for parameters on the sphere
  bool early_stop = false;            ///< stop when every run reached every threshold
  LrScheduleOptions schedule;         ///< `schedule: {type: constant | step | cosine | inverse_time, ...}`
                                      ///< (replica 0's; options may differ across replicas)
  double weight_decay = 0.0;          ///< decoupled L2 on non-sphere parameters (may differ across replicas)

  /// Reads and validates the options.
  static OnlineSgdOptions from_config(const Config& cfg);
};

/// The registered `online_sgd` trainer.
class OnlineSgd : public Trainer {
 public:
  /// `lr` holds one learning rate per replica (before lr_scaling); `schedules` and `weight_decay` one
  /// per replica (empty: the options' values for every replica).
  OnlineSgd(const OnlineSgdOptions& options, const std::vector<double>& lr, const models::Model& model,
            std::vector<LrScheduleOptions> schedules = {}, std::vector<double> weight_decay = {});
  /// Builds from the `trainer` section, reading the per-replica values.
  static std::shared_ptr<OnlineSgd> from_config(const Config& cfg, const models::Model& model);
  /// The options that may differ across the replicas of a group.
  static std::vector<std::string> stackable();
  std::string type() const override { return "online_sgd"; }
  int64_t steps() const override { return steps_; }
  bool early_stop() const override { return options_.early_stop; }
  void train(models::Model& model, Monitor& monitor) override;
  /// The learning rates (current values along the schedule).
  const LearningRates& learning_rates() const { return rates_; }

 private:
  OnlineSgdOptions options_;
  int64_t steps_;
  LearningRates rates_;  // lr_s [R] after lr_scaling, and lr_s * weight_decay
};

/// The step budget of a trainer: ceil(steps_per_d * d) when steps_per_d > 0, else `steps`.
int64_t step_budget(int64_t steps, double steps_per_d, int64_t d);

}  // namespace lrlab::trainers
