// Saved tensors are the state each runs.csv row reports. For every trainer, a study with early stopping
// and a diverging replica (a huge learning rate stacked with ordinary ones) is run; every saved run is
// reloaded (`adapter.load`) and its metrics recomputed from the tensors must equal runs.csv's final_*
// values. Before the fix a run stopped early saved its group's final state and a diverged run another
// replica's parameters, so these comparisons failed by orders of magnitude.

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "framework/csv.h"
#include "framework/safetensors.h"
#include "models/metrics.h"
#include "study/group_runner.h"
#include "study/plan.h"
#include "study/runner.h"
#include "tests/support/temp_dir.h"

namespace {

// d = 10, k = 3, float64; trainer and thresholds come from the sections; lr is zipped with one huge value.
std::string study_yaml(const std::string& trainer, const std::string& lrs, const std::string& metrics) {
  return "name: saved\n"
         "seed: 3\n"
         "dtype: float64\n"
         "base: {d: 10, k: 3}\n"
         "teacher: {rank: 1, xi: 1.0}\n"
         "adapter: {type: lora, rank: 1}\n"
         "trainer: " + trainer + "\n"
         "metrics: " + metrics + "\n"
         "output: {plots: false, save_tensors: true}\n"
         "study: {zip: {trainer.lr: " + lrs + "}, seeds: 2}\n";
}

struct Counts {
  int stopped = 0;   // ok runs with fewer steps than the budget
  int diverged = 0;  // diverged runs
  int full = 0;      // ok runs that trained the whole budget
};

// Runs the study, reloads every saved run and compares its recomputed metrics with runs.csv.
Counts check_saved_state(const std::string& yaml) {
  lrlab::testing::TempDir tmp;
  const lrlab::Config root = lrlab::Config::load_string(yaml, "saved.yaml");
  lrlab::study::StudyRunOptions options;
  options.out_dir = tmp.path + "/out";
  options.quiet = true;
  lrlab::study::run_study(root, options, [](const std::string&) {});
  const lrlab::study::StudyPlan plan = lrlab::study::expand_study(root);
  const lrlab::Table runs = lrlab::read_csv(options.out_dir + "/runs.csv");
  REQUIRE(runs.rows.size() == plan.runs.size());
  Counts counts;
  for (size_t r = 0; r < runs.rows.size(); ++r) {
    const std::string id = runs.cell(r, "run");
    INFO("run " << id << " status " << runs.cell(r, "status") << " steps " << runs.cell(r, "steps"));
    const std::string path = options.out_dir + "/tensors/" + id + ".safetensors";
    REQUIRE(std::filesystem::exists(path));
    lrlab::Config cfg = lrlab::study::config_for_run(root, plan, plan.runs[r]);
    const int64_t budget = lrlab::study::build_group({cfg}).trainer->steps();
    const int64_t steps = std::stoll(runs.cell(r, "steps"));
    const lrlab::TensorFile file = lrlab::read_safetensors(path);
    const int64_t saved_step = std::stoll(file.metadata.at("step"));
    if (runs.cell(r, "status") == "diverged") {
      const int64_t diverged = std::stoll(runs.cell(r, "diverged_step"));
      CHECK(diverged <= budget);
      CHECK(saved_step < diverged);  // its last record before the divergence
      ++counts.diverged;
    } else {
      CHECK(saved_step == steps);
      ++(steps < budget ? counts.stopped : counts.full);
    }
    cfg.set("adapter.load", "\"" + path + "\"");
    lrlab::study::BuiltGroup group = lrlab::study::build_group({cfg});
    lrlab::models::MetricSet metrics(group.metrics, group.model);
    for (const auto& [name, value] : metrics.evaluate(group.model)) {
      const double reported = std::stod(runs.cell(r, "final_" + name));
      const double recomputed = value.item<double>();
      INFO(name << ": runs.csv " << reported << ", from the tensors " << recomputed);
      CHECK(std::abs(recomputed - reported) <= 1e-9 * std::max(1.0, std::abs(reported)));
    }
  }
  return counts;
}

const char* const kMetrics =
    "{names: [overlap, delta_error, population_loss], every: 20, thresholds: {overlap: [0.9]},"
    " success: {overlap: \">= 0.9\", population_loss: \"<= 1e-2\"}}";

}  // namespace

TEST_CASE("saved tensors hold the reported state: online SGD on the kernel path", "[tensor_files][early_stop]") {
  const Counts c = check_saved_state(
      study_yaml("{steps: 400, lr: 0.5, early_stop: true}", "[0.5, 0.3, 300.0]", kMetrics));
  CHECK(c.stopped >= 1);
  CHECK(c.diverged >= 1);
}

TEST_CASE("saved tensors hold the reported state: online SGD on the autograd path", "[tensor_files][early_stop]") {
  const Counts c = check_saved_state(
      study_yaml("{steps: 400, lr: 0.5, grad: autograd, early_stop: true}", "[0.5, 0.3, 300.0]", kMetrics));
  CHECK(c.stopped >= 1);
  CHECK(c.diverged >= 1);
}

TEST_CASE("saved tensors hold the reported state: offline and population GD, adam", "[tensor_files][early_stop]") {
  const Counts offline = check_saved_state(
      study_yaml("{type: offline_gd, n_per_d: 8, epochs: 400, lr: 0.5, early_stop: true}", "[0.5, 0.3, 300.0]",
                 kMetrics));
  CHECK(offline.stopped >= 1);
  CHECK(offline.diverged >= 1);
  const Counts population = check_saved_state(
      study_yaml("{type: population_gd, steps: 400, lr: 0.5, early_stop: true}", "[0.5, 0.3, 300.0]", kMetrics));
  CHECK(population.stopped >= 1);
  CHECK(population.diverged >= 1);
  const Counts adam =
      check_saved_state(study_yaml("{type: adam, steps: 400, lr: 0.05, early_stop: true}", "[0.05, 0.02]", kMetrics));
  CHECK(adam.stopped >= 1);
}

TEST_CASE("saved tensors without early stopping are the state at the budget", "[tensor_files]") {
  const Counts c = check_saved_state(study_yaml("{steps: 200, lr: 0.5}", "[0.5, 300.0]", kMetrics));
  CHECK(c.full >= 1);
  CHECK(c.stopped == 0);
}

TEST_CASE("early stopping leaves the runs that do not stop bitwise unchanged", "[tensor_files][early_stop]") {
  // lr 0.5 reaches the success criterion and stops; lr 0.02 does not within the budget; 300 diverges.
  auto finals = [](bool early_stop) {
    lrlab::testing::TempDir tmp;
    const std::string trainer =
        std::string("{steps: 300, lr: 0.5, early_stop: ") + (early_stop ? "true" : "false") + "}";
    const lrlab::Config root =
        lrlab::Config::load_string(study_yaml(trainer, "[0.5, 0.02, 300.0]", kMetrics), "s.yaml");
    lrlab::study::StudyRunOptions options;
    options.out_dir = tmp.path + "/out";
    options.quiet = true;
    lrlab::study::run_study(root, options, [](const std::string&) {});
    return lrlab::read_csv(options.out_dir + "/runs.csv");
  };
  const lrlab::Table with = finals(true), without = finals(false);
  REQUIRE(with.rows.size() == without.rows.size());
  int compared = 0, stopped = 0;
  for (size_t r = 0; r < with.rows.size(); ++r) {
    INFO("run " << with.cell(r, "run"));
    if (with.cell(r, "steps") != without.cell(r, "steps")) {
      ++stopped;
      continue;
    }
    for (const auto& column : with.columns)
      if (column.rfind("final_", 0) == 0 || column.rfind("steps_to_", 0) == 0) {
        CHECK(with.cell(r, column) == without.cell(r, column));
        ++compared;
      }
  }
  CHECK(stopped >= 1);
  CHECK(compared >= 6);
}
