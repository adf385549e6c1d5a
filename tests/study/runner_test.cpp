// Tests of study/runner: the computation path of every group in the run log and in meta.yaml, and
// that meta.yaml plays no part in resuming.

#include "study/runner.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "framework/atomic_file.h"
#include "framework/config.h"

namespace fs = std::filesystem;

namespace {

// Two groups (one per d) of two seeds, a few steps each.
const char* const kStudy =
    "name: runner_test\n"
    "seed: 2\n"
    "dtype: float64\n"
    "base: {d: 6, k: 2}\n"
    "teacher: {rank: 1, xi: 1.0}\n"
    "adapter: {type: rank1}\n"
    "trainer: {steps: 40, lr: 0.5}\n"
    "metrics: {names: [overlap, test_loss], every: 20, test_samples: 20, thresholds: {overlap: [0.5]}}\n"
    "output: {plots: false, save_tensors: false}\n"
    "study: {sweep: {base.d: [6, 8]}, seeds: 2}\n";

std::string fresh(const std::string& tag) {
  const fs::path dir = fs::temp_directory_path() / ("lrlab_runner_test_" + tag);
  fs::remove_all(dir);
  return dir.string();
}

/// Runs kStudy into `dir`; returns the log lines.
std::vector<std::string> run(const std::string& dir, int jobs, bool quiet = false) {
  lrlab::study::StudyRunOptions options;
  options.out_dir = dir;
  options.jobs = jobs;
  options.quiet = quiet;
  std::vector<std::string> log;
  lrlab::study::run_study(lrlab::Config::load_string(kStudy, "runner_test.yaml"), options,
                          [&](const std::string& line) { log.push_back(line); });
  return log;
}

std::vector<std::string> lines_starting(const std::vector<std::string>& log, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& line : log)
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("each group's computation path is logged once and written to meta.yaml", "[study][runner]") {
  for (int jobs : {1, 2}) {
    INFO("jobs " << jobs);
    const std::string dir = fresh("path_" + std::to_string(jobs));
    const auto log = run(dir, jobs);
    const auto path_lines = lines_starting(log, "group ");
    REQUIRE(path_lines.size() == 2);  // once per group
    std::vector<std::string> sorted = path_lines;  // with two jobs the groups may finish in any order
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted[0].rfind("group 1/2 (2 runs, d=6): path ", 0) == 0);
    CHECK(sorted[1].rfind("group 2/2 (2 runs, d=8): path ", 0) == 0);

    const YAML::Node meta = YAML::LoadFile(dir + "/meta.yaml");
    REQUIRE(meta["groups"].IsSequence());
    REQUIRE(meta["groups"].size() == 2);
    CHECK(meta["groups"][0]["group"].as<int>() == 1);
    CHECK(meta["groups"][0]["runs"].as<std::vector<std::string>>() == std::vector<std::string>{"p000_s00", "p000_s01"});
    CHECK(meta["groups"][1]["group"].as<int>() == 2);
    CHECK(meta["groups"][1]["runs"].as<std::vector<std::string>>() == std::vector<std::string>{"p001_s00", "p001_s01"});
    for (const auto& g : meta["groups"]) CHECK_FALSE(g["path"].as<std::string>().empty());
    CHECK(meta["runs"].as<int>() == 4);  // the fixed part is still there
  }
}

TEST_CASE("with --quiet nothing is logged, and meta.yaml still lists the groups", "[study][runner]") {
  const std::string dir = fresh("quiet");
  CHECK(run(dir, 1, true).empty());
  CHECK(YAML::LoadFile(dir + "/meta.yaml")["groups"].size() == 2);
}

TEST_CASE("meta.yaml is not part of the resume check", "[study][runner]") {
  const std::string dir = fresh("resume");
  run(dir, 1, true);
  const std::string runs = lrlab::read_file_text(dir + "/runs.csv");
  const std::string curves = lrlab::read_file_text(dir + "/curves.csv");

  // Drop the second group's rows (as if the study had stopped after the first group) and damage
  // meta.yaml: the study resumes from runs.csv alone and trains only the second group again.
  std::istringstream in(runs);
  std::string line, kept;
  while (std::getline(in, line))
    if (line.rfind("p001_", 0) != 0) kept += line + "\n";
  lrlab::write_file_atomic(dir + "/runs.csv", kept);
  lrlab::write_file_atomic(dir + "/meta.yaml", "{not: [valid yaml\n");
  const auto log = run(dir, 1);
  CHECK(lines_starting(log, "runner_test: 4 runs in 2 groups (2 already done)").size() == 1);
  CHECK(lines_starting(log, "group ").size() == 1);
  CHECK(lrlab::read_file_text(dir + "/runs.csv") == runs);
  CHECK(lrlab::read_file_text(dir + "/curves.csv") == curves);
  const YAML::Node meta = YAML::LoadFile(dir + "/meta.yaml");
  REQUIRE(meta["groups"].size() == 1);
  CHECK(meta["groups"][0]["group"].as<int>() == 2);

  // A resume with nothing left keeps the entries of the earlier session; --restart drops them.
  run(dir, 1, true);
  CHECK(YAML::LoadFile(dir + "/meta.yaml")["groups"].size() == 1);
  lrlab::study::StudyRunOptions restart;
  restart.out_dir = dir;
  restart.quiet = true;
  restart.restart = true;
  lrlab::study::run_study(lrlab::Config::load_string(kStudy, "runner_test.yaml"), restart, [](const std::string&) {});
  CHECK(YAML::LoadFile(dir + "/meta.yaml")["groups"].size() == 2);
  CHECK(lrlab::read_file_text(dir + "/runs.csv") == runs);
}
