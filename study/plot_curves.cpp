#include "study/plot_curves.h"

#include <fmt/format.h>

#include <cmath>
#include <set>

#include "framework/csv.h"
#include "study/fit.h"
#include "study/plot_scales.h"

namespace lrlab {
namespace study {

CurveTable read_curve_table(const std::string& dir, const std::map<std::string, std::string>& series_of_run,
                            PlotReport& report) {
  const Table curves = read_csv(dir + "/curves.csv");
  const std::size_t rc = static_cast<std::size_t>(curves.column_index("run"));
  const std::size_t sc = static_cast<std::size_t>(curves.column_index("step"));
  const std::size_t mc = static_cast<std::size_t>(curves.column_index("metric"));
  const std::size_t vc = static_cast<std::size_t>(curves.column_index("value"));
  CurveTable out;
  std::set<std::string> unknown_runs;
  for (std::size_t r = 0; r < curves.rows.size(); ++r) {
    const auto& row = curves.rows[r];
    const std::string where = fmt::format("{}/curves.csv:{}", dir, r + 2);
    auto step = parse_number(row[sc], where + ": column step");
    auto value = parse_number(row[vc], where + ": column value");
    // A non-finite value (a diverged run) would make every quantile at its step meaningless.
    if (!step || !value || !std::isfinite(*value)) continue;
    std::string key = "0";
    if (!series_of_run.empty()) {
      auto it = series_of_run.find(row[rc]);
      if (it == series_of_run.end()) {
        unknown_runs.insert(row[rc]);
        continue;
      }
      key = it->second;
    }
    if (!out.data.count(row[mc])) out.metric_order.push_back(row[mc]);
    out.data[row[mc]][key][*step].push_back(*value);
  }
  if (!unknown_runs.empty())
    report.warnings.push_back(fmt::format("curves.csv has {} run(s) absent from runs.csv (e.g. {}); "
                                          "their curves are not plotted",
                                          unknown_runs.size(), *unknown_runs.begin()));
  return out;
}

bool add_curve_figure(GnuplotRenderer& renderer, const std::string& base, const FigureText& text,
                      const std::vector<CurveSeries>& series) {
  std::vector<double> steps, values;
  std::string dat = fmt::format("# {} against {}: median, q25, q75 over the seeds of each series (n = seeds "
                                "with a value at that step).\n# One block per series (gnuplot `index`), blocks "
                                "separated by two blank lines.\n",
                                text.ylabel, text.xlabel);
  std::vector<std::size_t> drawn;  // series with data, in block order
  for (std::size_t s = 0; s < series.size(); ++s) {
    if (series[s].values.empty()) continue;
    if (!drawn.empty()) dat += "\n\n";
    dat += fmt::format("# series {}: {}\n# step median q25 q75 n\n", s, series[s].name);
    for (const auto& [step, at_step] : series[s].values) {
      const double median = quantile(at_step, 0.5), q25 = quantile(at_step, 0.25), q75 = quantile(at_step, 0.75);
      dat += fmt::format("{} {} {} {} {}\n", step, median, q25, q75, at_step.size());
      steps.push_back(step);
      values.insert(values.end(), {median, q25, q75});
    }
    drawn.push_back(s);
  }
  if (drawn.empty()) return false;

  std::string gp = renderer.header(base, text);
  gp += axis_commands("x", step_axis(steps));
  gp += axis_commands("y", data_axis(values));
  gp += "set style fill transparent solid 0.15 noborder\nplot \\\n";
  for (std::size_t b = 0; b < drawn.size(); ++b) {
    const SeriesStyle style = series_style(drawn[b]);
    gp += fmt::format("  {} index {} using 1:3:4 with filledcurves lc rgb '{}' notitle, \\\n",
                      b == 0 ? gp_quote(base + ".dat") : "''", b, style.colour);
    // A few point markers along each median line: the legend then shows dash and marker.
    gp += fmt::format("  '' index {} using 1:2 with linespoints lw 2 dt {} pt {} pn 7 lc rgb '{}' title {}{}\n", b,
                      style.dashtype, style.pointtype, style.colour, gp_quote(series[drawn[b]].name),
                      b + 1 < drawn.size() ? ", \\" : "");
  }
  gp += renderer.footer(base);
  renderer.add(base, dat, gp);
  return true;
}

}  // namespace study
}  // namespace lrlab
