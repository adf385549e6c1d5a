#pragma once
/// The one descent loop: a data source (data_source.h: online, offline, population) takes each update
/// with an update rule (update_rule.h: sgd, sign_sgd, adam, adamw, ...) at the learning rates of a
/// schedule (schedule.h), and the Monitor records, watches for divergence and keeps the running
/// training loss. Every registered trainer type is this loop with a preset:
///
///   type           data                      update rule                      defaults
///   online_sgd     online                    `update:` section (default sgd)  lr 0.5
///   offline_gd     offline                   `update:` section (default sgd)  lr 0.5, epochs 100
///   population_gd  population                `update:` section (default sgd)  lr 0.5
///   descent        `data:` key (online)      `update:` section (default sgd)  lr 0.5
///   adam / adamw   `data: online | offline`  adam / adamw, keys in the trainer section (betas, eps,
///                                            amsgrad; adam's weight_decay is its coupled L2)
///                                                                             lr 1e-3 (adamw: weight_decay 0.01)
///
/// Update s (0-based) of replica r, for every parameter theta with group multiplier lr_scale:
///   eta = schedule_r(lr_r, s)  (lr_r after lr_scaling)
///   theta <- theta - eta * weight_decay_r * lr_scale * theta   (rules with decoupled decay; not on the sphere)
///   theta <- rule(theta, g, eta * lr_scale)                    (tangent g and retraction on the sphere)

#include <memory>
#include <string>
#include <vector>

#include "framework/per_replica.h"
#include "trainers/data_source.h"
#include "trainers/lr_schedule.h"
#include "trainers/trainer.h"
#include "trainers/update_rule.h"

namespace lrlab {
class Config;
}

namespace lrlab::trainers {

/// The options every descent trainer reads from its section (besides its source's and rule's).
struct DescentOptions {
  PerReplica<double> lr{0.5};            ///< base learning rate per replica (finite, > 0)
  std::string lr_scaling = "none";       ///< none | inverse_d (the step is lr / d; min_lr scales alike)
  std::string grad = "analytic";         ///< analytic (hand-derived) | autograd
  bool spherical = true;                 ///< Riemannian step for parameters on the sphere
  bool early_stop = false;               ///< stop when every run reached every threshold
  PerReplica<double> weight_decay{0.0};  ///< decoupled decay per replica (rules with decoupled_decay())
  std::shared_ptr<const Schedule> schedule;  ///< `schedule:` section (per-replica options inside)
};

/// What a trainer type stands for: its data source, how it gets its update rule, and its defaults.
struct DescentPreset {
  std::string type;  ///< the trainer type (registry key)
  std::string data;  ///< the data source key; empty: read from the `data` key (default online)
  /// Builds the rule from the trainer section itself (adam, adamw); nullptr: from the `update:` section.
  std::shared_ptr<UpdateRule> (*rule)(const Config& trainer, int64_t replicas) = nullptr;
  bool rule_reads_weight_decay = false;  ///< the preset's rule reads `weight_decay` itself (adam's coupled L2)
  double lr = 0.5;                       ///< default lr
  double weight_decay = 0.0;             ///< default decoupled weight_decay
  SourceDefaults budget;                 ///< default step budget
};

/// The registered descent trainers (one class, several presets).
class Descent : public Trainer {
 public:
  /// Composes `source`, `rule` and the options for `model`.
  Descent(std::string type, DescentOptions options, std::shared_ptr<DataSource> source,
          std::shared_ptr<UpdateRule> rule, const models::Model& model);
  /// Builds the trainer `preset` from the `trainer` section.
  static std::shared_ptr<Descent> from_config(const Config& cfg, const models::Model& model,
                                              const DescentPreset& preset);
  /// The options that may differ across the replicas of a group (lr, weight_decay, schedule options
  /// and the update rules' per-replica options).
  static std::vector<std::string> stackable();
  std::string type() const override { return type_; }
  int64_t steps() const override { return source_->steps(); }
  bool early_stop() const override { return options_.early_stop; }
  void train(models::Model& model, Monitor& monitor) override;
  /// The learning rates (current values along the schedule).
  const LearningRates& learning_rates() const { return rates_; }
  /// The data source.
  DataSource& source() const { return *source_; }
  /// The update rule.
  UpdateRule& rule() const { return *rule_; }
  /// The options.
  const DescentOptions& options() const { return options_; }

 private:
  std::string type_;
  DescentOptions options_;
  std::shared_ptr<DataSource> source_;
  std::shared_ptr<UpdateRule> rule_;
  LearningRates rates_;  // lr_s [R] after lr_scaling, and lr_s * weight_decay
};

/// The lr_scaling factor: 1 (`none`) or 1 / d (`inverse_d`).
double lr_scaling_factor(const std::string& lr_scaling, int64_t d);

}  // namespace lrlab::trainers
