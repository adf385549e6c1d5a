#include "study/plot_xy.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "framework/error.h"
#include "study/plot_labels.h"
#include "study/plot_scales.h"

namespace lrlab {
namespace study {

namespace {

bool fitted(const XYSeries& s) { return s.fit && std::isfinite(s.fit->slope) && std::isfinite(s.fit->intercept); }

// "x y" lines, sorted by x.
std::string block_lines(std::vector<std::pair<double, double>> points) {
  std::sort(points.begin(), points.end());
  std::string out;
  for (const auto& [x, y] : points) out += fmt::format("{} {}\n", x, y);
  return out;
}

// The median over the runs that reached, at each x.
std::vector<std::pair<double, double>> medians(const std::vector<std::pair<double, double>>& points) {
  std::map<double, std::vector<double>> at_x;
  for (const auto& [x, y] : points) at_x[x].push_back(y);
  std::vector<std::pair<double, double>> out;
  for (const auto& [x, ys] : at_x) out.emplace_back(x, quantile(ys, 0.5));
  return out;
}

}  // namespace

std::vector<XYSeries> xy_series(const Table& runs, const std::string& dir, const std::string& x, const std::string& y,
                                const std::vector<std::string>& by) {
  const std::size_t xc = static_cast<std::size_t>(runs.column_index(x));
  const std::size_t yc = static_cast<std::size_t>(runs.column_index(y));
  const int steps_c = runs.find_column("steps");
  const int status_c = runs.find_column("status");
  const bool hitting_time = y.compare(0, 9, "steps_to_") == 0;
  std::vector<XYSeries> out;
  std::map<std::string, std::size_t> index_of;
  for (std::size_t r = 0; r < runs.rows.size(); ++r) {
    const auto& row = runs.rows[r];
    const std::string group = fit_group_label(runs, by, r);
    auto it = index_of.find(group);
    if (it == index_of.end()) {
      std::vector<std::pair<std::string, std::string>> values;
      for (const auto& key : by) values.emplace_back(key, row[static_cast<std::size_t>(runs.column_index(key))]);
      XYSeries series;
      series.name = by.empty() ? "" : combination_label(values);
      series.group = group;
      series.values = values;
      it = index_of.emplace(group, out.size()).first;
      out.push_back(std::move(series));
    }
    XYSeries& series = out[it->second];
    const std::string where = fmt::format("{}/runs.csv:{}", dir, r + 2);
    auto xv = parse_number(row[xc], where + ": column " + x);
    auto yv = parse_number(row[yc], where + ": column " + y);
    if (!xv || !std::isfinite(*xv)) continue;
    if (yv) {
      if (std::isfinite(*yv)) series.reached.emplace_back(*xv, *yv);
      continue;
    }
    const bool diverged = status_c >= 0 && row[static_cast<std::size_t>(status_c)] == "diverged";
    if (!hitting_time || diverged || steps_c < 0) continue;
    auto steps = parse_number(row[static_cast<std::size_t>(steps_c)], where + ": column steps");
    if (steps && std::isfinite(*steps)) series.censored.emplace_back(*xv, *steps);
  }
  return out;
}

std::string series_legend(const XYSeries& series) {
  if (!series.fit) return series.name.empty() ? "runs" : series.name;
  const FitResult& f = *series.fit;
  std::string out = series.name.empty() ? "fit" : series.name;
  if (!fitted(series)) return out + ": no fit" + (f.note.empty() ? "" : " (" + f.note + ")");
  out += fmt::format(": exponent {:.2f}", f.slope);
  out += std::isfinite(f.slope_lo) && std::isfinite(f.slope_hi)
             ? fmt::format(" [{:.2f}, {:.2f}]", f.slope_lo, f.slope_hi)
             : " (no interval)";
  return out;
}

bool add_xy_figure(GnuplotRenderer& renderer, const std::string& base, const FigureText& text,
                   const std::vector<XYSeries>& series) {
  std::vector<double> xs, ys;
  for (const auto& s : series)
    for (const auto* points : {&s.reached, &s.censored})
      for (const auto& [x, y] : *points) {
        xs.push_back(x);
        ys.push_back(y);
      }
  if (xs.empty()) return false;
  const bool power_law = std::any_of(series.begin(), series.end(), fitted);
  const AxisScale x_axis = swept_axis(xs, power_law);
  // The fitted lines' ends count too, so a line is not cut by the frame.
  const double x_lo = *std::min_element(xs.begin(), xs.end()), x_hi = *std::max_element(xs.begin(), xs.end());
  for (const auto& s : series)
    if (fitted(s))
      for (double x : {x_lo, x_hi})
        if (x > 0) ys.push_back(std::exp(s.fit->intercept) * std::pow(x, s.fit->slope));
  const AxisScale y_axis = data_axis(ys, power_law);

  const std::string file = gp_quote(base + ".dat");
  std::string dat = fmt::format("# {} against {}: per series the runs that reached, the runs that did not "
                                "(censored at the step they stopped) and, without a fit, the median per x.\n"
                                "# Blocks (gnuplot `index`) separated by two blank lines; x y.\n",
                                text.ylabel, text.xlabel);
  std::string plot;
  int block = 0;
  auto add_block = [&](const std::string& title, const std::string& lines) {
    dat += fmt::format("{}# {}\n", block == 0 ? "" : "\n\n", title) + lines;
    return block++;
  };
  auto clause = [&](const std::string& c) { plot += (plot.empty() ? "plot \\\n  " : ", \\\n  ") + c; };
  bool any_censored = false;
  for (std::size_t i = 0; i < series.size(); ++i) {
    const XYSeries& s = series[i];
    if (s.reached.empty() && s.censored.empty()) continue;
    const SeriesStyle st = series_style(i);
    const std::string name = s.name.empty() ? "runs" : s.name;
    if (!s.reached.empty())
      clause(fmt::format("{} index {} using 1:2 with points pt {} ps 0.9 lc rgb '{}' notitle", file,
                         add_block(name + ": runs that reached", block_lines(s.reached)), st.pointtype, st.colour));
    if (fitted(s))
      clause(fmt::format("exp({:.17g}) * x**{:.17g} with lines lw 2 dt {} lc rgb '{}' notitle", s.fit->intercept,
                         s.fit->slope, st.dashtype, st.colour));
    else if (!s.reached.empty())
      clause(fmt::format("{} index {} using 1:2 with lines lw 2 dt {} lc rgb '{}' notitle", file,
                         add_block(name + ": median of the runs that reached", block_lines(medians(s.reached))),
                         st.dashtype, st.colour));
    if (!s.censored.empty()) {
      any_censored = true;
      clause(fmt::format("{} index {} using 1:2 with points pt {} ps 1.4 lc rgb '{}' notitle", file,
                         add_block(name + ": not reached, at the step the run stopped", block_lines(s.censored)),
                         kCensoredPointType, st.colour));
    }
    // The legend entry shows the series' marker and dash together.
    clause(fmt::format("NaN with linespoints lw 2 dt {} pt {} lc rgb '{}' title {}", st.dashtype, st.pointtype,
                       st.colour, gp_quote(series_legend(s))));
  }
  if (any_censored)
    clause(fmt::format("NaN with points pt {} ps 1.4 lc rgb 'black' title {}", kCensoredPointType,
                       gp_quote(kCensoredLegend)));

  std::string gp = renderer.header(base, text);
  gp += axis_commands("x", x_axis);
  gp += axis_commands("y", y_axis);
  gp += "set samples 200\n" + plot + "\n";
  gp += renderer.footer(base);
  renderer.add(base, dat, gp);
  return true;
}

}  // namespace study
}  // namespace lrlab
