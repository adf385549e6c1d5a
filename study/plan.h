#pragma once
/// Expansion of a config's `study` section into sweep points and runs.
///
/// ```yaml
/// seed: 0                  # runs use seed, seed+1, ... (default 0)
/// study:
///   sweep: {base.d: [64, 128], teacher.xi: [0.5, 1.0]}        # every combination, first key slowest
///   zip: {trainer.lr: [0.1, 0.2], trainer.steps: [100, 200]}  # varied together, crossed with the grid
///   seeds: 10              # runs per sweep point (default: `replicas`, else 1)
///   fit: {x: base.d, y: steps_to_overlap_0.95}                # optional; or a list of such maps
/// ```
/// Points are ordered grid-major (first sweep key slowest), then zip position; runs are ordered by
/// point, then seed. The same seeds are used at every point (common random numbers), so differences
/// between points are not blurred by different draws.
///
/// A fit may be split by other swept keys to compare conditions: `by:` names one swept key or a
/// list of them (not x), and each combination of their values gets its own fit (and its own colour
/// in the fit plot):
///
/// ```yaml
/// study:
///   sweep: {base.d: [32, 64, 128], base.zero_base: [false, true]}
///   fit: {x: base.d, y: steps_to_overlap_0.95, by: base.zero_base}   # or by: [key, key]
/// ```
/// One combined figure of the study's claim may be declared (see study/figure_spec.h):
///
/// ```yaml
/// study:
///   figure: {x: base.d, y: steps_to_overlap_0.5, by: base.zero_base,
///            series: {base.zero_base: [fine-tuning, GLM]}, title: "Fine-tuning vs GLM"}
/// ```
/// Without `by`, every run enters one fit; when another swept key varies at a fixed x, the fit
/// pools over it and its result carries a note saying so ("pooled over other swept keys:
/// teacher.xi").

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "framework/config.h"

namespace lrlab {
namespace study {

/// One combination of swept values.
struct SweepPoint {
  int index = 0;  ///< position in StudyPlan::points
  /// (dotted key path, canonical one-line YAML value), in StudyPlan::swept_keys order.
  std::vector<std::pair<std::string, std::string>> values;
  /// Each value as written in the study section (the sweep or zip list element), in `values` order:
  /// config_for_point copies these, so an error about a swept value points at its list element.
  /// A point made by hand may leave this empty (its values are then parsed from their text).
  std::vector<ConfigValue> sources;
};

/// One run: a sweep point with one seed.
struct RunSpec {
  std::string id;      ///< "p003_s07": point and seed index, zero-padded; unique and stable
  int point = 0;       ///< index into StudyPlan::points
  int seed_index = 0;  ///< 0 .. seeds-1 (the same index means the same seed at every point)
  int64_t seed = 0;    ///< top-level `seed` + seed_index
};

/// A requested scaling fit: log y against log x over the sweep, one fit per group of `by` values.
struct FitSpec {
  std::string x;  ///< a swept key with positive numeric values (a runs.csv column), e.g. base.d
  std::string y;  ///< a runs.csv column, typically a hitting time, e.g. steps_to_overlap_0.95
  /// Swept keys (other than x) whose value combinations each get their own fit, e.g.
  /// {"base.zero_base"}; empty (the default): one fit over all runs.
  std::vector<std::string> by;
  /// "censored" (the default): a log-normal accelerated-failure-time fit by maximum likelihood in which
  /// a run that did not reach is right-censored at its `steps`; "least_squares": the uncensored
  /// least-squares fit of log y on log x over the runs that reached (biased low under censoring).
  std::string method = "censored";
};

/// The combined figure of a study (`study.figure`), drawn into plots/figure.{png,svg,pdf}.
struct FigureSpec {
  /// "step" (curves of the metrics in `y`) or a swept key with numeric values (result columns in
  /// `y` against it, with their fits from fits.csv where the fit's x, y and by match).
  std::string x;
  std::vector<std::string> y;   ///< metrics (x = step) or runs.csv columns; one series per y and group
  std::vector<std::string> by;  ///< swept keys whose value combinations are series (default for step: all)
  /// Legend names of values: "y" or a `by` key -> value (as in runs.csv) -> name; a series' legend
  /// joins the names of its y and by values (values without a name are shown as "d = 64").
  std::map<std::string, std::map<std::string, std::string>> names;
  std::string title;                ///< figure title ("" : none)
  std::string xlabel;               ///< x axis label ("" : from the label table)
  std::string ylabel;               ///< y axis label ("" : from the label table)
  int n_series = 0;                 ///< number of series the plan gives (y values x `by` combinations)
};

/// Everything a study will run.
struct StudyPlan {
  std::vector<std::string> swept_keys;  ///< sweep keys, then zip keys, in document order
  std::vector<SweepPoint> points;       ///< one point when nothing is swept
  std::vector<RunSpec> runs;            ///< points.size() * seeds runs
  std::vector<FitSpec> fits;            ///< requested fits (may be empty)
  std::optional<FigureSpec> figure;     ///< the study's combined figure, when declared
  int seeds = 1;                        ///< runs per point
  int64_t base_seed = 0;                ///< top-level `seed`
};

/// Reads `seed`, `replicas` and `study` from the root config and expands them. Throws ConfigError
/// located at the offending key for: a swept key absent from the config (naming the closest
/// existing key), an empty or non-list value, zip lists of different lengths, a key both swept and
/// zipped (or one nested in the other), seeds < 1, an unknown key in `study`, a fit whose x is
/// not a swept numeric key, and a fit whose `by` names a key that is not swept, is x, or repeats
/// (the error names the key and lists the swept keys).
StudyPlan expand_study(const Config& root);

/// A clone of `root` with the point's values set and `study` erased (the config of every run of
/// that point, before its seed is set).
Config config_for_point(const Config& root, const SweepPoint& point);

/// config_for_point, with the top-level `seed` set to the run's seed.
Config config_for_run(const Config& root, const StudyPlan& plan, const RunSpec& run);

/// "base.d=64, teacher.xi=0.5" (or "all runs" when nothing is swept), for legends and tables.
std::string point_label(const SweepPoint& point);

/// The run id for point `point` and seed index `seed_index` ("p003_s07").
std::string run_id(int point, int seed_index);

}  // namespace study
}  // namespace lrlab
