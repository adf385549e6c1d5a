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
#include "framework/system_info.h"
#include "study/group_runner.h"
#include "study/grouping.h"
#include "study/meta.h"
#include "study/plan.h"
#include "study/plot.h"
#include "study/results_folder.h"
#include "study/runs_table.h"
#include "study/scheduler.h"
#include "study/summary.h"

namespace lrlab::study {

namespace {

/// What the study needs from a group once it has been built (the built group itself is released).
struct GroupProbe {
  int64_t d = 0, k = 0, steps = 0;  ///< shapes and step budget (for the dry-run estimate and the log)
};

/// Builds every group of the plan, stacked as it will run, so that every config error (of any run,
/// including values that differ within a group) surfaces before the results folder is created or any
/// compute starts. Returns one probe per group; `first` receives the first group's built state.
std::vector<GroupProbe> probe_groups(const Config& root, const StudyPlan& plan, const std::vector<PlannedGroup>& groups,
                                     std::unique_ptr<BuiltGroup>* first) {
  std::vector<GroupProbe> probes;
  std::vector<std::string> header;
  for (size_t g = 0; g < groups.size(); ++g) {
    std::vector<Config> configs;
    for (int r : groups[g].runs) configs.push_back(config_for_run(root, plan, plan.runs[r]));
    BuiltGroup built = build_group(configs);
    const auto h = runs_header(plan, built.metrics);
    if (g == 0) header = h;
    if (h != header)
      root.fail("study", "the sweep changes metrics.names or metrics.thresholds, and so the columns of runs.csv; "
                         "run one study per metric set");
    probes.push_back({built.model.base->d(), built.model.base->k(), built.trainer->steps()});
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

/// The --dry-run report: the plan, one line per group, and the estimated arithmetic.
std::string dry_run_text(const StudyPlan& plan, const std::vector<PlannedGroup>& groups,
                         const std::vector<GroupProbe>& probes, int jobs, int threads, const std::string& dir) {
  std::string text = fmt::format("plan: {} runs in {} groups, {} job(s) x {} thread(s); results would go to {}\n",
                                 plan.runs.size(), groups.size(), jobs, threads, dir);
  double total_flops = 0;
  for (size_t i = 0; i < groups.size(); ++i) {
    const GroupProbe& p = probes[i];
    const double flops = static_cast<double>(p.steps) * groups[i].runs.size() * 6.0 * p.k * p.d;
    total_flops += flops;
    text += fmt::format("  group {:3d}: {:4d} runs  d={} k={} steps={}  {}  ~{:.2g} GFLOP\n", i, groups[i].runs.size(),
                        p.d, p.k, p.steps, point_label(plan.points[plan.runs[groups[i].runs[0]].point]), flops / 1e9);
  }
  text += fmt::format("estimated arithmetic: {:.3g} GFLOP (per-step overheads and sampling come on top)", total_flops / 1e9);
  return text;
}

/// The unfinished runs of every group (groups with none left out).
std::vector<PendingGroup> pending_groups(const std::vector<PlannedGroup>& groups, const std::vector<GroupProbe>& probes,
                                         const StudyPlan& plan, const std::set<std::string>& done) {
  std::vector<PendingGroup> todo;
  for (size_t g = 0; g < groups.size(); ++g) {
    PendingGroup pending{g, {}, probes[g].d};
    for (int r : groups[g].runs)
      if (!done.count(plan.runs[r].id)) pending.runs.push_back(r);
    if (!pending.runs.empty()) todo.push_back(std::move(pending));
  }
  return todo;
}

size_t run_count(const std::vector<PendingGroup>& todo) {
  size_t n = 0;
  for (const auto& p : todo) n += p.runs.size();
  return n;
}

/// The plots of a finished study. Plots are a convenience: any failure (an exception included) is a
/// warning that names the files and the command that re-renders them, never an error.
void plot_finished_study(const std::string& dir, const std::function<void(const std::string&)>& log) {
  try {
    PlotReport report = plot_study(dir);
    for (const auto& w : report.warnings) log("warning: " + w);
  } catch (const Error& e) {
    log(fmt::format("warning: the plots failed ({}); the results are complete. Re-render with `lrlab plot {}`",
                    e.what(), dir));
  }
}

/// The end of a study: result files in plan order, summary and fits, plots, the terminal summary.
/// A failure here leaves the finished runs valid; the error says how to redo only this part.
void finish_study(const std::string& dir, const StudyPlan& plan, bool plots, bool quiet,
                  const std::function<void(const std::string&)>& log) {
  write_in_plan_order(dir, plan);
  Summary summary;
  try {
    summary = write_study_summary(dir, plan.fits);
  } catch (const Error& e) {
    throw Error(fmt::format("the {} runs are finished and saved in {} (runs.csv, curves.csv), but the summary "
                            "failed: {}; the runs stay valid: fix the config (e.g. study.fit) and run "
                            "`lrlab summarize {} --config FILE`, or rerun the same command with the fixed config "
                            "(nothing is trained again)",
                            plan.runs.size(), dir, e.what(), dir));
  }
  if (plots) plot_finished_study(dir, log);
  if (!quiet) {
    log(format_summary_table(summary));
    log(fmt::format("results: {}/ (runs.csv, curves.csv, summary.md{})", dir, plots ? ", plots/" : ""));
  }
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
  probe_groups(root, plan, groups, nullptr);
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
    throw Error(fmt::format("this config describes other runs than {}/study.yaml (only study.fit and output.plots "
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
  const int jobs = job_count(options, groups.size());
  const int threads = thread_count(options);
  if (options.dry_run) {
    // The folder check a run makes first (an existing folder only: a dry run creates nothing).
    if (std::filesystem::exists(dir))
      create_results_folder(dir, options.restart, folder_failure(options, first->config));
    log(dry_run_text(plan, groups, probes, jobs, threads, dir));
    return dir;
  }

  // The lock for the whole run; study.yaml first (prepare_folder), then the resolved config and meta.yaml.
  std::unique_ptr<FolderLock> lock;
  const std::set<std::string> done =
      open_results(dir, root, first->config, plan, {header, output.save_tensors, restart_command(options, dir)},
                   options, log, &lock);
  write_resolved_config(dir, first->config, root, plan.base_seed);
  const std::string meta_path = dir + "/meta.yaml";
  MetaFile meta(meta_path, meta_header(root, options.command_line, plan, first->model.ctx, jobs, threads),
                MetaFile::read_groups(meta_path, done));
  first.reset();

  std::vector<PendingGroup> todo = pending_groups(groups, probes, plan, done);
  const size_t remaining = run_count(todo);
  if (!options.quiet)
    log(fmt::format("{}: {} runs in {} groups ({} already done), {} job(s) x {} thread(s) -> {}",
                    root.get<std::string>("name", "lrlab"), plan.runs.size(), groups.size(), plan.runs.size() - remaining,
                    jobs, threads, dir));

  at::set_num_threads(threads);
  set_blas_threads(threads);  // OpenBLAS keeps its own pool: limit it too (one process-wide setting)
  GroupScheduler scheduler({root, plan, groups.size(), options, dir, output.save_tensors, header, meta, log},
                           std::move(todo), plan.runs.size() - remaining);
  scheduler.run(jobs);
  scheduler.rethrow_failure();
  finish_study(dir, plan, output.plots, options.quiet, log);
  return dir;
}

}  // namespace lrlab::study
