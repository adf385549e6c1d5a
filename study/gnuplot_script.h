#pragma once
/// The gnuplot side of the figures: quoting, series styles, the terminals of a script (PNG, SVG,
/// PDF), and running gnuplot on the written scripts.
///
/// Every script draws its plot once per output: first the raster terminal (pngcairo, else png),
/// then `replot` into SVG and into PDF (pdfcairo: vector, with a standard font that LaTeX documents
/// match), each only when this gnuplot has that terminal. Running gnuplot never throws: a missing
/// program or a failing script is a warning in the PlotReport naming the script and its missing
/// images, and the .dat and .gp files stay for a manual `cd plots && gnuplot NAME.gp`.

#include <string>
#include <vector>

#include "study/plot.h"

namespace lrlab {
namespace study {

/// How series `i` is drawn. Colour, dash type and point type all differ between the first
/// kDistinctStyles series, so series stay apart in greyscale print.
struct SeriesStyle {
  std::string colour;    ///< "#1f77b4"
  std::string dashtype;  ///< gnuplot dash type: "1" (solid), "2", ..., or "(8,4,2,4)"
  int pointtype = 7;     ///< gnuplot point type, never kCensoredPointType
};

/// Series with pairwise distinct dash and point types (styles cycle after that).
constexpr std::size_t kDistinctStyles = 8;

/// Point type of runs that did not reach a threshold: an open triangle pointing up.
constexpr int kCensoredPointType = 8;

/// Legend of the censored markers.
constexpr const char* kCensoredLegend = "not reached (censored at budget)";

/// The style of series `i` (cycles after kDistinctStyles).
SeriesStyle series_style(std::size_t i);

/// A gnuplot single-quoted string ('it''s').
std::string gp_quote(const std::string& s);

/// `s` with every character outside [A-Za-z0-9._-] replaced by '_' (file names); "unnamed" if empty.
std::string safe_name(const std::string& s);

/// Title, axis labels and the leading comment of one figure.
struct FigureText {
  std::string title;    ///< shown above the plot ("" for none)
  std::string xlabel;   ///< x axis label
  std::string ylabel;   ///< y axis label
  std::string comment;  ///< first lines of the script: what the figure shows
};

/// Writes figures into a plots folder and renders them with gnuplot.
class GnuplotRenderer {
 public:
  /// Finds gnuplot and its terminals (when options.render); what is missing becomes a warning in
  /// `report`. Creates `plots_dir` (throws lrlab::Error when it cannot).
  GnuplotRenderer(const std::string& plots_dir, const PlotOptions& options, PlotReport& report);

  /// The script's opening: `text.comment`, the first terminal and output, title and labels.
  std::string header(const std::string& base, const FigureText& text) const;
  /// The script's end: the same plot replotted to SVG and PDF.
  std::string footer(const std::string& base) const;

  /// Writes `<base>.dat` and `<base>.gp` atomically, lists them in the report and queues the
  /// script for rendering.
  void add(const std::string& base, const std::string& dat, const std::string& gp);

  /// Runs gnuplot on every queued script (in the plots folder); lists the images it made and turns
  /// a failure or any gnuplot output into a warning naming the script and the missing images.
  void render();

 private:
  std::string plots_;
  PlotOptions options_;
  PlotReport& report_;
  std::string program_;  // resolved gnuplot path; "" when not rendering
  std::string raster_ = "pngcairo";  // PNG terminal ("" when gnuplot has none: SVG first)
  bool svg_ = true, pdf_ = true;
  std::vector<std::string> queued_;  // base names
};

}  // namespace study
}  // namespace lrlab
