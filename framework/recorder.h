#pragma once
/// Records the metric curves of a group of runs, their hitting times, final values and divergence.
/// Torch-free: values arrive as one double per run.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

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
  int64_t diverged_step = -1;     ///< first recorded step with a non-finite value (-1: none)
  int64_t steps = 0;              ///< steps trained
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

  /// Records `values` (one per run) of `metric` at `step`. A non-finite value marks its run diverged
  /// at `step`; diverged runs record nothing more.
  void record(int64_t step, const std::string& metric, const std::vector<double>& values);
  /// Marks every still-active run as having trained `steps` steps.
  void finish(int64_t steps);
  /// True when every non-diverged run has reached every threshold (for early stopping).
  bool all_reached() const;
  /// True when every run has diverged.
  bool all_diverged() const;
  /// Whether run `i` is still active (not diverged).
  bool active(size_t i) const { return runs_[i].status != "diverged"; }

  /// The run records.
  const std::vector<RunRecord>& runs() const { return runs_; }
  /// The curve rows, in recording order.
  const std::vector<CurveRow>& curves() const { return curves_; }
  /// The thresholds.
  const std::map<std::string, std::vector<double>>& thresholds() const { return thresholds_; }

 private:
  std::vector<RunRecord> runs_;
  std::map<std::string, std::vector<double>> thresholds_;
  std::function<bool(const std::string&)> higher_is_better_;
  std::vector<CurveRow> curves_;
};

}  // namespace lrlab
