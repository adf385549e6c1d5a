// Sharded studies (study/shards.h, study/merge.h): the partition covers every group once and is
// balanced; running every shard of N in {1, 2, 3, 5} in a scrambled order, one of them killed and
// resumed, then merging gives runs.csv, curves.csv, summary, fits and tensors byte-identical to the
// unsharded study; merge refuses to write while a shard is missing and names it; a second copy of a
// running shard fails with the lock message while the other shards run; another config is refused.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "framework/csv.h"
#include "framework/error.h"
#include "study/shards.h"
#include "tests/apps/run_binary.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using lrlab::study::partition_groups;
using lrlab::test::Child, lrlab::test::ProcessResult, lrlab::test::slurp;

namespace {

// Five groups (one per d, so of different costs) of two seeds, with a fit: about a second in all.
const std::string kStudy = R"(name: shards
seed: 5
dtype: float32
base: {d: 16, k: 3}
teacher: {rank: 1, xi: 1.0}
adapter: {type: rank1}
trainer: {steps: 1500, lr: 2.0, lr_scaling: inverse_d}
metrics: {names: [overlap, test_loss], every: 50, test_samples: 200, thresholds: {overlap: [0.5]}}
output: {plots: false, save_tensors: true}
study: {sweep: {base.d: [8, 12, 16, 20, 24]}, seeds: 2, fit: {x: base.d, y: steps_to_overlap_0.5}}
)";

const std::vector<std::string> kResultFiles = {"runs.csv", "curves.csv", "summary.csv", "summary.md", "fits.csv"};

std::vector<std::string> shard_args(const std::string& config, const std::string& dir, int i, int n) {
  return {"run", config, "--out", dir, "--shard", std::to_string(i) + "/" + std::to_string(n), "--jobs", "1", "-q"};
}

/// Waits until `path` exists (and is non-empty) or the child ended; false on timeout.
bool wait_for_file(const std::string& path, Child& child, double seconds = 60) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(path) && fs::file_size(path) > 0) return true;
    if (child.poll()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

/// Runs one shard to completion and requires success.
void run_shard(const std::string& config, const std::string& dir, int i, int n) {
  const ProcessResult r = lrlab::test::run_lrlab(shard_args(config, dir, i, n), dir + "_run", 180);
  INFO("shard " << i << "/" << n << " stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
}

}  // namespace

TEST_CASE("partition_groups covers every group exactly once, deterministically and balanced", "[shards]") {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> cost(1.0, 100.0);
  std::vector<double> costs(23);
  for (auto& c : costs) c = cost(rng);
  for (int n = 1; n <= 9; ++n) {
    INFO(n << " shards");
    const auto parts = partition_groups(costs, n);
    REQUIRE(parts.size() == static_cast<size_t>(n));
    CHECK(parts == partition_groups(costs, n));
    std::vector<int> seen(costs.size(), 0);
    std::vector<double> load;
    for (const auto& part : parts) {
      CHECK(std::is_sorted(part.begin(), part.end()));
      double l = 0;
      for (size_t g : part) {
        ++seen.at(g);
        l += costs[g];
      }
      load.push_back(l);
    }
    CHECK(std::all_of(seen.begin(), seen.end(), [](int s) { return s == 1; }));
    // Longest-processing-time-first: no part exceeds the lightest one by more than the largest group.
    const double spread = *std::max_element(load.begin(), load.end()) - *std::min_element(load.begin(), load.end());
    CHECK(spread <= *std::max_element(costs.begin(), costs.end()) + 1e-9);
  }
  // Equal costs split evenly; more shards than groups leave some shards empty.
  const auto even = partition_groups(std::vector<double>(12, 1.0), 4);
  for (const auto& part : even) CHECK(part.size() == 3);
  const auto sparse = partition_groups({5.0, 1.0}, 3);
  CHECK(sparse == std::vector<std::vector<size_t>>{{0}, {1}, {}});
  CHECK_THROWS_AS(partition_groups({1.0}, 0), lrlab::Error);
}

TEST_CASE("shard I/N is parsed strictly", "[shards]") {
  const auto s = lrlab::study::parse_shard("2/3");
  CHECK(s.index == 2);
  CHECK(s.count == 3);
  CHECK(s.name() == "2-of-3");
  CHECK(lrlab::study::shard_folder("out", s) == "out/shards/2-of-3");
  for (const char* bad : {"0/3", "4/3", "3", "a/b", "2/3x", "-1/2", "1/0", ""}) {
    INFO(bad);
    CHECK_THROWS_AS(lrlab::study::parse_shard(bad), lrlab::Error);
  }
}

TEST_CASE("sharded studies, interrupted and resumed in any order, merge byte-identical to the unsharded study",
          "[shards][resume][determinism]") {
  lrlab::testing::TempDir tmp;
  const std::string config = tmp.path + "/study.yaml";
  lrlab::test::write_text(config, kStudy);
  const std::string reference = tmp.path + "/reference";
  const ProcessResult ref = lrlab::test::run_lrlab({"run", config, "--out", reference, "--jobs", "1", "-q"},
                                                   tmp.path + "/ref", 180);
  INFO("reference stderr: " << ref.err);
  REQUIRE(ref.exit_code == 0);
  REQUIRE(lrlab::read_csv(reference + "/runs.csv").rows.size() == 10);
  REQUIRE(lrlab::read_csv(reference + "/fits.csv").rows.size() == 1);

  std::mt19937 rng(20261130);
  for (int n : {1, 2, 3, 5}) {
    INFO(n << " shards");
    const std::string dir = tmp.path + "/sharded" + std::to_string(n);
    std::vector<int> order(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i + 1;
    std::shuffle(order.begin(), order.end(), rng);
    const int killed = order.front();
    INFO("order starts with shard " << killed << ", killed once it saved a group");
    {
      Child child(shard_args(config, dir, killed, n), dir + "_killed");
      wait_for_file(lrlab::study::shard_folder(dir, {killed, n}) + "/runs.csv", child);
      child.kill(SIGKILL);
      child.wait(30);
    }
    for (size_t k = 1; k < order.size(); ++k) run_shard(config, dir, order[k], n);
    if (!fs::exists(dir + "/runs.csv")) {  // the killed shard did not finish before the kill
      // Merge writes nothing while a shard is unfinished, and names it with the command that reruns it.
      const ProcessResult early = lrlab::test::run_lrlab({"merge", dir}, dir + "_early", 60);
      INFO("early merge stderr: " << early.err);
      CHECK(early.exit_code == 1);
      const std::string spec = std::to_string(killed) + "/" + std::to_string(n);
      CHECK_THAT(early.err, Catch::Matchers::Contains("shard " + spec + " (") &&
                                Catch::Matchers::Contains("--shard " + spec));
      CHECK_FALSE(fs::exists(dir + "/runs.csv"));
      CHECK_FALSE(fs::exists(dir + "/summary.md"));
    }
    run_shard(config, dir, killed, n);  // resumes; the last shard to finish merges
    for (const auto& name : kResultFiles) {
      INFO(name);
      CHECK(slurp(dir + "/" + name) == slurp(reference + "/" + name));
    }
    for (const auto& entry : fs::directory_iterator(reference + "/tensors")) {
      const std::string name = entry.path().filename().string();
      INFO("tensors/" << name);
      CHECK(slurp(dir + "/tensors/" + name) == slurp(entry.path().string()));
    }
    // Merging again (as the Slurm merge job does) is harmless.
    const ProcessResult again = lrlab::test::run_lrlab({"merge", dir, "-q"}, dir + "_again", 60);
    INFO("merge stderr: " << again.err);
    CHECK(again.exit_code == 0);
    CHECK(slurp(dir + "/runs.csv") == slurp(reference + "/runs.csv"));
    CHECK(slurp(dir + "/curves.csv") == slurp(reference + "/curves.csv"));
  }
}

TEST_CASE("a second copy of a running shard fails with the lock message; another config is refused",
          "[shards][lock]") {
  lrlab::testing::TempDir tmp;
  const std::string config = tmp.path + "/study.yaml";
  std::string longer = kStudy;
  longer.replace(longer.find("steps: 1500"), 11, "steps: 400000");
  lrlab::test::write_text(config, longer);
  const std::string dir = tmp.path + "/out";

  // Shard 1 takes its lock, then is frozen (SIGSTOP): it holds the lock for as long as the test needs.
  Child first(shard_args(config, dir, 1, 2), tmp.path + "/first");
  REQUIRE(wait_for_file(dir + "/shards/1-of-2/.lock", first));
  first.kill(SIGSTOP);
  const ProcessResult copy = lrlab::test::run_lrlab(shard_args(config, dir, 1, 2), tmp.path + "/copy", 120);
  INFO("second copy stderr: " << copy.err);
  CHECK(copy.exit_code == 1);
  CHECK_THAT(copy.err, Catch::Matchers::Contains("the results folder " + dir + "/shards/1-of-2 is in use by pid " +
                                                 std::to_string(first.pid())));
  // The other shard runs meanwhile (and does not merge: shard 1 is unfinished) ...
  const ProcessResult second = lrlab::test::run_lrlab(shard_args(config, dir, 2, 2), tmp.path + "/second", 300);
  INFO("second shard stderr: " << second.err);
  CHECK(second.exit_code == 0);
  CHECK_FALSE(fs::exists(dir + "/runs.csv"));
  // ... and a shard of another config is refused before it writes anything.
  std::vector<std::string> other = shard_args(config, dir, 2, 2);
  other.push_back("trainer.lr=1.0");
  const ProcessResult mixed = lrlab::test::run_lrlab(other, tmp.path + "/mixed", 120);
  INFO("other config stderr: " << mixed.err);
  CHECK(mixed.exit_code == 1);
  CHECK_THAT(mixed.err, Catch::Matchers::Contains("different config"));
  CHECK_FALSE(first.poll());  // the refused processes did not disturb the running shard
  first.kill(SIGCONT);
  const ProcessResult a = first.wait(300);
  INFO("first stderr: " << a.err);
  CHECK(a.exit_code == 0);
  CHECK(lrlab::read_csv(dir + "/runs.csv").rows.size() == 10);  // merged by the last to finish
}
