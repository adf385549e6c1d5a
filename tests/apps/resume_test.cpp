// Interruption loses nothing, and results do not depend on --jobs. Runs the real `lrlab` binary on a
// small study of four groups: an uninterrupted reference; runs killed (SIGKILL) at pseudo-random
// moments, checked for consistency and then resumed; a SIGTERM stop and resume; a results folder
// deleted mid-study. Resumed results must equal the reference byte for byte.

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "framework/csv.h"
#include "tests/apps/run_binary.h"

namespace fs = std::filesystem;
using lrlab::test::Child;
using lrlab::test::ProcessResult;
using lrlab::test::slurp;

namespace {

// Four groups (one per d) of three seeds; long enough (about a second) to be killed mid-way.
const char* const kStudy =
    "name: resume\n"
    "seed: 3\n"
    "dtype: float32\n"
    "base: {d: 16, k: 3}\n"
    "teacher: {rank: 1, xi: 1.0}\n"
    "adapter: {type: rank1}\n"
    "trainer: {steps: 2500, lr: 2.0, lr_scaling: inverse_d}\n"
    "metrics: {names: [overlap, test_loss, train_loss], every: 50, test_samples: 200,\n"
    "          thresholds: {overlap: [0.5, 0.9]}}\n"
    "output: {plots: false, save_tensors: true}\n"
    "study: {sweep: {base.d: [8, 12, 16, 20]}, seeds: 3}\n";

struct Files {
  std::string runs, curves;
};

Files results_of(const std::string& dir) { return {slurp(dir + "/runs.csv"), slurp(dir + "/curves.csv")}; }

std::vector<std::string> run_args(const std::string& config, const std::string& dir, int jobs) {
  return {"run", config, "--out", dir, "--jobs", std::to_string(jobs), "-q"};
}

/// Rows of a CSV table keyed by their first cell(s): run id for runs.csv, run+step+metric for curves.
std::map<std::string, std::vector<std::string>> rows_by_key(const lrlab::Table& t, int key_cells) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& row : t.rows) {
    std::string key;
    for (int i = 0; i < key_cells; ++i) key += row[static_cast<size_t>(i)] + "|";
    out[key] = row;
  }
  return out;
}

/// What a killed study may leave: only whole rows, each equal to the reference's; never result
/// files without study.yaml.
void check_partial_folder(const std::string& dir, const Files& reference) {
  if (!fs::exists(dir)) return;
  const bool has_study = fs::exists(dir + "/study.yaml");
  if (fs::exists(dir + "/runs.csv") || fs::exists(dir + "/curves.csv")) CHECK(has_study);
  const auto ref_runs = rows_by_key(lrlab::parse_csv(reference.runs, "reference runs.csv"), 1);
  const auto ref_curves = rows_by_key(lrlab::parse_csv(reference.curves, "reference curves.csv"), 3);
  std::set<std::string> finished;
  if (fs::exists(dir + "/runs.csv")) {
    const lrlab::Table runs = lrlab::read_csv(dir + "/runs.csv");  // throws on a partial row
    for (const auto& [key, row] : rows_by_key(runs, 1)) {
      INFO("runs.csv row " << key);
      REQUIRE(ref_runs.count(key));
      CHECK(row == ref_runs.at(key));
      finished.insert(row[0]);
    }
  }
  if (fs::exists(dir + "/curves.csv")) {
    const lrlab::Table curves = lrlab::read_csv(dir + "/curves.csv");
    for (const auto& [key, row] : rows_by_key(curves, 3)) {
      if (!finished.count(row[0])) continue;  // rows of unfinished runs are pruned on resume
      INFO("curves.csv row " << key);
      REQUIRE(ref_curves.count(key));
      CHECK(row == ref_curves.at(key));
    }
  }
}

}  // namespace

TEST_CASE("killed, stopped or resumed studies give the uninterrupted results; --jobs changes nothing",
          "[resume][determinism]") {
  const std::string root = lrlab::test::fresh_dir("resume");
  const std::string config = root + "/study.yaml";
  lrlab::test::write_text(config, kStudy);

  // The uninterrupted reference, one job.
  const auto start = std::chrono::steady_clock::now();
  ProcessResult ref = lrlab::test::run_lrlab(run_args(config, root + "/reference", 1), root + "/ref", 120);
  const double ref_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO("reference stderr: " << ref.err);
  REQUIRE(ref.exit_code == 0);
  const Files reference = results_of(root + "/reference");
  REQUIRE(lrlab::parse_csv(reference.runs).rows.size() == 12);
  REQUIRE(lrlab::parse_csv(reference.curves).rows.size() > 12 * 50);

  {  // --jobs 2 gives bit-identical runs.csv and curves.csv
    ProcessResult two = lrlab::test::run_lrlab(run_args(config, root + "/jobs2", 2), root + "/jobs2", 120);
    REQUIRE(two.exit_code == 0);
    const Files files = results_of(root + "/jobs2");
    CHECK(files.runs == reference.runs);
    CHECK(files.curves == reference.curves);
    // meta.yaml says what determinism depends on.
    CHECK_THAT(slurp(root + "/jobs2/meta.yaml"), Catch::Matchers::Contains("determinism:"));
    CHECK_THAT(slurp(root + "/jobs2/meta.yaml"), Catch::Matchers::Contains("not on --jobs"));
  }

  {  // SIGKILL at pseudo-random moments, then resume
    std::mt19937 rng(20261127);
    std::uniform_real_distribution<double> moment(0.02, std::max(0.1, ref_seconds));
    for (int trial = 0; trial < 5; ++trial) {
      const std::string dir = root + "/kill" + std::to_string(trial);
      const double after = moment(rng);
      INFO("trial " << trial << ": SIGKILL after " << after << " s (reference took " << ref_seconds << " s)");
      {
        Child child(run_args(config, dir, 2), dir + "_1");
        std::this_thread::sleep_for(std::chrono::duration<double>(after));
        child.kill(SIGKILL);
        child.wait(30);
      }
      check_partial_folder(dir, reference);
      ProcessResult resumed = lrlab::test::run_lrlab(run_args(config, dir, 2), dir + "_2", 120);
      INFO("resume stderr: " << resumed.err);
      REQUIRE(resumed.exit_code == 0);
      const Files files = results_of(dir);
      CHECK(files.runs == reference.runs);
      CHECK(files.curves == reference.curves);
      // No temporary file survives a resume.
      for (const auto& e : fs::directory_iterator(dir))
        CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
    }
  }

  {  // SIGTERM finishes the current write and prints the resume command; resuming completes the study
    const std::string dir = root + "/term";
    Child child(run_args(config, dir, 1) , dir + "_1");
    // Stop once at least one group is saved, so there is something to keep.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!fs::exists(dir + "/runs.csv") && !child.poll() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    child.kill(SIGTERM);
    ProcessResult stopped = child.wait(60);
    INFO("stderr: " << stopped.err);
    CHECK(stopped.signal == 0);
    CHECK(stopped.exit_code == 128 + SIGTERM);
    CHECK_THAT(stopped.err, Catch::Matchers::Contains("Resume with:"));
    CHECK_THAT(stopped.err, Catch::Matchers::Contains(config + " --out " + dir + " --jobs 1 -q"));
    CHECK_THAT(stopped.err, Catch::Matchers::Contains("finished and saved in " + dir));
    check_partial_folder(dir, reference);
    const size_t saved = lrlab::read_csv(dir + "/runs.csv").rows.size();
    CHECK(saved >= 3);
    CHECK(saved < 12);
    ProcessResult resumed = lrlab::test::run_lrlab(run_args(config, dir, 1), dir + "_2", 120);
    REQUIRE(resumed.exit_code == 0);
    const Files files = results_of(dir);
    CHECK(files.runs == reference.runs);
    CHECK(files.curves == reference.curves);
  }

  {  // a results folder deleted mid-study is reported, not recreated
    const std::string dir = root + "/vanish";
    Child child(run_args(config, dir, 1), dir + "_1");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!fs::exists(dir + "/runs.csv") && !child.poll() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    // The study keeps writing (temp file + rename) meanwhile: retry until the folder is gone.
    std::error_code ec;
    for (int attempt = 0; attempt < 100 && fs::exists(dir); ++attempt) fs::remove_all(dir, ec);
    ProcessResult r = child.wait(60);
    INFO("stderr: " << r.err);
    CHECK(r.signal == 0);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Matchers::Contains(dir));
    CHECK_THAT(r.err, Catch::Matchers::Contains("disappeared"));
    CHECK_FALSE(fs::exists(dir + "/runs.csv"));
    CHECK_FALSE(fs::exists(dir + "/curves.csv"));
  }
  fs::remove_all(root);
}
