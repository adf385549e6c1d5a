#include "study/runner.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "framework/atomic_file.h"
#include "framework/bounded_read.h"
#include "framework/csv.h"
#include "framework/folder_lock.h"
#include "framework/interrupt.h"
#include "framework/strings.h"
#include "framework/system_info.h"
#include "study/group_runner.h"
#include "study/grouping.h"
#include "study/merge.h"
#include "study/meta.h"
#include "study/plan.h"
#include "study/plot.h"
#include "study/resource_estimate.h"
#include "study/results_folder.h"
#include "study/runs_table.h"
#include "study/scheduler.h"
#include "study/shards.h"

namespace lrlab::study {

namespace {

/// What the study needs from a group once it has been built (the built group itself is released).
struct GroupProbe {
  int64_t d = 0, k = 0, steps = 0;  ///< shapes and step budget (for the dry-run estimate and the log)
  GroupEstimate estimate;           ///< memory and disk it needs (study/resource_estimate.h)
};

/// Every fit's y must be a column runs.csv will have (x is checked by the plan: a swept key), so a
/// study never trains to fail at its fit. Located at study.fit.
void check_fit_columns(const Config& root, const StudyPlan& plan, const std::vector<std::string>& header) {
  std::vector<std::string> results;  // the columns a fit can use: final values and hitting times
  for (const auto& column : header)
    if (column.rfind("final_", 0) == 0 || column.rfind("steps_to_", 0) == 0) results.push_back(column);
  for (size_t i = 0; i < plan.fits.size(); ++i) {
    const std::string& y = plan.fits[i].y;
    if (std::find(header.begin(), header.end(), y) != header.end()) continue;
    std::string message = fmt::format("{}: y '{}' is not a column of runs.csv; metrics.names and metrics.thresholds "
                                      "give: {}",
                                      plan.fits.size() == 1 ? "fit" : fmt::format("fit[{}]", i), y, join(results));
    const std::string near = closest_match(y, results);
    if (!near.empty()) message += fmt::format("; did you mean '{}'?", near);
    root.child("study").fail("fit", message);
  }
}

/// Builds a group. A value that differs within a group is read per replica, but an error about it
/// points at replica 0's copy; so when a stacked build fails, the runs are built one by one and the
/// first failing run's error (at its own sweep element) is the one reported.
BuiltGroup build_located(const std::vector<Config>& configs) {
  try {
    return build_group(configs);
  } catch (const ConfigError&) {
    if (configs.size() > 1)
      for (const Config& c : configs) build_group({c.clone()});
    throw;
  }
}

/// Builds every group of the plan, stacked as it will run, so that every config error (of any run,
/// including values that differ within a group) surfaces before the results folder is created or any
/// compute starts. Returns one probe per group; `first` receives the first group's built state.
std::vector<GroupProbe> probe_groups(const Config& root, const StudyPlan& plan, const std::vector<PlannedGroup>& groups,
                                     std::unique_ptr<BuiltGroup>* first) {
  std::vector<GroupProbe> probes;
  std::vector<std::string> header;
  for (size_t g = 0; g < groups.size(); ++g) {
    std::vector<Config> configs;
    for (int r : groups[g].runs) {
      throw_if_interrupted();  // planning a large study takes seconds: SIGINT must not wait for it
      configs.push_back(config_for_run(root, plan, plan.runs[r]));
    }
    BuiltGroup built = build_located(configs);
    const auto h = runs_header(plan, built.metrics);
    if (g == 0) {
      header = h;
      check_fit_columns(root, plan, header);
    }
    if (h != header)
      root.fail("study", "the sweep changes metrics.names or metrics.thresholds, and so the columns of runs.csv; "
                         "run one study per metric set");
    probes.push_back({built.model.base->d(), built.model.base->k(), built.trainer->steps(),
                      estimate_group(built, read_output_options(built.config).save_tensors)});
    if (g == 0 && first) *first = std::make_unique<BuiltGroup>(std::move(built));
  }
  return probes;
}

/// Groups run in parallel: --jobs (default one per core), at most one per group.
int job_count(const StudyRunOptions& options, size_t groups) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, std::min<int>(options.jobs > 0 ? options.jobs : cores, static_cast<int>(groups)));
}

/// Intra-op threads per job. One by default: a step is a few dozen small ops, and OpenMP's barriers in
/// ATen cost more than they save there (measured: 55 us/step with 1 thread vs 4 ms with 2 threads on a
/// loaded 2-core machine). Cores are used by running groups in parallel (--jobs) instead.
int thread_count(const StudyRunOptions& options) {
  if (options.threads < 1 || options.threads > 1024)
    throw Error(fmt::format("--threads {}: must be in 1..1024", options.threads));
  return options.threads;
}

/// Reports a folder problem naming what chose the folder: --out, output.dir, or the default from `name`.
std::function<void(const std::string&)> folder_failure(const StudyRunOptions& options, const Config& first_run) {
  return [out_dir = options.out_dir, config = first_run](const std::string& message) {
    if (!out_dir.empty()) throw Error("--out " + out_dir + ": " + message);
    const Config out = config.child("output");
    if (out.has("dir")) out.fail("dir", message);
    config.fail(config.has("name") ? "name" : "", message + " (the default output.dir is runs/<name>)");
  };
}

/// The estimated arithmetic of each group (what --dry-run prints and shards are balanced by).
std::vector<double> group_costs(const std::vector<PlannedGroup>& groups, const std::vector<GroupProbe>& probes) {
  std::vector<double> costs;
  for (size_t i = 0; i < groups.size(); ++i)
    costs.push_back(group_flops(probes[i].steps, groups[i].runs.size(), probes[i].k, probes[i].d));
  return costs;
}

/// The groups this process runs: all of them, or its shard's part of the partition.
std::vector<size_t> chosen_groups(const std::vector<PlannedGroup>& groups, const std::vector<GroupProbe>& probes,
                                  const ShardSpec& shard) {
  if (shard.active()) return partition_groups(group_costs(groups, probes), shard.count)[shard.index - 1];
  std::vector<size_t> all(groups.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  return all;
}

/// The run ids a resumed writer folder already holds in its runs.csv (read only, before the lock:
/// only for the estimate; open_results checks them properly). Empty for a new folder or --restart.
std::set<std::string> finished_before_resume(const std::string& folder, bool restart) {
  std::set<std::string> ids;
  if (restart || !std::filesystem::is_regular_file(folder + "/runs.csv")) return ids;
  try {
    const Table runs = read_csv(folder + "/runs.csv");
    const int column = runs.find_column("run");
    if (column < 0) return ids;
    for (const auto& row : runs.rows)
      if (static_cast<size_t>(column) < row.size()) ids.insert(row[column]);
  } catch (const Error&) {
    return {};  // a damaged table: estimate the whole study (the resume check reports the damage)
  }
  return ids;
}

/// The memory and disk estimates of the groups that will train (`chosen`), for `jobs` parallel jobs.
/// On a resume only the runs still to train count, plus one more copy of the existing curves.csv
/// (the final rewrite in plan order), so a finished study on a nearly full disk still resumes.
StudyEstimate study_estimate(const StudyPlan& plan, const std::vector<PlannedGroup>& groups,
                             const std::vector<GroupProbe>& probes, const std::vector<size_t>& chosen, int jobs,
                             const std::string& dir, const std::string& folder, bool restart,
                             std::vector<GroupEstimate>* per_group) {
  const std::set<std::string> finished = finished_before_resume(folder, restart);
  for (size_t g : chosen) {
    size_t remaining = 0;
    for (int r : groups[g].runs) remaining += finished.count(plan.runs[r].id) ? 0 : 1;
    per_group->push_back(remaining_part(probes[g].estimate, remaining, groups[g].runs.size()));
  }
  uint64_t existing_curves = 0;
  if (!finished.empty()) {
    std::error_code error;
    const auto size = std::filesystem::file_size(folder + "/curves.csv", error);
    if (!error) existing_curves = size;
  }
  return estimate_study(*per_group, jobs, dir, existing_curves);
}

/// The --dry-run report: the plan, one line per group shown (all, or a shard's), and their estimated
/// arithmetic, memory and disk.
std::string dry_run_text(const StudyPlan& plan, const std::vector<PlannedGroup>& groups,
                         const std::vector<GroupProbe>& probes, const std::vector<size_t>& shown, int jobs,
                         int threads, const std::string& dir, const StudyEstimate& estimate) {
  std::string text = fmt::format("plan: {} runs in {} groups, {} job(s) x {} thread(s); results would go to {}\n",
                                 plan.runs.size(), groups.size(), jobs, threads, dir);
  double total_flops = 0;
  const std::vector<double> costs = group_costs(groups, probes);
  for (size_t i : shown) {
    const GroupProbe& p = probes[i];
    const double flops = costs[i];
    total_flops += flops;
    text += fmt::format("  group {:3d}: {:4d} runs  d={} k={} steps={}  {}  ~{:.2g} GFLOP, ~{} memory, ~{} disk\n", i,
                        groups[i].runs.size(), p.d, p.k, p.steps,
                        point_label(plan.points[plan.runs[groups[i].runs[0]].point]), flops / 1e9,
                        format_bytes(p.estimate.memory_bytes), format_bytes(p.estimate.disk_bytes));
  }
  text += fmt::format("estimated arithmetic: {:.3g} GFLOP (per-step overheads and sampling come on top)\n", total_flops / 1e9);
  text += estimate_text(estimate, dir) + fmt::format(" ({} job(s) at once)", jobs);
  return text;
}

/// The unfinished runs of the `chosen` groups (groups with none left out).
std::vector<PendingGroup> pending_groups(const std::vector<PlannedGroup>& groups, const std::vector<GroupProbe>& probes,
                                         const std::vector<size_t>& chosen, const StudyPlan& plan,
                                         const std::set<std::string>& done) {
  std::vector<PendingGroup> todo;
  for (size_t g : chosen) {
    PendingGroup pending{g, {}, probes[g].d, probes[g].steps};
    for (int r : groups[g].runs)
      if (!done.count(plan.runs[r].id)) pending.runs.push_back(r);
    pending.cost = group_flops(probes[g].steps, pending.runs.size(), probes[g].k, probes[g].d);
    if (!pending.runs.empty()) todo.push_back(std::move(pending));
  }
  return todo;
}

size_t run_count(const std::vector<PendingGroup>& todo) {
  size_t n = 0;
  for (const auto& p : todo) n += p.runs.size();
  return n;
}

/// The end of a study: result files in plan order, summary and fits, plots, the terminal summary.
/// A failure here leaves the finished runs valid; the error says how to redo only this part.
void finish_study(const std::string& dir, const StudyPlan& plan, bool plots, bool quiet,
                  const std::function<void(const std::string&)>& log) {
  write_in_plan_order(dir, plan);
  finish_results(dir, plan, plots, quiet, log);
}

/// The ids of the runs of the `chosen` groups, in plan order.
std::vector<std::string> run_ids(const StudyPlan& plan, const std::vector<PlannedGroup>& groups,
                                 const std::vector<size_t>& chosen) {
  std::vector<int> runs;
  for (size_t g : chosen) runs.insert(runs.end(), groups[g].runs.begin(), groups[g].runs.end());
  std::sort(runs.begin(), runs.end());
  std::vector<std::string> ids;
  for (int r : runs) ids.push_back(plan.runs[r].id);
  return ids;
}

/// "shard 2/4: 3 of 10 groups, 12 of 40 runs, ~0.52 of 1.7 GFLOP".
std::string shard_line(const ShardSpec& shard, const StudyPlan& plan, const std::vector<PlannedGroup>& groups,
                       const std::vector<GroupProbe>& probes, const std::vector<size_t>& chosen) {
  const std::vector<double> costs = group_costs(groups, probes);
  double mine = 0, all = 0;
  for (double c : costs) all += c;
  for (size_t g : chosen) mine += costs[g];
  return fmt::format("shard {}/{}: {} of {} groups, {} of {} runs, ~{:.3g} of {:.3g} GFLOP", shard.index, shard.count,
                     chosen.size(), groups.size(), run_ids(plan, groups, chosen).size(), plan.runs.size(), mine / 1e9,
                     all / 1e9);
}

/// Prepares the top of a sharded results folder (study.yaml, config.yaml: the same text from every
/// shard) and returns the shard's own folder, which open_results then locks and prepares.
std::string open_shard_root(const std::string& dir, const Config& root, const StudyRunOptions& options,
                            const Config& first_run, int64_t base_seed) {
  prepare_shard_root(dir, root.document_yaml(), options.restart, folder_failure(options, first_run));
  write_resolved_config(dir, first_run, root, base_seed);  // the same text from every shard
  const std::string folder = shard_folder(dir, options.shard);
  return folder;
}

/// The command that discards a folder's results: this one with --restart.
std::string restart_command(const StudyRunOptions& options, const std::string& dir) {
  if (options.command_line.empty()) return "lrlab run CONFIG --out " + dir + " --restart";
  return options.command_line + " --restart";
}

/// Locks, checks and prepares the results folder of a run (nothing is deleted or written before the
/// lock is held) and returns the ids of the runs finished there (after the resume checks).
std::set<std::string> open_results(const std::string& dir, const Config& root, const Config& first_run,
                                   const StudyPlan& plan, const ResumeCheck& check, const StudyRunOptions& options,
                                   const std::function<void(const std::string&)>& log,
                                   std::unique_ptr<FolderLock>* lock) {
  const auto fail_dir = folder_failure(options, first_run);
  create_results_folder(dir, options.restart, fail_dir);  // refuses a user's folder before writing in it
  *lock = lock_results(dir, "", options.command_line, [&](const std::string& w) { log("warning: " + w); });
  prepare_folder(dir, root.document_yaml(), options.restart, fail_dir, log);
  return check_finished_runs(dir, plan, check, log);
}

}  // namespace

std::string validate_study(const Config& root) {
  StudyPlan plan = expand_study(root);
  check_folder_keys(root, plan);
  auto groups = group_runs(root, plan, 256);
  std::unique_ptr<BuiltGroup> first;
  const std::vector<GroupProbe> probes = probe_groups(root, plan, groups, &first);
  // What the run would refuse (memory and disk for the default --jobs), validate refuses too.
  const std::string dir = read_output_options(first->config).dir;
  std::vector<GroupEstimate> estimates;
  check_estimate(study_estimate(plan, groups, probes, chosen_groups(groups, probes, ShardSpec{}),
                                job_count(StudyRunOptions{}, groups.size()), dir, dir, false, &estimates),
                 estimates, dir, false);
  return fmt::format("{} runs in {} groups ({} sweep points x {} seeds)", plan.runs.size(), groups.size(),
                     plan.points.size(), plan.seeds);
}

void summarize_study(const std::string& dir, const Config& root, const std::string& command_line,
                     const std::function<void(const std::string&)>& log) {
  if (!is_results_folder(dir))
    throw Error(fmt::format("{} is not an lrlab results folder (it has no {} marker and no study.yaml with an lrlab "
                            "meta.yaml); give the folder that `lrlab run` wrote",
                            dir, kResultsMarker));
  const StudyPlan plan = expand_study(root);
  const bool plots = read_output_options(root).plots;
  const auto lock = lock_results(dir, "", command_line, [&](const std::string& w) { log("warning: " + w); });
  if (!std::filesystem::exists(dir + "/runs.csv"))
    throw Error(fmt::format("{} has no runs.csv yet: no run has finished there, so there is nothing to summarize",
                            dir));
  if (!same_runs(read_file_text(dir + "/study.yaml"), root.document_yaml()))
    throw Error(fmt::format("this config describes other runs than {}/study.yaml (only study.fit, study.figure and output.plots "
                            "may differ); summarize with the folder's own config (omit --config) or a corrected "
                            "copy of it",
                            dir));
  finish_study(dir, plan, plots, false, log);
  adopt_study_document(dir, root.document_yaml(), log);  // after success: study.yaml names what was summarized
}

std::string run_study(const Config& root, const StudyRunOptions& options,
                      const std::function<void(const std::string&)>& log) {
  const StudyPlan plan = expand_study(root);
  check_folder_keys(root, plan);
  const auto groups = group_runs(root, plan, options.max_group);
  // Build every group first: every config error surfaces before the folder exists or compute starts.
  std::unique_ptr<BuiltGroup> first;
  const std::vector<GroupProbe> probes = probe_groups(root, plan, groups, &first);
  const OutputOptions output = read_output_options(first->config);
  const std::string dir = options.out_dir.empty() ? output.dir : options.out_dir;
  const std::vector<std::string> header = runs_header(plan, first->metrics);
  const std::vector<size_t> chosen = chosen_groups(groups, probes, options.shard);  // all unless --shard
  const int jobs = job_count(options, chosen.size());
  const int threads = thread_count(options);
  std::vector<GroupEstimate> estimates;
  const std::string writer_folder = options.shard.active() ? shard_folder(dir, options.shard) : dir;
  const StudyEstimate estimate =
      study_estimate(plan, groups, probes, chosen, jobs, dir, writer_folder, options.restart, &estimates);
  if (options.dry_run) {
    if (options.shard.active()) log(shard_line(options.shard, plan, groups, probes, chosen));
    // The folder check a run makes first (an existing folder only: a dry run creates nothing).
    if (std::filesystem::exists(dir))
      create_results_folder(dir, options.restart, folder_failure(options, first->config));
    log(dry_run_text(plan, groups, probes, chosen, jobs, threads, dir, estimate));
    check_estimate(estimate, estimates, dir, options.force);
    return dir;
  }
  check_estimate(estimate, estimates, dir, options.force);
  throw_if_interrupted();  // a study interrupted while planning creates no folder

  // The lock for the whole run (a shard locks only its own folder, <dir>/shards/I-of-N/: study/shards.h);
  // study.yaml first (prepare_folder), then the resolved config and meta.yaml.
  const std::string folder = options.shard.active()
                                 ? open_shard_root(dir, root, options, first->config, plan.base_seed)
                                 : dir;
  std::unique_ptr<FolderLock> lock;
  const std::set<std::string> done =
      open_results(folder, root, first->config, plan, {header, output.save_tensors, restart_command(options, dir)},
                   options, log, &lock);
  write_resolved_config(folder, first->config, root, plan.base_seed);
  if (options.shard.active()) write_shard_record(folder, {options.shard, run_ids(plan, groups, chosen), options.command_line});
  const std::string meta_path = folder + "/meta.yaml";
  MetaFile meta(meta_path, meta_header(root, options.command_line, plan, first->model.ctx, jobs, threads),
                MetaFile::read_groups(meta_path, done));
  first.reset();

  std::vector<PendingGroup> todo = pending_groups(groups, probes, chosen, plan, done);
  const size_t total = run_ids(plan, groups, chosen).size(), remaining = run_count(todo);
  if (!options.quiet)
    log(fmt::format("{}{}: {} runs in {} groups ({} already done), {} job(s) x {} thread(s) -> {}",
                    root.get<std::string>("name", "lrlab"),
                    options.shard.active() ? fmt::format(" shard {}/{}", options.shard.index, options.shard.count) : "",
                    total, chosen.size(), total - remaining, jobs, threads, folder));

  at::set_num_threads(threads);
  set_blas_threads(threads);  // OpenBLAS keeps its own pool: limit it too (one process-wide setting)
  GroupScheduler scheduler({root, plan, groups.size(), options, folder, output.save_tensors, header, meta, log,
                            output.flush_seconds},
                           std::move(todo), total - remaining);
  scheduler.run(jobs);
  scheduler.rethrow_failure();
  if (!options.shard.active()) {
    finish_study(dir, plan, output.plots, options.quiet, log);
    return dir;
  }
  write_in_plan_order(folder, plan);
  const MergeResult merge = merge_shards(dir, options.quiet, log);  // the last shard to finish merges
  if (!merge.merged && !options.quiet)
    log(fmt::format("shard {}/{} done; {} merges once every shard is done:\n{}", options.shard.index,
                    options.shard.count, dir, describe_shards(merge.shards)));
  return dir;
}

ShardedPlan plan_shards(const Config& root, const StudyRunOptions& options, int shards) {
  const StudyPlan plan = expand_study(root);
  const auto groups = group_runs(root, plan, options.max_group);
  std::unique_ptr<BuiltGroup> first;
  const std::vector<GroupProbe> probes = probe_groups(root, plan, groups, &first);
  ShardedPlan out;
  out.dir = options.out_dir.empty() ? read_output_options(first->config).dir : options.out_dir;
  out.groups = groups.size();
  for (int i = 1; i <= shards; ++i) {
    const ShardSpec shard{i, shards};
    const std::vector<size_t> chosen = chosen_groups(groups, probes, shard);
    out.empty_shards += chosen.empty();
    out.shard_lines.push_back(shard_line(shard, plan, groups, probes, chosen));
  }
  return out;
}

}  // namespace lrlab::study
