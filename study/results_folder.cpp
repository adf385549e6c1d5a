#include "study/results_folder.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "framework/atomic_file.h"
#include "framework/csv.h"
#include "study/runs_table.h"
#include "study/tensor_files.h"

namespace fs = std::filesystem;

namespace lrlab::study {

namespace {

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

/// Refuses a folder that cannot be resumed: another study's, or results without study.yaml.
/// Returns true when the folder holds this study already (nothing more to prepare).
bool reopen_existing(const std::string& dir, const std::string& document) {
  const std::string study_path = dir + "/study.yaml";
  if (fs::exists(study_path)) {
    if (read_file_text(study_path) != document)
      throw Error("the results folder " + dir + " holds a study with a different config (see " + study_path +
                  "); use --restart to discard it, or --out to choose another folder");
    remove_stale_temp_files(dir);
    return true;
  }
  for (const char* name : {"runs.csv", "curves.csv"})
    if (fs::exists(dir + "/" + name))
      throw Error("the results folder " + dir + " holds " + name + " but no study.yaml, so it cannot be resumed; " +
                  "use --restart to discard it, or --out to choose another folder");
  return false;
}

/// Cuts a truncated last line (a crash in the middle of a live append of curve rows): rows are
/// appended whole with one write each, so everything up to the last line end is whole rows.
void repair_truncated_last_line(const std::string& path) {
  const std::string text = read_file_text(path);
  if (text.empty() || text.back() == '\n') return;
  const size_t end = text.rfind('\n');
  if (end == std::string::npos) {
    fs::remove(path);  // not even the header is whole
    return;
  }
  write_file_atomic(path, text.substr(0, end + 1));
}

}  // namespace

void prepare_folder(const std::string& dir, const std::string& document, bool restart,
                    const std::function<void(const std::string&)>& fail_dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail_dir("cannot create the results folder '" + dir + "': " + ec.message());
  if (!fs::is_directory(dir, ec)) fail_dir("the results folder '" + dir + "' is not a folder");
  if (!restart && reopen_existing(dir, document)) return;
  if (restart) {
    for (const char* name : {"study.yaml", "runs.csv", "curves.csv", "summary.csv", "summary.md", "fits.csv"})
      fs::remove(dir + "/" + name, ec);
    fs::remove_all(dir + "/tensors", ec);
  }
  remove_stale_temp_files(dir);
  write_file_atomic(dir + "/study.yaml", document);
}

void write_resolved_config(const std::string& dir, const Config& first_run, const Config& root, int64_t base_seed) {
  YAML::Node resolved = YAML::Load(first_run.resolved_yaml());
  if (!root.value_text("study").empty()) resolved["study"] = YAML::Load(root.value_text("study"));
  resolved.remove("seed");
  resolved["seed"] = base_seed;
  YAML::Emitter e;
  e << resolved;
  write_file_atomic(dir + "/config.yaml", std::string("# resolved config (defaults filled in)\n") + e.c_str() + "\n");
}

std::set<std::string> finished_runs(const std::string& dir) {
  std::set<std::string> done;
  const std::string runs_path = dir + "/runs.csv", curves_path = dir + "/curves.csv";
  if (fs::exists(runs_path)) {
    Table runs = read_csv(runs_path);
    const int c = runs.column_index("run");
    for (const auto& row : runs.rows) done.insert(row[c]);
  }
  if (fs::exists(curves_path)) repair_truncated_last_line(curves_path);
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

void save_group(const std::string& dir, bool save_tensors, const GroupOutcome& outcome, const GroupRows& rows) {
  const std::string study_path = dir + "/study.yaml";
  const auto vanished = [&] {
    return Error("the results folder " + dir + " (or its study.yaml) disappeared while the study was running " +
                 "(deleted, moved or unmounted?); stopping, since nothing more can be saved there");
  };
  // Results written into a fresh folder without study.yaml could neither be resumed nor trusted.
  if (!fs::exists(study_path)) throw vanished();
  try {
    if (save_tensors) {
      std::error_code ec;
      fs::create_directory(dir + "/tensors", ec);  // not create_directories: must not recreate `dir`
      if (ec) throw Error("cannot create " + dir + "/tensors: " + ec.message());
      save_group_tensors(dir + "/tensors", outcome.group, outcome.recorder->runs());
    }
    if (!rows.curves.empty()) append_csv_rows_atomic(dir + "/curves.csv", curves_header(), rows.curves);
    append_csv_rows_atomic(dir + "/runs.csv", rows.runs_header, rows.runs);  // last: the run is finished
  } catch (const Error&) {
    if (!fs::exists(study_path)) throw vanished();  // deleted while this group was being written
    throw;
  }
}

void write_in_plan_order(const std::string& dir, const StudyPlan& plan) {
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

}  // namespace lrlab::study
