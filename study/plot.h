#pragma once
/// Plots of a study folder, rendered with gnuplot from the CSV results.
///
/// For each metric in curves.csv: the metric against the step, one colour per sweep point, the
/// median over seeds as a line and the interquartile range as a band. For each fit in fits.csv:
/// the hitting time against x on log-log axes, one point per run that reached, the fitted line, and
/// the slope with its interval in the title (fit_<y>_vs_<x>). A fit with `by` gets one figure for
/// all its groups (fit_<y>_vs_<x>_by_<keys>): one colour per group, its points and fitted line, and
/// a legend entry "base.zero_base=true: slope 1.02 [0.9, 1.1]".
///
/// Everything goes to `dir/plots/`: the aggregated data (.dat), the gnuplot scripts (.gp, so users
/// can restyle and re-render with `cd dir/plots && gnuplot NAME.gp`), and the PNG and SVG images.
/// Plotting is a convenience: a missing or failing gnuplot is reported as a warning, never thrown.

#include <string>
#include <vector>

namespace lrlab {
namespace study {

/// Options of plot_study.
struct PlotOptions {
  int width = 900;                  ///< image width in pixels
  int height = 600;                 ///< image height in pixels
  std::string gnuplot = "gnuplot";  ///< program name (searched on PATH) or path
  bool render = true;               ///< false: write .dat and .gp only
};

/// What plot_study did.
struct PlotReport {
  std::vector<std::string> files;  ///< paths written (.dat, .gp, .png, .svg)
  std::vector<std::string>
      warnings;          ///< problems that did not stop plotting (missing gnuplot, ...)
  /// Images that gnuplot should have written but that are missing or empty (also one warning).
  std::vector<std::string> failed;
  std::string terminal;  ///< raster terminal used ("pngcairo" or "png"; "" if none)
};

/// Plots the study in `dir` (reads dir/curves.csv, dir/runs.csv and, when present, dir/fits.csv;
/// writes dir/plots/). Missing inputs, a missing gnuplot or a gnuplot error become warnings.
/// Throws lrlab::Error only for malformed CSV inputs or an unwritable plots folder.
PlotReport plot_study(const std::string& dir, const PlotOptions& options = {});

}  // namespace study
}  // namespace lrlab
