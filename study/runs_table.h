#pragma once
/// The columns of the result tables: runs.csv (one row per run) and curves.csv (long format).
///
///   runs.csv    run, seed, point, <swept keys>, status, diverged_step, steps, final_<metric>...,
///               steps_to_<metric>_<threshold>..., steps_to_success (with metrics.success)
///   curves.csv  run, step, metric, value

#include <string>
#include <vector>

#include "framework/csv.h"
#include "models/metrics.h"
#include "study/plan.h"
#include "trainers/recorder.h"

namespace lrlab::study {

/// The header of curves.csv.
std::vector<std::string> curves_header();
/// curves.csv rows of a recorder, in recording order, from its `from`-th curve row on.
std::vector<std::vector<std::string>> curve_rows(const Recorder& recorder, size_t from = 0);

/// runs.csv header for this study (fixed by the swept keys, the metric names and thresholds).
std::vector<std::string> runs_header(const StudyPlan& plan, const models::MetricsOptions& metrics);
/// The runs.csv row of one finished run (`spec` its place in the plan), in runs_header's order.
std::vector<std::string> run_row(const RunRecord& run, const RunSpec& spec, const StudyPlan& plan,
                                 const models::MetricsOptions& metrics);

/// True for a result column of runs.csv: final_<metric> or steps_to_<metric>_<threshold>.
bool is_result_column(const std::string& column);
/// True for a hitting-time column (steps_to_...).
bool is_hitting_time_column(const std::string& column);

/// Reads a `point` cell as a number: true, with `*value` set, when the whole cell is one (point ids
/// are written as integers; order points by value, "2" before "10", not as text).
bool point_number(const std::string& id, double* value);

/// The swept key columns of a runs table: those between `point` and `status` (the runs.csv layout);
/// without a `status` column, every column that is not run/seed/point/steps/final_*/steps_to_*.
std::vector<std::string> swept_columns(const Table& runs);

}  // namespace lrlab::study
