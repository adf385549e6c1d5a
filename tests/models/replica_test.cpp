// Replica axis: replica i of a stacked group starts from exactly the tensors of the same seed run
// alone, and (on the CPU) trains to the same result.

#include <catch2/catch.hpp>

#include "framework/config.h"
#include "study/group_runner.h"

namespace {

lrlab::Config run_config(const std::string& adapter, int64_t seed) {
  lrlab::Config cfg = lrlab::Config::load_string(
      "seed: " + std::to_string(seed) +
          "\ndtype: float64\n"
          "base: {d: 12, k: 4, activation: {type: tanh}, second_layer: signs}\n"
          "teacher: {rank: 2, xi: 1.5, tau: 0.1}\n"
          "adapter: " + adapter + "\n"
          "trainer: {steps: 40, lr: 0.3, batch: 3}\n"
          "metrics: {names: [overlap, delta_error, test_loss, train_loss], every: 10, test_samples: 50}\n",
      "replica_test.yaml");
  return cfg;
}

std::vector<lrlab::Config> run_configs(const std::string& adapter, const std::vector<int64_t>& seeds) {
  std::vector<lrlab::Config> out;
  for (int64_t s : seeds) out.push_back(run_config(adapter, s));
  return out;
}

std::vector<lrlab::RunRecord> records(const std::vector<int64_t>& seeds) {
  std::vector<lrlab::RunRecord> out;
  for (int64_t s : seeds) out.push_back(lrlab::RunRecord{"s" + std::to_string(s), s});
  return out;
}

}  // namespace

TEST_CASE("replica i of a stacked group starts from the tensors of the same seed alone", "[replicas]") {
  const std::vector<int64_t> seeds{10, 11, 12, 13};
  for (const std::string adapter : {"{type: rank1}", "{type: rank1, c: fixed_random, xi_from_teacher: false}",
                                    "{type: lora, rank: 2}", "{type: full}", "{type: scratch}"}) {
    INFO("adapter " << adapter);
    auto group = lrlab::study::build_group(run_configs(adapter, seeds));
    for (size_t i = 0; i < seeds.size(); ++i) {
      auto solo = lrlab::study::build_group({run_config(adapter, seeds[i])});
      const int64_t r = static_cast<int64_t>(i);
      CHECK(group.model.base->weight()[r].equal(solo.model.base->weight()[0]));
      CHECK(group.model.base->lam()[r].equal(solo.model.base->lam()[0]));
      CHECK(group.model.teacher->delta()[r].equal(solo.model.teacher->delta()[0]));
      CHECK(group.model.teacher->subspace()[r].equal(solo.model.teacher->subspace()[0]));
      CHECK(group.model.teacher->tau()[r].equal(solo.model.teacher->tau()[0]));
      auto gp = group.model.adapter->parameters();
      auto sp = solo.model.adapter->parameters();
      REQUIRE(gp.size() == sp.size());
      for (size_t p = 0; p < gp.size(); ++p) {
        INFO("parameter " << gp[p]->name);
        CHECK(gp[p]->value[r].equal(sp[p]->value[0]));
      }
    }
    // Different seeds really differ (the check above is not vacuous).
    CHECK_FALSE(group.model.base->weight()[0].equal(group.model.base->weight()[1]));
  }
}

TEST_CASE("a stacked group trains each replica exactly as the same seed alone (CPU)", "[replicas]") {
  const std::vector<int64_t> seeds{3, 4, 5};
  for (const std::string adapter : {"{type: rank1}", "{type: lora, rank: 2}"}) {
    INFO("adapter " << adapter);
    auto group = lrlab::study::run_group(run_configs(adapter, seeds), records(seeds));
    for (size_t i = 0; i < seeds.size(); ++i) {
      auto solo = lrlab::study::run_group({run_config(adapter, seeds[i])}, records({seeds[i]}));
      auto gp = group.group.model.adapter->parameters();
      auto sp = solo.group.model.adapter->parameters();
      for (size_t p = 0; p < gp.size(); ++p)
        CHECK(at::allclose(gp[p]->value[static_cast<int64_t>(i)], sp[p]->value[0], 1e-12, 1e-12));
      const auto& g_run = group.recorder->runs()[i];
      const auto& s_run = solo.recorder->runs()[0];
      for (const auto& [metric, value] : s_run.final_values) CHECK(g_run.final_values.at(metric) == Approx(value).epsilon(1e-10));
      // Training moved the parameters (the comparison is about trained values, not the init).
      auto fresh = lrlab::study::build_group({run_config(adapter, seeds[i])});
      CHECK_FALSE(fresh.model.adapter->parameters()[0]->value.equal(sp[0]->value));
      CHECK(std::isfinite(s_run.final_values.at("test_loss")));
    }
  }
}
