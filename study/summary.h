#pragma once
/// The summary of a study: per sweep point, the median and interquartile range of every final
/// metric and hitting time over seeds, how many runs reached each threshold and how many diverged,
/// and the requested scaling fits. Where some runs did not reach a threshold, its hitting-time
/// statistics are Kaplan-Meier quantiles (those runs right-censored at their steps, diverged runs
/// left out), since the median of the runs that reached is biased low.
///
/// Input: runs.csv, one row per run, columns
/// `run, seed, point, <swept key columns>, status, steps, final_<metric>...,
/// steps_to_<metric>_<thr>...` (an empty steps_to_ cell means "not reached"). Output: summary.csv
/// (long format: one row per point and result column), fits.csv, summary.md (aligned Markdown
/// tables, readable in a terminal).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "framework/csv.h"
#include "study/fit.h"
#include "study/plan.h"

namespace lrlab {
namespace study {

/// Statistics of one result column (final_* or steps_to_*) at one sweep point.
struct ColumnStats {
  std::string column;         ///< runs.csv column name
  bool hitting_time = false;  ///< a steps_to_* column (empty cells mean "not reached")
  int count = 0;              ///< non-empty cells (for hitting times: runs that reached)
  int total = 0;              ///< runs at the point
  /// Hitting times: runs that did not reach and did not diverge, right-censored at their `steps`.
  int censored = 0;
  /// True when the statistics are Kaplan-Meier quantiles (a hitting-time column with censored runs
  /// at this point); false: plain quantiles of the non-empty cells.
  bool kaplan_meier = false;
  double censored_at = kNaN;  ///< largest censoring time (steps) when censored > 0
  /// Median: Kaplan-Meier when `kaplan_meier` (NaN when fewer than half reached: beyond the budgets),
  /// else over the non-empty cells.
  double median = kNaN;
  double q25 = kNaN;          ///< 25% quantile (Kaplan-Meier, or linear interpolation)
  double q75 = kNaN;          ///< 75% quantile (Kaplan-Meier, or linear interpolation)
};

/// Everything summarised for one sweep point.
struct PointSummary {
  std::string point;  ///< the `point` cell (sweep point index)
  /// (swept key, value), in Summary::swept_keys order.
  std::vector<std::pair<std::string, std::string>> values;
  int runs = 0;                      ///< rows of this point
  int diverged = 0;                  ///< rows with status == "diverged"
  std::vector<ColumnStats> columns;  ///< in Summary::result_columns order
};

/// The summary of one runs table.
struct Summary {
  std::vector<std::string> swept_keys;      ///< swept key columns of runs.csv
  std::vector<std::string> result_columns;  ///< final_* and steps_to_* columns, in table order
  std::vector<PointSummary> points;         ///< in increasing point index
  std::vector<FitResult> fits;              ///< per requested fit, one per group of its `by` values
};

/// Summarises a runs table and fits each of `fits` (one FitResult per group of its `by` values;
/// bootstrap resamples and RNG seed as in fit_from_runs). Throws lrlab::Error for a missing `point`
/// column, a requested fit column that is absent, or a non-numeric result cell (errors name the run
/// and column).
Summary summarize_runs(const Table& runs, const std::vector<FitSpec>& fits = {},
                       int bootstrap = 1000, uint64_t rng_seed = 0);

/// summary.csv: columns point, <swept keys>, runs, diverged, column, n, median, q25, q75, censored,
/// estimator ("quantile", or "kaplan_meier" where some runs were censored).
Table summary_table(const Summary& summary);
/// fits.csv: columns x, y, by (keys joined by ";"), group ("base.zero_base=true"; empty without
/// `by`), slope, slope_lo, slope_hi, intercept, r2, n_used, n_not_reached, n_excluded,
/// not_reached_by_x ("64:1;128:2"), resampled, bootstrap_used, note, method ("censored" or
/// "least_squares"), sigma, n_censored, censored_by_x ("64:1"), n_diverged.
Table fits_table(const std::vector<FitResult>& fits);
/// Reads fits.csv back (for plots); slope etc. are NaN where the cell is empty or "nan"; a file
/// without the by/group columns (written before grouping existed) reads as ungrouped fits, one
/// without a method column (written before censored fits) as least-squares fits.
std::vector<FitResult> fits_from_table(const Table& fits);

/// The per-point table and the fits (with a group column when any fit is grouped), as aligned text
/// for the terminal at the end of a run.
std::string format_summary_table(const Summary& summary);
/// summary.md: a heading, the per-point table, how to read it, and the fits.
std::string summary_markdown(const Summary& summary);

/// Reads `dir`/runs.csv, summarises it, writes `dir`/summary.csv, summary.md and fits.csv
/// (atomically) and returns the summary.
Summary write_study_summary(const std::string& dir, const std::vector<FitSpec>& fits = {},
                            int bootstrap = 1000, uint64_t rng_seed = 0);

}  // namespace study
}  // namespace lrlab
