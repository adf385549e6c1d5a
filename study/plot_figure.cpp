#include "study/plot_figure.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <optional>

#include "framework/config.h"
#include "framework/error.h"
#include "framework/strings.h"
#include "study/plot_curves.h"
#include "study/plot_labels.h"
#include "study/plot_xy.h"

namespace lrlab {
namespace study {

namespace {

constexpr const char* kBase = "figure";

// The legend of a series: the names of its y (when named or when there are several) and of its
// `by` values, declared in study.figure.series or from the label table.
std::string series_name(const FigureSpec& spec, const std::vector<std::pair<std::string, std::string>>& values,
                        const std::string& y) {
  auto named = [&](const std::string& key, const std::string& value) -> const std::string* {
    auto it = spec.names.find(key);
    if (it == spec.names.end()) return nullptr;
    auto name = it->second.find(value);
    return name == it->second.end() ? nullptr : &name->second;
  };
  std::vector<std::string> parts;
  if (const std::string* name = named("y", y))
    parts.push_back(*name);
  else if (spec.y.size() > 1)
    parts.push_back(axis_label(y));
  for (const auto& kv : values) {
    const std::string* name = named(kv.first, kv.second);
    parts.push_back(name ? *name : combination_label({kv}));
  }
  return join(parts);
}

FigureText figure_text(const FigureSpec& spec) {
  FigureText text;
  text.title = spec.title;
  text.xlabel = spec.xlabel.empty() ? axis_label(spec.x) : spec.xlabel;
  std::vector<std::string> labels;
  for (const auto& y : spec.y) labels.push_back(axis_label(y));
  text.ylabel = spec.ylabel.empty() ? join(labels, " / ") : spec.ylabel;
  text.comment = fmt::format("# The study's figure (study.figure): {} against {}{}.", join(spec.y), spec.x,
                             spec.by.empty() ? "" : ", one series per " + join(spec.by));
  return text;
}

// Curves of the metrics in spec.y, one series per metric and group of the `by` values.
void add_curve_figure_of(GnuplotRenderer& renderer, const std::string& dir, const FigureSpec& spec,
                         const Table& runs, PlotReport& report) {
  struct stat st {};
  if (::stat((dir + "/curves.csv").c_str(), &st) != 0) {
    report.warnings.push_back("study.figure: curves.csv not found; the figure is not drawn");
    return;
  }
  std::map<std::string, std::string> group_of_run;
  // Group label and its `by` values, in order of first appearance.
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> groups;
  const std::size_t rc = static_cast<std::size_t>(runs.column_index("run"));
  for (std::size_t r = 0; r < runs.rows.size(); ++r) {
    const std::string group = fit_group_label(runs, spec.by, r);
    group_of_run[runs.rows[r][rc]] = group;
    if (std::none_of(groups.begin(), groups.end(), [&](const auto& g) { return g.first == group; })) {
      std::vector<std::pair<std::string, std::string>> values;
      for (const auto& key : spec.by)
        values.emplace_back(key, runs.rows[r][static_cast<std::size_t>(runs.column_index(key))]);
      groups.emplace_back(group, values);
    }
  }
  const CurveTable curves = read_curve_table(dir, group_of_run, report);
  std::vector<CurveSeries> series;
  for (const auto& y : spec.y) {
    auto metric = curves.data.find(y);
    if (metric == curves.data.end())
      report.warnings.push_back(fmt::format("study.figure: curves.csv has no metric '{}' (metrics: {})", y,
                                            join(curves.metric_order)));
    for (const auto& group : groups) {
      CurveSeries s{series_name(spec, group.second, y), {}};
      if (metric != curves.data.end() && metric->second.count(group.first)) s.values = metric->second.at(group.first);
      series.push_back(std::move(s));
    }
  }
  if (!add_curve_figure(renderer, kBase, figure_text(spec), series))
    report.warnings.push_back("study.figure: no curve values to draw; the figure is not drawn");
}

// The result columns in spec.y against the swept x, with the matching fits.
void add_result_figure_of(GnuplotRenderer& renderer, const std::string& dir, const FigureSpec& spec,
                          const Table& runs, const std::vector<FitResult>& fits, PlotReport& report) {
  std::vector<XYSeries> all;
  for (const auto& y : spec.y) {
    std::vector<XYSeries> of_y = xy_series(runs, dir, spec.x, y, spec.by);
    for (auto& s : of_y) {
      for (const auto& f : fits)
        if (f.x == spec.x && f.y == y && f.by == spec.by && f.group == s.group) s.fit = f;
      s.name = series_name(spec, s.values, y);
      all.push_back(std::move(s));
    }
  }
  if (!add_xy_figure(renderer, kBase, figure_text(spec), all))
    report.warnings.push_back("study.figure: no run has a value to draw; the figure is not drawn");
}

}  // namespace

void add_study_figure(GnuplotRenderer& renderer, const std::string& dir, const FigureSpec& spec, const Table& runs,
                      const std::vector<FitResult>& fits, PlotReport& report) {
  std::vector<std::string> columns = spec.by;
  if (spec.x != "step") {
    columns.push_back(spec.x);
    columns.insert(columns.end(), spec.y.begin(), spec.y.end());
  }
  for (const auto& column : columns)
    if (!runs.has_column(column)) {
      report.warnings.push_back(fmt::format("study.figure: runs.csv has no column '{}' (columns: {}); the figure is "
                                            "not drawn",
                                            column, join(runs.columns)));
      return;
    }
  if (spec.x == "step")
    add_curve_figure_of(renderer, dir, spec, runs, report);
  else
    add_result_figure_of(renderer, dir, spec, runs, fits, report);
}

std::optional<FigureSpec> read_study_figure(const std::string& dir, PlotReport& report) {
  struct stat st {};
  const std::string path = dir + "/study.yaml";
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  try {
    return expand_study(Config::load_file(path)).figure;
  } catch (const Error& e) {
    report.warnings.push_back(fmt::format("study.figure is not drawn: {}", e.what()));
    return std::nullopt;
  }
}

}  // namespace study
}  // namespace lrlab
