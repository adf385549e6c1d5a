#pragma once
/// The results folder of a study and the guarantees that make it crash-safe and resumable.
///
///   config.yaml   the resolved config (defaults filled in), with the study section
///   study.yaml    the config exactly as given (file + overrides): a resumed study must match it
///   meta.yaml     versions, BLAS, device, command line, overrides, seeds, what determinism depends on,
///                 and per finished group its runs and the computation path it ran (study/meta.h)
///   curves.csv, runs.csv        the result tables (study/runs_table.h)
///   summary.csv / summary.md / fits.csv   per sweep point medians and IQRs, fitted exponents
///   plots/        PNG and SVG rendered with gnuplot
///   tensors/<run>.safetensors   per-run tensors (when output.save_tensors, study/tensor_files.h)
///
/// study.yaml is written first; a group's curves.csv rows are appended while it runs (whole rows, one
/// write each: a crash leaves at most a truncated last line, which resume cuts), then its tensors and
/// its runs.csv rows (replaced atomically). A run is finished once its runs.csv row exists; meta.yaml
/// plays no part in the resume check.

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "framework/config.h"
#include "study/group_runner.h"
#include "study/plan.h"

namespace lrlab::study {

/// Creates (or reopens) the results folder. Nothing is written unless the folder is usable: study.yaml
/// (`document`) is written first, so no result file ever exists without it, and a folder of another
/// study, or with results but no study.yaml, is refused unless `restart` (which discards the earlier
/// results). `fail_dir` reports a folder that cannot be created, naming what chose it.
void prepare_folder(const std::string& dir, const std::string& document, bool restart,
                    const std::function<void(const std::string&)>& fail_dir);

/// Writes config.yaml: the first run's resolved config (`first_run`, defaults filled in) with the study
/// section of `root` and the top-level `seed` set to `base_seed`.
void write_resolved_config(const std::string& dir, const Config& first_run, const Config& root, int64_t base_seed);

/// Reads the ids of finished runs (those with a runs.csv row) and drops curve rows of unfinished ones
/// (a crash between the two appends of a group leaves curves without their runs rows), after cutting
/// a truncated last line of curves.csv (a crash in the middle of a live append).
std::set<std::string> finished_runs(const std::string& dir);

/// The rows one trained group adds to the folder.
struct GroupRows {
  std::vector<std::vector<std::string>> curves;  ///< curves.csv rows
  std::vector<std::string> runs_header;          ///< runs.csv header
  std::vector<std::vector<std::string>> runs;    ///< runs.csv rows (one per run of the group)
};

/// Saves one trained group: its tensors (when `save_tensors`), then its curves.csv rows (none when the
/// caller appended them already, study/scheduler.h), then its runs.csv rows (last: a run counts as finished once its row exists). Never recreates a folder that
/// vanished (deleted, moved, unmounted): that is an Error saying so.
void save_group(const std::string& dir, bool save_tensors, const GroupOutcome& outcome, const GroupRows& rows);

/// Rewrites runs.csv and curves.csv in plan order (run order of the plan; a run's curve rows keep
/// their recording order), so the files do not depend on which group finished first.
void write_in_plan_order(const std::string& dir, const StudyPlan& plan);

}  // namespace lrlab::study
