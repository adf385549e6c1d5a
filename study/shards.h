#pragma once
/// Shards: a study split into N independent parts (`lrlab run CONFIG --shard I/N`), for clusters.
///
/// The partition is over the plan's groups (study/grouping.h), so run ids, points, seeds and every
/// number are those of the unsharded study; it is deterministic and balanced by the same estimated
/// cost as `--dry-run` (estimated_flops). Shard I of N writes only into its own folder:
///
///   <dir>/study.yaml, <dir>/config.yaml   written by every shard (identical for one study)
///   <dir>/shards/I-of-N/                  a complete results folder of the shard's runs: study.yaml,
///                                         config.yaml, meta.yaml, runs.csv, curves.csv, tensors/,
///                                         shard.yaml (this file's ShardRecord), .lock (its one writer)
///
/// and `lrlab merge DIR` (study/merge.h) builds <dir>/runs.csv, curves.csv, summary, fits and plots
/// from the shard folders, byte-identical to the unsharded study.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lrlab::study {

/// Which shard a process runs: `index` of `count` (1-based); count 0 means "not sharded".
struct ShardSpec {
  int index = 0;  ///< 1 .. count
  int count = 0;  ///< number of shards (0: the whole study)
  /// True when this is a shard (count > 0).
  bool active() const { return count > 0; }
  /// "2-of-4": the shard's folder name under <dir>/shards/.
  std::string name() const;
};

/// Parses `--shard I/N` ("2/4"); throws lrlab::Error unless 1 <= I <= N.
ShardSpec parse_shard(const std::string& text);

/// The shard's folder: <dir>/shards/I-of-N.
std::string shard_folder(const std::string& dir, const ShardSpec& shard);

/// Splits groups of estimated cost `costs[g]` into `shards` parts: largest cost first (ties: lower
/// index first), each to the part with the least cost so far (ties: the lower part). Deterministic;
/// every group is in exactly one part; parts list their groups in increasing order (some parts are
/// empty when there are fewer groups than shards).
std::vector<std::vector<size_t>> partition_groups(const std::vector<double>& costs, int shards);

/// Prepares the top of a sharded results folder for a shard (or for `lrlab slurm`): creates
/// <dir>/shards/ and writes <dir>/study.yaml (`document`) unless it holds this study already. A folder
/// of another study is refused, unless `restart`: then study.yaml is replaced and the merged result
/// files (runs.csv, curves.csv, summary, fits, tensors/) are removed, and merge refuses the other
/// shards until they are rerun with --restart too. `fail_dir` reports a folder that cannot be made.
/// Never removes another process's files: shards of one study start at the same time.
void prepare_shard_root(const std::string& dir, const std::string& document, bool restart,
                        const std::function<void(const std::string&)>& fail_dir);

/// What a shard writes into its folder at the start (shard.yaml), so that merge and status know
/// its runs and how to rerun it without rebuilding the plan's groups.
struct ShardRecord {
  ShardSpec shard;                ///< which shard
  std::vector<std::string> runs;  ///< its run ids, in plan order
  std::string command;            ///< the command line that runs it
};

/// Writes `<shard folder>/shard.yaml` (atomically).
void write_shard_record(const std::string& shard_dir, const ShardRecord& record);

/// Reads a shard.yaml; throws lrlab::Error naming the file when it is unreadable.
ShardRecord read_shard_record(const std::string& path);

}  // namespace lrlab::study
