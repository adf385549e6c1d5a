#pragma once
/// `lrlab merge DIR`: the results of a sharded study (study/shards.h) as one results folder.
///
/// Merge reads only: <dir>/study.yaml (the plan), and per shard <dir>/shards/I-of-N/{shard.yaml,
/// study.yaml, runs.csv, curves.csv, tensors/}. When every shard is done it writes <dir>/runs.csv and
/// curves.csv (rows in plan order), tensors/ (hard links to the shards' files, copies where links are
/// impossible), summary.csv/summary.md/fits.csv and plots/: byte-identical to the same study run
/// unsharded. When a shard is missing or unfinished it writes nothing and names each such shard with
/// the command that reruns it. It never mixes configs: a shard whose study.yaml differs from
/// <dir>/study.yaml, or whose runs do not match the partition of the others, is an error.
///
/// Safe at any time and from several processes at once (the last shards to finish, a Slurm merge
/// job, a user): merges take turns on <dir>/shards/merge.lock and write every file atomically.

#include <functional>
#include <string>
#include <vector>

#include "study/plan.h"
#include "study/shards.h"

namespace lrlab::study {

/// One shard of a sharded results folder, as merge and `lrlab status` see it.
struct ShardStatus {
  ShardSpec shard;       ///< which shard
  std::string folder;    ///< <dir>/shards/I-of-N
  /// "done" (every run has its runs.csv row), "running" (its .lock is held), "stopped" (started,
  /// unfinished, nobody holds it: preempted, killed, cancelled, failed) or "not started" (no shard.yaml).
  std::string state;
  size_t done = 0;       ///< finished runs
  size_t total = 0;      ///< runs of the shard (0 when not started: unknown without building groups)
  std::string holder;    ///< for "running": who holds the lock (framework/folder_lock.h)
  std::string rerun;     ///< the command that (re)runs the shard; resuming keeps its finished runs
};

/// The shards 1..N of the sharded study in `dir`, N read from the folder names under <dir>/shards/.
/// Throws lrlab::Error when there are none, or folders of different shard counts (e.g. 1-of-3 and
/// 2-of-4: remove the stale ones).
std::vector<ShardStatus> shard_statuses(const std::string& dir);

/// One line per shard: "shard 2/4 (shards/2-of-4): stopped, 3 of 6 runs done; rerun: ...".
std::string describe_shards(const std::vector<ShardStatus>& shards);

/// What merge_shards did.
struct MergeResult {
  bool merged = false;               ///< every shard was done and the folder's result files are written
  std::vector<ShardStatus> shards;   ///< each shard's state
};

/// Merges the shards of `dir` when all are done (see the file comment); otherwise writes nothing and
/// returns merged = false. Throws lrlab::Error for a folder that is not a sharded study, mixed configs
/// or partitions. `log` receives the summary table (unless `quiet`) and plot warnings.
MergeResult merge_shards(const std::string& dir, bool quiet, const std::function<void(const std::string&)>& log);

/// The end of a study once runs.csv and curves.csv are complete and in plan order: summary and
/// fits, plots (when `plots`), and the terminal summary (unless `quiet`). Shared by the unsharded
/// runner and merge, so both end with the same files.
void finish_results(const std::string& dir, const StudyPlan& plan, bool plots, bool quiet,
                    const std::function<void(const std::string&)>& log);

}  // namespace lrlab::study
