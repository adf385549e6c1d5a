#include "study/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <set>

#include "framework/checked_math.h"
#include "framework/csv.h"
#include "framework/error.h"
#include "framework/interrupt.h"
#include "framework/strings.h"
#include "study/figure_spec.h"

namespace lrlab {
namespace study {

namespace {

const std::vector<std::string> kStudyKeys = {"sweep", "zip", "seeds", "fit", "figure"};
// Guards against a typo such as `seeds: 100000` times a large grid filling the disk with runs.
constexpr long long kMaxRuns = 10'000'000;

// Every dotted key path of the document outside `study` (the candidates for "did you mean").
void collect_paths(const ConfigValue& node, const std::string& prefix, std::vector<std::string>& out) {
  for (const std::string& key : node.keys()) {
    std::string path = prefix.empty() ? key : prefix + "." + key;
    if (path == "study") continue;
    out.push_back(path);
    collect_paths(node.at(key), path, out);
  }
}

bool key_exists(const Config& root, const std::string& dotted) {
  return !root.value_text(dotted).empty();
}

// One swept (or zipped) key with its values, and where it is written (for located errors).
struct Axis {
  std::string key;                  // full dotted path in the config
  std::vector<std::string> values;  // canonical YAML of each value
  std::vector<ConfigValue> sources;  // each value as written in the list (copied into run configs)
  Config view;                      // the mapping that holds it
  std::string local;                // its key in that mapping
};

// Marks `key` of `view` as read for strict-key checking (Config::finish_recursive). The values were
// already read as a ConfigValue; a typed read that fails (lists of lists) still records the read.
void mark_read(const Config& view, const std::string& key) {
  try {
    view.get<std::vector<std::string>>(key);
  } catch (const ConfigError&) {
  }
}

// Reads one `sweep:` or `zip:` mapping into axes, checking every key. Nested mappings are key
// paths written in parts: `{base: {d: [64]}}` is `{base.d: [64]}`. That is also the form a
// command-line override `+study.sweep.base.d=[64,128]` creates, since overrides split keys at dots.
void read_axes(const Config& root, const Config& view, const ConfigValue& node,
               const std::string& prefix, const std::string& what,
               const std::vector<std::string>& all_paths, std::vector<Axis>& axes) {
  if (!node.is_map())
    view.fail("", fmt::format("study.{} must be a mapping from a key path to a list of values, "
                              "e.g. {{base.d: [64, 128]}}",
                              what));
  for (const std::string& local : node.keys()) {
    const std::string key = prefix.empty() ? local : prefix + "." + local;
    if (key == "study" || key.rfind("study.", 0) == 0)
      view.fail(local, "the study section cannot sweep itself");
    if (key == "seed" || key == "replicas")
      view.fail(local, fmt::format("'{}' cannot be swept; use study.seeds for the number of seeds "
                                   "per point (runs use seed, seed+1, ...)",
                                   key));
    if (!key_exists(root, key)) {
      std::string message = fmt::format(
          "swept key '{}' is not in the config (a study can only vary keys the config sets)", key);
      std::string near = closest_match(key, all_paths);
      if (!near.empty()) {
        message += fmt::format("; did you mean '{}'?", near);
      } else {
        std::vector<std::string> top;
        for (const auto& p : all_paths)
          if (p.find('.') == std::string::npos) top.push_back(p);
        message += fmt::format("; top-level keys: {}", join(top));
      }
      view.fail(local, message);
    }
    const ConfigValue value = node.at(local);
    if (value.is_map() && value.size() > 0) {
      read_axes(root, view.child(local), value, key, what, all_paths, axes);
      continue;
    }
    if (!value.is_sequence())
      view.fail(local, fmt::format("must be a list of values to {}, e.g. [64, 128]; got {}", what,
                                   value.text()));
    if (value.size() == 0) view.fail(local, "empty list: give at least one value");
    mark_read(view, local);
    Axis axis{key, {}, {}, view, local};
    for (std::size_t i = 0; i < value.size(); ++i) {
      axis.values.push_back(value.item(i).text());
      axis.sources.push_back(value.item(i));
    }
    axes.push_back(std::move(axis));
  }
}

// True when `a` and `b` are the same key or one is nested inside the other (base vs base.d).
bool overlaps(const std::string& a, const std::string& b) {
  if (a == b) return true;
  auto nested = [](const std::string& outer, const std::string& inner) {
    return inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
           inner[outer.size()] == '.';
  };
  return nested(a, b) || nested(b, a);
}

// Throws ConfigError at `study.fit.<key>` when the fit is a single mapping (the key has a line of
// its own there), else at `study.fit` (a list item has no key path); `where` in the message then
// says which item.
[[noreturn]] void fail_fit(const Config& study_view, bool single, const std::string& key,
                           const std::string& message) {
  if (single && study_view.is_map("fit")) study_view.child("fit").fail(key, message);
  study_view.fail("fit", message);
}

// The `by` value of a fit: one key (a scalar) or a list of keys, each a swept key other than x,
// without repeats.
std::vector<std::string> read_fit_by(const Config& study_view, bool single, const ConfigValue& node,
                                     const std::string& where, const StudyPlan& plan,
                                     const std::string& x) {
  std::vector<std::string> by;
  const std::string not_keys =
      fmt::format("{}.by must be a swept key or a list of swept keys, got {}", where, node.text());
  if (node.is_scalar()) {
    by.push_back(node.scalar());
  } else if (node.is_sequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      if (!node.item(i).is_scalar()) fail_fit(study_view, single, "by", not_keys);
      by.push_back(node.item(i).scalar());
    }
  } else {
    fail_fit(study_view, single, "by", not_keys);
  }
  const std::string swept = plan.swept_keys.empty() ? "none" : join(plan.swept_keys);
  for (std::size_t i = 0; i < by.size(); ++i) {
    const std::string& key = by[i];
    if (key == x)
      fail_fit(study_view, single, "by",
               fmt::format("{}.by: '{}' is the fit's x; by names other swept keys whose values "
                           "each get their own fit (swept: {})",
                           where, key, swept));
    if (std::find(plan.swept_keys.begin(), plan.swept_keys.end(), key) == plan.swept_keys.end()) {
      std::string message =
          fmt::format("{}.by: '{}' is not a swept key (swept: {})", where, key, swept);
      std::string near = closest_match(key, plan.swept_keys);
      if (!near.empty() && near != x) message += fmt::format("; did you mean '{}'?", near);
      fail_fit(study_view, single, "by", message);
    }
    if (std::find(by.begin(), by.begin() + static_cast<std::ptrdiff_t>(i), key) !=
        by.begin() + static_cast<std::ptrdiff_t>(i))
      fail_fit(study_view, single, "by",
               fmt::format("{}.by: '{}' is listed twice (swept: {})", where, key, swept));
  }
  return by;
}

FitSpec read_fit(const Config& study_view, const ConfigValue& node, const std::string& where,
                 const StudyPlan& plan) {
  if (!node.is_map())
    study_view.fail("fit", fmt::format("{} must be a mapping {{x: KEY, y: COLUMN}}, got {}", where,
                                       node.text()));
  const bool single = where == "fit";
  FitSpec spec;
  for (const std::string& key : node.keys()) {
    if (key != "x" && key != "y" && key != "by" && key != "method")
      study_view.fail("fit", fmt::format("{}: unknown key '{}'; valid keys: x, y, by, method", where, key));
    if (key == "by") continue;
    if (!node.at(key).is_scalar())
      study_view.fail("fit", fmt::format("{}.{} must be a single name", where, key));
    (key == "x" ? spec.x : key == "y" ? spec.y : spec.method) = node.at(key).scalar();
  }
  if (spec.method != "censored" && spec.method != "least_squares")
    fail_fit(study_view, single, "method",
             fmt::format("{}.method: unknown method '{}'; valid: censored (the default: runs that did not "
                         "reach are right-censored at their steps), least_squares (only the runs that reached)",
                         where, spec.method));
  if (spec.x.empty() || spec.y.empty())
    study_view.fail("fit", fmt::format("{} needs both x (a swept key) and y (a result column, e.g. "
                                       "steps_to_overlap_0.95)",
                                       where));
  auto it = std::find(plan.swept_keys.begin(), plan.swept_keys.end(), spec.x);
  if (it == plan.swept_keys.end()) {
    std::string message = fmt::format("{}: x '{}' is not a swept key (swept: {})", where, spec.x,
                                      plan.swept_keys.empty() ? "none" : join(plan.swept_keys));
    std::string near = closest_match(spec.x, plan.swept_keys);
    if (!near.empty()) message += fmt::format("; did you mean '{}'?", near);
    study_view.fail("fit", message);
  }
  const std::size_t k = static_cast<std::size_t>(it - plan.swept_keys.begin());
  for (const auto& p : plan.points) {
    const std::string& text = p.values[k].second;
    std::optional<double> v;
    try {
      v = parse_number(text);
    } catch (const Error&) {
      v.reset();
    }
    if (!v || !(*v > 0))
      study_view.fail("fit", fmt::format("{}: x '{}' takes the value {}, but a log-log fit needs "
                                         "positive numbers",
                                         where, spec.x, text));
  }
  // A single x value (a one-value sweep, e.g. `-m base.d=64` to try one point) is not an error: the
  // study runs and the summary reports the fit as skipped (fit_from_runs' note), as for a study
  // whose runs reach the threshold at one x only.
  if (node.has("by")) spec.by = read_fit_by(study_view, single, node.at("by"), where, plan, spec.x);
  return spec;
}

}  // namespace

std::string run_id(int point, int seed_index) {
  return fmt::format("p{:03d}_s{:02d}", point, seed_index);
}

std::string point_label(const SweepPoint& point) {
  if (point.values.empty()) return "all runs";
  std::string out;
  for (const auto& kv : point.values) out += (out.empty() ? "" : ", ") + kv.first + "=" + kv.second;
  return out;
}

namespace {

// The study section: null when absent or empty; anything but a mapping is an error.
ConfigValue read_study_section(const Config& root) {
  const ConfigValue study = root.value("study");
  if (!study.is_null() && !study.is_map()) root.fail("study", "must be a mapping with keys sweep, zip, seeds, fit, figure");
  if (root.has("study")) root.child("study");  // records the read, also of an empty section
  return study;
}

// `replicas`: the seed count of a config without a study, and the default of study.seeds.
int read_replicas(const Config& root) {
  const int replicas = root.has("replicas") ? root.get<int>("replicas") : 1;
  if (replicas < 1) root.fail("replicas", fmt::format("must be >= 1, got {}", replicas));
  return replicas;
}

// Runs per point: study.seeds, else `replicas`.
int read_seeds(const Config& root, const ConfigValue& study, int replicas) {
  const bool has_replicas = root.has("replicas");
  if (!study.has("seeds")) return replicas;
  const Config study_view = root.child("study");
  const int seeds = study_view.get<int>("seeds");
  if (seeds < 1) study_view.fail("seeds", fmt::format("must be >= 1, got {}", seeds));
  if (has_replicas && replicas != seeds)
    study_view.fail("seeds", fmt::format("study.seeds = {} conflicts with replicas = {}; give "
                                         "the number of seeds in one place",
                                         seeds, replicas));
  return seeds;
}

// Every key of the study section must be one of kStudyKeys.
void check_study_keys(const Config& study_view, const ConfigValue& study) {
  for (const std::string& key : study.keys()) {
    if (std::find(kStudyKeys.begin(), kStudyKeys.end(), key) != kStudyKeys.end()) continue;
    std::string message = fmt::format("unknown key '{}' in study; valid keys: {}", key, join(kStudyKeys));
    std::string near = closest_match(key, kStudyKeys);
    if (!near.empty()) message += fmt::format("; did you mean '{}'?", near);
    study_view.fail(key, message);
  }
}

// A key may be varied in one place only; also catch `base` next to `base.d`.
void check_axes(const std::vector<Axis>& grid, const std::vector<Axis>& zip) {
  std::vector<std::pair<std::string, std::string>> seen;  // key, section
  auto check = [&](const std::vector<Axis>& axes, const std::string& section) {
    for (const auto& axis : axes) {
      for (const auto& prior : seen)
        if (overlaps(prior.first, axis.key))
          axis.view.fail(axis.local,
                         prior.first == axis.key
                             ? fmt::format("'{}' is varied twice (also in study.{}); vary a key in one place "
                                           "only (an override of a dotted sweep key creates the nested form: "
                                           "replace the whole section instead, e.g. "
                                           "study.sweep={{base.d: [64, 128]}})",
                                           axis.key, prior.second)
                             : fmt::format("'{}' overlaps '{}' (study.{}); one contains the other", axis.key,
                                           prior.first, prior.second));
      seen.emplace_back(axis.key, section);
    }
  };
  check(grid, "sweep");
  check(zip, "zip");
  for (std::size_t i = 1; i < zip.size(); ++i)
    if (zip[i].values.size() != zip[0].values.size())
      zip[i].view.fail(zip[i].local, fmt::format("has {} values but '{}' has {}; zipped lists vary together "
                                                 "and must have the same length",
                                                 zip[i].values.size(), zip[0].key, zip[0].values.size()));
}

// The points: the grid in mixed radix (first key slowest), each grid point crossed with every zip
// position; then the runs, point-major.
void expand_points(const Config& root, const std::vector<Axis>& grid, const std::vector<Axis>& zip, StudyPlan& plan) {
  // Counted with overflow checks: many long lists multiply past any integer type.
  const auto too_many = [&] {
    root.fail("study", fmt::format("the study expands to more than the limit of {} runs (points x seeds)", kMaxRuns));
  };
  long long n_grid = 1;
  for (const auto& a : grid) {
    const auto next = checked_mul(n_grid, static_cast<int64_t>(a.values.size()));
    if (!next || *next > kMaxRuns) too_many();
    n_grid = *next;
  }
  const long long n_zip = zip.empty() ? 1 : static_cast<long long>(zip[0].values.size());
  const auto n_runs = checked_product({n_grid, n_zip, plan.seeds});
  if (!n_runs || *n_runs > kMaxRuns)
    root.fail("study", fmt::format("the study expands to {} runs ({} points x {} seeds), more than "
                                   "the limit of {}",
                                   n_runs ? fmt::format("{}", *n_runs) : "more than 2^63", n_grid * n_zip, plan.seeds,
                                   kMaxRuns));
  auto add = [](SweepPoint& p, const Axis& axis, std::size_t i) {
    p.values.emplace_back(axis.key, axis.values[i]);
    p.sources.push_back(axis.sources[i]);
  };
  for (long long g = 0; g < n_grid; ++g) {
    throw_if_interrupted();  // a large grid takes a while: SIGINT must stop planning too
    std::vector<std::size_t> digit(grid.size());
    long long rest = g;
    for (std::size_t a = grid.size(); a-- > 0;) {
      digit[a] = static_cast<std::size_t>(rest % static_cast<long long>(grid[a].values.size()));
      rest /= static_cast<long long>(grid[a].values.size());
    }
    for (long long z = 0; z < n_zip; ++z) {
      SweepPoint p;
      p.index = static_cast<int>(plan.points.size());
      for (std::size_t a = 0; a < grid.size(); ++a) add(p, grid[a], digit[a]);
      for (const auto& a : zip) add(p, a, static_cast<std::size_t>(z));
      plan.points.push_back(std::move(p));
    }
  }
  // Runs use seed .. seed + seeds - 1: the last one must exist, not wrap to a negative seed.
  if (!checked_add(plan.base_seed, plan.seeds - 1))
    root.fail("seed", fmt::format("seed {} with {} seeds per point would pass 2^63-1 (runs use seed, seed+1, ..., "
                                  "seed+{}); use a seed of at most {}",
                                  plan.base_seed, plan.seeds, plan.seeds - 1,
                                  std::numeric_limits<int64_t>::max() - (plan.seeds - 1)));
  for (const auto& p : plan.points)
    for (int s = 0; s < plan.seeds; ++s)
      plan.runs.push_back(RunSpec{run_id(p.index, s), p.index, s, plan.base_seed + s});
}

// study.fit: one mapping or a list of them.
void read_fits(const Config& root, const ConfigValue& fit, StudyPlan& plan) {
  const Config study_view = root.child("study");
  mark_read(study_view, "fit");
  if (fit.is_sequence()) {
    for (std::size_t i = 0; i < fit.size(); ++i)
      plan.fits.push_back(read_fit(study_view, fit.item(i), fmt::format("fit[{}]", i), plan));
  } else {
    plan.fits.push_back(read_fit(study_view, fit, "fit", plan));
  }
}

}  // namespace

StudyPlan expand_study(const Config& root) {
  StudyPlan plan;
  plan.base_seed = root.get<int64_t>("seed", 0);
  const ConfigValue study = read_study_section(root);
  const bool has_study = study.is_map() && study.size() > 0;
  const int replicas = read_replicas(root);
  if (has_study) check_study_keys(root.child("study"), study);
  plan.seeds = read_seeds(root, study, replicas);

  std::vector<Axis> grid, zip;
  if (has_study) {
    const Config study_view = root.child("study");
    std::vector<std::string> all_paths;
    collect_paths(root.value(), "", all_paths);
    if (study.has("sweep"))
      read_axes(root, study_view.child("sweep"), study.at("sweep"), "", "sweep", all_paths, grid);
    if (study.has("zip")) read_axes(root, study_view.child("zip"), study.at("zip"), "", "zip", all_paths, zip);
    check_axes(grid, zip);
  }
  for (const auto& a : grid) plan.swept_keys.push_back(a.key);
  for (const auto& a : zip) plan.swept_keys.push_back(a.key);
  expand_points(root, grid, zip, plan);
  if (has_study && study.has("fit")) read_fits(root, study.at("fit"), plan);
  if (has_study && study.has("figure")) plan.figure = read_figure_spec(root.child("study"), plan);
  return plan;
}

Config config_for_point(const Config& root, const SweepPoint& point) {
  Config config = root.clone();
  config.erase("study");
  // Each value is copied as written in the study section (keeping its location, so an error about
  // it points at the list element); a point made by hand, without sources, is parsed from its text.
  const bool sourced = point.sources.size() == point.values.size();
  for (std::size_t i = 0; i < point.values.size(); ++i) {
    if (sourced)
      config.set_value(point.values[i].first, point.sources[i]);
    else
      config.set(point.values[i].first, point.values[i].second);
  }
  return config;
}

Config config_for_run(const Config& root, const StudyPlan& plan, const RunSpec& run) {
  check(run.point >= 0 && static_cast<std::size_t>(run.point) < plan.points.size(),
        fmt::format("run {} refers to point {}, but the plan has {} points", run.id, run.point,
                    plan.points.size()));
  Config config = config_for_point(root, plan.points[static_cast<std::size_t>(run.point)]);
  config.set("seed", std::to_string(run.seed));
  return config;
}

}  // namespace study
}  // namespace lrlab
