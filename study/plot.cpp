#include "study/plot.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <utility>

#include "framework/csv.h"
#include "framework/strings.h"
#include "study/fit.h"
#include "study/gnuplot_script.h"
#include "study/plot_curves.h"
#include "study/plot_figure.h"
#include "study/plot_labels.h"
#include "study/plot_xy.h"
#include "study/runs_table.h"
#include "study/summary.h"

namespace lrlab {
namespace study {

namespace {

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// Numeric order for point ids ("2" before "10"), text after numbers.
bool point_less(const std::string& a, const std::string& b) {
  double va = 0, vb = 0;
  const bool na = point_number(a, &va), nb = point_number(b, &vb);
  if (na != nb) return na;
  if (na) return va < vb;
  return a < b;
}

// The sweep point of each run and the legend name of each point, from runs.csv.
struct Points {
  std::map<std::string, std::string> point_of_run;
  std::map<std::string, std::string> name;  // point -> "d = 64, ξ* = 0.5"
};

Points read_points(const Table& runs) {
  Points out;
  const int rc = runs.column_index("run");
  const int pc = runs.find_column("point");
  const std::vector<std::string> swept = swept_columns(runs);
  for (const auto& row : runs.rows) {
    const std::string point = pc >= 0 ? row[static_cast<std::size_t>(pc)] : "0";
    out.point_of_run[row[static_cast<std::size_t>(rc)]] = point;
    if (out.name.count(point)) continue;
    std::vector<std::pair<std::string, std::string>> values;
    for (const auto& k : swept) values.emplace_back(k, row[static_cast<std::size_t>(runs.column_index(k))]);
    out.name[point] = combination_label(values);
  }
  return out;
}

// One curve figure per metric of curves.csv: a series per sweep point.
void plot_curves(GnuplotRenderer& renderer, const std::string& dir, const Points& points, PlotReport& report) {
  const CurveTable curves = read_curve_table(dir, points.point_of_run, report);
  for (const auto& metric : curves.metric_order) {
    const auto& by_point = curves.data.at(metric);
    std::vector<std::string> order;
    for (const auto& kv : by_point) order.push_back(kv.first);
    std::sort(order.begin(), order.end(), point_less);
    std::vector<CurveSeries> series;
    for (const auto& p : order)
      series.push_back(CurveSeries{points.name.count(p) ? points.name.at(p) : "point " + p, by_point.at(p)});
    FigureText text;
    text.title = axis_label(metric);
    text.xlabel = axis_label("step");
    text.ylabel = axis_label(metric);
    text.comment = fmt::format("# {}: median (line) and interquartile range (band) over seeds, per sweep point.",
                               metric);
    add_curve_figure(renderer, safe_name(metric) + "_curves", text, series);
  }
}

// The figure of one fit spec (y, x, by) with all its groups: fit_<y>_vs_<x>[_by_<keys>].
void plot_fit_spec(GnuplotRenderer& renderer, const std::string& dir, const Table& runs,
                   const std::vector<FitResult>& group_fits, PlotReport& report) {
  const FitResult& first = group_fits.front();
  std::vector<std::string> columns = {first.x, first.y};
  columns.insert(columns.end(), first.by.begin(), first.by.end());
  for (const auto& column : columns)
    if (!runs.has_column(column)) {
      report.warnings.push_back(fmt::format("fit {} vs {}: runs.csv lacks the column {}", first.y, first.x, column));
      return;
    }
  std::vector<XYSeries> series = xy_series(runs, dir, first.x, first.y, first.by);
  int censored = 0, total = 0;
  for (auto& s : series) {
    for (const auto& f : group_fits)
      if (f.group == s.group) s.fit = f;
    censored += static_cast<int>(s.censored.size());
    total += static_cast<int>(s.censored.size() + s.reached.size());
    if (s.reached.empty() && !first.by.empty())
      report.warnings.push_back(fmt::format("fit {} vs {} by {}: no run of {} reached", first.y, first.x,
                                            join(first.by), s.group));
  }
  FigureText text;
  text.xlabel = axis_label(first.x);
  text.ylabel = axis_label(first.y);
  text.title = text.ylabel + " against " + symbol_label(first.x);
  if (!first.by.empty()) {
    std::vector<std::string> by;
    for (const auto& key : first.by) by.push_back(symbol_label(key));
    text.title += ", one fit per " + join(by);
  }
  if (censored > 0) text.title += fmt::format(" ({} of {} runs not reached)", censored, total);
  text.comment = fmt::format("# {} against {}{}: each run (points), runs that did not reach at the step they "
                             "stopped (open triangles), the least-squares line of log y on log x.",
                             first.y, first.x, first.by.empty() ? "" : ", one series per group of " + join(first.by));
  std::string base = "fit_" + safe_name(first.y) + "_vs_" + safe_name(first.x);
  if (!first.by.empty()) base += "_by_" + safe_name(join(first.by, "_"));
  if (!add_xy_figure(renderer, base, text, series))
    report.warnings.push_back(fmt::format("fit {} vs {}: no run to plot", first.y, first.x));
}

// One figure per fit spec of fits.csv, in order of first appearance.
void plot_fits(GnuplotRenderer& renderer, const std::string& dir, const Table& runs,
               const std::vector<FitResult>& fits, PlotReport& report) {
  auto spec_key = [](const FitResult& f) { return f.y + "\n" + f.x + "\n" + join(f.by, "\n"); };
  std::map<std::string, std::vector<FitResult>> by_spec;
  for (const auto& f : fits) by_spec[spec_key(f)].push_back(f);
  std::set<std::string> done;
  for (const auto& f : fits)
    if (done.insert(spec_key(f)).second) plot_fit_spec(renderer, dir, runs, by_spec[spec_key(f)], report);
}

}  // namespace

PlotReport plot_study(const std::string& dir, const PlotOptions& options) {
  PlotReport report;
  GnuplotRenderer renderer(dir + "/plots", options, report);
  Points points;
  Table runs;
  const bool have_runs = file_exists(dir + "/runs.csv");
  if (have_runs) {
    runs = read_csv(dir + "/runs.csv");
    points = read_points(runs);
  } else {
    report.warnings.push_back(fmt::format(
        "{}/runs.csv not found: curves are not grouped by sweep point and fits are not plotted", dir));
  }
  if (file_exists(dir + "/curves.csv"))
    plot_curves(renderer, dir, points, report);
  else
    report.warnings.push_back(fmt::format("{}/curves.csv not found: no curve plots", dir));
  std::vector<FitResult> fits;
  if (have_runs && file_exists(dir + "/fits.csv")) {
    fits = fits_from_table(read_csv(dir + "/fits.csv"));
    plot_fits(renderer, dir, runs, fits, report);
  }
  if (have_runs) {
    const std::optional<FigureSpec> figure = options.figure ? *options.figure : read_study_figure(dir, report);
    if (figure) add_study_figure(renderer, dir, *figure, runs, fits, report);
  }
  renderer.render();
  return report;
}

}  // namespace study
}  // namespace lrlab
