#pragma once
/// The data-source contract: where each update's gradient comes from (fresh samples, a fixed training
/// set, the exact population). A source owns the step budget its data implies and takes one whole
/// update step (gradient + trainers/parameter_ops.h's apply_updates with the update rule); the
/// descent loop (descent.h) drives it with the rule, the schedule and the Monitor.
///
/// Sources are registered in trainers/register.cpp (`online`, `offline`, `population`) and read their
/// options from the trainer section itself (flat keys such as `batch`, `n`, `epochs`, `steps`).

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <string>

#include "framework/registry.h"
#include "models/register.h"
#include "trainers/gradients.h"

namespace lrlab::trainers {

class UpdateRule;

/// A registered data source.
class DataSource {
 public:
  virtual ~DataSource() = default;
  /// Registry key.
  virtual std::string type() const = 0;
  /// The step budget (resolved with the model's d at construction).
  virtual int64_t steps() const = 0;
  /// Starts a run of `model` with `rule` (drawn data, chosen path); `grad`: analytic or autograd;
  /// `spherical`: tangent projection on the sphere. Returns the path that will run (Trainer::path()).
  virtual std::string begin(models::Model& model, UpdateRule& rule, GradPath grad, bool spherical) = 0;
  /// Update `step` (from 1) of every replica with lr [R] and decay [R] (undefined: none). Returns the
  /// training loss [R] of the step's data at the parameters before the update when `want_loss` or when
  /// it is free (loss_is_free()), else an undefined tensor.
  virtual at::Tensor step(int64_t step, const at::Tensor& lr, const at::Tensor& decay, bool want_loss) = 0;
  /// True when run_steps() runs several updates in one call faster than step() by step() (the fused CUDA
  /// path of the online source). Default: false.
  virtual bool multi_step() const { return false; }
  /// Updates first .. first + n - 1 with lr [R] and decay [R] constant over them; returns the mean
  /// over the n updates of what step() returns (undefined when step() returns none). Default: n
  /// calls of step().
  virtual at::Tensor run_steps(int64_t first, int64_t n, const at::Tensor& lr, const at::Tensor& decay, bool want_loss);
  /// True when step() computes the loss anyway (then the loop watches it every step for divergence).
  virtual bool loss_is_free() const { return false; }
  /// True when `train_loss` is measured at records on the whole training set (record_loss) rather than
  /// averaged over the steps' losses.
  virtual bool loss_at_records() const { return false; }
  /// The training loss [R] at the current parameters (sources with loss_at_records()).
  virtual at::Tensor record_loss(models::Model& model) {
    (void)model;
    return {};
  }
  /// Ends the run (releases per-run state).
  virtual void end() {}
};

/// Calls `step(s)` for s = first .. first + n - 1 and returns the mean of the losses [R] it returns
/// (undefined when it returns none): the one-by-one version of a multi-step call.
at::Tensor mean_loss_of_steps(int64_t first, int64_t n, const std::function<at::Tensor(int64_t)>& step);

/// Budget defaults a trainer preset gives its source (offline_gd: 100 epochs; adam offline: 1000 steps).
struct SourceDefaults {
  int64_t steps = 1000;  ///< `steps` default
  int64_t epochs = 0;    ///< `epochs` default (offline; 0: use steps)
};

/// Sources are built from the trainer section for a model, with the preset's budget defaults.
using DataSourceRegistry = Registry<DataSource, const models::Model&, const SourceDefaults&>;
/// The data-source registry (filled on first use, in register.cpp).
DataSourceRegistry& data_source_registry();

/// The step budget: ceil(steps_per_d * d) when steps_per_d > 0, else `steps`.
int64_t step_budget(int64_t steps, double steps_per_d, int64_t d);
/// Reads and validates `steps` (0..2^40, default `fallback`) and `steps_per_d` (finite, >= 0; 0 means
/// "use steps") and returns the budget for input dimension d. Both given (steps_per_d > 0) is a
/// ConfigError naming both.
int64_t read_step_budget(const Config& cfg, int64_t fallback, int64_t d);
/// Throws the ConfigError (located at `key`) for two keys of `cfg` that both set `what`, naming both
/// with their paths ("trainer.steps and trainer.steps_per_d both set the step budget: ...").
[[noreturn]] void fail_conflicting_keys(const Config& cfg, const std::string& key, const std::string& other,
                                        const std::string& what);

}  // namespace lrlab::trainers
