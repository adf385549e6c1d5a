#pragma once
/// Metrics of a student-teacher group (MATH.md, "Metrics"), each a registered component computing one
/// value per replica: overlap, delta_error, test_loss (and train_loss, which the trainer measures).

#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "framework/registry.h"
#include "models/register.h"
#include "models/success.h"

namespace lrlab {
class Config;
}

namespace lrlab::models {

/// Options of the `metrics` section.
struct MetricsOptions {
  std::vector<std::string> names = {"overlap", "delta_error", "test_loss", "population_loss",
                                    "train_loss"};  ///< recorded metrics
  int64_t every = 0;                 ///< record every this many steps (0: about 100 records per run)
  int64_t test_samples = 1000;       ///< size of the held-out Monte-Carlo test set
  int64_t test_seed = 12345;         ///< seed of the test inputs (shared by every run, so runs compare on one set)
  std::map<std::string, std::vector<double>> thresholds;  ///< metric -> thresholds for hitting times
  std::vector<SuccessCondition> success;  ///< joint success criterion (every condition at one record); empty: none

  /// Reads and validates the options (every threshold and success condition names a recorded metric;
  /// overlap thresholds in (0, 1]).
  static MetricsOptions from_config(const Config& cfg);
};

/// One metric: a value per replica.
class Metric {
 public:
  virtual ~Metric() = default;
  /// The metric's name (registry key).
  virtual std::string name() const = 0;
  /// True when larger is better: a threshold is reached when value >= threshold (overlap); otherwise
  /// when value <= threshold (errors and losses).
  virtual bool higher_is_better() const = 0;
  /// The value per replica, [R] float64 on the CPU.
  virtual at::Tensor compute(Model& model) = 0;
};

/// Metrics registry (train_loss is not in it: the trainer measures it).
using MetricRegistry = Registry<Metric, const Model&, const MetricsOptions&>;
/// The metric registry (filled on first use).
MetricRegistry& metric_registry();
/// Whether larger is better for `metric` (including train_loss); unknown metric -> false.
bool metric_higher_is_better(const std::string& metric);

/// overlap: |<u, u*>| for rank 1; ||U*^T Q||_F^2 / r for rank r, Q = the adapter's row-space basis.
at::Tensor subspace_overlap(const at::Tensor& teacher_basis, const at::Tensor& student_basis);
/// delta_error: ||Delta - Delta*||_F / ||Delta*||_F per replica ([R]); Delta* = 0 gives ||Delta||_F.
at::Tensor relative_delta_error(const at::Tensor& delta, const at::Tensor& delta_star);
/// Monte-Carlo squared loss (1/n) sum (f - f*)^2 / 2 + tau^2 / 2 on inputs x [n, d], in chunks; [R].
at::Tensor monte_carlo_loss(Model& model, const at::Tensor& x);

/// The metrics of one group: builds each requested metric once (e.g. the test set), then evaluates.
class MetricSet {
 public:
  /// Builds the metrics named in `options` for `model`.
  MetricSet(const MetricsOptions& options, const Model& model);
  /// Every model metric per replica (name -> [R] CPU float64), without train_loss.
  std::map<std::string, at::Tensor> evaluate(Model& model);
  /// The options.
  const MetricsOptions& options() const { return options_; }

 private:
  MetricsOptions options_;
  std::vector<std::shared_ptr<Metric>> metrics_;
};

}  // namespace lrlab::models
