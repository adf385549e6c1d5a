#include "study/plot_scales.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace lrlab {
namespace study {

namespace {

std::vector<double> finite_sorted(const std::vector<double>& values) {
  std::vector<double> out;
  for (double v : values)
    if (std::isfinite(v)) out.push_back(v);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Ticks within [lo, hi] up to rounding.
std::vector<double> inside(const std::vector<double>& ticks, double lo, double hi) {
  std::vector<double> out;
  const double slack = 1e-9 * std::max(std::abs(lo), std::abs(hi));
  for (double t : ticks)
    if (t >= lo - slack && t <= hi + slack) out.push_back(t);
  return out;
}

// The plain form with up to 3 significant digits: "%.3g" would switch to exponents by itself.
std::string plain_text(double value) {
  if (value == 0) return "0";
  const int magnitude = static_cast<int>(std::floor(std::log10(std::abs(value))));
  const int decimals = std::max(0, 2 - magnitude);
  std::string s = fmt::format("{:.{}f}", value, decimals);
  if (s.find('.') != std::string::npos) {
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

std::string exponent_text(double value) {
  if (value == 0) return "0";
  int exponent = static_cast<int>(std::floor(std::log10(std::abs(value))));
  double mantissa = value / std::pow(10.0, exponent);
  // 9.995 rounds to "10": carry into the exponent.
  if (std::abs(std::round(mantissa * 100) / 100) >= 10) {
    mantissa /= 10;
    ++exponent;
  }
  return plain_text(std::round(mantissa * 100) / 100) + "e" + std::to_string(exponent);
}

bool needs_exponent(double value) {
  const double a = std::abs(value);
  return a != 0 && (a >= 1e5 || a < 1e-3);
}

}  // namespace

bool use_log_scale(const std::vector<double>& values, bool power_law) {
  const std::vector<double> v = finite_sorted(values);
  return !v.empty() && v.front() > 0 && (power_law || v.back() / v.front() > kLogSpan);
}

AxisScale swept_axis(const std::vector<double>& values, bool power_law, std::size_t max_ticks) {
  const std::vector<double> v = finite_sorted(values);
  if (v.empty()) return AxisScale{};
  AxisScale axis;
  axis.log = use_log_scale(v, power_law);
  if (v.size() <= max_ticks || max_ticks < 2) {
    axis.ticks = v;
  } else {
    for (std::size_t i = 0; i < max_ticks; ++i)
      axis.ticks.push_back(v[i * (v.size() - 1) / (max_ticks - 1)]);
  }
  if (axis.log) {
    axis.lo = v.front() / 1.25;
    axis.hi = v.back() * 1.25;
  } else {
    const double margin = v.size() > 1 ? 0.05 * (v.back() - v.front()) : 0.5 * std::max(1.0, std::abs(v[0]));
    axis.lo = v.front() - margin;
    axis.hi = v.back() + margin;
  }
  return axis;
}

AxisScale data_axis(const std::vector<double>& values, bool power_law) {
  const std::vector<double> v = finite_sorted(values);
  AxisScale axis;
  if (v.empty()) {
    axis.ticks = linear_ticks(0, 1);
    return axis;
  }
  axis.log = use_log_scale(v, power_law);
  if (axis.log) {
    const double pad = std::max(1.2, std::pow(v.back() / v.front(), 0.05));
    axis.lo = v.front() / pad;
    axis.hi = v.back() * pad;
    axis.ticks = log_ticks(axis.lo, axis.hi);
  } else {
    double span = v.back() - v.front();
    if (span == 0) span = std::max(1e-12, std::abs(v.front()));
    axis.lo = v.front() - 0.05 * span;
    axis.hi = v.back() + 0.05 * span;
    // Non-negative data keep a non-negative axis (losses, steps).
    if (v.front() >= 0 && axis.lo < 0) axis.lo = 0;
    axis.ticks = linear_ticks(axis.lo, axis.hi);
  }
  return axis;
}

AxisScale step_axis(const std::vector<double>& steps) {
  std::vector<double> positive;
  double max_step = 0;
  for (double s : steps)
    if (std::isfinite(s) && s > 0) {
      positive.push_back(s);
      max_step = std::max(max_step, s);
    }
  AxisScale axis;
  axis.lo = 0;
  axis.hi = max_step > 0 ? max_step : 1;
  if (!use_log_scale(positive)) {
    axis.ticks = linear_ticks(0, axis.hi);
    return axis;
  }
  axis.log1p = true;
  axis.ticks = {0};
  for (double t : log_ticks(10, axis.hi)) axis.ticks.push_back(t);
  return axis;
}

std::vector<double> log_ticks(double lo, double hi) {
  if (!(lo > 0) || !(hi > lo)) return {};
  const int first = static_cast<int>(std::floor(std::log10(lo)));
  const int last = static_cast<int>(std::ceil(std::log10(hi)));
  const double decades = std::log10(hi / lo);
  std::vector<double> mantissas = {1};
  if (decades < 0.6)
    mantissas = {1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9};
  else if (decades < 2.5)
    mantissas = {1, 2, 5};
  const int stride = std::max(1, static_cast<int>(std::ceil((last - first + 1) / 9.0)));
  std::vector<double> ticks;
  for (int e = first; e <= last; ++e) {
    if ((e - first) % stride != 0) continue;
    for (double m : mantissas) ticks.push_back(m * std::pow(10.0, e));
  }
  return inside(ticks, lo, hi);
}

std::vector<double> linear_ticks(double lo, double hi) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / 6;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * magnitude;
  for (double m : {1.0, 2.0, 5.0})
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  std::vector<double> ticks;
  // Multiples of the step (not a running sum, whose rounding errors add up).
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + 1e-9 * step; ++k) ticks.push_back(k == 0 ? 0.0 : k * step);
  return ticks;
}

std::string number_text(double value, bool exponent) {
  return exponent ? exponent_text(value) : plain_text(value);
}

std::string number_text(double value) { return number_text(value, needs_exponent(value)); }

std::vector<std::string> tick_texts(const std::vector<double>& ticks) {
  const bool exponent = std::any_of(ticks.begin(), ticks.end(), needs_exponent);
  std::vector<std::string> out;
  for (double t : ticks) out.push_back(number_text(t, exponent));
  return out;
}

std::string axis_commands(const std::string& axis, const AxisScale& scale) {
  std::string out;
  if (scale.log)
    out += fmt::format("set logscale {}\n", axis);
  else if (scale.log1p)
    out += fmt::format("set nonlinear {} via log10({}+1) inverse 10**{}-1\n", axis, axis, axis);
  out += fmt::format("set {}range [{}:{}]\n", axis, fmt::format("{:.17g}", scale.lo), fmt::format("{:.17g}", scale.hi));
  const std::vector<std::string> texts = tick_texts(scale.ticks);
  std::string list;
  for (std::size_t i = 0; i < scale.ticks.size(); ++i)
    list += fmt::format("{}'{}' {:.17g}", i ? ", " : "", texts[i], scale.ticks[i]);
  out += fmt::format("set {}tics ({})\nunset m{}tics\n", axis, list, axis);
  return out;
}

}  // namespace study
}  // namespace lrlab
