// A results folder cannot be corrupted by a second writer or lose a user's files, and a failure at
// the end of a study leaves its runs usable. Runs the real `lrlab` binary: two runs on one folder,
// --restart while another run holds it, --restart on a user's folder, name=.., a killed run's stale
// lock, and `lrlab summarize` after a summary that failed.

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "framework/csv.h"
#include "tests/apps/run_binary.h"

namespace fs = std::filesystem;
using lrlab::test::Child;
using lrlab::test::ProcessResult;
using lrlab::test::run_lrlab;
using lrlab::test::slurp;

namespace {

// Four groups of three seeds, long enough (a few seconds) for a second process to meet the first.
const char* const kLongStudy =
    "name: safety\n"
    "seed: 3\n"
    "dtype: float32\n"
    "base: {d: 16, k: 3}\n"
    "teacher: {rank: 1, xi: 1.0}\n"
    "adapter: {type: rank1}\n"
    "trainer: {steps: 40000, lr: 2.0, lr_scaling: inverse_d}\n"
    "metrics: {names: [overlap, test_loss], every: 20, test_samples: 200, thresholds: {overlap: [0.5]}}\n"
    "output: {plots: false, save_tensors: false}\n"
    "study: {sweep: {base.d: [8, 12, 16, 20]}, seeds: 3}\n";

// A quick study of two groups.
const char* const kShortStudy =
    "name: safety_short\n"
    "seed: 1\n"
    "dtype: float64\n"
    "base: {d: 6, k: 2}\n"
    "teacher: {rank: 1, xi: 1.0}\n"
    "adapter: {type: rank1}\n"
    "trainer: {steps: 40, lr: 0.5}\n"
    "metrics: {names: [overlap], every: 10, test_samples: 20, thresholds: {overlap: [0.5]}}\n"
    "output: {plots: false, save_tensors: false}\n"
    "study: {sweep: {base.d: [6, 8]}, seeds: 2}\n";

/// Waits until `dir`/.lock names a holder (the run has locked the folder); false on timeout.
bool wait_for_lock(const std::string& dir, Child& child) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline && !child.poll()) {
    if (slurp(dir + "/.lock").find("pid: " + std::to_string(child.pid())) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

/// The run ids of runs.csv, checking that none repeats.
std::set<std::string> unique_runs(const std::string& dir) {
  const lrlab::Table runs = lrlab::read_csv(dir + "/runs.csv");
  std::set<std::string> ids;
  for (const auto& row : runs.rows) CHECK(ids.insert(row[0]).second);
  return ids;
}

}  // namespace

TEST_CASE("a second run fails naming the holder (also with --restart) and a killed run's lock is taken over",
          "[results_folder_safety]") {
  const std::string root = lrlab::test::fresh_dir("safety_lock");
  const std::string config = root + "/study.yaml";
  lrlab::test::write_text(config, kLongStudy);
  const std::string dir = root + "/out";
  const std::vector<std::string> args{"run", config, "--out", dir, "--jobs", "1", "-q"};
  {
    // The holder must outlast two lrlab start-ups on a loaded machine: far more steps, stopped by SIGTERM.
    std::string hold_text = kLongStudy;
    hold_text.replace(hold_text.find("steps: 40000"), 12, "steps: 4000000");
    lrlab::test::write_text(root + "/hold.yaml", hold_text);
    std::vector<std::string> hold_args = args;
    hold_args[1] = root + "/hold.yaml";
    Child first(hold_args, root + "/first");
    REQUIRE(wait_for_lock(dir, first));
    for (const std::string extra : {"", "--restart"}) {
      std::vector<std::string> second_args = args;
      if (!extra.empty()) second_args.push_back(extra);
      const ProcessResult second = run_lrlab(second_args, root + "/second", 120);
      INFO("second run " << extra << ": " << second.err);
      CHECK(second.exit_code == 1);
      CHECK_THAT(second.err, Catch::Contains("the results folder " + dir + " is in use by pid " +
                                             std::to_string(first.pid())));
      CHECK_THAT(second.err, Catch::Contains("lrlab run"));
    }
    CHECK_FALSE(first.poll());  // the holder was still running throughout
    first.kill(SIGTERM);
    const ProcessResult r = first.wait(300);
    INFO("first run: " << r.err);
    CHECK(r.exit_code == 128 + SIGTERM);
    if (fs::exists(dir + "/runs.csv")) CHECK(unique_runs(dir).size() <= 12);  // no rows of the second writer
    CHECK_FALSE(fs::exists(dir + "/summary.md"));                            // --restart deleted nothing
  }
  {  // SIGKILL once the folder is locked: the next run warns and resumes
    const std::string killed = root + "/killed";
    std::vector<std::string> kill_args = args;
    kill_args[3] = killed;
    {
      Child child(kill_args, root + "/killed_1");
      REQUIRE(wait_for_lock(killed, child));
      child.kill(SIGKILL);
      child.wait(30);
    }
    CHECK(slurp(killed + "/.lock").find("pid: ") != std::string::npos);  // the stale holder's text
    kill_args.pop_back();                                                  // not quiet: the warning is in the log
    const ProcessResult resumed = run_lrlab(kill_args, root + "/killed_2", 300);
    INFO("resume: " << resumed.out << resumed.err);
    REQUIRE(resumed.exit_code == 0);
    CHECK_THAT(resumed.out, Catch::Contains("warning: the results folder " + killed));
    CHECK_THAT(resumed.out, Catch::Contains("stopped without releasing its lock"));
    CHECK(unique_runs(killed).size() == 12);
    CHECK(slurp(killed + "/.lock").empty());  // released cleanly this time
  }
  fs::remove_all(root);
}

TEST_CASE("a folder lrlab did not create is never touched by --restart or name=..", "[results_folder_safety]") {
  const std::string root = lrlab::test::fresh_dir("safety_user");
  const std::string config = root + "/study.yaml";
  lrlab::test::write_text(config, kShortStudy);
  const std::string user = root + "/user";
  fs::create_directories(user + "/tensors");
  fs::create_directories(user + "/runs");
  lrlab::test::write_text(user + "/summary.md", "my notes\n");
  lrlab::test::write_text(user + "/tensors/user_data.bin", "data");

  const ProcessResult restart = run_lrlab({"run", config, "--out", user, "--restart", "-q"}, root + "/restart", 60);
  INFO("restart: " << restart.err);
  CHECK(restart.exit_code == 1);
  CHECK_THAT(restart.err, Catch::Contains("--out " + user) && Catch::Contains("not an lrlab results folder") &&
                              Catch::Contains("--restart deletes nothing"));

  // name=.. would make runs/.. (the current folder) the results folder.
  const ProcessResult dotdot = run_lrlab({"run", config, "name=..", "--restart", "-q"}, root + "/dotdot", 60, user);
  INFO("name=..: " << dotdot.err);
  CHECK(dotdot.exit_code == 1);
  CHECK_THAT(dotdot.err, Catch::Contains("name") && Catch::Contains("single folder name"));

  CHECK(slurp(user + "/summary.md") == "my notes\n");
  CHECK(slurp(user + "/tensors/user_data.bin") == "data");
  CHECK_FALSE(fs::exists(user + "/study.yaml"));
  CHECK_FALSE(fs::exists(user + "/.lock"));
  fs::remove_all(root);
}

TEST_CASE("a summary that fails at the end leaves the runs usable and lrlab summarize redoes it",
          "[results_folder_safety]") {
  const std::string root = lrlab::test::fresh_dir("safety_summary");
  const std::string config = root + "/study.yaml";
  const std::string dir = root + "/out";
  lrlab::test::write_text(config, kShortStudy);
  REQUIRE(run_lrlab({"run", config, "--out", dir, "-q"}, root + "/first", 120).exit_code == 0);
  const std::string runs = slurp(dir + "/runs.csv");

  // A fit added afterwards is accepted on resume (nothing is trained again); the summary then fails
  // at the end (summary.csv cannot be replaced: a folder is in its way).
  const std::string with_fit = root + "/with_fit.yaml";
  std::string text = kShortStudy;
  text.replace(text.find("seeds: 2}"), 9, "seeds: 2, fit: {x: base.d, y: steps_to_overlap_0.5}}");
  lrlab::test::write_text(with_fit, text);
  fs::remove(dir + "/summary.csv");
  fs::create_directories(dir + "/summary.csv/blocked");
  const ProcessResult broken = run_lrlab({"run", with_fit, "--out", dir}, root + "/broken", 120);
  INFO("broken: " << broken.out << broken.err);
  CHECK(broken.exit_code == 1);
  CHECK_THAT(broken.out, Catch::Contains("only the summary settings"));
  CHECK_THAT(broken.out, Catch::Contains("(4 already done)"));
  CHECK_THAT(broken.err, Catch::Contains("the 4 runs are finished and saved in " + dir));
  CHECK_THAT(broken.err, Catch::Contains("lrlab summarize " + dir));
  CHECK(slurp(dir + "/runs.csv") == runs);

  fs::remove_all(dir + "/summary.csv");
  // A config of other runs is refused; a fit of a column that does not exist fails; the runs stay.
  std::string other = text;
  other.replace(other.find("lr: 0.5"), 7, "lr: 0.4");
  lrlab::test::write_text(root + "/other.yaml", other);
  const ProcessResult refused = run_lrlab({"summarize", dir, "--config", root + "/other.yaml"}, root + "/other", 60);
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains("other runs"));
  const ProcessResult bad_fit =
      run_lrlab({"summarize", dir, "study.fit={x: base.d, y: steps_to_overlap_0.7}"}, root + "/bad_fit", 60);
  CHECK(bad_fit.exit_code == 1);
  CHECK_THAT(bad_fit.err, Catch::Contains("steps_to_overlap_0.7"));
  CHECK(slurp(dir + "/runs.csv") == runs);

  // The folder's own (rewritten) study.yaml carries the fit.
  const ProcessResult fixed = run_lrlab({"summarize", dir}, root + "/fixed", 60);
  INFO("summarize: " << fixed.out << fixed.err);
  CHECK(fixed.exit_code == 0);
  CHECK(lrlab::read_csv(dir + "/fits.csv").rows.size() == 1);
  CHECK(lrlab::read_csv(dir + "/summary.csv").rows.size() > 0);
  CHECK_THAT(slurp(dir + "/summary.md"), Catch::Contains("steps_to_overlap_0.5"));
  CHECK(slurp(dir + "/runs.csv") == runs);

  // A figure added by the corrected config is drawn by that same call (before study.yaml, which the
  // plots would otherwise read, is rewritten).
  const ProcessResult figure = run_lrlab(
      {"summarize", dir, "output.plots=true", "+study.figure={x: base.d, y: steps_to_overlap_0.5}"}, root + "/figure",
      60);
  INFO("summarize with a figure: " << figure.out << figure.err);
  CHECK(figure.exit_code == 0);
  CHECK(fs::exists(dir + "/plots/figure.dat"));
  CHECK(fs::exists(dir + "/plots/figure.gp"));
  CHECK_THAT(slurp(dir + "/study.yaml"), Catch::Contains("figure"));
  CHECK(slurp(dir + "/runs.csv") == runs);

  // Not a results folder: refused, nothing written.
  fs::create_directories(root + "/plain");
  const ProcessResult plain = run_lrlab({"summarize", root + "/plain", "--config", config}, root + "/plain", 60);
  CHECK(plain.exit_code == 1);
  CHECK_THAT(plain.err, Catch::Contains("not an lrlab results folder"));
  CHECK(fs::is_empty(root + "/plain"));
  fs::remove_all(root);
}
