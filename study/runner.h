#pragma once
/// Runs a study: expands the `study` section into runs (study/plan.h), stacks runs that share tensor
/// shapes into groups (study/grouping.h), trains the groups (study/group_runner.h), and writes the
/// results folder (study/results_folder.h), resuming where a stopped study left off.
///
/// What can go wrong, and what the runner guarantees:
///  - Bad input: every group is built, stacked as it will run, before the folder is created, so any
///    config error (of any run of any group) is reported with its location and nothing is written.
///  - No half-written folder: see study/results_folder.h. On resume only unfinished runs are trained
///    (regrouped: on the CPU a run's numbers do not depend on its group). At the end runs.csv and
///    curves.csv are rewritten in plan order, so the result files are the same byte for byte whatever
///    --jobs, the order groups finished in, or interruptions.
///  - SIGINT/SIGTERM: groups in flight stop at their next record, groups already computed finish
///    their writes, and Interrupted (saying how many runs are saved) reaches main, which prints the
///    command that resumes. A second signal exits at once (the files are still consistent).
///  - A failing group (an error, a full disk) stops the others at their next record; the error says
///    how many runs are saved and that rerunning resumes. A results folder that disappears mid-study
///    is reported as such and never recreated.
///
/// After each group the run log (unless --quiet) says which computation path it ran, once per group
/// (`group 2/5 (4 runs, d=64): path kernel`); meta.yaml lists the same per group (study/meta.h).

#include <functional>
#include <string>
#include <vector>

#include "framework/config.h"
#include "study/shards.h"

namespace lrlab::study {

/// Command-line options of `lrlab run`.
struct StudyRunOptions {
  std::string out_dir;            ///< overrides output.dir when non-empty
  int jobs = 0;                   ///< groups run in parallel (0: one per core)
  bool dry_run = false;           ///< print the plan and stop
  bool restart = false;           ///< discard earlier results in the folder instead of resuming
  bool quiet = false;             ///< no progress and no summary on the terminal
  bool force = false;             ///< run even when the memory or disk estimate exceeds what is free
  std::string command_line;       ///< recorded in meta.yaml
  int max_group = 256;            ///< most runs stacked into one group
  int threads = 1;                ///< intra-op threads per job (LibTorch/OpenMP), 1..1024
  ShardSpec shard;                ///< --shard I/N: run only that shard (study/shards.h); inactive: all
};

/// Runs (or resumes) the study described by `root` (overrides already applied). Returns the results
/// folder. With options.shard active, runs only that shard's groups into <dir>/shards/I-of-N/ (holding
/// its .lock), then merges the folder when every shard is done (study/merge.h). Throws lrlab::Error / ConfigError for bad input; `log` receives the terminal messages.
std::string run_study(const Config& root, const StudyRunOptions& options,
                      const std::function<void(const std::string&)>& log);

/// A sharded study's plan: its results folder and, per shard, the groups, runs and estimated GFLOP.
struct ShardedPlan {
  std::string dir;                          ///< results folder
  size_t groups = 0;                        ///< groups in the study
  std::vector<std::string> shard_lines;     ///< one line per shard: "shard 1/4: 3 groups, 12 runs, ~0.5 GFLOP"
  int empty_shards = 0;                     ///< shards without groups (more shards than groups)
};

/// Expands and builds every group of the study (as run_study does before training) and partitions
/// the groups into `shards` shards (`options.max_group` and `options.out_dir` as for run_study).
ShardedPlan plan_shards(const Config& root, const StudyRunOptions& options, int shards);
/// Recomputes summary.csv, summary.md and fits.csv (and the plots when output.plots) of the results
/// folder `dir` from its runs.csv, with the study section of `root`: the folder's study.yaml, or a
/// corrected config that describes the same runs (it may differ in study.fit, study.figure and output.plots only;
/// study.yaml is then rewritten once the summary succeeded, so that a later resume agrees). Holds the folder's lock meanwhile.
/// Throws lrlab::Error for a folder that is not a results folder or has no runs.csv, a config of other
/// runs, or a failing summary (the folder's runs are never touched).
void summarize_study(const std::string& dir, const Config& root, const std::string& command_line,
                     const std::function<void(const std::string&)>& log);

/// Checks a config without training: expands the study and builds every group at R = 1.
/// Returns a one-line description of the plan.
std::string validate_study(const Config& root);

}  // namespace lrlab::study
