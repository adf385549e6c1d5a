#include "framework/study/sweep.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <optional>
#include <set>

#include "framework/csv.h"
#include "framework/error.h"
#include "framework/strings.h"

namespace lrlab {
namespace study {

namespace {

const std::vector<std::string> kStudyKeys = {"sweep", "zip", "seeds", "fit"};
// Guards against a typo such as `seeds: 100000` times a large grid filling the disk with runs.
constexpr long long kMaxRuns = 10'000'000;

// One-line YAML for a value, the same text `Config::set` parses back.
std::string canonical_yaml(const YAML::Node& node) {
  YAML::Emitter out;
  out.SetMapFormat(YAML::Flow);
  out.SetSeqFormat(YAML::Flow);
  out << node;
  return out.c_str();
}

// Every dotted key path of the document outside `study` (the candidates for "did you mean").
void collect_paths(const YAML::Node& node, const std::string& prefix,
                   std::vector<std::string>& out) {
  if (!node.IsMap()) return;
  for (const auto& kv : node) {
    std::string key = kv.first.as<std::string>("");
    std::string path = prefix.empty() ? key : prefix + "." + key;
    if (path == "study") continue;
    out.push_back(path);
    collect_paths(kv.second, path, out);
  }
}

bool key_exists(const Config& root, const std::string& dotted) {
  return !root.value_text(dotted).empty();
}

// One swept (or zipped) key with its values, and where it is written (for located errors).
struct Axis {
  std::string key;                  // full dotted path in the config
  std::vector<std::string> values;  // canonical YAML of each value
  Config view;                      // the mapping that holds it
  std::string local;                // its key in that mapping
};

// Marks `key` of `view` as read for strict-key checking (Config::finish_recursive). The values were
// already read through yaml-cpp; a typed read that fails (lists of lists) still records the read.
void mark_read(const Config& view, const std::string& key) {
  try {
    view.get<std::vector<std::string>>(key);
  } catch (const ConfigError&) {
  }
}

// Reads one `sweep:` or `zip:` mapping into axes, checking every key. Nested mappings are key
// paths written in parts: `{base: {d: [64]}}` is `{base.d: [64]}`. That is also the form a
// command-line override `+study.sweep.base.d=[64,128]` creates, since overrides split keys at dots.
void read_axes(const Config& root, const Config& view, const YAML::Node& node,
               const std::string& prefix, const std::string& what,
               const std::vector<std::string>& all_paths, std::vector<Axis>& axes) {
  if (!node.IsMap())
    view.fail("", fmt::format("study.{} must be a mapping from a key path to a list of values, "
                              "e.g. {{base.d: [64, 128]}}",
                              what));
  for (const auto& kv : node) {
    const std::string local = kv.first.as<std::string>("");
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
    const YAML::Node& value = kv.second;
    if (value.IsMap() && value.size() > 0) {
      read_axes(root, view.child(local), value, key, what, all_paths, axes);
      continue;
    }
    if (!value.IsSequence())
      view.fail(local, fmt::format("must be a list of values to {}, e.g. [64, 128]; got {}", what,
                                   canonical_yaml(value)));
    if (value.size() == 0) view.fail(local, "empty list: give at least one value");
    mark_read(view, local);
    Axis axis{key, {}, view, local};
    for (const auto& item : value) axis.values.push_back(canonical_yaml(item));
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
std::vector<std::string> read_fit_by(const Config& study_view, bool single, const YAML::Node& node,
                                     const std::string& where, const StudyPlan& plan,
                                     const std::string& x) {
  std::vector<std::string> by;
  if (node.IsScalar()) {
    by.push_back(node.Scalar());
  } else if (node.IsSequence()) {
    for (const auto& item : node) {
      if (!item.IsScalar())
        fail_fit(study_view, single, "by",
                 fmt::format("{}.by must be a swept key or a list of swept keys, got {}", where,
                             canonical_yaml(node)));
      by.push_back(item.Scalar());
    }
  } else {
    fail_fit(study_view, single, "by",
             fmt::format("{}.by must be a swept key or a list of swept keys, got {}", where,
                         canonical_yaml(node)));
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

FitSpec read_fit(const Config& study_view, const YAML::Node& node, const std::string& where,
                 const StudyPlan& plan) {
  if (!node.IsMap())
    study_view.fail("fit", fmt::format("{} must be a mapping {{x: KEY, y: COLUMN}}, got {}", where,
                                       canonical_yaml(node)));
  const bool single = where == "fit";
  FitSpec spec;
  std::optional<YAML::Node> by_node;  // empty when absent (a default YAML::Node counts as defined)
  for (const auto& kv : node) {
    std::string key = kv.first.as<std::string>("");
    if (key != "x" && key != "y" && key != "by")
      study_view.fail("fit", fmt::format("{}: unknown key '{}'; valid keys: x, y, by", where, key));
    if (key == "by") {
      by_node.emplace(kv.second);
      continue;
    }
    if (!kv.second.IsScalar())
      study_view.fail("fit", fmt::format("{}.{} must be a single name", where, key));
    (key == "x" ? spec.x : spec.y) = kv.second.Scalar();
  }
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
  std::set<std::string> distinct;
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
    distinct.insert(text);
  }
  if (distinct.size() < 2)
    study_view.fail("fit", fmt::format("{}: x '{}' takes fewer than 2 distinct values; a slope "
                                       "needs at least 2",
                                       where, spec.x));
  if (by_node) spec.by = read_fit_by(study_view, single, *by_node, where, plan, spec.x);
  return spec;
}

}  // namespace

std::vector<std::string> swept_columns(const Table& runs) {
  std::vector<std::string> out;
  const int p = runs.find_column("point");
  const int s = runs.find_column("status");
  if (p >= 0 && s > p) {
    for (int c = p + 1; c < s; ++c) out.push_back(runs.columns[static_cast<std::size_t>(c)]);
    return out;
  }
  auto starts_with = [](const std::string& text, const std::string& prefix) {
    return text.compare(0, prefix.size(), prefix) == 0;
  };
  for (const auto& c : runs.columns)
    if (c != "run" && c != "seed" && c != "point" && c != "steps" && c != "status" &&
        !starts_with(c, "final_") && !starts_with(c, "steps_to_"))
      out.push_back(c);
  return out;
}

std::string run_id(int point, int seed_index) {
  return fmt::format("p{:03d}_s{:02d}", point, seed_index);
}

std::string point_label(const SweepPoint& point) {
  if (point.values.empty()) return "all runs";
  std::string out;
  for (const auto& kv : point.values) out += (out.empty() ? "" : ", ") + kv.first + "=" + kv.second;
  return out;
}

StudyPlan expand_study(const Config& root) {
  StudyPlan plan;
  plan.base_seed = root.get<int64_t>("seed", 0);

  const std::string study_text = root.has("study") ? root.value_text("study") : std::string();
  YAML::Node loaded;
  if (!study_text.empty()) {
    try {
      loaded = YAML::Load(study_text);
    } catch (const YAML::Exception& e) {
      root.fail("study", std::string("cannot read the study section: ") + e.what());
    }
    if (!loaded.IsNull() && !loaded.IsMap())
      root.fail("study", "must be a mapping with keys sweep, zip, seeds, fit");
  }
  // Const: yaml-cpp's non-const operator[] would insert every key we merely look up.
  const YAML::Node& study_node = loaded;
  if (root.has("study")) root.child("study");  // records the read, also of an empty section
  const bool has_study = study_node.IsMap() && study_node.size() > 0;

  // `replicas` is the seed count of a config without a study, and the default of study.seeds.
  const bool has_replicas = root.has("replicas");
  const int replicas = has_replicas ? root.get<int>("replicas") : 1;
  if (replicas < 1) root.fail("replicas", fmt::format("must be >= 1, got {}", replicas));
  plan.seeds = replicas;

  std::vector<Axis> grid, zip;
  if (has_study) {
    const Config study_view = root.child("study");
    for (const auto& kv : study_node) {
      std::string key = kv.first.as<std::string>("");
      if (std::find(kStudyKeys.begin(), kStudyKeys.end(), key) == kStudyKeys.end()) {
        std::string message =
            fmt::format("unknown key '{}' in study; valid keys: {}", key, join(kStudyKeys));
        std::string near = closest_match(key, kStudyKeys);
        if (!near.empty()) message += fmt::format("; did you mean '{}'?", near);
        study_view.fail(key, message);
      }
    }
    if (study_node["seeds"]) {
      plan.seeds = study_view.get<int>("seeds");
      if (plan.seeds < 1) study_view.fail("seeds", fmt::format("must be >= 1, got {}", plan.seeds));
      if (has_replicas && replicas != plan.seeds)
        study_view.fail("seeds", fmt::format("study.seeds = {} conflicts with replicas = {}; give "
                                             "the number of seeds in one place",
                                             plan.seeds, replicas));
    }

    std::vector<std::string> all_paths;
    {
      YAML::Node doc = YAML::Load(root.document_yaml());
      collect_paths(doc, "", all_paths);
    }
    if (study_node["sweep"])
      read_axes(root, study_view.child("sweep"), study_node["sweep"], "", "sweep", all_paths, grid);
    if (study_node["zip"])
      read_axes(root, study_view.child("zip"), study_node["zip"], "", "zip", all_paths, zip);

    // A key may be varied in one place only; also catch `base` next to `base.d`.
    std::vector<std::pair<std::string, std::string>> seen;  // key, section
    auto check_axes = [&](const std::vector<Axis>& axes, const std::string& section) {
      for (const auto& axis : axes) {
        for (const auto& prior : seen)
          if (overlaps(prior.first, axis.key))
            axis.view.fail(
                axis.local,
                prior.first == axis.key
                    ? fmt::format(
                          "'{}' is varied twice (also in study.{}); vary a key in one place "
                          "only (an override of a dotted sweep key creates the nested form: "
                          "replace the whole section instead, e.g. "
                          "study.sweep={{base.d: [64, 128]}})",
                          axis.key, prior.second)
                    : fmt::format("'{}' overlaps '{}' (study.{}); one contains the other", axis.key,
                                  prior.first, prior.second));
        seen.emplace_back(axis.key, section);
      }
    };
    check_axes(grid, "sweep");
    check_axes(zip, "zip");

    for (std::size_t i = 1; i < zip.size(); ++i)
      if (zip[i].values.size() != zip[0].values.size())
        zip[i].view.fail(zip[i].local,
                         fmt::format("has {} values but '{}' has {}; zipped lists vary together "
                                     "and must have the same length",
                                     zip[i].values.size(), zip[0].key, zip[0].values.size()));
  }

  for (const auto& a : grid) plan.swept_keys.push_back(a.key);
  for (const auto& a : zip) plan.swept_keys.push_back(a.key);

  // Grid in mixed radix (first key slowest), each grid point crossed with every zip position.
  long long n_grid = 1;
  for (const auto& a : grid) n_grid *= static_cast<long long>(a.values.size());
  const long long n_zip = zip.empty() ? 1 : static_cast<long long>(zip[0].values.size());
  const long long n_runs = n_grid * n_zip * plan.seeds;
  if (n_runs > kMaxRuns)
    root.fail("study", fmt::format("the study expands to {} runs ({} points x {} seeds), more than "
                                   "the limit of {}",
                                   n_runs, n_grid * n_zip, plan.seeds, kMaxRuns));

  for (long long g = 0; g < n_grid; ++g) {
    std::vector<std::size_t> digit(grid.size());
    long long rest = g;
    for (std::size_t a = grid.size(); a-- > 0;) {
      digit[a] = static_cast<std::size_t>(rest % static_cast<long long>(grid[a].values.size()));
      rest /= static_cast<long long>(grid[a].values.size());
    }
    for (long long z = 0; z < n_zip; ++z) {
      SweepPoint p;
      p.index = static_cast<int>(plan.points.size());
      for (std::size_t a = 0; a < grid.size(); ++a)
        p.values.emplace_back(grid[a].key, grid[a].values[digit[a]]);
      for (const auto& a : zip) p.values.emplace_back(a.key, a.values[static_cast<std::size_t>(z)]);
      plan.points.push_back(std::move(p));
    }
  }

  for (const auto& p : plan.points)
    for (int s = 0; s < plan.seeds; ++s)
      plan.runs.push_back(RunSpec{run_id(p.index, s), p.index, s, plan.base_seed + s});

  if (has_study && study_node["fit"]) {
    const Config study_view = root.child("study");
    const YAML::Node fit = study_node["fit"];  // a const lookup on a const node
    mark_read(study_view, "fit");
    if (fit.IsSequence()) {
      for (std::size_t i = 0; i < fit.size(); ++i)
        plan.fits.push_back(read_fit(study_view, fit[i], fmt::format("fit[{}]", i), plan));
    } else {
      plan.fits.push_back(read_fit(study_view, fit, "fit", plan));
    }
  }
  return plan;
}

Config config_for_point(const Config& root, const SweepPoint& point) {
  Config config = root.clone();
  config.erase("study");
  for (const auto& kv : point.values) config.set(kv.first, kv.second);
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
