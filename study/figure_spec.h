#pragma once
/// `study.figure`: the one combined figure that shows a study's claim.
///
/// ```yaml
/// study:
///   sweep: {base.zero_base: [false, true], base.d: [32, 64, 128, 256]}
///   fit: [{x: base.d, y: steps_to_overlap_0.5, by: base.zero_base}]
///   figure:
///     x: base.d                    # a swept numeric key, or `step` for curves
///     y: steps_to_overlap_0.5      # runs.csv column(s) (x swept) or metric(s) (x = step); or a list
///     by: base.zero_base           # swept key(s): one series per combination (x = step: default all)
///     series: {base.zero_base: [fine-tuning, GLM (W = 0)]}  # optional: names of the values of
///                                  # a by key (or of the y columns: `y: [...]`), in sweep order
///     title: Fine-tuning finds the direction in about d steps, the GLM does not   # optional
///     xlabel: ...                  # optional; default from the label table
///     ylabel: ...
/// ```
/// With x swept, every run is a point, runs that did not reach are drawn at the budget (censored),
/// and a series whose (x, y, by, group) has a fit in fits.csv gets the fitted line and its exponent
/// with interval in the legend (otherwise the median over seeds at each x). With x = step, each
/// series is the median and interquartile band over the runs of its group. The figure is written
/// as plots/figure.{dat,gp,png,svg,pdf}.

#include "framework/config.h"
#include "study/plan.h"

namespace lrlab {
namespace study {

/// The keys `study.figure` accepts.
extern const std::vector<std::string> kFigureKeys;

/// Reads `figure` of the study section `study_view` for `plan` (its swept keys and points must be
/// expanded). Throws ConfigError located at the offending key for: a non-mapping, an unknown key
/// (listing the valid ones and the closest), a missing x or y, an x that is neither `step` nor a
/// swept key (or takes a non-numeric value), a `by` key that is not swept, is x or repeats, a y
/// listed twice, and a `series` list whose length differs from the number of series.
FigureSpec read_figure_spec(const Config& study_view, const StudyPlan& plan);

}  // namespace study
}  // namespace lrlab
