// End to end through the group runner: rank-1 fine-tuning recovers the teacher direction.

#include <catch2/catch.hpp>

#include "study/group_runner.h"

namespace {
lrlab::study::GroupOutcome train(const std::string& base, int64_t budget_per_d) {
  std::vector<lrlab::Config> configs;
  std::vector<lrlab::RunRecord> records;
  for (int64_t seed : {0, 1, 2}) {
    configs.push_back(lrlab::Config::load_string(
        "seed: " + std::to_string(seed) + "\ndtype: float64\nbase: " + base +
            "\nteacher: {rank: 1, xi: 1.0, c: random}\nadapter: {type: rank1, c: train}\n"
            "trainer: {steps_per_d: " + std::to_string(budget_per_d) + ", lr: 4.0, lr_scaling: inverse_d, early_stop: true}\n"
            "metrics: {names: [overlap], every: 16, thresholds: {overlap: [0.95]}}\n",
        "e2e.yaml"));
    records.push_back({"s" + std::to_string(seed), seed});
  }
  return lrlab::study::run_group(configs, records);
}
}  // namespace

TEST_CASE("rank-1 fine-tuning (d=64, k=4, ReLU) reaches overlap 0.95 within 300 d steps", "[e2e]") {
  auto out = train("{d: 64, k: 4, activation: {type: relu}}", 300);
  for (const auto& run : out.recorder->runs()) {
    INFO("run " << run.id);
    REQUIRE(run.hits.count("overlap"));
    CHECK(run.hits.at("overlap").count(0.95));
    CHECK(run.hits.at("overlap").at(0.95) <= 300 * 64);
  }
}

TEST_CASE("GLM with information exponent 1 (zero_base, He_1) reaches overlap 0.95 within 300 d steps", "[e2e]") {
  auto out = train("{d: 64, k: 4, zero_base: true, activation: {type: hermite, p: 1}}", 300);
  for (const auto& run : out.recorder->runs()) {
    INFO("run " << run.id);
    REQUIRE(run.hits.count("overlap"));
    CHECK(run.hits.at("overlap").count(0.95));
  }
}
