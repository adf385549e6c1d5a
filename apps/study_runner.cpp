#include "apps/study_runner.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
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
    << "runs.csv and curves.csv depend on the config (file + overrides), the seeds, this build (compiler, "
       "LibTorch, BLAS), the device and the intra-op thread count (--threads), and on nothing else: not on "
       "--jobs, not on the order in which groups finish, not on interruptions and resumes. On the CPU each "
       "run draws from generators derived from its own seed and every operation is per replica, so a run gives "
       "the same numbers alone or stacked in any group (also the smaller groups a resumed study forms); a run "
       "that diverges or stops early (trainer.early_stop) leaves its group's record at that step without "
       "changing the others; at the end both files are rewritten in plan order (run id, then recording order). "
       "On CUDA one generator fills a whole group's samples, so runs are reproducible for the same grouping "
       "only (a resumed study may regroup), and some CUDA kernels are not bitwise deterministic.";
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

/// Removes temporary files (`<name>.tmp.<pid>.<n>`) that a process killed mid-write left behind.
void remove_stale_temp_files(const std::string& dir) {
  std::error_code ec;
  for (const std::string& folder : {dir, dir + "/tensors"}) {
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.find(".tmp.") != std::string::npos && it->is_regular_file(ec)) fs::remove(it->path(), ec);
    }
    ec.clear();
  }
}

/// Creates (or reopens) the results folder. `where_dir` names what chose the folder in errors.
/// Nothing is written unless the folder is usable: study.yaml is written first (so no result file
/// ever exists without it), and a folder of another study, or with results but no study.yaml, is
/// refused unless `restart`.
void prepare_folder(const std::string& dir, const std::string& document, bool restart,
                    const std::function<void(const std::string&)>& fail_dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail_dir("cannot create the results folder '" + dir + "': " + ec.message());
  if (!fs::is_directory(dir, ec)) fail_dir("the results folder '" + dir + "' is not a folder");
  const std::string study_path = dir + "/study.yaml";
  if (!restart) {
    if (fs::exists(study_path)) {
      if (read_file_text(study_path) != document)
        throw Error("the results folder " + dir + " holds a study with a different config (see " + study_path +
                    "); use --restart to discard it, or --out to choose another folder");
      remove_stale_temp_files(dir);
      return;
    }
    for (const char* name : {"runs.csv", "curves.csv"})
      if (fs::exists(dir + "/" + name))
        throw Error("the results folder " + dir + " holds " + name + " but no study.yaml, so it cannot be resumed; " +
                    "use --restart to discard it, or --out to choose another folder");
  }
  if (restart) {
    for (const char* name : {"study.yaml", "runs.csv", "curves.csv", "summary.csv", "summary.md", "fits.csv"})
      fs::remove(dir + "/" + name, ec);
    fs::remove_all(dir + "/tensors", ec);
  }
  remove_stale_temp_files(dir);
  write_file_atomic(study_path, document);
}

/// Rewrites runs.csv and curves.csv in plan order (run order of the plan; a run's curve rows keep
/// their recording order), so the files do not depend on which group finished first.
void write_in_plan_order(const std::string& dir, const study::StudyPlan& plan) {
  std::map<std::string, size_t> order;
  for (size_t i = 0; i < plan.runs.size(); ++i) order[plan.runs[i].id] = i;
  for (const char* name : {"runs.csv", "curves.csv"}) {
    const std::string path = dir + "/" + name;
    if (!fs::exists(path)) continue;
    Table table = read_csv(path);
    const int c = table.column_index("run");
    auto rank = [&](const std::vector<std::string>& row) {
      auto it = order.find(row[c]);
      return it == order.end() ? plan.runs.size() : it->second;
    };
    std::vector<std::vector<std::string>> rows = table.rows;
    std::stable_sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
    if (rows == table.rows) continue;
    table.rows = std::move(rows);
    write_file_atomic(path, to_csv_text(table));
  }
}

/// What the study needs from a group once it has been built (the built group itself is released).
struct GroupProbe {
  int64_t d = 0, k = 0, steps = 0;  ///< shapes and step budget (for the dry-run estimate)
};

/// Builds every group of the plan, stacked as it will run, so that every config error (of any run,
/// including values that differ within a group) surfaces before the results folder is created or any
/// compute starts. Returns one probe per group; `first` receives the first group's built state.
std::vector<GroupProbe> probe_groups(const Config& root, const study::StudyPlan& plan,
                                     const std::vector<PlannedGroup>& groups, std::unique_ptr<BuiltGroup>* first) {
  std::vector<GroupProbe> probes;
  std::vector<std::string> header;
  for (size_t g = 0; g < groups.size(); ++g) {
    std::vector<Config> configs;
    for (int r : groups[g].runs) configs.push_back(study::config_for_run(root, plan, plan.runs[r]));
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
  probe_groups(root, plan, groups, nullptr);
  return fmt::format("{} runs in {} groups ({} sweep points x {} seeds)", plan.runs.size(), groups.size(),
                     plan.points.size(), plan.seeds);
}

std::string run_study(const Config& root, const StudyRunOptions& options,
                      const std::function<void(const std::string&)>& log) {
  const study::StudyPlan plan = study::expand_study(root);
  const auto groups = group_runs(root, plan, options.max_group);

  // Build every group first: every config error surfaces before the folder exists or compute starts.
  std::unique_ptr<BuiltGroup> first;
  const std::vector<GroupProbe> probes = probe_groups(root, plan, groups, &first);
  const OutputOptions output = read_output_options(first->config);
  const std::string dir = options.out_dir.empty() ? output.dir : options.out_dir;
  const models::MetricsOptions metrics = first->metrics;
  const auto header = runs_header(plan, metrics);
  // Errors about the folder name what chose it: --out, output.dir, or the default from `name`.
  const auto fail_dir = [&](const std::string& message) {
    if (!options.out_dir.empty()) throw Error("--out " + options.out_dir + ": " + message);
    const Config out = first->config.child("output");
    if (out.has("dir")) out.fail("dir", message);
    first->config.fail(first->config.has("name") ? "name" : "", message + " (the default output.dir is runs/<name>)");
  };

  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int jobs = std::max(1, std::min<int>(options.jobs > 0 ? options.jobs : cores, static_cast<int>(groups.size())));
  // One intra-op thread per job by default: a step is a few dozen small ops, and OpenMP's barriers in
  // ATen cost more than they save there (measured: 55 us/step with 1 thread vs 4 ms with 2 threads
  // on a loaded 2-core machine). Cores are used by running groups in parallel (--jobs) instead.
  if (options.threads < 1 || options.threads > 1024)
    throw Error(fmt::format("--threads {}: must be in 1..1024", options.threads));
  const int threads = options.threads;

  if (options.dry_run) {
    std::string text = fmt::format("plan: {} runs in {} groups, {} job(s) x {} thread(s); results would go to {}\n",
                                   plan.runs.size(), groups.size(), jobs, threads, dir);
    double total_flops = 0;
    for (size_t i = 0; i < groups.size(); ++i) {
      const GroupProbe& p = probes[i];
      const double flops = static_cast<double>(p.steps) * groups[i].runs.size() * 6.0 * p.k * p.d;
      total_flops += flops;
      text += fmt::format("  group {:3d}: {:4d} runs  d={} k={} steps={}  {}  ~{:.2g} GFLOP\n", i, groups[i].runs.size(),
                          p.d, p.k, p.steps, study::point_label(plan.points[plan.runs[groups[i].runs[0]].point]),
                          flops / 1e9);
    }
    text += fmt::format("estimated arithmetic: {:.3g} GFLOP (per-step overheads and sampling come on top)", total_flops / 1e9);
    log(text);
    return dir;
  }

  // study.yaml first (prepare_folder), then the resolved config: the first run's config with defaults
  // filled in, plus the study section.
  prepare_folder(dir, root.document_yaml(), options.restart, fail_dir);
  {
    YAML::Node resolved = YAML::Load(first->config.resolved_yaml());
    if (!root.value_text("study").empty()) resolved["study"] = YAML::Load(root.value_text("study"));
    resolved.remove("seed");
    resolved["seed"] = plan.base_seed;
    YAML::Emitter e;
    e << resolved;
    write_file_atomic(dir + "/config.yaml", std::string("# resolved config (defaults filled in)\n") + e.c_str() + "\n");
  }
  write_file_atomic(dir + "/meta.yaml", meta_yaml(root, options, plan, first->model.ctx, jobs, threads));
  first.reset();

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
  set_blas_threads(threads);  // OpenBLAS keeps its own pool: limit it too (one process-wide setting)
  std::mutex write_mutex;
  std::atomic<size_t> next{0};
  std::atomic<size_t> runs_done{plan.runs.size() - remaining};
  std::atomic<bool> cancel{false};  // set on the first failure: the other groups stop at their next record
  std::exception_ptr failure;
  const bool show_progress = !options.quiet && Progress::stderr_is_terminal();
  const std::string study_path = dir + "/study.yaml";
  auto worker = [&]() {
    at::set_num_threads(threads);
    while (true) {
      const size_t gi = next.fetch_add(1);
      if (gi >= todo.size() || cancel.load()) return;
      try {
        throw_if_interrupted();
        std::vector<Config> configs;
        std::vector<RunRecord> records;
        for (int r : todo[gi]) {
          configs.push_back(study::config_for_run(root, plan, plan.runs[r]));
          records.push_back(RunRecord{plan.runs[r].id, plan.runs[r].seed});
        }
        Progress progress(fmt::format("[group {}/{}, runs done {}/{}]", gi + 1, todo.size(), runs_done.load(),
                                      plan.runs.size()),
                          1, show_progress && jobs == 1);
        GroupOutcome out = run_group(configs, records, &progress, &cancel);
        std::vector<std::vector<std::string>> curve_rows, rows;
        for (const auto& c : out.recorder->curves())
          curve_rows.push_back({c.run, std::to_string(c.step), c.metric, cell(c.value)});
        for (size_t i = 0; i < todo[gi].size(); ++i)
          rows.push_back(run_row(out.recorder->runs()[i], plan.runs[todo[gi][i]], plan, metrics));
        // A signal arriving from here on does not stop this group's writes: it is finished.
        std::lock_guard<std::mutex> lock(write_mutex);
        // Never recreate a folder that vanished (deleted, moved, unmounted): results written into a
        // fresh folder without study.yaml could neither be resumed nor trusted.
        const auto vanished = [&] {
          return Error("the results folder " + dir + " (or its study.yaml) disappeared while the study was running " +
                       "(deleted, moved or unmounted?); stopping, since nothing more can be saved there");
        };
        if (!fs::exists(study_path)) throw vanished();
        try {
          if (output.save_tensors) {
            std::error_code ec;
            fs::create_directory(dir + "/tensors", ec);  // not create_directories: must not recreate `dir`
            if (ec) throw Error("cannot create " + dir + "/tensors: " + ec.message());
            save_group_tensors(dir + "/tensors", out.group, out.recorder->runs());
          }
          append_csv_rows_atomic(dir + "/curves.csv", {"run", "step", "metric", "value"}, curve_rows);
          append_csv_rows_atomic(dir + "/runs.csv", header, rows);  // last: a run counts once its row exists
        } catch (const Error&) {
          if (!fs::exists(study_path)) throw vanished();  // deleted while this group was being written
          throw;
        }
        runs_done += todo[gi].size();
        if (show_progress && jobs > 1)
          std::fprintf(stderr, "\r\033[K[runs done %zu/%zu]", runs_done.load(), plan.runs.size());
      } catch (const Cancelled&) {
        return;
      } catch (...) {
        std::lock_guard<std::mutex> lock(write_mutex);
        if (!failure) failure = std::current_exception();
        cancel = true;
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
  if (failure) {
    const size_t saved = runs_done.load();
    const std::string kept =
        fmt::format("{} of {} runs are finished and saved in {}", saved, plan.runs.size(), dir);
    try {
      std::rethrow_exception(failure);
    } catch (const Interrupted&) {
      throw Interrupted("interrupted; " + kept);
    } catch (const Error& e) {
      if (fs::exists(study_path) && saved > 0)
        throw Error(std::string(e.what()) + "\n(" + kept + "; run the same command again to resume)");
      throw;
    }
  }

  write_in_plan_order(dir, plan);
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
