#pragma once
/// Runs a study: expands the `study` section into runs, stacks runs that share tensor shapes into
/// groups, trains the groups, and writes the results folder (resuming where a stopped study left off).
///
/// Results folder:
///   config.yaml   the resolved config (defaults filled in), with the study section
///   study.yaml    the config exactly as given (file + overrides): a resumed study must match it
///   meta.yaml     versions, BLAS, device, command line, overrides, seeds, what determinism depends on
///   curves.csv    run, step, metric, value
///   runs.csv      run, seed, point, <swept keys>, status, diverged_step, steps, final_<metric>...,
///                 steps_to_<metric>_<threshold>...
///   summary.csv / summary.md / fits.csv   per sweep point medians and IQRs, fitted exponents
///   plots/        PNG and SVG rendered with gnuplot
///   tensors/<run>.safetensors   per-run tensors (when output.save_tensors)
///
/// What can go wrong, and what the runner guarantees:
///  - Bad input: every group is built, stacked as it will run, before the folder is created, so any
///    config error (of any run of any group) is reported with its location and nothing is written.
///  - No half-written folder: study.yaml is written first; a group's tensors, then its curves.csv
///    rows, then its runs.csv rows are appended, each file replaced atomically (temp + fsync + rename),
///    so a crash or SIGKILL at any moment leaves whole rows only. A run is finished once its runs.csv
///    row exists; on resume, curve rows of unfinished runs are dropped, stale temp files removed, and
///    only unfinished runs are trained (regrouped: on the CPU a run's numbers do not depend on its
///    group). At the end runs.csv and curves.csv are rewritten in plan order, so the result files are
///    the same byte for byte whatever --jobs, the order groups finished in, or interruptions.
///  - SIGINT/SIGTERM: groups in flight stop at their next record, groups already computed finish
///    their writes, and Interrupted (saying how many runs are saved) reaches main, which prints the
///    command that resumes. A second signal exits at once (the files are still consistent).
///  - A failing group (an error, a full disk) stops the others at their next record; the error says
///    how many runs are saved and that rerunning resumes. A results folder that disappears mid-study
///    is reported as such and never recreated.

#include <functional>
#include <string>
#include <vector>

#include "framework/config.h"
#include "framework/study/sweep.h"

namespace lrlab {

/// Command-line options of `lrlab run`.
struct StudyRunOptions {
  std::string out_dir;            ///< overrides output.dir when non-empty
  int jobs = 0;                   ///< groups run in parallel (0: one per core)
  bool dry_run = false;           ///< print the plan and stop
  bool restart = false;           ///< discard earlier results in the folder instead of resuming
  bool quiet = false;             ///< no progress and no summary on the terminal
  std::string command_line;       ///< recorded in meta.yaml
  int max_group = 256;            ///< most runs stacked into one group
  int threads = 1;                ///< intra-op threads per job (LibTorch/OpenMP), 1..1024
};

/// One group of the plan: runs that share every non-stackable setting.
struct PlannedGroup {
  std::vector<int> runs;   ///< indices into StudyPlan::runs
  std::string key;         ///< the grouping key (the config without seed and stackable options)
};

/// Splits a plan into groups: runs whose configs are equal once `seed` and every stackable option
/// (registry-declared, e.g. trainer.lr, teacher.xi) are removed share a group (in plan order,
/// at most `max_group` runs each).
std::vector<PlannedGroup> group_runs(const Config& root, const study::StudyPlan& plan, int max_group);

/// Runs (or resumes) the study described by `root` (overrides already applied). Returns the results
/// folder. Throws lrlab::Error / ConfigError for bad input; `log` receives the terminal messages.
std::string run_study(const Config& root, const StudyRunOptions& options,
                      const std::function<void(const std::string&)>& log);

/// Checks a config without training: expands the study and builds every group at R = 1.
/// Returns a one-line description of the plan.
std::string validate_study(const Config& root);

}  // namespace lrlab
