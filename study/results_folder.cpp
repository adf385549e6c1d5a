#include "study/results_folder.h"

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <regex>

#include "framework/atomic_file.h"
#include "framework/csv.h"
#include "framework/strings.h"
#include "study/runs_table.h"
#include "study/tensor_files.h"

namespace fs = std::filesystem;

namespace lrlab::study {

namespace {

/// Files lrlab writes at the top of a results folder (what --restart may delete; plots/ is rewritten
/// at the end of every run and kept).
const char* const kResultFiles[] = {"study.yaml", "config.yaml", "meta.yaml",  "runs.csv",
                                    "curves.csv", "summary.csv", "summary.md", "fits.csv"};

/// The pid in a temporary file's name (`<name>.tmp.<pid>.<n>`, framework/atomic_file.cpp), or 0 when
/// the name is not one.
long temp_file_pid(const std::string& name) {
  const auto at = name.rfind(".tmp.");
  if (at == std::string::npos) return 0;
  const std::string rest = name.substr(at + 5);
  const auto dot = rest.find('.');
  const auto digits = [](const std::string& t) {
    return !t.empty() && t.size() < 19 && t.find_first_not_of("0123456789") == std::string::npos;
  };
  if (dot == std::string::npos || !digits(rest.substr(0, dot)) || !digits(rest.substr(dot + 1))) return 0;
  return std::stol(rest.substr(0, dot));
}

/// True while process `pid` exists on this host (EPERM: it exists but belongs to someone else). A pid
/// out of pid_t's range names no process (and must not become a process group through the cast).
bool process_alive(long pid) {
  if (pid <= 0 || pid > std::numeric_limits<pid_t>::max()) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

/// Removes temporary files that a process killed mid-write left behind. Only those of dead processes:
/// a live writer's temp file is about to be renamed (and a live writer elsewhere holds the lock).
void remove_stale_temp_files(const std::string& dir) {
  std::error_code ec;
  for (const std::string& folder : {dir, dir + "/tensors"}) {
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
      const long pid = temp_file_pid(it->path().filename().string());
      std::error_code type_ec;
      if (pid > 0 && !process_alive(pid) && it->is_regular_file(type_ec)) fs::remove(it->path(), type_ec);
    }
    ec.clear();
  }
}

/// True for `<run id>.safetensors` with a run id as study/plan.h makes them ("p003_s07").
bool is_run_tensor_file(const std::string& name) {
  static const std::regex pattern("p[0-9]+_s[0-9]+\\.safetensors");
  return std::regex_match(name, pattern);
}

/// True when `dir` holds nothing but possibly its lock file (a run that stopped before the marker).
bool is_empty_folder(const std::string& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename() != ".lock") return false;
  return !ec;
}

/// Deletes the results of an earlier study: only the files lrlab names, never a folder's unknown
/// content (tensors/ goes only once it is empty).
void delete_results(const std::string& dir) {
  std::error_code ec;
  for (const char* name : kResultFiles) fs::remove(dir + "/" + name, ec);
  const std::string tensors = dir + "/tensors";
  if (!fs::is_directory(tensors, ec)) return;
  for (fs::directory_iterator it(tensors, ec), end; !ec && it != end; it.increment(ec))
    if (is_run_tensor_file(it->path().filename().string())) fs::remove(it->path(), ec);
  ec.clear();
  fs::remove(tensors, ec);  // fails (and keeps it) when other files remain
}

}  // namespace

void write_marker(const std::string& dir) {
  const std::string path = dir + "/" + kResultsMarker;
  if (fs::exists(path)) return;
  std::ofstream out(path, std::ios::binary);
  out << "lrlab results folder: created by lrlab, which may delete or rewrite the files it wrote here (see "
         "study/results_folder.h). Remove this file to protect the folder from `lrlab run --restart`.\n";
  if (!out.flush()) throw Error("cannot write '" + path + "'");
}

namespace {

/// A document as canonical YAML text, with the summary-only keys (study.fit, study.figure, output.plots) removed
/// when `strip_summary` ("" when the text is not YAML).
std::string canonical_document(const std::string& document, bool strip_summary) {
  try {
    YAML::Node root = YAML::Load(document);
    if (!strip_summary || !root.IsMap()) return YAML::Dump(root);
    const auto strip = [&root](const char* section, const char* key) {
      const YAML::Node& view = root;
      if (!view[section] || !view[section].IsMap()) return;
      YAML::Node node = root[section];
      node.remove(key);
      if (node.size() == 0) root.remove(section);
    };
    strip("study", "fit");
    strip("study", "figure");
    strip("output", "plots");
    return YAML::Dump(root);
  } catch (const YAML::Exception&) {
    return "";
  }
}

/// Refuses a folder that cannot be resumed: another study's, or results without study.yaml.
/// Returns true when the folder holds this study already (nothing more to prepare).
bool reopen_existing(const std::string& dir, const std::string& document,
                     const std::function<void(const std::string&)>& log) {
  const std::string study_path = dir + "/study.yaml";
  if (fs::exists(study_path)) {
    if (!adopt_study_document(dir, document, log))
      throw Error("the results folder " + dir + " holds a study with a different config (see " + study_path +
                  "); use --restart to discard it, or --out to choose another folder");
    write_marker(dir);  // an lrlab folder from before the marker gets it now
    remove_stale_temp_files(dir);
    return true;
  }
  for (const char* name : {"runs.csv", "curves.csv"})
    if (fs::exists(dir + "/" + name))
      throw Error("the results folder " + dir + " holds " + name + " but no study.yaml, so it cannot be resumed; " +
                  "use --restart to discard it, or --out to choose another folder");
  return false;
}

/// Up to five items of `items`, then "and N more".
std::string some_of(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < 5; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > 5) out += fmt::format(" and {} more", items.size() - 5);
  return out;
}

/// The cut text of a header for a message.
std::string header_text(const std::vector<std::string>& header) {
  std::string text = join(header, ",");
  return text.size() > 300 ? text.substr(0, 300) + "..." : text;
}

/// Throws when `table`'s header is not `expected`: rows of another config cannot be repaired.
void require_header(const std::string& path, const Table& table, const std::vector<std::string>& expected,
                    const std::string& fix_command) {
  if (table.columns == expected) return;
  throw Error(fmt::format("{} has the columns [{}] but this study writes [{}]: it holds results of another "
                          "config and cannot be resumed; discard the folder's results with `{}`, or choose "
                          "another folder with --out",
                          path, header_text(table.columns), header_text(expected), fix_command));
}

/// The index of `name` in `table`'s header, or throws naming the file.
size_t column_of(const std::string& path, const Table& table, const std::string& name) {
  const int c = table.find_column(name);
  if (c < 0) throw Error(fmt::format("{} has no '{}' column", path, name));
  return static_cast<size_t>(c);
}

/// Finished runs that must be trained again, with the reason (for the log).
struct Repairs {
  std::map<std::string, std::vector<std::string>> by_reason;  ///< reason -> run ids
  std::set<std::string> runs;                                 ///< every run to train again
  void add(const std::string& reason, const std::string& run) {
    if (runs.insert(run).second) by_reason[reason].push_back(run);
  }
};

/// Finished runs in runs.csv that cannot be trusted: duplicated rows, missing curves or tensors.
Repairs find_repairs(const std::string& dir, const Table& runs, size_t run_col, const ResumeCheck& check) {
  Repairs repairs;
  std::map<std::string, int> rows_of;
  for (const auto& row : runs.rows) ++rows_of[row[run_col]];
  for (const auto& [id, n] : rows_of)
    if (n > 1) repairs.add("runs.csv holds more than one row for them (two writers?)", id);

  // A run records at step 0 unless it diverged there; no metrics means no curves at all.
  const bool has_metrics = std::any_of(check.runs_header.begin(), check.runs_header.end(),
                                       [](const std::string& c) { return c.rfind("final_", 0) == 0; });
  const std::string curves_path = dir + "/curves.csv";
  std::set<std::string> with_curves;
  if (fs::exists(curves_path)) {
    const Table curves = read_csv(curves_path);
    const size_t c = column_of(curves_path, curves, "run");
    for (const auto& row : curves.rows) with_curves.insert(row[c]);
  }
  const int diverged_col = runs.find_column("diverged_step");
  for (const auto& row : runs.rows) {
    const std::string& id = row[run_col];
    const bool diverged_at_start = diverged_col >= 0 && row[static_cast<size_t>(diverged_col)] == "0";
    if (has_metrics && !diverged_at_start && !with_curves.count(id))
      repairs.add("their curves.csv rows are missing", id);
    if (check.save_tensors && !fs::exists(dir + "/tensors/" + id + ".safetensors"))
      repairs.add("their tensors file (tensors/<run>.safetensors) is missing", id);
  }
  return repairs;
}


}  // namespace

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

std::unique_ptr<FolderLock> lock_results(const std::string& dir, const std::string& writer_subdir,
                                         const std::string& command,
                                         const std::function<void(const std::string&)>& warn) {
  const std::string folder = writer_subdir.empty() ? dir : dir + "/" + writer_subdir;
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) throw Error("cannot create the results folder '" + folder + "': " + ec.message());
  const std::string what = writer_subdir.empty() ? "the results folder " + dir
                                                  : "the part " + writer_subdir + " of the results folder " + dir;
  return std::make_unique<FolderLock>(folder + "/.lock", what, command, warn);
}

void check_folder_keys(const Config& root, const StudyPlan& plan) {
  for (size_t i = 0; i < plan.swept_keys.size(); ++i) {
    const std::string& key = plan.swept_keys[i];
    bool bad = key == "name" || key == "output.dir";
    if (key == "output")
      for (const SweepPoint& p : plan.points) bad = bad || (i < p.sources.size() && p.sources[i].has("dir"));
    if (!bad) continue;
    const std::string message = fmt::format(
        "'{}' cannot be swept: it chooses the results folder, so every point would write into one folder; "
        "run one study per folder instead",
        key);
    // Locate the sweep (or zip) entry, written flat (`output.dir: [...]`) or nested (`output: {dir: [...]}`).
    const Config study = root.child("study");
    for (const char* section : {"sweep", "zip"}) {
      if (!study.is_map(section)) continue;
      Config view = study.child(section);
      std::string rest = key;
      while (!view.has(rest) && rest.find('.') != std::string::npos && view.is_map(rest.substr(0, rest.find('.')))) {
        view = view.child(rest.substr(0, rest.find('.')));
        rest = rest.substr(rest.find('.') + 1);
      }
      if (view.has(rest)) view.fail(rest, message);
    }
    root.fail("study", message);
  }
}

void create_results_folder(const std::string& dir, bool restart,
                           const std::function<void(const std::string&)>& fail_dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) fail_dir("the results folder '" + dir + "' is not a folder");
    if (is_results_folder(dir) || is_empty_folder(dir)) return;
    fail_dir(restart ? "'" + dir + "' is not an lrlab results folder (it has no " + kResultsMarker +
                           " marker) and is not empty, so --restart deletes nothing in it; choose a new or empty "
                           "folder with --out"
                     : "'" + dir + "' is not empty and is not an lrlab results folder (it has no " + kResultsMarker +
                           " marker), so lrlab will not write into it; choose a new or empty folder with --out");
  }
  fs::create_directories(dir, ec);
  if (ec) fail_dir("cannot create the results folder '" + dir + "': " + ec.message());
  if (!fs::is_directory(dir, ec)) fail_dir("the results folder '" + dir + "' is not a folder");
}

bool is_results_folder(const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir + "/" + kResultsMarker, ec)) return true;
  if (!fs::exists(dir + "/study.yaml", ec) || !fs::exists(dir + "/meta.yaml", ec)) return false;
  try {
    const YAML::Node meta = YAML::LoadFile(dir + "/meta.yaml");
    return meta.IsMap() && meta["lrlab_version"];
  } catch (const YAML::Exception&) {
    return false;
  }
}

bool same_runs(const std::string& document_a, const std::string& document_b) {
  const std::string a = canonical_document(document_a, true);
  return !a.empty() && a == canonical_document(document_b, true);
}

bool adopt_study_document(const std::string& dir, const std::string& document,
                          const std::function<void(const std::string&)>& log) {
  const std::string study_path = dir + "/study.yaml";
  const std::string earlier = read_file_text(study_path);
  if (earlier == document) return true;
  if (!same_runs(earlier, document)) return false;
  if (canonical_document(earlier, false) != canonical_document(document, false)) {
    write_file_atomic(study_path, document);
    log("note: only the summary settings (study.fit, study.figure, output.plots) differ from " + study_path +
        "; the finished runs are kept and study.yaml is rewritten with the new settings");
  }
  return true;
}

void prepare_folder(const std::string& dir, const std::string& document, bool restart,
                    const std::function<void(const std::string&)>& fail_dir,
                    const std::function<void(const std::string&)>& log) {
  create_results_folder(dir, restart, fail_dir);  // again, now under the lock
  if (!restart && reopen_existing(dir, document, log)) return;
  if (restart) delete_results(dir);
  remove_stale_temp_files(dir);
  write_marker(dir);
  write_file_atomic(dir + "/study.yaml", document);
}

std::string resolved_config_text(const Config& first_run, const Config& root, int64_t base_seed) {
  YAML::Node resolved = YAML::Load(first_run.resolved_yaml());
  if (!root.value_text("study").empty()) resolved["study"] = YAML::Load(root.value_text("study"));
  resolved.remove("seed");
  resolved["seed"] = base_seed;
  YAML::Emitter e;
  e << resolved;
  return std::string("# resolved config (defaults filled in)\n") + e.c_str() + "\n";
}

void write_resolved_config(const std::string& dir, const Config& first_run, const Config& root, int64_t base_seed) {
  write_file_atomic(dir + "/config.yaml", resolved_config_text(first_run, root, base_seed));
}

std::set<std::string> check_finished_runs(const std::string& dir, const StudyPlan& plan, const ResumeCheck& check,
                                          const std::function<void(const std::string&)>& log) {
  std::set<std::string> done;
  const std::string runs_path = dir + "/runs.csv", curves_path = dir + "/curves.csv";
  // First: a crash in the middle of a live append leaves a truncated last line, which no reader accepts.
  if (fs::exists(curves_path)) repair_truncated_last_line(curves_path);
  if (fs::exists(runs_path)) {
    Table runs = read_csv(runs_path);
    require_header(runs_path, runs, check.runs_header, check.fix_command);
    const size_t c = column_of(runs_path, runs, "run");
    std::set<std::string> planned;
    for (const RunSpec& run : plan.runs) planned.insert(run.id);
    std::vector<std::string> foreign;
    for (const auto& row : runs.rows)
      if (!planned.count(row[c]) && std::find(foreign.begin(), foreign.end(), row[c]) == foreign.end())
        foreign.push_back(row[c]);
    if (!foreign.empty())
      throw Error(fmt::format("{} holds {} run(s) that are not in this study's plan ({}): results of another "
                              "config were mixed in, and the folder cannot be resumed; discard the folder's "
                              "results with `{}`, or choose another folder with --out",
                              runs_path, foreign.size(), some_of(foreign), check.fix_command));
    if (fs::exists(curves_path)) require_header(curves_path, read_csv(curves_path), curves_header(), check.fix_command);
    const Repairs repairs = find_repairs(dir, runs, c, check);
    for (const auto& [reason, ids] : repairs.by_reason)
      log(fmt::format("resume check: {} finished run(s) are trained again because {}: {}", ids.size(), reason,
                      some_of(ids)));
    if (!repairs.runs.empty()) {
      Table kept{runs.columns, {}};
      for (auto& row : runs.rows)
        if (!repairs.runs.count(row[c])) kept.rows.push_back(std::move(row));
      write_file_atomic(runs_path, to_csv_text(kept));  // first: those runs now count as unfinished
      std::error_code ec;
      for (const std::string& id : repairs.runs) fs::remove(dir + "/tensors/" + id + ".safetensors", ec);
      runs.rows = std::move(kept.rows);
    }
    for (const auto& row : runs.rows) done.insert(row[c]);
  }
  if (fs::exists(curves_path)) {
    Table curves = read_csv(curves_path);
    const size_t c = column_of(curves_path, curves, "run");
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
