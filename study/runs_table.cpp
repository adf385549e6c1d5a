#include "study/runs_table.h"

#include <cstdlib>

#include "framework/strings.h"

namespace lrlab::study {

namespace {

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

std::vector<std::string> curves_header() { return {"run", "step", "metric", "value"}; }

std::vector<std::vector<std::string>> curve_rows(const Recorder& recorder, size_t from) {
  std::vector<std::vector<std::string>> rows;
  const auto& curves = recorder.curves();
  for (size_t i = from; i < curves.size(); ++i) {
    const CurveRow& c = curves[i];
    rows.push_back({c.run, std::to_string(c.step), c.metric, format_number(c.value)});
  }
  return rows;
}

std::vector<std::string> runs_header(const StudyPlan& plan, const models::MetricsOptions& metrics) {
  std::vector<std::string> h{"run", "seed", "point"};
  for (const auto& key : plan.swept_keys) h.push_back(key);
  for (const char* c : {"status", "diverged_step", "steps"}) h.push_back(c);
  for (const auto& name : metrics.names) h.push_back("final_" + name);
  for (const auto& [metric, values] : metrics.thresholds)
    for (double t : values) h.push_back(hitting_time_column(metric, t));
  if (!metrics.success.empty()) h.push_back(models::success_column());
  return h;
}

std::vector<std::string> run_row(const RunRecord& run, const RunSpec& spec, const StudyPlan& plan,
                                 const models::MetricsOptions& metrics) {
  std::vector<std::string> row{run.id, std::to_string(run.seed), std::to_string(spec.point)};
  for (const auto& [key, value] : plan.points[spec.point].values) row.push_back(value);
  row.push_back(run.status);
  row.push_back(run.diverged_step >= 0 ? std::to_string(run.diverged_step) : "");
  row.push_back(std::to_string(run.steps));
  for (const auto& name : metrics.names) {
    auto it = run.final_values.find(name);
    row.push_back(it == run.final_values.end() ? "" : format_number(it->second));
  }
  for (const auto& [metric, values] : metrics.thresholds)
    for (double t : values) {
      auto m = run.hits.find(metric);
      bool hit = m != run.hits.end() && m->second.count(t);
      row.push_back(hit ? std::to_string(m->second.at(t)) : "");
    }
  if (!metrics.success.empty()) row.push_back(run.success_step >= 0 ? std::to_string(run.success_step) : "");
  return row;
}

bool is_hitting_time_column(const std::string& column) { return starts_with(column, "steps_to_"); }

bool is_result_column(const std::string& column) {
  return starts_with(column, "final_") || is_hitting_time_column(column);
}

std::vector<std::string> swept_columns(const Table& runs) {
  std::vector<std::string> out;
  const int p = runs.find_column("point");
  const int s = runs.find_column("status");
  if (p >= 0 && s > p) {
    for (int c = p + 1; c < s; ++c) out.push_back(runs.columns[static_cast<std::size_t>(c)]);
    return out;
  }
  for (const auto& c : runs.columns)
    if (c != "run" && c != "seed" && c != "point" && c != "steps" && c != "status" && !is_result_column(c))
      out.push_back(c);
  return out;
}

bool point_number(const std::string& id, double* value) {
  char* end = nullptr;
  *value = std::strtod(id.c_str(), &end);
  return !id.empty() && *end == '\0';
}

}  // namespace lrlab::study
