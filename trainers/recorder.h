#pragma once
/// Records the metric curves of a group of runs, their hitting times, final values and divergence.
/// Torch-free: values arrive as one double per run.
///
/// A run leaves the group's record in one of two ways, after which nothing more is recorded for it
/// (so a run's record is the same alone or stacked with any other runs):
///  - it diverges: a non-finite value (loss, metric or parameter) marks it `diverged` at that step;
///    its curve keeps every record before that step;
///  - with early stopping, it reaches every threshold and the success criterion: it stops at that
///    record (`steps` = that step).
/// Either way its last record (`recorded_step`) is the state its saved tensors hold (trainers/monitor.h).
///
/// Directions: a threshold on a metric whose higher_is_better is true (overlap) is reached when
/// value >= threshold; on every other metric (delta_error, delta_error_sym, test_loss, population_loss,
/// train_loss) when value <= threshold. The success criterion (models/success.h) gives each condition
/// its own direction and is met at the first record where all of them hold at once.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "models/success.h"

namespace lrlab {

/// One row of curves.csv (long format).
struct CurveRow {
  std::string run;     ///< run id
  int64_t step;        ///< training step (0 = initialisation)
  std::string metric;  ///< metric name
  double value;        ///< value
};

/// Everything recorded for one run.
struct RunRecord {
  std::string id;                 ///< run id (unique in a study)
  int64_t seed = 0;               ///< the run's seed
  std::string status = "ok";      ///< ok | diverged
  int64_t diverged_step = -1;     ///< step at which it diverged (-1: it did not)
  int64_t steps = 0;              ///< steps trained (for a diverged run: its diverged step)
  int64_t recorded_step = -1;     ///< step of its last record: final_values and saved tensors (-1: none)
  int64_t success_step = -1;      ///< first record where the success criterion held (-1: not met / none)
  std::map<std::string, double> final_values;                  ///< last finite value of each metric
  std::map<std::string, std::map<double, int64_t>> hits;       ///< metric -> threshold -> first step reached
};

/// Column name of a hitting time: steps_to_<metric>_<threshold>, e.g. steps_to_overlap_0.95.
std::string hitting_time_column(const std::string& metric, double threshold);

/// Collects the records of one group (runs in replica order).
class Recorder {
 public:
  /// `thresholds`: metric -> thresholds; `higher_is_better(metric)` decides the crossing direction.
  Recorder(std::vector<RunRecord> runs, std::map<std::string, std::vector<double>> thresholds,
           std::function<bool(const std::string&)> higher_is_better);

  /// With early stopping, a run stops (records nothing more) at the record where it has reached
  /// every threshold. Off by default.
  void set_early_stop(bool early_stop) { early_stop_ = early_stop; }
  /// The joint success criterion (empty: none); with early stopping a run also waits for it.
  void set_success(std::vector<models::SuccessCondition> success) { success_ = std::move(success); }

  /// Records every metric at `step` (metric -> one value per run). A run with any non-finite value
  /// is marked diverged at `step` and records none of them; stopped runs record nothing.
  void record_all(int64_t step, const std::map<std::string, std::vector<double>>& values);
  /// Records `values` (one per run) of one `metric` at `step` (a non-finite value marks its run
  /// diverged at `step`). Prefer record_all, which keeps a record step all-or-nothing per run.
  void record(int64_t step, const std::string& metric, const std::vector<double>& values);
  /// Marks run `i` diverged at `step` (if it is still active); nothing more is recorded for it.
  void mark_diverged(size_t i, int64_t step);
  /// Marks every still-active run as having trained `steps` steps.
  void finish(int64_t steps);
  /// True when every non-diverged run has reached every threshold and the success criterion.
  bool all_reached() const;
  /// True when every run has diverged.
  bool all_diverged() const;
  /// True when no run is still active (each diverged or stopped early).
  bool none_active() const;
  /// Whether run `i` is still active (neither diverged nor stopped early).
  bool active(size_t i) const { return runs_[i].status != "diverged" && !stopped_[i]; }
  /// Whether run `i` has diverged.
  bool diverged(size_t i) const { return runs_[i].status == "diverged"; }

  /// The run records.
  const std::vector<RunRecord>& runs() const { return runs_; }
  /// The curve rows, in recording order.
  const std::vector<CurveRow>& curves() const { return curves_; }
  /// The thresholds.
  const std::map<std::string, std::vector<double>>& thresholds() const { return thresholds_; }

 private:
  /// Records one finite value of run `i` (curve row, final value, hitting times).
  void record_value(size_t i, int64_t step, const std::string& metric, double value);
  /// True when run `i` has reached every threshold and the success criterion.
  bool reached_all(size_t i) const;
  /// Notes the success step of run `i` when every condition holds for its values at `step`.
  void check_success(size_t i, int64_t step, const std::map<std::string, std::vector<double>>& values);

  std::vector<RunRecord> runs_;
  std::vector<bool> stopped_;
  std::map<std::string, std::vector<double>> thresholds_;
  std::function<bool(const std::string&)> higher_is_better_;
  std::vector<CurveRow> curves_;
  std::vector<models::SuccessCondition> success_;
  bool early_stop_ = false;
};

}  // namespace lrlab
