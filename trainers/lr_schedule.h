#pragma once
/// Learning-rate schedules and decoupled weight decay, per replica.
///
/// YAML (inside a trainer section):
///   schedule: {type: constant}                         lr_s = lr
///   schedule: {type: step, every: 1000, gamma: 0.1}    lr_s = lr gamma^floor(s / every)
///   schedule: {type: cosine, min_lr: 0, warmup: 0}     lr_s = lr (s + 1) / warmup             for s < warmup,
///                                                      lr_s = min_lr + (lr - min_lr) (1 + cos(pi u)) / 2,
///                                                      u = (s - warmup) / (T - warmup)        otherwise
///   schedule: {type: inverse_time, t0: 1000}           lr_s = lr / (1 + s / t0)
/// where s = 0, 1, ... counts the updates already taken (the first step uses s = 0) and T is the
/// trainer's step budget. `min_lr` is in the units of `lr` (before lr_scaling, which multiplies both).
/// Every numeric schedule option may differ across the replicas of a group (`schedule.every`, ...);
/// the schedule type may not.
///
/// Cost: LearningRates keeps the [R] learning-rate tensor and rewrites it in place only when a value
/// changes (never for `constant`, every `every` steps for `step`); on the CPU it writes the R numbers
/// straight into the tensor's memory (no ATen op, no allocation), elsewhere it is one copy from a
/// reused CPU buffer.

#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "framework/context.h"
#include "trainers/parameter_ops.h"

namespace lrlab {
class Config;
}

namespace lrlab::models {
class Adapter;
}

namespace lrlab::trainers {

/// One replica's schedule (YAML section `schedule`).
struct LrScheduleOptions {
  std::string type = "constant";  ///< constant | step | cosine | inverse_time
  int64_t every = 1000;           ///< step: updates between decays (>= 1)
  double gamma = 0.1;             ///< step: decay factor (> 0)
  double min_lr = 0.0;            ///< cosine: final learning rate, units of lr (0 <= min_lr <= lr)
  int64_t warmup = 0;             ///< cosine: linear warm-up updates (0 <= warmup < steps)
  double t0 = 1000.0;             ///< inverse_time: time scale in updates (> 0)

  /// Reads the schedule of every replica from `cfg` (the `schedule` section; absent = constant) and
  /// validates it against the base learning rates `lr` (one per replica, before lr_scaling).
  static std::vector<LrScheduleOptions> from_config(const Config& cfg, const std::vector<double>& lr);
  /// The option keys that may differ across replicas (relative to the trainer section).
  static std::vector<std::string> stackable();
};

/// The learning rate of update s (0-based) for base rate `lr`, schedule `o` and step budget `total`.
double scheduled_lr(const LrScheduleOptions& o, double lr, int64_t s, int64_t total);

/// Per-replica learning rates lr_s [R] (and lr_s * weight_decay [R]) along a schedule.
class LearningRates {
 public:
  /// `lr`: base rates per replica (after lr_scaling); `schedules`: one per replica (or one for all);
  /// `total`: the step budget; `weight_decay`: per replica (empty or all zero: no decay).
  LearningRates(const Context& ctx, std::vector<double> lr, std::vector<LrScheduleOptions> schedules, int64_t total,
                std::vector<double> weight_decay = {});
  /// Moves to update s (0-based): rewrites lr() and decay() in place when their values change.
  void set_step(int64_t s);
  /// The current learning rates [R] (context dtype and device; the same tensor for the whole run).
  const at::Tensor& lr() const { return lr_; }
  /// lr_s * weight_decay [R] (undefined when there is no decay).
  const at::Tensor& decay() const { return decay_; }
  /// True when some replica has weight_decay > 0.
  bool has_decay() const { return decay_.defined(); }
  /// The current learning rates, one per replica.
  const std::vector<double>& values() const { return current_; }

 private:
  void write(at::Tensor& target, const std::vector<double>& values);
  std::vector<double> base_;
  std::vector<LrScheduleOptions> schedules_;
  int64_t total_;
  std::vector<double> weight_decay_;
  bool constant_ = true;  // every replica's schedule is `constant`: set_step has nothing to do
  std::vector<double> current_, scratch_, decay_values_;
  at::Tensor lr_, decay_, staging_;
};

/// The lr_scaling factor: 1 (`none`) or 1 / d (`inverse_d`).
double lr_scaling_factor(const std::string& lr_scaling, int64_t d);

/// LearningRates for base rates `lr` (per replica, before lr_scaling) times `factor`, with `schedules`
/// (per replica; empty: `fallback` for all) whose min_lr is scaled alike, step budget `total` and
/// `weight_decay` (per replica; empty: none).
LearningRates scaled_learning_rates(const Context& ctx, const std::vector<double>& lr,
                                    std::vector<LrScheduleOptions> schedules, const LrScheduleOptions& fallback,
                                    double factor, int64_t total, std::vector<double> weight_decay);


/// Reads `weight_decay` per replica from a trainer section (default 0; must be finite and >= 0).
std::vector<double> read_weight_decay(const Config& cfg);

/// The options every gradient-descent trainer (online_sgd, population_gd, offline_gd) reads alike:
/// `lr` (per replica, each finite and > 0), `lr_scaling` (none | inverse_d), `grad` (analytic |
/// autograd), `spherical`, `early_stop` and `weight_decay`. Each field's current value is its default;
/// `lr` and `weight_decay` receive replica 0's value. Returns the per-replica learning rates.
std::vector<double> read_descent_options(const Config& cfg, double& lr, std::string& lr_scaling, std::string& grad,
                                         bool& spherical, bool& early_stop, double& weight_decay);

/// Reads and validates the step budget: `steps` (0..2^40) and `steps_per_d` (finite, >= 0; when > 0
/// the budget is ceil(steps_per_d * d)).
void read_step_budget(const Config& cfg, int64_t& steps, double& steps_per_d);

}  // namespace lrlab::trainers
