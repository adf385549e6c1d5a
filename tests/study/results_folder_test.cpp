// Tests of study/results_folder's safety: the one-writer lock, the marker and what --restart may
// delete, stale temporary files, the resume checks (duplicated, foreign and incomplete runs), the
// summary-only config changes a resume accepts, and the keys that must not be swept.

#include "study/results_folder.h"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "framework/atomic_file.h"
#include "framework/csv.h"
#include "study/plan.h"
#include "study/runner.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using lrlab::Config;
using lrlab::testing::TempDir;
namespace study = lrlab::study;

namespace {

// Two groups (one per d) of two seeds, a few steps each.
const char* const kStudy =
    "name: folder_test\n"
    "seed: 1\n"
    "dtype: float64\n"
    "base: {d: 6, k: 2}\n"
    "teacher: {rank: 1, xi: 1.0}\n"
    "adapter: {type: rank1}\n"
    "trainer: {steps: 30, lr: 0.5}\n"
    "metrics: {names: [overlap], every: 10, test_samples: 20, thresholds: {overlap: [0.5]}}\n"
    "output: {plots: false, save_tensors: true}\n"
    "study: {sweep: {base.d: [6, 8]}, seeds: 2}\n";

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

/// Runs `config_text` into `dir`; returns the log lines.
std::vector<std::string> run(const std::string& dir, const std::string& config_text = kStudy, bool restart = false) {
  study::StudyRunOptions options;
  options.out_dir = dir;
  options.jobs = 1;
  options.restart = restart;
  options.command_line = "lrlab run folder_test.yaml --out " + dir;
  std::vector<std::string> log;
  study::run_study(Config::load_string(config_text, "folder_test.yaml"), options,
                   [&](const std::string& line) { log.push_back(line); });
  return log;
}

bool logged(const std::vector<std::string>& log, const std::string& part) {
  for (const auto& line : log)
    if (line.find(part) != std::string::npos) return true;
  return false;
}

const auto kNoFail = [](const std::string& message) { throw lrlab::Error(message); };
const auto kNoLog = [](const std::string&) {};

/// The pid of a child process that has already exited (and been reaped): a dead writer's pid.
long dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

}  // namespace

TEST_CASE("a results folder has one writer: a second lock fails naming the holder", "[study][results_folder]") {
  TempDir tmp;
  const std::string dir = tmp.path + "/out";
  {
    const auto first = study::lock_results(dir, "", "lrlab run first.yaml", kNoLog);
    CHECK_THROWS_WITH(study::lock_results(dir, "", "lrlab run second.yaml", kNoLog),
                      Catch::Contains("results folder " + dir + " is in use by pid " + std::to_string(::getpid())) &&
                          Catch::Contains("lrlab run first.yaml"));
    // A writer's part of the folder (a shard) has its own lock.
    const auto shard = study::lock_results(dir, "shards/1-of-2", "lrlab run --shard 1/2", kNoLog);
    CHECK(fs::exists(dir + "/shards/1-of-2/.lock"));
    CHECK_THROWS_WITH(study::lock_results(dir, "shards/1-of-2", "x", kNoLog),
                      Catch::Contains("shards/1-of-2") && Catch::Contains("in use by"));
  }
  // Released: the next writer takes it without a warning.
  std::vector<std::string> warnings;
  study::lock_results(dir, "", "third", [&](const std::string& w) { warnings.push_back(w); });
  CHECK(warnings.empty());
}

TEST_CASE("restart refuses a folder lrlab did not create and leaves its files untouched", "[study][results_folder]") {
  TempDir tmp;
  const std::string dir = tmp.path + "/user";
  fs::create_directories(dir + "/tensors");
  write(dir + "/summary.md", "my notes\n");
  write(dir + "/tensors/user_data.bin", "data");
  for (bool restart : {true, false}) {
    INFO("restart " << restart);
    CHECK_THROWS_WITH(study::create_results_folder(dir, restart, kNoFail),
                      Catch::Contains("not an lrlab results folder") && Catch::Contains("--out"));
    CHECK_THROWS_WITH(run(dir, kStudy, restart), Catch::Contains(dir) && Catch::Contains(study::kResultsMarker));
  }
  CHECK(lrlab::read_file_text(dir + "/summary.md") == "my notes\n");
  CHECK(lrlab::read_file_text(dir + "/tensors/user_data.bin") == "data");
  CHECK_FALSE(fs::exists(dir + "/study.yaml"));
  CHECK_FALSE(fs::exists(dir + "/.lock"));  // nothing at all was written
  // An empty folder (or one holding only a lock file) is fine.
  fs::create_directories(tmp.path + "/empty");
  write(tmp.path + "/empty/.lock", "");
  CHECK_NOTHROW(study::create_results_folder(tmp.path + "/empty", true, kNoFail));
}

TEST_CASE("restart deletes only the files lrlab wrote", "[study][results_folder]") {
  TempDir tmp;
  const std::string dir = tmp.path + "/out";
  run(dir);
  CHECK(fs::exists(dir + "/" + study::kResultsMarker));
  CHECK(fs::exists(dir + "/tensors/p000_s00.safetensors"));
  write(dir + "/notes.txt", "keep me\n");
  write(dir + "/tensors/extra.bin", "keep me too\n");
  write(dir + "/tensors/p099_s00.safetensors", "a stale run's tensors");
  const std::string runs = lrlab::read_file_text(dir + "/runs.csv");
  const auto log = run(dir, kStudy, true);
  CHECK(lrlab::read_file_text(dir + "/runs.csv") == runs);  // the same study again
  CHECK(lrlab::read_file_text(dir + "/notes.txt") == "keep me\n");
  CHECK(lrlab::read_file_text(dir + "/tensors/extra.bin") == "keep me too\n");
  CHECK_FALSE(fs::exists(dir + "/tensors/p099_s00.safetensors"));  // a run file of this layout
}

TEST_CASE("an lrlab folder from before the marker is accepted and gets the marker", "[study][results_folder]") {
  TempDir tmp;
  const std::string dir = tmp.path + "/old";
  run(dir);
  fs::remove(dir + "/" + study::kResultsMarker);
  CHECK(study::is_results_folder(dir));  // study.yaml + an lrlab meta.yaml
  run(dir);
  CHECK(fs::exists(dir + "/" + study::kResultsMarker));
  // Without lrlab's meta.yaml it is a user's folder.
  fs::remove(dir + "/" + study::kResultsMarker);
  write(dir + "/meta.yaml", "mine: true\n");
  CHECK_FALSE(study::is_results_folder(dir));
}

TEST_CASE("stale temporary files of dead processes are removed but a live process's never", "[study][results_folder]") {
  TempDir tmp;
  const std::string dir = tmp.path + "/out";
  run(dir);
  const std::string live = dir + "/runs.csv.tmp." + std::to_string(::getpid()) + ".7";
  const std::string dead = dir + "/curves.csv.tmp." + std::to_string(dead_pid()) + ".0";
  const std::string dead_tensor = dir + "/tensors/p000_s00.safetensors.tmp." + std::to_string(dead_pid()) + ".3";
  const std::string not_temp = dir + "/data.tmp.notes";
  for (const auto& p : {live, dead, dead_tensor, not_temp}) write(p, "x");
  run(dir);  // resume: cleans up
  CHECK(fs::exists(live));
  CHECK_FALSE(fs::exists(dead));
  CHECK_FALSE(fs::exists(dead_tensor));
  CHECK(fs::exists(not_temp));
}

TEST_CASE("resume repairs duplicated rows and runs missing curves or tensors by training them again",
          "[study][results_folder]") {
  TempDir tmp;
  const std::string dir = tmp.path + "/out";
  run(dir);
  const std::string runs = lrlab::read_file_text(dir + "/runs.csv");
  const std::string curves = lrlab::read_file_text(dir + "/curves.csv");
  const lrlab::Table table = lrlab::read_csv(dir + "/runs.csv");
  REQUIRE(table.rows.size() == 4);

  SECTION("a duplicated run id") {
    lrlab::Table doubled = table;
    doubled.rows.push_back(table.rows[1]);
    doubled.rows.back()[1] = "100";  // another writer's seed under the same id
    lrlab::write_file_atomic(dir + "/runs.csv", lrlab::to_csv_text(doubled));
    const auto log = run(dir);
    CHECK(logged(log, "1 finished run(s) are trained again because runs.csv holds more than one row"));
    CHECK(logged(log, table.rows[1][0]));
  }
  SECTION("a finished run's tensors deleted") {
    fs::remove(dir + "/tensors/p001_s01.safetensors");
    const auto log = run(dir);
    CHECK(logged(log, "tensors file"));
    CHECK(logged(log, "p001_s01"));
    CHECK(fs::exists(dir + "/tensors/p001_s01.safetensors"));
  }
  SECTION("a finished run's curves deleted") {
    lrlab::Table c = lrlab::read_csv(dir + "/curves.csv");
    lrlab::Table kept{c.columns, {}};
    for (const auto& row : c.rows)
      if (row[0] != "p000_s00") kept.rows.push_back(row);
    lrlab::write_file_atomic(dir + "/curves.csv", lrlab::to_csv_text(kept));
    const auto log = run(dir);
    CHECK(logged(log, "curves.csv rows are missing: p000_s00"));
  }
  // Trained again, the results are those of the uninterrupted study.
  CHECK(lrlab::read_file_text(dir + "/runs.csv") == runs);
  CHECK(lrlab::read_file_text(dir + "/curves.csv") == curves);
}

TEST_CASE("resume refuses runs of another config with the command that discards them", "[study][results_folder]") {
  TempDir tmp;
  const std::string dir = tmp.path + "/out";
  run(dir);
  lrlab::Table table = lrlab::read_csv(dir + "/runs.csv");
  const std::string curves = lrlab::read_file_text(dir + "/curves.csv");

  SECTION("a run id that is not in the plan") {
    table.rows.push_back(table.rows[0]);
    table.rows.back()[0] = "p007_s00";
    lrlab::write_file_atomic(dir + "/runs.csv", lrlab::to_csv_text(table));
    CHECK_THROWS_WITH(run(dir), Catch::Contains("not in this study's plan (p007_s00)") &&
                                    Catch::Contains("lrlab run folder_test.yaml --out " + dir + " --restart"));
  }
  SECTION("a runs.csv header of another config") {
    table.columns[3] = "base.k";
    lrlab::write_file_atomic(dir + "/runs.csv", lrlab::to_csv_text(table));
    CHECK_THROWS_WITH(run(dir), Catch::Contains("holds results of another config") && Catch::Contains("--restart"));
  }
  // Refused before anything was changed.
  CHECK(lrlab::read_file_text(dir + "/runs.csv") == lrlab::to_csv_text(table));
  CHECK(lrlab::read_file_text(dir + "/curves.csv") == curves);
}

TEST_CASE("a resume accepts a config that changes only study.fit and rewrites study.yaml",
          "[study][results_folder]") {
  TempDir tmp;
  const std::string dir = tmp.path + "/out";
  run(dir);
  const std::string runs = lrlab::read_file_text(dir + "/runs.csv");
  const std::string text = std::string(kStudy).substr(0, std::string(kStudy).rfind("study:")) +
                           "study: {sweep: {base.d: [6, 8]}, seeds: 2, fit: {x: base.d, y: steps_to_overlap_0.5}}\n";
  const auto log = run(dir, text);
  CHECK(logged(log, "only the summary settings"));
  CHECK(logged(log, "(4 already done)"));
  CHECK(lrlab::read_file_text(dir + "/runs.csv") == runs);
  CHECK(lrlab::read_file_text(dir + "/study.yaml") == Config::load_string(text, "x").document_yaml());
  CHECK(lrlab::read_csv(dir + "/fits.csv").rows.size() == 1);
  CHECK(study::same_runs(kStudy, text));
  // study.figure only draws: adding it describes the same runs as well.
  const std::string with_figure = text.substr(0, text.rfind("}}\n")) +
                                  "}, figure: {x: base.d, y: steps_to_overlap_0.5}}\n";
  CHECK(study::same_runs(kStudy, with_figure));
  CHECK_FALSE(study::same_runs(kStudy, text + "replicas: 2\n"));
  // Any other change is still another study.
  std::string other = text;
  other.replace(other.find("lr: 0.5"), 7, "lr: 0.4");
  CHECK_THROWS_WITH(run(dir, other), Catch::Contains("different config"));
}

TEST_CASE("name and output.dir cannot be swept and name is one safe folder name", "[study][results_folder]") {
  std::string base = std::string(kStudy).substr(0, std::string(kStudy).rfind("output:"));
  base += "output: {plots: false, dir: here}\n";  // line 9; the study section starts at line 10
  for (const auto& [study_line, where] : std::vector<std::pair<std::string, std::string>>{
           {"study:\n  sweep:\n    output.dir: [a, b]\n", "study.sweep.output.dir"},
           {"study:\n  zip:\n    name: [a, b]\n", "study.zip.name"},
           {"study:\n  sweep:\n    output:\n      dir: [a, b]\n", "study.sweep.output.dir"}}) {
    INFO(study_line);
    const Config root = Config::load_string(base + study_line, "s.yaml");
    CHECK_THROWS_WITH(study::validate_study(root), Catch::Contains(where) && Catch::Contains("cannot be swept"));
    CHECK_THROWS_WITH(study::validate_study(root), Catch::StartsWith(study_line.find("output:") != std::string::npos
                                                                          ? "s.yaml:13:"
                                                                          : "s.yaml:12:"));
  }
  for (const std::string name : {"..", ".", "a/b", "tab\there"}) {
    INFO(name);
    Config root = Config::load_string(kStudy, "s.yaml");
    root.set("name", "\"" + (name == "tab\there" ? std::string("tab\\there") : name) + "\"");
    CHECK_THROWS_WITH(study::validate_study(root), Catch::Contains("name") && Catch::Contains("single folder name"));
  }
}
