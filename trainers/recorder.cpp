#include "trainers/recorder.h"

#include <cmath>

#include "framework/error.h"
#include "framework/strings.h"

namespace lrlab {

std::string hitting_time_column(const std::string& metric, double threshold) {
  return "steps_to_" + metric + "_" + format_number(threshold);
}

Recorder::Recorder(std::vector<RunRecord> runs, std::map<std::string, std::vector<double>> thresholds,
                   std::function<bool(const std::string&)> higher_is_better)
    : runs_(std::move(runs)),
      stopped_(runs_.size(), false),
      thresholds_(std::move(thresholds)),
      higher_is_better_(std::move(higher_is_better)) {}

void Recorder::mark_diverged(size_t i, int64_t step) {
  check(i < runs_.size(), "Recorder::mark_diverged: run index out of range");
  if (!active(i)) return;
  runs_[i].status = "diverged";
  runs_[i].diverged_step = step;
  runs_[i].steps = step;
}

void Recorder::record_value(size_t i, int64_t step, const std::string& metric, double value) {
  RunRecord& run = runs_[i];
  curves_.push_back({run.id, step, metric, value});
  run.final_values[metric] = value;
  const auto th = thresholds_.find(metric);
  if (th == thresholds_.end()) return;
  const bool higher = higher_is_better_(metric);
  for (double t : th->second) {
    const bool reached = higher ? value >= t : value <= t;
    if (reached && !run.hits[metric].count(t)) run.hits[metric][t] = step;
  }
}

bool Recorder::reached_all(size_t i) const {
  if (!success_.empty() && runs_[i].success_step < 0) return false;
  for (const auto& [metric, values] : thresholds_) {
    auto it = runs_[i].hits.find(metric);
    if (it == runs_[i].hits.end() || it->second.size() != values.size()) return false;
  }
  return true;
}

void Recorder::check_success(size_t i, int64_t step, const std::map<std::string, std::vector<double>>& values) {
  if (success_.empty() || runs_[i].success_step >= 0) return;
  for (const auto& c : success_) {
    const auto v = values.find(c.metric);
    if (v == values.end() || !c.holds(v->second[i])) return;  // a metric not measured at this record fails
  }
  runs_[i].success_step = step;
}

void Recorder::record_all(int64_t step, const std::map<std::string, std::vector<double>>& values) {
  for (const auto& [metric, v] : values)
    check(v.size() == runs_.size(), "Recorder::record_all: one value per run expected for " + metric);
  for (size_t i = 0; i < runs_.size(); ++i) {
    if (!active(i)) continue;
    bool finite = true;
    for (const auto& [metric, v] : values) finite = finite && std::isfinite(v[i]);
    if (!finite) {
      mark_diverged(i, step);
      continue;
    }
    for (const auto& [metric, v] : values) record_value(i, step, metric, v[i]);
    runs_[i].recorded_step = step;
    check_success(i, step, values);
    if (early_stop_ && !(thresholds_.empty() && success_.empty()) && reached_all(i)) {
      stopped_[i] = true;
      runs_[i].steps = step;
    }
  }
}

void Recorder::record(int64_t step, const std::string& metric, const std::vector<double>& values) {
  record_all(step, {{metric, values}});
}

void Recorder::finish(int64_t steps) {
  for (size_t i = 0; i < runs_.size(); ++i)
    if (active(i)) runs_[i].steps = steps;
}

bool Recorder::all_reached() const {
  for (size_t i = 0; i < runs_.size(); ++i)
    if (!diverged(i) && !reached_all(i)) return false;
  return !(thresholds_.empty() && success_.empty()) && !all_diverged();
}

bool Recorder::all_diverged() const {
  for (const auto& run : runs_)
    if (run.status != "diverged") return false;
  return true;
}

bool Recorder::none_active() const {
  for (size_t i = 0; i < runs_.size(); ++i)
    if (active(i)) return false;
  return true;
}

}  // namespace lrlab
