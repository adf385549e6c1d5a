#pragma once
/// Curve figures: a metric against the step, per series the median over seeds (line) and the
/// interquartile range (band).

#include <map>
#include <string>
#include <vector>

#include "study/gnuplot_script.h"
#include "study/plot.h"

namespace lrlab {
namespace study {

/// Values of one metric per step: step -> values over the seeds (non-finite values dropped).
using StepValues = std::map<double, std::vector<double>>;

/// curves.csv grouped for plotting: metric -> series key -> step values, metrics in first-seen order.
struct CurveTable {
  std::vector<std::string> metric_order;                          ///< metrics in order of appearance
  std::map<std::string, std::map<std::string, StepValues>> data;  ///< metric -> series key -> values
};

/// Reads `dir`/curves.csv, putting each run's rows under `series_of_run[run]` (all under "0" when
/// `series_of_run` is empty). Non-finite values (diverged runs) are dropped; runs absent from
/// `series_of_run` are skipped with one warning. Throws lrlab::Error for malformed cells.
CurveTable read_curve_table(const std::string& dir, const std::map<std::string, std::string>& series_of_run,
                            PlotReport& report);

/// One series of a curve figure.
struct CurveSeries {
  std::string name;   ///< legend entry
  StepValues values;  ///< the series' values per step
};

/// Adds the curve figure `base` (data and script) to `renderer`: the step axis on log(1 + step)
/// when the steps span more than kLogSpan (step 0 stays visible), the y axis by data_axis over the
/// medians and quartiles, each series with its own colour, dash type and point markers. Returns
/// false, writing nothing, when no series has a value.
bool add_curve_figure(GnuplotRenderer& renderer, const std::string& base, const FigureText& text,
                      const std::vector<CurveSeries>& series);

}  // namespace study
}  // namespace lrlab
