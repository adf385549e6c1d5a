#include "study/figure_spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "framework/csv.h"
#include "framework/error.h"
#include "framework/strings.h"

namespace lrlab {
namespace study {

const std::vector<std::string> kFigureKeys = {"x", "y", "by", "series", "title", "xlabel", "ylabel"};

namespace {

// A name or a list of names at `key` of `figure`; empty when absent. Records the read.
std::vector<std::string> read_names(const Config& figure, const std::string& key, const std::string& what) {
  const ConfigValue node = figure.value(key);
  std::vector<std::string> names;
  if (node.is_null()) return names;
  const std::string message = fmt::format("study.figure.{} must be {} or a list of them, got {}", key, what, node.text());
  if (node.is_scalar()) {
    names.push_back(figure.get<std::string>(key));
  } else if (node.is_sequence()) {
    names = figure.get<std::vector<std::string>>(key);
    for (std::size_t i = 0; i < node.size(); ++i)
      if (!node.item(i).is_scalar()) figure.fail(key, message);
  } else {
    figure.fail(key, message);
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) figure.fail(key, message);
    if (std::find(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(i), names[i]) !=
        names.begin() + static_cast<std::ptrdiff_t>(i))
      figure.fail(key, fmt::format("study.figure.{}: '{}' is listed twice", key, names[i]));
  }
  return names;
}

std::string swept_text(const StudyPlan& plan) { return plan.swept_keys.empty() ? "none" : join(plan.swept_keys); }

// x: `step` or a swept key whose every value is a number.
void check_x(const Config& figure, const StudyPlan& plan, const std::string& x) {
  if (x == "step") return;
  auto it = std::find(plan.swept_keys.begin(), plan.swept_keys.end(), x);
  if (it == plan.swept_keys.end()) {
    std::vector<std::string> candidates = plan.swept_keys;
    candidates.push_back("step");
    std::string message =
        fmt::format("study.figure.x: '{}' is neither step nor a swept key (swept: {})", x, swept_text(plan));
    const std::string near = closest_match(x, candidates);
    if (!near.empty()) message += fmt::format("; did you mean '{}'?", near);
    figure.fail("x", message);
  }
  const std::size_t k = static_cast<std::size_t>(it - plan.swept_keys.begin());
  for (const auto& p : plan.points) {
    std::optional<double> v;
    try {
      v = parse_number(p.values[k].second);
    } catch (const Error&) {
    }
    if (!v)
      figure.fail("x", fmt::format("study.figure.x: '{}' takes the value {}, but an x axis needs numbers", x,
                                   p.values[k].second));
  }
}

void check_by(const Config& figure, const StudyPlan& plan, const std::string& x, const std::vector<std::string>& by) {
  for (const auto& key : by) {
    if (key == x)
      figure.fail("by", fmt::format("study.figure.by: '{}' is the figure's x; by names other swept keys, "
                                    "one series per combination of their values (swept: {})",
                                    key, swept_text(plan)));
    if (std::find(plan.swept_keys.begin(), plan.swept_keys.end(), key) == plan.swept_keys.end()) {
      std::string message = fmt::format("study.figure.by: '{}' is not a swept key (swept: {})", key, swept_text(plan));
      const std::string near = closest_match(key, plan.swept_keys);
      if (!near.empty() && near != x) message += fmt::format("; did you mean '{}'?", near);
      figure.fail("by", message);
    }
  }
}

// The number of distinct combinations of the `by` keys' values over the plan's points.
int combinations(const StudyPlan& plan, const std::vector<std::string>& by) {
  std::set<std::vector<std::string>> seen;
  for (const auto& p : plan.points) {
    std::vector<std::string> values;
    for (const auto& key : by)
      for (const auto& kv : p.values)
        if (kv.first == key) values.push_back(kv.second);
    seen.insert(values);
  }
  return std::max<int>(1, static_cast<int>(seen.size()));
}

// The distinct values of swept `key` over the plan's points, in order of first appearance.
std::vector<std::string> values_of(const StudyPlan& plan, const std::string& key) {
  std::vector<std::string> out;
  for (const auto& p : plan.points)
    for (const auto& kv : p.values)
      if (kv.first == key && std::find(out.begin(), out.end(), kv.second) == out.end()) out.push_back(kv.second);
  return out;
}

// series: {y or by key: [name per value]}.
void read_series_names(const Config& figure, const StudyPlan& plan, FigureSpec& spec) {
  const ConfigValue node = figure.value("series");
  if (!node.is_map())
    figure.fail("series", fmt::format("study.figure.series must be a mapping from y or a by key to a list of names "
                                      "of its values, e.g. {{{}: [name, name]}}, got {}",
                                      spec.by.empty() ? "y" : spec.by.front(), node.text()));
  const Config series = figure.child("series");
  for (const std::string& key : node.keys()) {
    const bool is_by = std::find(spec.by.begin(), spec.by.end(), key) != spec.by.end();
    if (key != "y" && !is_by)
      series.fail(key, fmt::format("study.figure.series: '{}' is neither y nor a by key (by: {})", key,
                                   spec.by.empty() ? "none" : join(spec.by)));
    const std::vector<std::string> values = key == "y" ? spec.y : values_of(plan, key);
    if (!node.at(key).is_sequence())
      series.fail(key, fmt::format("study.figure.series.{} must be a list of {} name(s), one per value ({})", key,
                                   values.size(), join(values)));
    // Read through the value, not Config::get: a by key has dots ("base.zero_base").
    std::vector<std::string> names;
    for (std::size_t i = 0; i < node.at(key).size(); ++i) {
      if (!node.at(key).item(i).is_scalar())
        series.fail(key, fmt::format("study.figure.series.{}[{}] must be a name, got {}", key, i,
                                     node.at(key).item(i).text()));
      names.push_back(node.at(key).item(i).scalar());
    }
    try {
      series.get<std::vector<std::string>>(key);  // records the read for strict-key checks
    } catch (const Error&) {
    }
    if (names.size() != values.size())
      series.fail(key, fmt::format("study.figure.series.{} lists {} name(s) but {} takes {} value(s): {}", key,
                                   names.size(), key, values.size(), join(values)));
    for (std::size_t i = 0; i < names.size(); ++i) spec.names[key][values[i]] = names[i];
  }
}

}  // namespace

FigureSpec read_figure_spec(const Config& study_view, const StudyPlan& plan) {
  const ConfigValue node = study_view.value("figure");
  if (!node.is_map())
    study_view.fail("figure", fmt::format("must be a mapping {{x: KEY, y: COLUMN, ...}} with keys {}, got {}",
                                          join(kFigureKeys), node.text()));
  const Config figure = study_view.child("figure");
  for (const std::string& key : node.keys()) {
    if (std::find(kFigureKeys.begin(), kFigureKeys.end(), key) != kFigureKeys.end()) continue;
    std::string message = fmt::format("unknown key '{}' in study.figure; valid keys: {}", key, join(kFigureKeys));
    const std::string near = closest_match(key, kFigureKeys);
    if (!near.empty()) message += fmt::format("; did you mean '{}'?", near);
    figure.fail(key, message);
  }
  FigureSpec spec;
  if (!node.has("x") || !node.has("y"))
    study_view.fail("figure", "study.figure needs x (a swept key or step) and y (a result column such as "
                              "steps_to_overlap_0.95, or a metric when x is step)");
  spec.x = figure.get<std::string>("x");
  check_x(figure, plan, spec.x);
  spec.y = read_names(figure, "y", "a result column or metric");
  spec.by = read_names(figure, "by", "a swept key");
  check_by(figure, plan, spec.x, spec.by);
  if (!node.has("by") && spec.x == "step") spec.by = plan.swept_keys;
  spec.n_series = static_cast<int>(spec.y.size()) * combinations(plan, spec.by);
  if (node.has("series")) read_series_names(figure, plan, spec);
  // Read only when present: a recorded default would add empty keys to the resolved config.
  for (auto [key, field] : {std::pair<const char*, std::string*>{"title", &spec.title},
                            {"xlabel", &spec.xlabel}, {"ylabel", &spec.ylabel}})
    if (node.has(key)) *field = figure.get<std::string>(key);
  return spec;
}

}  // namespace study
}  // namespace lrlab
