#pragma once
/// Axis scales, ticks and the one number format of the figures.
///
/// Scale rule: an axis is logarithmic when its values are all positive and span more than a
/// factor kLogSpan (20), or are all positive on a figure with a fitted power law (log-log, where
/// the fit is a straight line), else linear. Step axes of curve plots that span that much use log(1 + step),
/// so step 0 stays visible at the left edge. Ticks are listed explicitly in the gnuplot script, so
/// every axis has labelled ticks: at the swept values on an axis of swept values (d = 32, 64, ...),
/// at powers of ten (with 2 and 5 multiples over short spans) on other log axes, at 1, 2, 5 x 10^k
/// steps on linear axes. Tick labels of one axis share one format (tick_texts).

#include <string>
#include <vector>

namespace lrlab {
namespace study {

/// Values spanning more than this factor (all positive) get a log axis.
constexpr double kLogSpan = 20;

/// The scale, range and ticks of one axis.
struct AxisScale {
  bool log = false;    ///< logarithmic axis
  bool log1p = false;  ///< log(1 + x) axis (step axes), so 0 is shown
  double lo = 0;       ///< lower end of the range
  double hi = 1;       ///< upper end of the range
  std::vector<double> ticks;  ///< labelled tick positions, increasing, inside [lo, hi]
};

/// True when the finite values are all positive and max / min > kLogSpan, or when they are all
/// positive and `power_law` (the axis of a power-law fit, a straight line on log-log axes).
bool use_log_scale(const std::vector<double>& values, bool power_law = false);

/// The axis of a swept key: its distinct values as ticks (at most `max_ticks`, evenly thinned,
/// keeping the first and last), log by use_log_scale, the range padded so no point sits on the frame.
AxisScale swept_axis(const std::vector<double>& values, bool power_law = false, std::size_t max_ticks = 12);

/// The axis of measured values (hitting times, losses): log by use_log_scale, range padded by 5%
/// of the span (in log space on log axes), ticks by log_ticks or linear_ticks. Non-finite values
/// are ignored; no finite value gives the range [0, 1].
AxisScale data_axis(const std::vector<double>& values, bool power_law = false);

/// The step axis of curve plots: log(1 + step) over [0, max] with ticks 0, 10, 100, ... when the
/// positive steps span more than kLogSpan, else linear ticks.
AxisScale step_axis(const std::vector<double>& steps);

/// Ticks of a log axis over [lo, hi] (0 < lo < hi): powers of ten, with 2 and 5 multiples when the
/// range spans less than 2.5 decades and with every second (third, ...) power over more than 9.
std::vector<double> log_ticks(double lo, double hi);

/// Ticks of a linear axis over [lo, hi]: multiples of 1, 2 or 5 x 10^k, about 4 to 8 of them.
std::vector<double> linear_ticks(double lo, double hi);

/// One number in the figures' format: up to 3 significant digits, plain ("0.25", "64", "5000") or in
/// exponent form without '+' or leading zeros ("1e5", "2.5e-3") as `exponent` says.
std::string number_text(double value, bool exponent);

/// number_text with the exponent form for |value| >= 1e5 or < 1e-3 (thresholds in axis labels).
std::string number_text(double value);

/// Tick labels of one axis in one format: all plain when every non-zero tick is in [1e-3, 1e5),
/// else all non-zero ticks in exponent form ("1e3", "1e4", "1e5"; "0" stays "0").
std::vector<std::string> tick_texts(const std::vector<double>& ticks);

/// The gnuplot commands that set `axis` ("x" or "y") to `scale`: log scale or the log(1 + x)
/// mapping, the range, and the explicit tick list with tick_texts labels.
std::string axis_commands(const std::string& axis, const AxisScale& scale);

}  // namespace study
}  // namespace lrlab
