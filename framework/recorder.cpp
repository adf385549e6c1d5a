#include "framework/recorder.h"

#include <cmath>

#include "framework/error.h"
#include "framework/strings.h"

namespace lrlab {

std::string hitting_time_column(const std::string& metric, double threshold) {
  return "steps_to_" + metric + "_" + format_number(threshold);
}

Recorder::Recorder(std::vector<RunRecord> runs, std::map<std::string, std::vector<double>> thresholds,
                   std::function<bool(const std::string&)> higher_is_better)
    : runs_(std::move(runs)), thresholds_(std::move(thresholds)), higher_is_better_(std::move(higher_is_better)) {}

void Recorder::record(int64_t step, const std::string& metric, const std::vector<double>& values) {
  check(values.size() == runs_.size(), "Recorder::record: one value per run expected");
  const auto th = thresholds_.find(metric);
  const bool higher = higher_is_better_(metric);
  for (size_t i = 0; i < runs_.size(); ++i) {
    RunRecord& run = runs_[i];
    if (run.status == "diverged") continue;
    const double v = values[i];
    if (!std::isfinite(v)) {
      run.status = "diverged";
      run.diverged_step = step;
      run.steps = step;
      continue;
    }
    curves_.push_back({run.id, step, metric, v});
    run.final_values[metric] = v;
    if (th == thresholds_.end()) continue;
    for (double t : th->second) {
      const bool reached = higher ? v >= t : v <= t;
      if (reached && !run.hits[metric].count(t)) run.hits[metric][t] = step;
    }
  }
}

void Recorder::finish(int64_t steps) {
  for (auto& run : runs_)
    if (run.status != "diverged") run.steps = steps;
}

bool Recorder::all_reached() const {
  for (const auto& run : runs_) {
    if (run.status == "diverged") continue;
    for (const auto& [metric, values] : thresholds_) {
      auto it = run.hits.find(metric);
      if (it == run.hits.end() || it->second.size() != values.size()) return false;
    }
  }
  return !thresholds_.empty() && !all_diverged();
}

bool Recorder::all_diverged() const {
  for (const auto& run : runs_)
    if (run.status != "diverged") return false;
  return true;
}

}  // namespace lrlab
