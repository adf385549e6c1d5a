#include "study/merge.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include "framework/atomic_file.h"
#include "framework/csv.h"
#include "framework/error.h"
#include "framework/folder_lock.h"
#include "study/group_runner.h"
#include "study/plot.h"
#include "study/summary.h"

namespace fs = std::filesystem;

namespace lrlab::study {

namespace {

/// True while some process holds the flock on `path` (a shard's .lock, the merge lock). Probes with a
/// shared lock on a fresh descriptor, so it never takes over or rewrites the holder's text.
bool lock_held(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // closing drops the probe's shared lock, if it got one
  return held;
}

/// The shard counts N found as <dir>/shards/I-of-N folders.
std::set<int> shard_counts(const std::string& dir) {
  static const std::regex name(R"(([0-9]+)-of-([0-9]+))");
  std::set<int> counts;
  std::error_code ec;
  for (fs::directory_iterator it(dir + "/shards", ec), end; !ec && it != end; it.increment(ec)) {
    std::smatch m;
    const std::string file = it->path().filename().string();
    if (it->is_directory(ec) && std::regex_match(file, m, name)) counts.insert(std::stoi(m[2]));
  }
  return counts;
}

/// `command` (a recorded shard command line) changed to run shard `to` instead of `from`, without
/// --restart (which would discard what the shard saved).
std::string command_for(std::string command, const ShardSpec& from, const ShardSpec& to) {
  const std::string a = fmt::format("{}/{}", from.index, from.count), b = fmt::format("{}/{}", to.index, to.count);
  for (const std::string flag : {"--shard ", "--shard="}) {
    const auto at = command.find(flag + a);
    if (at != std::string::npos) command.replace(at + flag.size(), a.size(), b);
  }
  for (auto at = command.find(" --restart"); at != std::string::npos; at = command.find(" --restart"))
    command.erase(at, 10);
  return command;
}

/// The ids of the runs with a runs.csv row in a shard folder.
std::set<std::string> finished_in(const std::string& folder) {
  std::set<std::string> done;
  if (!fs::exists(folder + "/runs.csv")) return done;
  const Table runs = read_csv(folder + "/runs.csv");
  const int c = runs.column_index("run");
  for (const auto& row : runs.rows) done.insert(row[c]);
  return done;
}

ShardStatus status_of(const std::string& dir, const ShardSpec& shard) {
  ShardStatus s{shard, shard_folder(dir, shard), "not started", 0, 0, "", ""};
  if (!fs::exists(s.folder + "/shard.yaml")) return s;
  const ShardRecord record = read_shard_record(s.folder + "/shard.yaml");
  const std::set<std::string> done = finished_in(s.folder);
  s.total = record.runs.size();
  for (const auto& id : record.runs) s.done += done.count(id);
  s.rerun = command_for(record.command, record.shard, shard);
  if (s.done == s.total) {
    s.state = "done";
  } else if (lock_held(s.folder + "/.lock")) {
    s.state = "running";
    s.holder = FolderLock::read_holder(s.folder + "/.lock").describe();
  } else {
    s.state = "stopped";
  }
  return s;
}

/// Waits for (and takes) the merge lock: merges of one folder take turns instead of failing.
std::unique_ptr<FolderLock> take_merge_lock(const std::string& dir) {
  const std::string path = dir + "/shards/merge.lock";
  for (;;) {
    if (!lock_held(path)) {
      try {
        return std::make_unique<FolderLock>(path, "the merge of " + dir, "lrlab merge " + dir,
                                            [](const std::string&) {});  // a dead merge left nothing half-written
      } catch (const Error&) {
        if (!lock_held(path)) throw;  // not a race with another merge: a real failure
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

/// A shard's rows of one table (those of its finished runs), or nothing when it has no such file.
std::optional<Table> shard_table(const std::string& folder, const char* name, const std::set<std::string>& runs) {
  const std::string path = folder + "/" + name;
  if (!fs::exists(path)) return std::nullopt;
  Table table = read_csv(path);
  const int c = table.column_index("run");
  Table kept{table.columns, {}};
  for (auto& row : table.rows)
    if (runs.count(row[c])) kept.rows.push_back(std::move(row));
  return kept;
}

/// Checks that the shards ran this study and together cover each of its runs exactly once; returns
/// the owning shard folder of each run.
std::map<std::string, std::string> check_shards(const std::string& dir, const StudyPlan& plan,
                                                const std::vector<ShardStatus>& shards) {
  const std::string document = read_file_text(dir + "/study.yaml");
  std::map<std::string, std::string> owner;
  for (const auto& s : shards) {
    if (read_file_text(s.folder + "/study.yaml") != document)
      throw Error(fmt::format("{} ran a different config than {}/study.yaml; merge never mixes configs: rerun "
                              "the shard with --restart",
                              s.folder, dir));
    for (const auto& id : read_shard_record(s.folder + "/shard.yaml").runs)
      if (!owner.emplace(id, s.folder).second)
        throw Error(fmt::format("run {} is in both {} and {}: the shards were partitioned differently (another "
                                "--max-group?); rerun one of them with --restart",
                                id, owner[id], s.folder));
  }
  for (const auto& run : plan.runs)
    if (!owner.count(run.id))
      throw Error(fmt::format("run {} is in no shard of {}: the shards were partitioned differently (another "
                              "--max-group?); rerun them with the same options and --restart",
                              run.id, dir));
  if (owner.size() != plan.runs.size())
    throw Error(fmt::format("the shards of {} hold runs that the study in {}/study.yaml does not have", dir, dir));
  return owner;
}

/// Concatenates the shards' rows of `name` and writes <dir>/name in plan order (a run's rows keep
/// their recording order).
void merge_table(const std::string& dir, const char* name, const StudyPlan& plan, const std::vector<ShardStatus>& shards) {
  std::map<std::string, size_t> order;
  for (size_t i = 0; i < plan.runs.size(); ++i) order[plan.runs[i].id] = i;
  std::optional<Table> merged;
  for (const auto& s : shards) {
    const ShardRecord record = read_shard_record(s.folder + "/shard.yaml");
    std::optional<Table> part = shard_table(s.folder, name, {record.runs.begin(), record.runs.end()});
    if (!part) continue;
    if (merged && merged->columns != part->columns)
      throw Error(fmt::format("{}/{} has other columns than the other shards'", s.folder, name));
    if (!merged) merged = Table{part->columns, {}};
    for (auto& row : part->rows) merged->rows.push_back(std::move(row));
  }
  if (!merged) return;
  const int c = merged->column_index("run");
  std::stable_sort(merged->rows.begin(), merged->rows.end(),
                   [&](const auto& a, const auto& b) { return order.at(a[c]) < order.at(b[c]); });
  write_file_atomic(dir + "/" + name, to_csv_text(*merged));
}

/// <dir>/tensors/<run>.safetensors for every run: hard links to the shards' files (no second copy on
/// the shared filesystem), copies where a link is impossible.
void link_tensors(const std::string& dir, const std::map<std::string, std::string>& owner) {
  std::error_code ec;
  for (const auto& [run, folder] : owner) {
    const fs::path from = fs::path(folder) / "tensors" / (run + ".safetensors");
    const fs::path to = fs::path(dir) / "tensors" / (run + ".safetensors");
    if (!fs::exists(from)) continue;
    fs::create_directories(to.parent_path(), ec);
    if (fs::exists(to) && fs::equivalent(from, to, ec)) continue;
    fs::remove(to, ec);
    fs::create_hard_link(from, to, ec);
    if (ec) fs::copy_file(from, to, fs::copy_options::overwrite_existing);  // throws with the reason
  }
}

/// The plots of a finished study (with `plan`'s study.figure). Plots are a convenience: any failure
/// (an exception included) is a warning that names the files and the command that re-renders them,
/// never an error.
void plot_finished_study(const std::string& dir, const StudyPlan& plan,
                         const std::function<void(const std::string&)>& log) {
  try {
    PlotOptions options;
    options.figure = &plan.figure;
    PlotReport report = plot_study(dir, options);
    for (const auto& w : report.warnings) log("warning: " + w);
  } catch (const Error& e) {
    log(fmt::format("warning: the plots failed ({}); the results are complete. Re-render with `lrlab plot {}`",
                    e.what(), dir));
  }
}

}  // namespace

std::vector<ShardStatus> shard_statuses(const std::string& dir) {
  const std::set<int> counts = shard_counts(dir);
  if (counts.empty() && fs::exists(dir + "/slurm/shards.sbatch"))
    throw Error("no shard of " + dir + " has started yet (" + dir + "/slurm/shards.sbatch runs them)");
  if (counts.empty()) throw Error(dir + " holds no shards (" + dir + "/shards/I-of-N); is it a sharded study?");
  if (counts.size() > 1) {
    std::string list;
    for (int n : counts) list += (list.empty() ? "" : ", ") + std::to_string(n);
    throw Error(fmt::format("{}/shards holds shards of different counts ({}); remove the folders of the stale "
                            "sharding (shards/*-of-N)",
                            dir, list));
  }
  const int n = *counts.begin();
  std::vector<ShardStatus> out;
  for (int i = 1; i <= n; ++i) out.push_back(status_of(dir, ShardSpec{i, n}));
  // A shard that never started has no record: borrow another shard's command line.
  for (auto& s : out) {
    if (!s.rerun.empty()) continue;
    for (const auto& other : out)
      if (!other.rerun.empty()) s.rerun = command_for(other.rerun, other.shard, s.shard);
    if (s.rerun.empty()) s.rerun = fmt::format("lrlab run CONFIG [overrides] --out {} --shard {}/{}", dir, s.shard.index, n);
  }
  if (fs::exists(dir + "/slurm/shards.sbatch"))
    for (auto& s : out)
      if (s.state != "done") s.rerun += fmt::format("   (on Slurm: sbatch --array={} {}/slurm/shards.sbatch)", s.shard.index, dir);
  return out;
}

std::string describe_shards(const std::vector<ShardStatus>& shards) {
  std::string text;
  for (const auto& s : shards) {
    const std::string runs = s.total ? fmt::format(", {} of {} runs done", s.done, s.total) : "";
    text += fmt::format("  shard {}/{} ({}): {}{}", s.shard.index, s.shard.count, s.folder, s.state, runs);
    if (!s.holder.empty()) text += " by " + s.holder;
    if (s.state != "done") text += "; rerun: " + s.rerun;
    text += "\n";
  }
  return text;
}

void finish_results(const std::string& dir, const StudyPlan& plan, bool plots, bool quiet,
                    const std::function<void(const std::string&)>& log) {
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
  if (plots) plot_finished_study(dir, plan, log);
  if (!quiet) {
    log(format_summary_table(summary));
    log(fmt::format("results: {}/ (runs.csv, curves.csv, summary.md{})", dir, plots ? ", plots/" : ""));
  }
}

MergeResult merge_shards(const std::string& dir, bool quiet, const std::function<void(const std::string&)>& log) {
  if (!fs::exists(dir + "/study.yaml")) throw Error(dir + " is not a results folder (no study.yaml)");
  shard_statuses(dir);  // a folder without shards is an error before any lock file is made
  const auto lock = take_merge_lock(dir);
  MergeResult result{false, shard_statuses(dir)};
  for (const auto& s : result.shards)
    if (s.state != "done") return result;
  const Config root = Config::load_string(read_file_text(dir + "/study.yaml"), dir + "/study.yaml");
  const StudyPlan plan = expand_study(root);
  const auto owner = check_shards(dir, plan, result.shards);
  merge_table(dir, "curves.csv", plan, result.shards);  // curves first: a run's row in runs.csv means "complete"
  merge_table(dir, "runs.csv", plan, result.shards);
  const OutputOptions output = read_output_options(config_for_point(root, plan.points.at(0)));
  if (output.save_tensors) link_tensors(dir, owner);
  finish_results(dir, plan, output.plots, quiet, log);
  result.merged = true;
  return result;
}

}  // namespace lrlab::study
