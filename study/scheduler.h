#pragma once
/// Trains the pending groups of a study on --jobs threads and saves each group as it finishes.
///
/// Watching (study/live_status.h): while a group runs, its new curve rows are appended to curves.csv
/// (true appends of whole rows under the write mutex) at most every output.flush_seconds, so
/// `tail -f` and notebooks see partial curves; when the group ends only its rows not yet appended are
/// added, then its runs.csv rows (a run is finished once its runs.csv row exists). progress.json and
/// the terminal (or one log line every 30 s) show the study's and each running group's progress.
///
/// SIGINT/SIGTERM and failures: groups in flight stop at their next record (a shared cancel flag),
/// groups already computed finish their writes, and the first failure is kept and rethrown with how
/// many runs are saved. After each group the run log (unless --quiet) says which computation path it
/// ran, once per group, and meta.yaml records it (study/meta.h).

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "framework/config.h"
#include "study/group_runner.h"
#include "study/live_status.h"
#include "study/meta.h"
#include "study/plan.h"
#include "study/runner.h"

namespace lrlab::study {

/// A group still to train: its index in the plan's groups and its unfinished runs.
struct PendingGroup {
  size_t group = 0;       ///< index into the plan's groups
  std::vector<int> runs;  ///< indices into StudyPlan::runs, not finished yet
  int64_t d = 0;          ///< input dimension (for the run log)
  int64_t steps = 0;      ///< step budget (for the progress)
  double cost = 0;        ///< estimated arithmetic of its pending runs (group_flops), for the ETA
};

/// The estimated arithmetic of a group (FLOP: about 6 k d per run and step, the forward, backward and
/// update of the first layer): what --dry-run prints, shards balance (study/shards.h) and the ETA uses.
double group_flops(int64_t steps, size_t runs, int64_t k, int64_t d);

/// What the scheduler's workers share (references must outlive the scheduler).
struct SchedulerContext {
  const Config& root;                                   ///< the study config (overrides applied)
  const StudyPlan& plan;                                ///< the expanded plan
  size_t groups = 0;                                    ///< number of groups in the plan (for the log)
  const StudyRunOptions& options;                       ///< command-line options
  std::string dir;                                      ///< results folder
  bool save_tensors = true;                             ///< output.save_tensors
  std::vector<std::string> runs_header;                 ///< runs.csv header
  MetaFile& meta;                                       ///< meta.yaml
  const std::function<void(const std::string&)>& log;  ///< run log
  double flush_seconds = 5;                             ///< output.flush_seconds (live curve appends)
};

/// Trains pending groups in parallel. The first failure stops the other groups at their next record.
class GroupScheduler {
 public:
  /// `done_before` counts the runs finished by earlier sessions (for progress and messages).
  GroupScheduler(SchedulerContext context, std::vector<PendingGroup> todo, size_t done_before);
  /// Trains every pending group with `jobs` workers (returns once all have stopped).
  void run(int jobs);
  /// Rethrows the first failure (if any), saying how many runs are saved and how to resume.
  void rethrow_failure() const;

 private:
  void worker();
  GroupOutcome train(size_t index, size_t& appended);
  void train_and_save(size_t index);
  void append_curves_locked(const Recorder& recorder, size_t& appended);
  void report_path(const PendingGroup& pending, const std::string& path);
  std::unique_ptr<LiveStatus> make_live_status() const;
  std::string end_state() const;

  SchedulerContext c_;
  const std::vector<PendingGroup> todo_;
  int jobs_ = 1;
  std::unique_ptr<LiveStatus> live_;
  std::mutex write_mutex_;
  std::atomic<size_t> next_{0};
  std::atomic<size_t> runs_done_;
  std::atomic<bool> cancel_{false};  ///< set on the first failure: the other groups stop at their next record
  std::exception_ptr failure_;
};

}  // namespace lrlab::study
