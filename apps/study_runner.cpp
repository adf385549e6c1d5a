#include "apps/study_runner.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "apps/group_runner.h"
#include "apps/run_files.h"
#include "framework/atomic_file.h"
#include "framework/csv.h"
#include "framework/interrupt.h"
#include "framework/strings.h"
#include "framework/study/plot.h"
#include "framework/study/summary.h"
#include "framework/system_info.h"

namespace fs = std::filesystem;

namespace lrlab {

namespace {

/// The stackable option names of the component a section's `type:` selects.
template <class RegistryT>
void erase_stackable(Config& cfg, const RegistryT& registry, const std::string& section, const char* default_type) {
  std::string type = cfg.value_text(section + ".type");
  if (type.empty()) type = default_type;
  if (!registry.contains(type)) return;  // reported with its location when the group is built
  const Config probe = Config::load_string("{}", "<grouping>");
  for (const auto& key : registry.find(type, probe).stackable) cfg.erase(section + "." + key);
}

std::string cell(double v) { return format_number(v); }

/// runs.csv header for this study (fixed by the metric names and thresholds of the config).
std::vector<std::string> runs_header(const study::StudyPlan& plan, const models::MetricsOptions& metrics) {
  std::vector<std::string> h{"run", "seed", "point"};
  for (const auto& key : plan.swept_keys) h.push_back(key);
  for (const char* c : {"status", "diverged_step", "steps"}) h.push_back(c);
  for (const auto& name : metrics.names) h.push_back("final_" + name);
  for (const auto& [metric, values] : metrics.thresholds)
    for (double t : values) h.push_back(hitting_time_column(metric, t));
  return h;
}

std::vector<std::string> run_row(const RunRecord& run, const study::RunSpec& spec, const study::StudyPlan& plan,
                                 const models::MetricsOptions& metrics) {
  std::vector<std::string> row{run.id, std::to_string(run.seed), std::to_string(spec.point)};
  for (const auto& [key, value] : plan.points[spec.point].values) row.push_back(value);
  row.push_back(run.status);
  row.push_back(run.diverged_step >= 0 ? std::to_string(run.diverged_step) : "");
  row.push_back(std::to_string(run.steps));
  for (const auto& name : metrics.names) {
    auto it = run.final_values.find(name);
    row.push_back(it == run.final_values.end() ? "" : cell(it->second));
  }
  for (const auto& [metric, values] : metrics.thresholds)
    for (double t : values) {
      auto m = run.hits.find(metric);
      bool hit = m != run.hits.end() && m->second.count(t);
      row.push_back(hit ? std::to_string(m->second.at(t)) : "");
    }
  return row;
}

std::string meta_yaml(const Config& root, const StudyRunOptions& options, const study::StudyPlan& plan,
                      const Context& ctx, int jobs, int threads) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "lrlab_version" << YAML::Value << lrlab_version();
  e << YAML::Key << "libtorch_version" << YAML::Value << torch_version();
  e << YAML::Key << "blas" << YAML::Value << loaded_blas();
  e << YAML::Key << "device" << YAML::Value << ctx.device.str();
  if (!ctx.device_note.empty()) e << YAML::Key << "device_note" << YAML::Value << ctx.device_note;
  e << YAML::Key << "dtype" << YAML::Value << (ctx.dtype == at::kDouble ? "float64" : "float32");
  e << YAML::Key << "command_line" << YAML::Value << options.command_line;
  e << YAML::Key << "overrides" << YAML::Value << YAML::Flow << root.overrides();
  e << YAML::Key << "host" << YAML::Value << host_name();
  e << YAML::Key << "started" << YAML::Value << utc_now();
  e << YAML::Key << "runs" << YAML::Value << plan.runs.size();
  e << YAML::Key << "seeds" << YAML::Value << fmt::format("{}..{}", plan.base_seed, plan.base_seed + plan.seeds - 1);
  e << YAML::Key << "jobs" << YAML::Value << jobs;
  e << YAML::Key << "intra_op_threads" << YAML::Value << threads;
  e << YAML::Key << "determinism" << YAML::Value
    << "Results depend on the config, the seeds, this build (compiler, LibTorch, BLAS) and the device. On the CPU "
       "each run draws from generators derived from its own seed, so a run gives the same numbers alone, stacked in "
       "any group, and with any --jobs. On CUDA one generator fills a whole group's samples: runs are reproducible "
       "for the same grouping only, and some CUDA kernels are not bitwise deterministic.";
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

/// Reads the ids of finished runs and drops curve rows of unfinished ones (a crash between the two
/// appends of a group leaves curves without their runs rows; they are rewritten on resume).
std::set<std::string> finished_runs(const std::string& dir) {
  std::set<std::string> done;
  const std::string runs_path = dir + "/runs.csv", curves_path = dir + "/curves.csv";
  if (fs::exists(runs_path)) {
    Table runs = read_csv(runs_path);
    const int c = runs.column_index("run");
    for (const auto& row : runs.rows) done.insert(row[c]);
  }
  if (fs::exists(curves_path)) {
    Table curves = read_csv(curves_path);
    const int c = curves.column_index("run");
    Table kept{curves.columns, {}};
    for (auto& row : curves.rows)
      if (done.count(row[c])) kept.rows.push_back(std::move(row));
    if (kept.rows.size() != curves.rows.size()) write_file_atomic(curves_path, to_csv_text(kept));
  }
  return done;
}

void prepare_folder(const std::string& dir, const std::string& document, bool restart) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error("cannot create the results folder " + dir + ": " + ec.message());
  const std::string study_path = dir + "/study.yaml";
  if (fs::exists(study_path) && !restart) {
    if (read_file_text(study_path) != document)
      throw Error("the results folder " + dir + " holds a study with a different config (see " + study_path +
                  "); use --restart to discard it, or --out to choose another folder");
    return;
  }
  if (restart)
    for (const char* name : {"runs.csv", "curves.csv", "summary.csv", "summary.md", "fits.csv", "study.yaml"})
      fs::remove(dir + "/" + name, ec);
  if (restart) fs::remove_all(dir + "/tensors", ec);
  write_file_atomic(study_path, document);
}

}  // namespace

std::vector<PlannedGroup> group_runs(const Config& root, const study::StudyPlan& plan, int max_group) {
  std::vector<PlannedGroup> groups;
  std::map<std::string, std::vector<size_t>> open;  // key -> indices of groups with that key
  for (size_t i = 0; i < plan.runs.size(); ++i) {
    Config cfg = study::config_for_run(root, plan, plan.runs[i]);
    cfg.erase("seed");
    erase_stackable(cfg, models::base_registry(), "base", models::kDefaultBaseType);
    erase_stackable(cfg, models::teacher_registry(), "teacher", models::kDefaultTeacherType);
    erase_stackable(cfg, models::adapter_registry(), "adapter", models::kDefaultAdapterType);
    erase_stackable(cfg, trainers::trainer_registry(), "trainer", trainers::kDefaultTrainerType);
    const std::string key = cfg.document_yaml();
    auto& list = open[key];
    if (list.empty() || groups[list.back()].runs.size() >= static_cast<size_t>(std::max(1, max_group))) {
      list.push_back(groups.size());
      groups.push_back({{}, key});
    }
    groups[list.back()].runs.push_back(static_cast<int>(i));
  }
  return groups;
}

std::string validate_study(const Config& root) {
  study::StudyPlan plan = study::expand_study(root);
  auto groups = group_runs(root, plan, 256);
  for (const auto& g : groups) build_group({study::config_for_run(root, plan, plan.runs[g.runs[0]])});
  return fmt::format("{} runs in {} groups ({} sweep points x {} seeds)", plan.runs.size(), groups.size(),
                     plan.points.size(), plan.seeds);
}

std::string run_study(const Config& root, const StudyRunOptions& options,
                      const std::function<void(const std::string&)>& log) {
  const study::StudyPlan plan = study::expand_study(root);
  const auto groups = group_runs(root, plan, options.max_group);

  // Build one run of every group first: every config error surfaces before any compute.
  std::vector<BuiltGroup> probes;
  for (const auto& g : groups) probes.push_back(build_group({study::config_for_run(root, plan, plan.runs[g.runs[0]])}));
  const OutputOptions output = read_output_options(probes[0].config);
  const std::string dir = options.out_dir.empty() ? output.dir : options.out_dir;
  const models::MetricsOptions metrics = probes[0].metrics;  // a copy: probes are released below
  const auto header = runs_header(plan, metrics);

  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int jobs = std::max(1, std::min<int>(options.jobs > 0 ? options.jobs : cores, static_cast<int>(groups.size())));
  // One intra-op thread per job by default: a step is a few dozen small ops, and OpenMP's barriers in
  // ATen cost more than they save there (measured: 55 us/step with 1 thread vs 4 ms with 2 threads
  // on a loaded 2-core machine). Cores are used by running groups in parallel (--jobs) instead.
  const int threads = std::max(1, options.threads);

  if (options.dry_run) {
    std::string text = fmt::format("plan: {} runs in {} groups, {} job(s) x {} thread(s); results would go to {}\n",
                                   plan.runs.size(), groups.size(), jobs, threads, dir);
    double total_flops = 0;
    for (size_t i = 0; i < groups.size(); ++i) {
      const auto& m = probes[i].model;
      const double steps = static_cast<double>(probes[i].trainer->steps());
      const double flops = steps * groups[i].runs.size() * 6.0 * m.base->k() * m.base->d();
      total_flops += flops;
      text += fmt::format("  group {:3d}: {:4d} runs  d={} k={} steps={}  {}  ~{:.2g} GFLOP\n", i, groups[i].runs.size(),
                          m.base->d(), m.base->k(), probes[i].trainer->steps(),
                          study::point_label(plan.points[plan.runs[groups[i].runs[0]].point]), flops / 1e9);
    }
    text += fmt::format("estimated arithmetic: {:.3g} GFLOP (per-step overheads and sampling come on top)", total_flops / 1e9);
    log(text);
    return dir;
  }

  // The resolved config: the first run's config with defaults filled in, plus the study section.
  prepare_folder(dir, root.document_yaml(), options.restart);
  {
    YAML::Node resolved = YAML::Load(probes[0].config.resolved_yaml());
    if (!root.value_text("study").empty()) resolved["study"] = YAML::Load(root.value_text("study"));
    resolved.remove("seed");
    resolved["seed"] = plan.base_seed;
    YAML::Emitter e;
    e << resolved;
    write_file_atomic(dir + "/config.yaml", std::string("# resolved config (defaults filled in)\n") + e.c_str() + "\n");
  }
  write_file_atomic(dir + "/meta.yaml", meta_yaml(root, options, plan, probes[0].model.ctx, jobs, threads));
  probes.clear();

  const std::set<std::string> done = finished_runs(dir);
  std::vector<std::vector<int>> todo;
  size_t remaining = 0;
  for (const auto& g : groups) {
    std::vector<int> runs;
    for (int r : g.runs)
      if (!done.count(plan.runs[r].id)) runs.push_back(r);
    remaining += runs.size();
    if (!runs.empty()) todo.push_back(std::move(runs));
  }
  if (!options.quiet)
    log(fmt::format("{}: {} runs in {} groups ({} already done), {} job(s) x {} thread(s) -> {}",
                    root.get<std::string>("name", "lrlab"), plan.runs.size(), groups.size(), plan.runs.size() - remaining,
                    jobs, threads, dir));

  at::set_num_threads(threads);
  std::mutex write_mutex;
  std::atomic<size_t> next{0};
  std::atomic<size_t> runs_done{plan.runs.size() - remaining};
  std::exception_ptr failure;
  const bool show_progress = !options.quiet && Progress::stderr_is_terminal();
  auto worker = [&]() {
    at::set_num_threads(threads);
    while (true) {
      const size_t gi = next.fetch_add(1);
      if (gi >= todo.size()) return;
      {
        std::lock_guard<std::mutex> lock(write_mutex);
        if (failure) return;
      }
      try {
        std::vector<Config> configs;
        std::vector<RunRecord> records;
        for (int r : todo[gi]) {
          configs.push_back(study::config_for_run(root, plan, plan.runs[r]));
          records.push_back(RunRecord{plan.runs[r].id, plan.runs[r].seed});
        }
        Progress progress(fmt::format("[group {}/{}, runs done {}/{}]", gi + 1, todo.size(), runs_done.load(),
                                      plan.runs.size()),
                          1, show_progress && jobs == 1);
        GroupOutcome out = run_group(configs, records, &progress);
        std::vector<std::vector<std::string>> curve_rows, rows;
        for (const auto& c : out.recorder->curves())
          curve_rows.push_back({c.run, std::to_string(c.step), c.metric, cell(c.value)});
        for (size_t i = 0; i < todo[gi].size(); ++i)
          rows.push_back(run_row(out.recorder->runs()[i], plan.runs[todo[gi][i]], plan, metrics));
        std::lock_guard<std::mutex> lock(write_mutex);
        if (output.save_tensors) save_group_tensors(dir + "/tensors", out.group, out.recorder->runs());
        append_csv_rows_atomic(dir + "/curves.csv", {"run", "step", "metric", "value"}, curve_rows);
        append_csv_rows_atomic(dir + "/runs.csv", header, rows);  // last: a run counts once its row exists
        runs_done += todo[gi].size();
        if (show_progress && jobs > 1)
          std::fprintf(stderr, "\r\033[K[runs done %zu/%zu]", runs_done.load(), plan.runs.size());
      } catch (...) {
        std::lock_guard<std::mutex> lock(write_mutex);
        if (!failure) failure = std::current_exception();
        return;
      }
    }
  };
  if (jobs == 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (int j = 0; j < jobs; ++j) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
    if (show_progress) std::fprintf(stderr, "\r\033[K");
  }
  if (failure) std::rethrow_exception(failure);

  study::Summary summary = study::write_study_summary(dir, plan.fits);
  if (output.plots) {
    study::PlotReport report = study::plot_study(dir);
    for (const auto& w : report.warnings) log("warning: " + w);
  }
  if (!options.quiet) {
    log(study::format_summary_table(summary));
    log(fmt::format("results: {}/ (runs.csv, curves.csv, summary.md{})", dir, output.plots ? ", plots/" : ""));
  }
  return dir;
}

}  // namespace lrlab
