// adam / adamw: reduce the loss on the quickstart setting (online data) and on a fixed training set
// (offline data); sphere parameters stay unit vectors; lr may differ within a group, betas and eps not.
#include "tests/support/paths.h"
#include <ATen/ATen.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "framework/config.h"
#include "framework/error.h"
#include "study/group_runner.h"
#include "tests/support/group_fixtures.h"

using namespace lrlab;
using namespace lrlab::study;
using namespace lrlab::testing;

namespace {

/// configs/quickstart.yaml with `overrides`, one config per seed 0..replicas-1.
std::vector<Config> quickstart(const std::vector<std::string>& overrides, int replicas) {
  std::vector<Config> out;
  for (int r = 0; r < replicas; ++r) {
    Config c = Config::load_file(std::string(LRLAB_SOURCE_DIR) + "/configs/quickstart.yaml");
    c.apply_overrides(overrides);
    c.set("seed", std::to_string(r));
    out.push_back(c);
  }
  return out;
}

}  // namespace

TEST_CASE("adam reduces the loss on the quickstart setting", "[adam]") {
  const int R = 3;
  GroupOutcome out = run_group(quickstart({"trainer={type: adam, lr: 0.02, steps: 12000, schedule: {type: cosine}}",
                                           "metrics.names=[overlap, population_loss, train_loss]"},
                                          R),
                               records(R, 0));
  for (int r = 0; r < R; ++r) {
    const std::string run = "run" + std::to_string(r);
    const auto pop = curve(*out.recorder, run, "population_loss");
    const auto overlap = curve(*out.recorder, run, "overlap");
    INFO(run << ": population " << pop.front() << " -> " << pop.back() << ", overlap " << overlap.front() << " -> "
             << overlap.back());
    CHECK(pop.back() < 0.05 * pop.front());
    CHECK(overlap.back() > 0.95);
  }
  // u stays on the unit sphere
  const at::Tensor u = out.group.model.adapter->parameters()[0]->value.to(at::kDouble);
  CHECK((u.norm(2, {-1}) - 1).abs().max().item<double>() < 1e-5);
}

TEST_CASE("adamw on a fixed training set (offline data) reduces the train and population losses", "[adam]") {
  const std::string yaml = R"(
seed: 4
dtype: float64
base: {d: 16, k: 3, activation: {type: erf}}
teacher: {rank: 1, xi: 1.0}
adapter: {type: lora, rank: 1, lr_ratio: 2}
trainer: {type: adamw, lr: 0.01, data: offline, n_per_d: 20, batch: 40, epochs: 40, weight_decay: 0.001}
metrics: {names: [train_loss, population_loss]}
)";
  GroupOutcome out = run_group({Config::load_string(yaml, "<adam_test>")}, records(1, 0));
  const auto train = curve(*out.recorder, "run0", "train_loss"), pop = curve(*out.recorder, "run0", "population_loss");
  INFO("train " << train.front() << " -> " << train.back() << ", population " << pop.front() << " -> " << pop.back());
  CHECK(out.group.trainer->steps() == 40 * 8);
  CHECK(train.back() < 0.1 * train.front());
  CHECK(pop.back() < 0.1 * pop.front());
}

TEST_CASE("adam: options validated, lr stackable", "[adam]") {
  const std::string head = "base: {d: 8, k: 2}\n";
  auto fails = [&](const std::string& trainer, const std::string& key) {
    try {
      build_group({Config::load_string(head + "trainer: " + trainer + "\n", "<adam_test>")});
      FAIL("no error for " << trainer);
    } catch (const ConfigError& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find(key) != std::string::npos);
    }
  };
  fails("{type: adam, betas: [0.9]}", "trainer.betas");
  fails("{type: adamw, eps: 0}", "trainer.eps");
  fails("{type: adam, data: offline, n: 10, batch: many}", "trainer.batch");
  fails("{type: adam, n: 10}", "n");  // n is an offline option: unknown with online data
  fails("{type: adam, update: {type: sgd}}", "trainer.update");  // the type already sets the rule
  fails("{type: online_sgd, update: {type: adam}, weight_decay: 0.1}", "trainer.update.weight_decay");
  const auto stackable = trainers::trainer_registry().find("adam", Config::load_string("{}")).stackable;
  CHECK(std::find(stackable.begin(), stackable.end(), "lr") != stackable.end());
  std::vector<Config> two;
  for (const std::string lr : {"0.1", "0.2"}) {
    Config c = Config::load_string(head + "trainer: {type: adam, lr: " + lr + "}\n", "<adam_test>");
    c.set("seed", lr == "0.1" ? "1" : "2");
    two.push_back(c);
  }
  // Our own Adam takes lr per replica (tests/trainers/descent_test.cpp checks a group against its
  // replicas run alone); betas, eps and amsgrad must still agree.
  CHECK_NOTHROW(build_group(two));
  two[1].set("trainer.eps", "1e-6");
  CHECK_THROWS_AS(build_group(two), ConfigError);
}
