#pragma once
/// Plots of a study folder, rendered with gnuplot from the CSV results.
///
/// - `<metric>_curves`: for each metric in curves.csv, the metric against the step, per sweep point
///   the median over seeds (line with markers) and the interquartile range (band).
/// - `fit_<y>_vs_<x>[_by_<keys>]`: for each fit spec in fits.csv, y against x with one point per
///   run, runs that did not reach drawn at the budget as open triangles ("not reached (censored at
///   budget)"), per group the fitted line with its exponent and interval in the legend.
/// - `figure`: the study's combined figure when study.yaml declares `study.figure`
///   (study/figure_spec.h).
///
/// Every figure has human labels (study/plot_labels.h), ticks at the swept values and log scales
/// chosen by the data's span (study/plot_scales.h), series that differ in dash and marker as well as
/// colour, and is written as PNG, SVG and PDF (study/gnuplot_script.h). Everything goes to
/// `dir/plots/`: the data (.dat), the scripts (.gp, to restyle and re-render with
/// `cd dir/plots && gnuplot NAME.gp`) and the images. Plotting is a convenience: a missing or
/// failing gnuplot is reported as a warning, never thrown.

#include <optional>
#include <string>
#include <vector>

#include "study/plan.h"

namespace lrlab {
namespace study {

/// Options of plot_study.
struct PlotOptions {
  int width = 900;                  ///< image width in pixels
  int height = 600;                 ///< image height in pixels
  std::string gnuplot = "gnuplot";  ///< program name (searched on PATH) or path
  bool render = true;               ///< false: write .dat and .gp only
  /// The study's combined figure as the caller's plan declares it (nullopt inside: none); nullptr:
  /// read study.figure from dir/study.yaml. A run and `lrlab summarize --config` pass their plan's,
  /// so a corrected figure is drawn before study.yaml is rewritten.
  const std::optional<FigureSpec>* figure = nullptr;
};

/// What plot_study did.
struct PlotReport {
  std::vector<std::string> files;  ///< paths written (.dat, .gp, .png, .svg, .pdf)
  std::vector<std::string>
      warnings;          ///< problems that did not stop plotting (missing gnuplot, ...)
  /// Images that gnuplot should have written but that are missing, empty or cut short (a full disk);
  /// they are removed, and listed in one warning.
  std::vector<std::string> failed;
  std::string terminal;  ///< raster terminal used ("pngcairo" or "png"; "" if none)
};

/// Plots the study in `dir` (reads dir/curves.csv, dir/runs.csv and, when present, dir/fits.csv;
/// writes dir/plots/). Missing inputs, a missing gnuplot or a gnuplot error become warnings.
/// Throws lrlab::Error only for malformed CSV inputs or an unwritable plots folder.
PlotReport plot_study(const std::string& dir, const PlotOptions& options = {});

}  // namespace study
}  // namespace lrlab
