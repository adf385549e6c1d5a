#include "study/live_status.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "framework/atomic_file.h"
#include "framework/csv.h"
#include "framework/error.h"
#include "framework/folder_lock.h"
#include "framework/system_info.h"

namespace fs = std::filesystem;

namespace lrlab::study {

namespace {

/// Median of the finite values (NaN when none).
double finite_median(const std::vector<double>& values) {
  std::vector<double> v;
  for (double x : values)
    if (std::isfinite(x)) v.push_back(x);
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double unix_now() { return static_cast<double>(std::time(nullptr)); }

}  // namespace

std::string progress_json(const LiveSnapshot& s) {
  nlohmann::ordered_json j;
  j["pid"] = s.pid;
  j["host"] = s.host;
  j["command"] = s.command;
  j["started"] = s.started;
  j["updated"] = s.updated;
  j["updated_unix"] = s.updated_unix;
  j["state"] = s.state;
  j["runs"] = {{"total", s.runs_total}, {"done", s.runs_done}};
  j["groups"] = {{"total", s.groups_total}, {"done", s.groups_done}};
  j["eta_seconds"] = s.eta_seconds;
  j["running"] = nlohmann::ordered_json::array();
  for (const LiveGroup& g : s.running) {
    nlohmann::ordered_json metrics = nlohmann::ordered_json::object();
    for (const auto& [name, value] : g.metrics)
      metrics[name] = std::isfinite(value) ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
    j["running"].push_back({{"group", g.group}, {"runs", g.runs}, {"step", g.step}, {"steps", g.steps},
                            {"rate", g.rate}, {"metrics", metrics}});
  }
  // replace: a command line with bytes that are not UTF-8 must not stop the study
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

LiveSnapshot parse_progress_json(const std::string& text, const std::string& source) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    LiveSnapshot s;
    s.pid = j.at("pid").get<long>();
    s.host = j.at("host").get<std::string>();
    s.command = j.value("command", "");
    s.started = j.at("started").get<std::string>();
    s.updated = j.at("updated").get<std::string>();
    s.updated_unix = j.at("updated_unix").get<double>();
    s.state = j.at("state").get<std::string>();
    s.runs_total = j.at("runs").at("total").get<size_t>();
    s.runs_done = j.at("runs").at("done").get<size_t>();
    s.groups_total = j.at("groups").at("total").get<size_t>();
    s.groups_done = j.at("groups").at("done").get<size_t>();
    s.eta_seconds = j.at("eta_seconds").get<double>();
    for (const auto& g : j.at("running")) {
      LiveGroup group{g.at("group").get<size_t>(), g.at("runs").get<size_t>(), g.at("step").get<int64_t>(),
                      g.at("steps").get<int64_t>(), g.at("rate").get<double>(), {}};
      for (const auto& [name, value] : g.at("metrics").items())
        group.metrics[name] = value.is_null() ? std::nan("") : value.get<double>();
      s.running.push_back(std::move(group));
    }
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: not a valid progress file: {}", source, e.what()));
  }
}

std::string study_progress_line(const LiveSnapshot& s) {
  std::string line = fmt::format("runs {}/{}, groups {}/{}", s.runs_done, s.runs_total, s.groups_done, s.groups_total);
  if (s.state == "running") line += ", ETA " + (s.eta_seconds >= 0 ? format_duration(s.eta_seconds) : std::string("?"));
  return line;
}

std::string group_progress_line(const LiveGroup& g, size_t groups_total) {
  std::string line = fmt::format("group {}/{} ({} run{}): step {}/{} ({:.0f}%), {:.0f} steps/s", g.group, groups_total,
                                 g.runs, g.runs == 1 ? "" : "s", g.step, g.steps,
                                 g.steps > 0 ? 100.0 * static_cast<double>(g.step) / static_cast<double>(g.steps) : 0.0,
                                 g.rate);
  std::string metrics;
  for (const auto& [name, value] : g.metrics) metrics += fmt::format(" {} {:.4g}", name, value);
  if (!metrics.empty()) line += "," + metrics;
  return line;
}

LiveStatus::LiveStatus(Setup setup) : setup_(std::move(setup)) {
  start_ = setup_.clock();
  base_.pid = static_cast<long>(::getpid());
  base_.host = host_name();
  base_.command = setup_.command;
  base_.started = utc_now();
  base_.runs_total = setup_.runs_total;
  base_.runs_done = setup_.runs_done;
  base_.groups_total = setup_.groups_total;
  base_.groups_done = setup_.groups_done;
  std::lock_guard<std::mutex> lock(mutex_);
  publish_locked(true);
}

void LiveStatus::group_started(size_t group, size_t runs, int64_t steps, double cost) {
  std::lock_guard<std::mutex> lock(mutex_);
  Running& r = running_[group];
  r.shown = LiveGroup{group + 1, runs, 0, steps, 0, {}};
  r.started = setup_.clock();
  r.cost = cost;
}

void LiveStatus::group_recorded(size_t group, int64_t step, const std::map<std::string, std::vector<double>>& values) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = running_.find(group);
  if (it == running_.end()) return;
  LiveGroup& g = it->second.shown;
  g.step = step;
  const double elapsed = setup_.clock() - it->second.started;
  g.rate = elapsed > 0 ? static_cast<double>(step) / elapsed : 0.0;
  for (const auto& [name, v] : values) g.metrics[name] = finite_median(v);
}

void LiveStatus::group_ended(size_t group, bool saved) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = running_.find(group);
  if (it == running_.end()) return;
  if (saved) {
    base_.runs_done += it->second.shown.runs;
    base_.groups_done += 1;
    cost_done_ += it->second.cost;
  }
  running_.erase(it);
}

void LiveStatus::tick() {
  std::lock_guard<std::mutex> lock(mutex_);
  publish_locked(false);
}

void LiveStatus::finish(const std::string& state) {
  std::lock_guard<std::mutex> lock(mutex_);
  base_.state = state;
  running_.clear();
  publish_locked(true);
  setup_.display.clear();
}

void LiveStatus::print_above(const std::function<void()>& print) {
  std::lock_guard<std::mutex> lock(mutex_);
  setup_.display.clear();
  print();  // the next tick draws the block again
}

LiveSnapshot LiveStatus::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return snapshot_locked(setup_.clock());
}

LiveSnapshot LiveStatus::snapshot_locked(double now) const {
  LiveSnapshot s = base_;
  s.updated = utc_now();
  s.updated_unix = unix_now();
  double done = cost_done_;
  for (const auto& [index, r] : running_) {
    s.running.push_back(r.shown);
    if (r.shown.steps > 0)
      done += r.cost * std::min(1.0, static_cast<double>(r.shown.step) / static_cast<double>(r.shown.steps));
  }
  const double elapsed = now - start_;
  if (s.state == "running" && done > 0 && elapsed > 0)
    s.eta_seconds = std::max(0.0, setup_.pending_cost - done) / (done / elapsed);
  if (s.state != "running") s.eta_seconds = 0;
  return s;
}

/// Rewrites progress.json (at most every json_every s unless `force`) and updates the display.
/// Writing is best effort: progress is advisory, and the study must not fail because of it.
void LiveStatus::publish_locked(bool force) {
  const double now = setup_.clock();
  const LiveSnapshot s = snapshot_locked(now);
  // The guard (study.yaml) keeps progress.json out of a results folder that is being deleted.
  const bool guarded = setup_.guard_path.empty() || fs::exists(setup_.guard_path);
  if (!setup_.progress_path.empty() && guarded &&
      (force || last_json_ < 0 || now - last_json_ >= setup_.json_every)) {
    last_json_ = now;
    try {
      write_file_atomic(setup_.progress_path, progress_json(s));
    } catch (const std::exception&) {
      // a vanished or full folder: the study's own writes report it
    }
  }
  if (s.state != "running") return;
  std::vector<std::string> lines{"[lrlab] " + study_progress_line(s)};
  for (const LiveGroup& g : s.running) lines.push_back("  " + group_progress_line(g, s.groups_total));
  setup_.display.show(lines);
}

namespace {

/// One writer's folder as `lrlab status` sees it.
struct WriterState {
  bool has_progress = false;
  LiveSnapshot snapshot;
  std::string state;   // running, finished, failed, interrupted, stale, not started
  std::string detail;  // who and when
};

bool pid_alive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

WriterState read_writer(const std::string& dir, double now_unix) {
  WriterState w;
  const std::string path = dir + "/progress.json";
  if (!fs::exists(path)) {
    w.state = "not started";
    if (fs::exists(dir + "/runs.csv"))
      w.detail = fmt::format("{} runs finished, no progress.json (written by an older lrlab?)",
                             read_csv(dir + "/runs.csv").rows.size());
    return w;
  }
  w.has_progress = true;
  w.snapshot = parse_progress_json(read_file_text(path), path);
  w.state = w.snapshot.state;
  const double age = std::max(0.0, now_unix - w.snapshot.updated_unix);
  // The lock file names the live writer; progress.json's pid is the fallback (a released lock is blank).
  LockHolder holder = FolderLock::read_holder(dir + "/.lock");
  if (holder.pid <= 0) holder = LockHolder{w.snapshot.host, w.snapshot.pid, "", ""};
  w.detail = fmt::format("pid {} on {}, updated {} ago", holder.pid, holder.host, format_duration(age));
  if (w.state == "running" && holder.host == host_name() && !pid_alive(holder.pid)) {
    w.state = w.snapshot.state = "stale";  // no ETA for a writer that is gone
    w.detail = fmt::format("its writer, pid {} on {}, is not running; last update {} ago", holder.pid, holder.host,
                           format_duration(age));
  }
  return w;
}

std::string single_report(const std::string& dir, double now_unix) {
  const WriterState w = read_writer(dir, now_unix);
  std::string out = fmt::format("{}: {}{}\n", dir, w.state, w.detail.empty() ? "" : " (" + w.detail + ")");
  if (!w.has_progress) return out;
  out += "  " + study_progress_line(w.snapshot) + "\n";
  if (w.state == "running")
    for (const LiveGroup& g : w.snapshot.running) out += "  " + group_progress_line(g, w.snapshot.groups_total) + "\n";
  return out;
}

/// Shard folders "I-of-N" under DIR/shards: N -> the indices present.
std::map<int, std::vector<int>> shard_folders(const std::string& dir) {
  std::map<int, std::vector<int>> found;
  std::error_code ec;
  static const std::regex name("([0-9]+)-of-([0-9]+)");
  for (fs::directory_iterator it(dir + "/shards", ec), end; !ec && it != end; it.increment(ec)) {
    std::smatch m;
    const std::string folder = it->path().filename().string();
    if (it->is_directory(ec) && std::regex_match(folder, m, name)) found[std::stoi(m[2])].push_back(std::stoi(m[1]));
  }
  return found;
}

std::string sharded_report(const std::string& dir, int n, const std::vector<int>& present, double now_unix) {
  // Shards are numbered from 1 unless a folder says 0.
  const int first = *std::min_element(present.begin(), present.end()) == 0 ? 0 : 1;
  std::string out = fmt::format("{}: sharded study, {} shards\n", dir, n);
  size_t runs_done = 0, runs_known = 0;
  std::map<std::string, int> states;
  for (int i = first; i < first + n; ++i) {
    const std::string shard_dir = fmt::format("{}/shards/{}-of-{}", dir, i, n);
    const WriterState w = fs::is_directory(shard_dir) ? read_writer(shard_dir, now_unix) : WriterState{};
    const std::string state = w.state.empty() ? "not started" : w.state;
    states[state] += 1;
    std::string line = fmt::format("  shard {}/{}: {}", i, n, state);
    if (w.has_progress) {
      line += ", " + study_progress_line(w.snapshot);
      runs_done += w.snapshot.runs_done;
      runs_known += w.snapshot.runs_total;
    }
    if (!w.detail.empty()) line += " (" + w.detail + ")";
    out += line + "\n";
  }
  std::string counts;
  for (const auto& [state, count] : states) counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", count, state);
  out += fmt::format("  study: runs {}/{}{}; shards: {}\n", runs_done, runs_known,
                     states.count("not started") ? " (shards not started not counted)" : "", counts);
  return out;
}

}  // namespace

std::string status_report(const std::string& dir, double now_unix) {
  const auto shards = shard_folders(dir);
  if (!shards.empty()) {
    std::string out;
    for (const auto& [n, present] : shards) out += sharded_report(dir, n, present, now_unix);
    return out;
  }
  if (!fs::exists(dir + "/progress.json") && !fs::exists(dir + "/study.yaml"))
    throw Error(dir + " is not a results folder (no progress.json, study.yaml or shards/I-of-N/ in it)");
  return single_report(dir, now_unix);
}

}  // namespace lrlab::study
