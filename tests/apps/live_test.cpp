// Watching a study through the real binary: curves.csv grows while a long group runs, progress.json
// says running / interrupted / finished, `lrlab status` reports a running, interrupted, crashed (stale)
// and finished folder, and live appends leave the final files byte-identical.

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "framework/csv.h"
#include "study/live_status.h"
#include "tests/apps/run_binary.h"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using lrlab::test::Child;
using lrlab::test::slurp;

namespace {

/// Whole rows of a CSV file being appended to (a reader may catch a write half-way).
size_t whole_rows(const std::string& path) {
  const std::string text = slurp(path);
  const size_t end = text.rfind('\n');
  if (end == std::string::npos) return 0;
  return lrlab::parse_csv(text.substr(0, end + 1), path).rows.size();
}

/// Waits (up to `seconds`) until `done()` or the child ends; returns done().
template <class Done>
bool wait_until(Child& child, double seconds, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!done() && !child.poll() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return done();
}

lrlab::study::LiveSnapshot progress_of(const std::string& dir) {
  return lrlab::study::parse_progress_json(slurp(dir + "/progress.json"), dir + "/progress.json");
}

/// progress.json says a group is running past step 0.
bool group_running(const std::string& dir) {
  if (!fs::exists(dir + "/progress.json")) return false;
  const auto s = progress_of(dir);
  return s.state == "running" && s.running.size() == 1 && s.running[0].step > 0;
}

// One group of three seeds, far too long to finish during the test (it is stopped).
const char* const kLongStudy =
    "{name: live, seed: 5, dtype: float32, base: {d: 16, k: 3}, teacher: {rank: 1, xi: 1.0}, adapter: {type: rank1},\n"
    " trainer: {steps: 50000000, lr: 2.0, lr_scaling: inverse_d},\n"
    " metrics: {names: [overlap, test_loss], every: 200, test_samples: 100},\n"
    " output: {plots: false, save_tensors: false, flush_seconds: 0.2}, study: {seeds: 3}}\n";

// Four groups of three seeds (about a second), for the byte-identical comparison.
const char* const kShortStudy =
    "{name: live_short, seed: 3, dtype: float32, base: {d: 16, k: 3}, teacher: {rank: 1, xi: 1.0},\n"
    " adapter: {type: rank1}, trainer: {steps: 2500, lr: 2.0, lr_scaling: inverse_d},\n"
    " metrics: {names: [overlap, test_loss, train_loss], every: 50, test_samples: 200,\n"
    "           thresholds: {overlap: [0.5, 0.9]}},\n"
    " output: {plots: false, save_tensors: false}, study: {sweep: {base.d: [8, 12, 16, 20]}, seeds: 3}}\n";

lrlab::test::ProcessResult status_of(const std::string& dir, const std::string& capture) {
  return lrlab::test::run_lrlab({"status", dir}, capture, 60);
}

}  // namespace

TEST_CASE("a running group's curves reach curves.csv while it runs; progress.json and lrlab status follow it",
          "[live][apps]") {
  const std::string root = lrlab::test::fresh_dir("live");
  const std::string config = root + "/long.yaml", dir = root + "/long";
  lrlab::test::write_text(config, kLongStudy);
  {
    Child child({"run", config, "--out", dir, "--jobs", "1"}, root + "/run1");
    // Partial curves, growing, with no run finished yet.
    REQUIRE(wait_until(child, 90, [&] { return whole_rows(dir + "/curves.csv") >= 3 * 2 * 3; }));
    const size_t first = whole_rows(dir + "/curves.csv");
    REQUIRE(wait_until(child, 60, [&] { return whole_rows(dir + "/curves.csv") > first; }));
    CHECK_FALSE(fs::exists(dir + "/runs.csv"));
    const lrlab::Table partial = lrlab::parse_csv(slurp(dir + "/curves.csv").substr(0, slurp(dir + "/curves.csv").rfind('\n') + 1));
    CHECK(partial.columns == std::vector<std::string>{"run", "step", "metric", "value"});

    REQUIRE(wait_until(child, 60, [&] { return group_running(dir); }));
    const auto s = progress_of(dir);
    CHECK(s.runs_total == 3);
    CHECK(s.runs_done == 0);
    CHECK(s.groups_total == 1);
    CHECK(s.running[0].runs == 3);
    CHECK(s.running[0].steps == 50000000);
    CHECK(s.running[0].rate > 0);
    CHECK(s.running[0].metrics.count("overlap"));
    CHECK(s.pid == static_cast<long>(child.pid()));

    auto status = status_of(dir, root + "/status1");
    INFO("status: " << status.out << status.err);
    CHECK(status.exit_code == 0);
    CHECK_THAT(status.out, Contains(dir + ": running (pid " + std::to_string(child.pid())));
    CHECK_THAT(status.out, Contains("runs 0/3, groups 0/1, ETA "));
    CHECK_THAT(status.out, Contains("group 1/1 (3 runs): step "));
    CHECK_THAT(status.out, Contains("overlap "));

    child.kill(SIGINT);
    auto stopped = child.wait(60);
    INFO("stderr: " << stopped.err);
    CHECK(stopped.exit_code == 128 + SIGINT);
    CHECK(progress_of(dir).state == "interrupted");
    CHECK(progress_of(dir).running.empty());
    auto after = status_of(dir, root + "/status2");
    CHECK(after.exit_code == 0);
    CHECK_THAT(after.out, Contains(dir + ": interrupted"));
  }
  {  // resumed, then killed outright: progress.json still says running, and status says stale
    Child child({"run", config, "--out", dir, "--jobs", "1", "-q"}, root + "/run2");
    REQUIRE(wait_until(child, 90, [&] { return group_running(dir); }));
    child.kill(SIGKILL);
    child.wait(30);
    auto status = status_of(dir, root + "/status3");
    INFO("status: " << status.out << status.err);
    CHECK(status.exit_code == 0);
    CHECK_THAT(status.out, Contains(dir + ": stale"));
    CHECK_THAT(status.out, Contains("pid " + std::to_string(child.pid())));
  }
  {  // not a results folder: non-zero
    fs::create_directories(root + "/empty");
    auto status = status_of(root + "/empty", root + "/status4");
    CHECK(status.exit_code != 0);
    CHECK_THAT(status.err, Contains("not a results folder"));
  }
  fs::remove_all(root);
}

TEST_CASE("live appends at every record leave curves.csv and runs.csv byte-identical; progress.json ends finished",
          "[live][apps]") {
  const std::string root = lrlab::test::fresh_dir("live_short");
  const std::string config = root + "/short.yaml";
  lrlab::test::write_text(config, kShortStudy);
  auto ref = lrlab::test::run_lrlab({"run", config, "--out", root + "/ref", "--jobs", "1", "-q"}, root + "/ref", 120);
  REQUIRE(ref.exit_code == 0);
  // Every record appended at once (flush_seconds 0), two groups appending in parallel.
  auto live = lrlab::test::run_lrlab(
      {"run", config, "output.flush_seconds=0", "--out", root + "/live", "--jobs", "2", "-q"}, root + "/live", 120);
  INFO("stderr: " << live.err);
  REQUIRE(live.exit_code == 0);
  CHECK(slurp(root + "/live/curves.csv") == slurp(root + "/ref/curves.csv"));
  CHECK(slurp(root + "/live/runs.csv") == slurp(root + "/ref/runs.csv"));
  CHECK(lrlab::parse_csv(slurp(root + "/ref/curves.csv")).rows.size() > 12 * 50);

  const auto s = progress_of(root + "/live");
  CHECK(s.state == "finished");
  CHECK(s.runs_done == 12);
  CHECK(s.runs_total == 12);
  CHECK(s.groups_done == 4);
  CHECK(s.running.empty());
  auto status = status_of(root + "/live", root + "/status");
  CHECK(status.exit_code == 0);
  CHECK_THAT(status.out, Contains(root + "/live: finished"));
  CHECK_THAT(status.out, Contains("runs 12/12, groups 4/4\n"));
  fs::remove_all(root);
}
