#pragma once
/// Scaling fits that respect censoring (issue 12). A run that did not reach a threshold within its budget
/// is not missing data: its hitting time is known to exceed the budget (right-censored). Dropping such
/// runs biases exponents downwards exactly where the problem is hardest; these functions use them.
///
/// - censored_aft_fit: the log-normal accelerated-failure-time model log T = a + b log x + sigma eps,
///   eps ~ N(0, 1), fitted by maximum likelihood with right censoring at each run's budget, and a
///   stratified bootstrap interval of the exponent b (runs resampled within each sweep point x).
/// - kaplan_meier_quantile / kaplan_meier_summary: the Kaplan-Meier median (and quartiles) of the
///   hitting times at one sweep point, defined when some runs did not reach.
///
/// Pure functions on vectors: they know nothing of runs.csv (the summary code maps columns to them).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace lrlab {
namespace study {

/// A censored log-normal AFT fit. Numbers are NaN where they could not be computed (see `note`).
struct CensoredFit {
  double intercept;  ///< a: log T ~ a + b log x (NaN when no fit)
  double slope;      ///< b, the exponent (NaN when no fit)
  double sigma;      ///< standard deviation of the noise on log T (NaN when no fit)
  double slope_lo;   ///< 2.5% percentile of the stratified bootstrap slopes (NaN without bootstrap)
  double slope_hi;   ///< 97.5% percentile of the stratified bootstrap slopes
  double log_likelihood;  ///< maximised log-likelihood (densities of log T), NaN when no fit
  int n_used = 0;         ///< runs in the fit (reached + censored)
  int n_censored = 0;     ///< runs that did not reach (censored at their budget)
  /// (x value, runs censored at that x), in increasing x; only x values with some censored runs.
  std::vector<std::pair<double, int>> censored_by_x;
  int iterations = 0;      ///< Newton iterations of the full-data fit
  int bootstrap_used = 0;  ///< resamples that produced a fit
  /// "" for a clean fit; else why there is none ("fewer than 2 distinct x with a reached run", ...) or a
  /// warning, joined by "; ".
  std::string note;
  CensoredFit();
};

/// Maximum-likelihood fit of log T = a + b log x + sigma eps with right censoring.
/// Inputs per run i: x[i] > 0 (the sweep value), t[i] > 0 (the hitting time when reached[i], else the
/// budget at which the run stopped: then T_i > t[i]), reached[i]. Likelihood: reached runs contribute the
/// normal density of log t_i, censored runs the normal tail P(log T_i > log t_i).
/// The optimiser is Newton with backtracking on Olsen's reparametrisation (a/sigma, b/sigma, 1/sigma), in
/// which the log-likelihood is globally concave, so it converges from any start; with no censored run the
/// MLE of (a, b) is the least-squares line and sigma^2 = RSS / n.
/// No fit (NaN numbers, `note` set, not thrown) when the reached runs span fewer than 2 distinct x, number
/// fewer than 3, or lie exactly on a line (sigma -> 0: no maximum).
/// Bootstrap (`bootstrap` > 0): runs are resampled with replacement within each distinct x (each stratum
/// keeps its size); resamples without a fit are skipped; deterministic for a given `rng_seed`.
/// Throws lrlab::Error for mismatched lengths, non-positive or non-finite x or t, or bootstrap < 0.
CensoredFit censored_aft_fit(const std::vector<double>& x, const std::vector<double>& t,
                             const std::vector<bool>& reached, int bootstrap = 1000, uint64_t rng_seed = 0);

/// The Kaplan-Meier survival curve of one sweep point: the distinct event times (reached runs' t) in
/// increasing order with S(t) just after each. Censored runs (reached false, t = budget) stay at risk up to
/// and including their t (an event and a censoring at the same time: the event comes first).
struct KaplanMeierCurve {
  std::vector<double> times;     ///< distinct event times, increasing
  std::vector<double> survival;  ///< S at each event time (right-continuous)
};

/// The Kaplan-Meier curve of hitting times t (> 0, finite) with flags `reached`.
/// Throws lrlab::Error for mismatched lengths or bad t.
KaplanMeierCurve kaplan_meier(const std::vector<double>& t, const std::vector<bool>& reached);

/// The Kaplan-Meier q-quantile (0 < q < 1): the smallest event time with S(t) <= 1 - q (no interpolation;
/// without censoring this is the ceil(q n)-th order statistic). NaN when S never falls to 1 - q (too many
/// runs did not reach: the quantile is beyond the budgets).
double kaplan_meier_quantile(const std::vector<double>& t, const std::vector<bool>& reached, double q);

/// Quartiles and counts of one sweep point.
struct KaplanMeierSummary {
  double q25, median, q75;  ///< Kaplan-Meier quantiles (NaN where beyond the budgets)
  int n = 0;                ///< runs
  int n_censored = 0;       ///< runs that did not reach
};

/// kaplan_meier_quantile at 0.25, 0.5, 0.75 with the counts.
KaplanMeierSummary kaplan_meier_summary(const std::vector<double>& t, const std::vector<bool>& reached);

}  // namespace study
}  // namespace lrlab
