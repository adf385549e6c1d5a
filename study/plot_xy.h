#pragma once
/// Result figures: a runs.csv column (a hitting time, a final metric) against a swept key, one point
/// per run, per series the fitted power law (exponent and interval in the legend) or, without a
/// fit, the median over seeds at each x; runs that never reached the threshold are drawn at the
/// step they stopped at (the budget) as open triangles, "not reached (censored at budget)".

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "framework/csv.h"
#include "study/fit.h"
#include "study/gnuplot_script.h"

namespace lrlab {
namespace study {

/// One series of a result figure.
struct XYSeries {
  std::string name;  ///< legend name ("" for a lone series: the legend then names only the fit)
  std::string group;  ///< its fit group label ("base.zero_base=true"; "" without `by`)
  std::vector<std::pair<std::string, std::string>> values;  ///< its `by` keys and values
  std::vector<std::pair<double, double>> reached;   ///< (x, y) of each run with a value
  std::vector<std::pair<double, double>> censored;  ///< (x, steps run) of each run that did not reach
  std::optional<FitResult> fit;                     ///< its fit, drawn as a line, when there is one
};

/// The series of `y` against `x` from runs.csv, one per combination of the `by` columns' values in
/// order of first appearance, named by combination_label. A run with an empty `y` cell did not
/// reach: it is censored at its `steps` cell when `y` is a hitting time (steps_to_...) and the run
/// did not diverge. Values a log axis cannot take stay in (the axis then is linear). `dir` names
/// runs.csv in errors. Throws lrlab::Error for a missing column or a malformed cell.
std::vector<XYSeries> xy_series(const Table& runs, const std::string& dir, const std::string& x, const std::string& y,
                                const std::vector<std::string>& by);

/// The legend entry of a series: "fine-tuning: exponent 0.95 [0.76, 1.16]", "fit: exponent 1.08
/// [1.01, 1.16]" for an unnamed series, "GLM: no fit (fewer than 2 distinct x reached)" or the name
/// alone without a fit.
std::string series_legend(const XYSeries& series);

/// Adds the result figure `base` to `renderer`: the x axis at the swept values, the y axis by
/// data_axis over every drawn value, both log-log when a series has a fitted power law (else log
/// when the values span more than kLogSpan), per series its style's
/// point type for runs and dash type for its line, and one legend entry for censored markers.
/// Returns false, writing nothing, when no series has a point.
bool add_xy_figure(GnuplotRenderer& renderer, const std::string& base, const FigureText& text,
                   const std::vector<XYSeries>& series);

}  // namespace study
}  // namespace lrlab
