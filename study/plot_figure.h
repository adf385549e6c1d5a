#pragma once
/// The combined figure of a study (`study.figure`, see study/figure_spec.h), drawn from the results
/// folder into plots/figure.*.

#include <string>
#include <vector>

#include "framework/csv.h"
#include "study/fit.h"
#include "study/gnuplot_script.h"
#include "study/plan.h"

namespace lrlab {
namespace study {

/// Adds plots/figure.* for `spec` to `renderer`, from `runs` (runs.csv of `dir`), `fits` (fits.csv,
/// may be empty) and, when spec.x is "step", dir/curves.csv. Missing columns, metrics or data are
/// warnings in `report`, not errors. Throws lrlab::Error only for malformed CSV cells.
void add_study_figure(GnuplotRenderer& renderer, const std::string& dir, const FigureSpec& spec, const Table& runs,
                      const std::vector<FitResult>& fits, PlotReport& report);

/// The figure declared in dir/study.yaml, if any. A study.yaml that does not load or whose figure is
/// invalid gives no figure and a warning in `report` (the error's message, with its location).
std::optional<FigureSpec> read_study_figure(const std::string& dir, PlotReport& report);

}  // namespace study
}  // namespace lrlab
