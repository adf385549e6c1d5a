#include "study/runner.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <set>
#include <thread>
#include <vector>

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
    const double flops = group_flops(p.steps, groups[i].runs.size(), p.k, p.d);
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
void finish_study(const std::string& dir, const StudyPlan& plan, bool plots, bool quiet,
                  const std::function<void(const std::string&)>& log) {
  write_in_plan_order(dir, plan);
  Summary summary = write_study_summary(dir, plan.fits);
  if (plots) {
    PlotReport report = plot_study(dir);
    for (const auto& w : report.warnings) log("warning: " + w);
  }
  if (!quiet) {
    log(format_summary_table(summary));
    log(fmt::format("results: {}/ (runs.csv, curves.csv, summary.md{})", dir, plots ? ", plots/" : ""));
  }
}

}  // namespace

std::string validate_study(const Config& root) {
  StudyPlan plan = expand_study(root);
  auto groups = group_runs(root, plan, 256);
  probe_groups(root, plan, groups, nullptr);
  return fmt::format("{} runs in {} groups ({} sweep points x {} seeds)", plan.runs.size(), groups.size(),
                     plan.points.size(), plan.seeds);
}

std::string run_study(const Config& root, const StudyRunOptions& options,
                      const std::function<void(const std::string&)>& log) {
  const StudyPlan plan = expand_study(root);
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
    log(dry_run_text(plan, groups, probes, jobs, threads, dir));
    return dir;
  }

  // study.yaml first (prepare_folder), then the resolved config and meta.yaml.
  prepare_folder(dir, root.document_yaml(), options.restart, folder_failure(options, first->config));
  write_resolved_config(dir, first->config, root, plan.base_seed);
  const std::set<std::string> done = finished_runs(dir);
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
  GroupScheduler scheduler({root, plan, groups.size(), options, dir, output.save_tensors, header, meta, log,
                            output.flush_seconds},
                           std::move(todo), plan.runs.size() - remaining);
  scheduler.run(jobs);
  scheduler.rethrow_failure();
  finish_study(dir, plan, output.plots, options.quiet, log);
  return dir;
}

}  // namespace lrlab::study
