#pragma once
/// The cluster commands: `lrlab slurm` (sbatch scripts for a sharded study, optionally submitted)
/// and `lrlab merge` (study/merge.h).
///
/// `lrlab slurm CONFIG [overrides] --shards N [--partition P] [--time T] [--cpus-per-task C] [--mem M]
/// [--extra "..."] [--submit]` validates the study, prepares its results folder and writes into
/// <dir>/slurm/:
///   shards.sbatch   a job array of N tasks; task I runs `lrlab run CONFIG [overrides] --out DIR
///                   --shard I/N`, with --jobs x --threads filling the task's SLURM_CPUS_PER_TASK
///   merge.sbatch    `lrlab merge DIR` (submitted with --dependency=afterany on the array, so it runs,
///                   and names the shards that failed, even when some did)
///   logs/           each task's output: shard-I-of-N.<array job>.out, merge.<job>.out
/// With --submit it calls sbatch for both and prints the job ids and the squeue / scancel / merge
/// commands. Resubmitting one task (`sbatch --array=I DIR/slurm/shards.sbatch`) resumes that shard.

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace lrlab {

/// Options of `lrlab slurm` (besides the config and its overrides).
struct SlurmOptions {
  int shards = 0;                ///< --shards N (array tasks)
  std::string out_dir;           ///< --out (default: output.dir); made absolute in the scripts
  std::string partition;         ///< --partition (empty: the cluster's default)
  std::string time;              ///< --time limit per task (empty: the partition's default)
  int cpus_per_task = 1;         ///< --cpus-per-task
  std::string mem;               ///< --mem per task (empty: the partition's default)
  std::string extra;             ///< --extra: more sbatch options, e.g. "--account=abc --qos=long"
  int threads = 1;               ///< intra-op threads per job; jobs = cpus / threads
  int max_group = 256;           ///< --max-group (the partition depends on it: the same for every task)
  bool submit = false;           ///< call sbatch
};

/// The two sbatch scripts for a study (text only; `lrlab` is the executable's absolute path, `run_args`
/// the shell-quoted `CONFIG [overrides]`, `dir` the absolute results folder, `name` the study's name).
struct SlurmScripts {
  std::string shards;  ///< shards.sbatch
  std::string merge;   ///< merge.sbatch
};

/// Writes the text of the scripts (see the file comment).
SlurmScripts slurm_scripts(const SlurmOptions& options, const std::string& lrlab, const std::string& run_args,
                           const std::string& dir, const std::string& name);

/// Adds the `slurm` subcommand to `app`; returns the function to call when it was parsed.
std::function<int()> add_slurm_command(CLI::App& app);

/// Adds the `merge` subcommand to `app`; returns the function to call when it was parsed (exit 0 when
/// merged, 1 with one line per missing or unfinished shard and its rerun command otherwise).
std::function<int()> add_merge_command(CLI::App& app);

}  // namespace lrlab
