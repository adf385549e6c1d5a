#include "apps/slurm_command.h"

#include <sys/wait.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include "apps/commands.h"
#include "apps/shell.h"
#include "framework/atomic_file.h"
#include "framework/config.h"
#include "framework/error.h"
#include "study/merge.h"
#include "study/runner.h"
#include "study/shards.h"

namespace fs = std::filesystem;

namespace lrlab {

namespace {

/// The #SBATCH lines every job of the study shares: partition, time, memory and --extra (split into
/// one line per option; a word that does not start with '-' is the previous option's value).
std::string common_directives(const SlurmOptions& o) {
  std::string text;
  if (!o.partition.empty()) text += "#SBATCH --partition=" + o.partition + "\n";
  if (!o.time.empty()) text += "#SBATCH --time=" + o.time + "\n";
  if (!o.mem.empty()) text += "#SBATCH --mem=" + o.mem + "\n";
  std::istringstream words(o.extra);
  std::string word, line;
  while (words >> word) {
    if (word[0] == '-' && !line.empty()) {
      text += "#SBATCH" + line + "\n";
      line.clear();
    }
    line += " " + word;
  }
  if (!line.empty()) text += "#SBATCH" + line + "\n";
  return text;
}

/// Runs `command` through the shell; returns its exit status and its output (stdout and stderr).
int run_shell(const std::string& command, std::string& output) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen((command + " 2>&1").c_str(), "r"), ::pclose);
  if (!pipe) throw Error("cannot run: " + command);
  char buffer[4096];
  output.clear();
  while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe.get())) output.append(buffer, n);
  const int status = ::pclose(pipe.release());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/// `sbatch --parsable ARGS SCRIPT`: returns the job id (what precedes any ';cluster').
std::string sbatch(const std::string& args, const std::string& script) {
  const std::string command = "sbatch --parsable " + args + shell_quote(script);
  std::string output;
  if (run_shell(command, output) != 0)
    throw Error(fmt::format("`{}` failed:\n{}(is this a Slurm login node? without --submit, lrlab slurm only "
                            "writes the scripts)",
                            command, output));
  std::string id = output.substr(0, output.find_first_of(";\n"));
  if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
    throw Error(fmt::format("`{}` printed no job id:\n{}", command, output));
  return id;
}

/// The path of this executable, for the scripts (the compute nodes must see it: a shared filesystem).
std::string own_executable() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("lrlab") : self.string();
}

struct SlurmState {
  std::string config_path;
  std::vector<std::string> overrides;
  SlurmOptions options;
};

int slurm_command(const SlurmState& s) {
  const SlurmOptions& o = s.options;
  const Config root = load_with_overrides(s.config_path, s.overrides);
  study::StudyRunOptions run;
  run.out_dir = o.out_dir;
  run.max_group = o.max_group;
  const study::ShardedPlan plan = study::plan_shards(root, run, o.shards);  // every config error first
  const std::string dir = fs::absolute(plan.dir).lexically_normal().string();
  study::prepare_shard_root(dir, root.document_yaml(), false, [&](const std::string& m) { throw Error(m); });
  std::string run_args = shell_quote(fs::absolute(s.config_path).string());
  for (const auto& a : s.overrides) run_args += " " + shell_quote(a);
  const SlurmScripts scripts =
      slurm_scripts(o, own_executable(), run_args, dir, root.get<std::string>("name", "lrlab"));
  fs::create_directories(dir + "/slurm/logs");
  write_file_atomic(dir + "/slurm/shards.sbatch", scripts.shards);
  write_file_atomic(dir + "/slurm/merge.sbatch", scripts.merge);
  for (const auto& line : plan.shard_lines) std::cout << line << "\n";
  if (plan.empty_shards > 0)
    std::cout << fmt::format("warning: {} of {} shards have no group (the study has {} groups); lower --max-group "
                             "to split groups, or ask for fewer shards\n",
                             plan.empty_shards, o.shards, plan.groups);
  std::cout << "wrote " << dir << "/slurm/shards.sbatch and merge.sbatch\n";
  if (!o.submit) {
    std::cout << fmt::format("submit with:\n  jid=$(sbatch --parsable {0}/slurm/shards.sbatch)\n"
                             "  sbatch --dependency=afterany:$jid {0}/slurm/merge.sbatch\n",
                             dir);
    return 0;
  }
  const std::string array = sbatch("", dir + "/slurm/shards.sbatch");
  const std::string merge = sbatch("--dependency=afterany:" + array + " ", dir + "/slurm/merge.sbatch");
  std::cout << fmt::format(
      "submitted: shards as job array {0} ({1} tasks), merge as job {2} (after the array)\n"
      "  watch:  squeue -j {0},{2}      (and: lrlab status {3})\n"
      "  cancel: scancel {0} {2}\n"
      "  merge:  lrlab merge {3}      (the last shard and job {2} run it too)\n"
      "  rerun shard I: sbatch --array=I {3}/slurm/shards.sbatch   (it resumes; it merges when it is the last)\n"
      "logs: {3}/slurm/logs/\n",
      array, o.shards, merge, dir);
  return 0;
}

}  // namespace

SlurmScripts slurm_scripts(const SlurmOptions& o, const std::string& lrlab, const std::string& run_args,
                           const std::string& dir, const std::string& name) {
  const std::string logs = dir + "/slurm/logs";
  SlurmScripts s;
  s.shards = fmt::format(
      "#!/bin/bash\n"
      "# lrlab study '{name}': task I of this job array runs shard I of {n} into {dir}/shards/I-of-{n}/.\n"
      "# A resubmitted task resumes its shard; the last shard to finish merges the results.\n"
      "#SBATCH --job-name=lrlab-{name}\n"
      "#SBATCH --array=1-{n}\n"
      "#SBATCH --cpus-per-task={cpus}\n"
      "#SBATCH --output={logs}/shard-%a-of-{n}.%A.out\n"
      "{common}"
      "set -eu\n"
      "# Groups run in parallel (--jobs) with --threads intra-op threads each, filling the task's CPUs.\n"
      "cpus=${{SLURM_CPUS_PER_TASK:-{cpus}}}\n"
      "threads={threads}\n"
      "jobs=$(( cpus / threads > 0 ? cpus / threads : 1 ))\n"
      "exec {lrlab} run {args} --out {qdir} --shard \"${{SLURM_ARRAY_TASK_ID}}/{n}\" --jobs \"$jobs\" "
      "--threads \"$threads\" --max-group {max_group}\n",
      fmt::arg("name", name), fmt::arg("n", o.shards), fmt::arg("dir", dir), fmt::arg("cpus", o.cpus_per_task),
      fmt::arg("logs", logs), fmt::arg("common", common_directives(o)), fmt::arg("threads", o.threads),
      fmt::arg("lrlab", shell_quote(lrlab)), fmt::arg("args", run_args), fmt::arg("qdir", shell_quote(dir)),
      fmt::arg("max_group", o.max_group));
  s.merge = fmt::format(
      "#!/bin/bash\n"
      "# lrlab study '{name}': merges the shards in {dir} (submit with --dependency=afterany:<array job>);\n"
      "# it fails, naming each unfinished shard and its rerun command, when a shard did not finish.\n"
      "#SBATCH --job-name=lrlab-{name}-merge\n"
      "#SBATCH --cpus-per-task=1\n"
      "#SBATCH --output={logs}/merge.%j.out\n"
      "{common}"
      "exec {lrlab} merge {qdir}\n",
      fmt::arg("name", name), fmt::arg("dir", dir), fmt::arg("logs", logs), fmt::arg("common", common_directives(o)),
      fmt::arg("lrlab", shell_quote(lrlab)), fmt::arg("qdir", shell_quote(dir)));
  return s;
}

std::function<int()> add_slurm_command(CLI::App& app) {
  auto state = std::make_shared<SlurmState>();
  auto* sub = app.add_subcommand("slurm", "write (and with --submit, submit) sbatch scripts that run the study "
                                          "as a job array of shards plus a merge job");
  sub->add_option("config", state->config_path, "YAML config")->required()->check(CLI::ExistingFile);
  sub->add_option("overrides", state->overrides, "key.path=value (must exist) or +key.path=value (adds)");
  SlurmOptions& o = state->options;
  sub->add_option("--shards", o.shards, "number of shards (array tasks)")->required()->check(CLI::PositiveNumber);
  sub->add_option("--out", o.out_dir, "results folder on a shared filesystem (default: output.dir)");
  sub->add_option("--partition", o.partition, "Slurm partition (default: the cluster's)");
  sub->add_option("--time", o.time, "time limit per shard, e.g. 2:00:00 (a shard that hits it resumes when resubmitted)");
  sub->add_option("--cpus-per-task", o.cpus_per_task, "CPUs per shard")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--mem", o.mem, "memory per shard, e.g. 4G");
  sub->add_option("--extra", o.extra, "more sbatch options, e.g. \"--account=abc --qos=long\"");
  sub->add_option("--threads", o.threads, "intra-op threads per job; jobs = cpus-per-task / threads")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--max-group", o.max_group, "most runs stacked into one group")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_flag("--submit", o.submit, "call sbatch and print the job ids");
  return [sub, state]() { return sub->parsed() ? slurm_command(*state) : 0; };
}

std::function<int()> add_merge_command(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  auto* sub = app.add_subcommand("merge", "merge the shards of a sharded results folder (safe at any time)");
  sub->add_option("dir", *dir, "results folder")->required()->check(CLI::ExistingDirectory);
  sub->add_flag("--quiet,-q", *quiet, "no summary on the terminal");
  return [sub, dir, quiet]() {
    if (!sub->parsed()) return 0;
    const study::MergeResult result =
        study::merge_shards(*dir, *quiet, [](const std::string& line) { std::cout << line << std::endl; });
    if (result.merged) return 0;
    size_t open = 0;
    for (const auto& s : result.shards) open += s.state != "done";
    std::cerr << fmt::format("lrlab: {} of {} shards are not done; nothing merged:\n{}", open, result.shards.size(),
                             study::describe_shards(result.shards));
    return 1;
  };
}

}  // namespace lrlab
