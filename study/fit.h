#pragma once
/// Scaling fits: the exponent of a power law `y = C x^slope`, fitted by least squares of log y on
/// log x, with a bootstrap interval over seeds (MATH.md, "scaling exponents").
///
/// Why resample seeds rather than points: runs that share a seed share random draws across sweep
/// points (common random numbers), so their errors are correlated; resampling whole seeds keeps
/// that correlation and gives an honest interval.
///
/// Grouping (`by`): a study that compares conditions, e.g.
/// `fit: {x: base.d, y: steps_to_overlap_0.95, by: base.zero_base}`, gets one fit per combination
/// of the `by` values present in runs.csv (group "base.zero_base=false", then "...=true", in order
/// of first appearance). Without `by`, all runs enter one fit; if another swept key takes several
/// values at the same x, that fit pools over it and its note says so, since a slope over mixed
/// conditions is rarely what was meant.

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "framework/csv.h"
#include "study/plan.h"

namespace lrlab {
namespace study {

/// Marks a number that could not be computed.
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// The outcome of one power-law fit. Numbers are NaN where they could not be computed.
struct FitResult {
  std::string x;  ///< x column (empty when fitted from vectors)
  std::string y;  ///< y column
  /// Keys the runs were grouped by (FitSpec::by); empty: no grouping.
  std::vector<std::string> by;
  /// This fit's group, "base.zero_base=true" (see fit_group_label); "" when there is no `by`.
  std::string group;
  /// "least_squares" (log y on log x over the runs that reached) or "censored" (log-normal AFT maximum
  /// likelihood, runs that did not reach right-censored at their steps; see study/censored_fit.h).
  std::string method = "least_squares";
  double slope = kNaN;      ///< slope of log y on log x (the exponent)
  double intercept = kNaN;  ///< intercept of the log-log line: y ~ exp(intercept) * x^slope (censored: median)
  double r2 = kNaN;         ///< coefficient of determination of the log-log fit (NaN for a censored fit)
  double sigma = kNaN;      ///< censored fit: standard deviation of the noise on log y (NaN otherwise)
  double slope_lo = kNaN;   ///< 2.5% bootstrap percentile of the slope
  double slope_hi = kNaN;   ///< 97.5% bootstrap percentile of the slope
  int n_used = 0;           ///< points (runs) in the fit (censored fit: reached + censored)
  /// Runs whose y cell was empty (threshold not reached). Least squares: left out (diverged runs
  /// included); censored fit: the censored runs, which are in the fit (diverged runs are not).
  int n_not_reached = 0;
  int n_censored = 0;       ///< censored fit: runs in the fit censored at their steps (0 for least squares)
  int n_diverged = 0;       ///< censored fit: diverged runs without y, left out (no censoring time)
  int n_excluded = 0;       ///< runs with a y that a log cannot take (<= 0 or not finite)
  /// (x value, runs not reached at that x), in increasing x; only x values with some not reached.
  std::vector<std::pair<double, int>> not_reached_by_x;
  /// Censored fit: (x value, censored runs at that x), in increasing x; only x values with some.
  std::vector<std::pair<double, int>> censored_by_x;
  /// "seeds", "points within x" (least squares), "runs within x" (censored), or "none" (no interval).
  std::string resampled;
  int bootstrap_used = 0;  ///< resamples that produced a slope (those with >= 2 distinct x)
  /// Why there is no fit (e.g. "fewer than 2 distinct x reached") and warnings such as
  /// "pooled over other swept keys: teacher.xi", joined by "; "; "" for a clean fit.
  std::string note;
};

/// Least-squares fit of log y on log x with a 95% percentile bootstrap interval of the slope.
/// `seed_group[i]` names the seed of point i (points sharing a seed are resampled together); when
/// there are fewer than 2 seed groups (or `seed_group` is empty), points are resampled within each
/// x value instead; when every x has a single point there is no interval (NaN, resampled "none").
/// Deterministic for a given `rng_seed` (std::mt19937_64). Throws lrlab::Error for mismatched
/// lengths, non-positive or non-finite x or y, fewer than 2 distinct x, or bootstrap < 0.
FitResult fit_power_law(const std::vector<double>& x, const std::vector<double>& y,
                        const std::vector<int>& seed_group, int bootstrap = 1000,
                        uint64_t rng_seed = 0);

/// Fits `spec.y` against `spec.x` over the rows of runs.csv, one fit per combination of the
/// `spec.by` columns' values present in the table (in order of first appearance; exactly one fit,
/// with group "", when `spec.by` is empty; none for an empty table with `by`).
/// `spec.method` "censored": rows with status "diverged" and an empty y cell are left out
/// (n_diverged); any other row with an empty y cell did not reach within its budget and is
/// right-censored at its `steps` cell (the column must exist); censored_aft_fit fits the rest, its bootstrap resampling runs within each x.
/// `spec.method` "least_squares": rows with an empty y cell are left out and counted (per x and in
/// total); rows sharing a `seed` cell are resampled together.
/// Either way rows whose y (or censoring time) a log cannot take are left out (n_excluded), and a fit
/// that cannot be made (too few distinct x reached) is returned with NaN numbers and `note` set, not
/// thrown: it is an outcome of the study. When another swept column (swept_columns) takes more than one value at
/// the same x within a fit, `note` names it ("pooled over other swept keys: teacher.xi"). Every
/// group uses the same `rng_seed`. Throws lrlab::Error for a missing column or a non-numeric cell.
std::vector<FitResult> fit_from_runs(const Table& runs, const FitSpec& spec, int bootstrap = 1000,
                                     uint64_t rng_seed = 0);

/// The group label of row `row` of `runs` for the keys `by`: "k1=v1, k2=v2" with the cells as
/// written in runs.csv ("" when `by` is empty). Throws lrlab::Error for a missing column.
std::string fit_group_label(const Table& runs, const std::vector<std::string>& by, std::size_t row);

/// The q-quantile (0 <= q <= 1) with linear interpolation between order statistics (R's type 7,
/// numpy's default); NaN for no values.
double quantile(std::vector<double> values, double q);

}  // namespace study
}  // namespace lrlab
