// Numerical failure is contained: in a group of four stacked runs, the one with a huge learning rate
// diverges and is marked at the step it happened; the other three give exactly their solo results
// (float64), and the study's summary counts the diverged run at its sweep point.

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "framework/csv.h"
#include "study/group_runner.h"
#include "study/grouping.h"
#include "study/plan.h"
#include "study/runner.h"
#include "tests/apps/run_binary.h"

namespace {

const char* const kStudy =
    "name: diverge\n"
    "seed: 5\n"
    "dtype: float64\n"
    "base: {d: 10, k: 3}\n"
    "teacher: {rank: 1, xi: 1.0}\n"
    "adapter: {type: lora, rank: 2}\n"
    "trainer: {steps: 300, lr: 0.5}\n"
    "metrics: {names: [overlap, delta_error, test_loss, train_loss], every: 40, test_samples: 100,\n"
    "          thresholds: {overlap: [0.5]}}\n"
    "output: {plots: false, save_tensors: false}\n"
    "study: {zip: {trainer.lr: [0.1, 0.05, 30.0, 0.02]}}\n";

constexpr size_t kHuge = 2;  // the run with lr = 30

std::vector<lrlab::CurveRow> curve_of(const lrlab::Recorder& recorder, const std::string& run) {
  std::vector<lrlab::CurveRow> out;
  for (const auto& row : recorder.curves())
    if (row.run == run) out.push_back(row);
  return out;
}

lrlab::study::GroupOutcome solo(const lrlab::Config& config, const lrlab::RunRecord& record) {
  return lrlab::study::run_group({config}, {lrlab::RunRecord{record.id, record.seed}});
}

}  // namespace

TEST_CASE("a diverging replica is marked at its step and leaves its group mates untouched", "[divergence]") {
  const lrlab::Config root = lrlab::Config::load_string(kStudy, "diverge.yaml");
  const lrlab::study::StudyPlan plan = lrlab::study::expand_study(root);
  const auto groups = lrlab::study::group_runs(root, plan, 256);
  REQUIRE(groups.size() == 1);  // trainer.lr is stackable: the four learning rates share one group
  REQUIRE(groups[0].runs.size() == 4);

  std::vector<lrlab::Config> configs;
  std::vector<lrlab::RunRecord> records;
  for (const auto& run : plan.runs) {
    configs.push_back(lrlab::study::config_for_run(root, plan, run));
    records.push_back({run.id, run.seed});
  }
  const lrlab::study::GroupOutcome group = lrlab::study::run_group(configs, records);
  const auto& runs = group.recorder->runs();

  // The diverged run: marked at the first step whose training loss is non-finite, its curve kept up to
  // that point.
  const lrlab::RunRecord& bad = runs[kHuge];
  REQUIRE(bad.status == "diverged");
  const int64_t step = bad.diverged_step;
  CHECK(step > 2);
  CHECK(step < 300);
  CHECK(step % 40 != 0);  // inside a record window: found by the per-step watch, not by a record
  CHECK(bad.steps == step);
  const auto bad_curve = curve_of(*group.recorder, bad.id);
  REQUIRE_FALSE(bad_curve.empty());
  for (const auto& row : bad_curve) CHECK(row.step < step);
  CHECK(bad_curve.back().step == (step - 1) / 40 * 40);  // every record before the divergence is kept

  {
    // Alone, it diverges at the same step.
    const auto alone = solo(configs[kHuge], records[kHuge]);
    CHECK(alone.recorder->runs()[0].status == "diverged");
    CHECK(alone.recorder->runs()[0].diverged_step == step);
    // Recording the training loss of every step shows that `step` is the first whose loss is not
    // finite: the curve holds every earlier step, all finite. (Other metrics, such as the test loss
    // over many samples, can overflow earlier than one sample's loss, so they are left out here.)
    lrlab::Config dense = configs[kHuge].clone();
    dense.set("metrics", "{names: [train_loss], every: 1}");
    const auto every_step = solo(dense, records[kHuge]);
    CHECK(every_step.recorder->runs()[0].diverged_step == step);
    const auto& rows = every_step.recorder->curves();
    // Steps 1 .. step - 1 (no training loss at step 0); the record of step - 1 is dropped when the
    // parameters that step left are already non-finite (which is what makes the next loss non-finite).
    REQUIRE(rows.size() + 2 >= static_cast<size_t>(step));
    REQUIRE(rows.size() + 1 <= static_cast<size_t>(step));
    for (size_t j = 0; j < rows.size(); ++j) {
      CHECK(rows[j].step == static_cast<int64_t>(j) + 1);
      CHECK(std::isfinite(rows[j].value));
    }
  }

  // The other three match their solo runs exactly.
  for (size_t i = 0; i < runs.size(); ++i) {
    if (i == kHuge) continue;
    INFO("run " << runs[i].id);
    const auto alone = solo(configs[i], records[i]);
    const lrlab::RunRecord& a = alone.recorder->runs()[0];
    CHECK(runs[i].status == "ok");
    CHECK(a.status == "ok");
    CHECK(runs[i].steps == 300);
    CHECK(runs[i].final_values == a.final_values);
    CHECK(runs[i].hits == a.hits);
    const auto stacked_curve = curve_of(*group.recorder, runs[i].id);
    const auto solo_curve = curve_of(*alone.recorder, runs[i].id);
    REQUIRE(stacked_curve.size() == solo_curve.size());
    for (size_t j = 0; j < solo_curve.size(); ++j) {
      CHECK(stacked_curve[j].step == solo_curve[j].step);
      CHECK(stacked_curve[j].metric == solo_curve[j].metric);
      CHECK(stacked_curve[j].value == solo_curve[j].value);  // bitwise, not approximately
    }
  }
}

TEST_CASE("runs.csv marks the diverged run and the summary counts it at its sweep point", "[divergence]") {
  namespace fs = std::filesystem;
  const std::string dir = lrlab::test::fresh_dir("diverge");
  lrlab::test::write_text(dir + "/diverge.yaml", kStudy);
  const auto r = lrlab::test::run_lrlab({"run", dir + "/diverge.yaml", "--out", dir + "/out", "-q"}, dir + "/cap", 120);
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  const lrlab::Table runs = lrlab::read_csv(dir + "/out/runs.csv");
  REQUIRE(runs.rows.size() == 4);
  for (size_t i = 0; i < 4; ++i) {
    INFO("row " << i);
    CHECK(runs.cell(i, "status") == (i == kHuge ? "diverged" : "ok"));
    CHECK(runs.cell(i, "diverged_step").empty() == (i != kHuge));
  }
  const lrlab::Table summary = lrlab::read_csv(dir + "/out/summary.csv");
  REQUIRE_FALSE(summary.rows.empty());
  for (size_t i = 0; i < summary.rows.size(); ++i)
    CHECK(summary.cell(i, "diverged") == (summary.cell(i, "point") == std::to_string(kHuge) ? "1" : "0"));
  fs::remove_all(dir);
}
