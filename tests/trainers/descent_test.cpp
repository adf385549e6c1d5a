// The descent loop: every data source with every update rule learns and reports its path; per-replica
// options of a group (lr, weight_decay) give each replica its own run; old and new keys that set the
// same thing are errors naming both; the online kernel path equals the batched path for every rule.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "study/group_runner.h"
#include "framework/config.h"
#include "framework/error.h"
#include "tests/support/group_fixtures.h"
#include "trainers/data_source.h"
#include "trainers/descent.h"
#include "trainers/online_step.h"
#include "trainers/update_rule.h"

using namespace lrlab;
using namespace lrlab::testing;
using namespace lrlab::study;

namespace {

constexpr const char* kProblem = R"(dtype: float64
base: {d: 12, k: 3, activation: {type: erf}}
teacher: {rank: 1, xi: 1.0}
adapter: {type: lora, rank: 1}
metrics: {names: [population_loss, train_loss], every: 20}
)";

/// A learning rate that makes `rule` learn the problem above in a few hundred steps.
double rate_for(const std::string& rule) {
  const std::map<std::string, double> rates = {{"sgd", 0.5}, {"adam", 0.02}, {"adamw", 0.02}};
  return rates.count(rule) ? rates.at(rule) : 0.01;
}

/// The source-specific keys of the test trainer.
std::string data_keys(const std::string& data) {
  if (data == "offline") return "n_per_d: 20, batch: 16, steps: 300";
  if (data == "online") return "batch: 4, steps: 300";
  return "steps: 300";
}

}  // namespace

TEST_CASE("descent: every data source with every update rule learns and reports its path", "[descent]") {
  for (const auto& data : trainers::data_source_registry().keys()) {
    for (const auto& rule : trainers::update_rule_registry().keys()) {
      const std::string trainer = "trainer: {type: descent, data: " + data + ", update: {type: " + rule +
                                  "}, lr: " + std::to_string(rate_for(rule)) + ", " + data_keys(data) + "}\n";
      INFO(trainer);
      GroupOutcome out = run_group(replica_configs(std::string(kProblem) + trainer, 2), records(2));
      const std::string path = out.group.trainer->path();
      INFO("path: " << path);
      CHECK(out.group.trainer->steps() == 300);
      if (data == "online") CHECK((path == "kernel" || path.rfind("batched (", 0) == 0));
      if (data == "offline") CHECK(path == "batched (offline data)");
      if (data == "population") CHECK(path == "population (exact gradient)");
      for (const std::string run : {"run0", "run1"}) {
        const auto pop = curve(*out.recorder, run, "population_loss");
        const auto train = curve(*out.recorder, run, "train_loss");
        INFO(run << ": population " << pop.front() << " -> " << pop.back());
        REQUIRE(pop.size() == 16);
        CHECK(pop.back() < 0.5 * pop.front());
        REQUIRE(!train.empty());
        CHECK(train.back() > 0);
      }
    }
  }
}

TEST_CASE("descent: per-replica lr and weight_decay, each replica as if alone (adam, adamw, sgd)", "[descent]") {
  for (const std::string type : {"adam", "adamw", "online_sgd"}) {
    INFO(type);
    auto config = [&](double lr, double wd, int seed) {
      Config c = Config::load_string(std::string(kProblem) + "trainer: {type: " + type + ", steps: 200, batch: 2, lr: " +
                                     std::to_string(lr) + ", weight_decay: " + std::to_string(wd) + "}\n");
      c.set("seed", std::to_string(seed));
      return c;
    };
    GroupOutcome group = run_group({config(0.01, 0.0, 1), config(0.04, 0.1, 2)}, records(2));
    GroupOutcome alone = run_group({config(0.04, 0.1, 2)}, records(1, 2));
    const auto a = group.group.model.adapter->parameters(), b = alone.group.model.adapter->parameters();
    for (size_t j = 0; j < a.size(); ++j) {
      CHECK((a[j]->value[1] - b[j]->value[0]).abs().max().item<double>() < 1e-12);
      CHECK((a[j]->value[1] - a[j]->value[0]).abs().max().item<double>() > 1e-6);  // the replicas differ
    }
  }
}

TEST_CASE("descent: keys that set the same thing twice are errors naming both", "[descent]") {
  const std::string head = "base: {d: 8, k: 2}\n";
  auto fails = [&](const std::string& trainer, const std::vector<std::string>& keys) {
    try {
      build_group(replica_configs(head + "trainer: " + trainer + "\n", 1));
      FAIL("no error for " << trainer);
    } catch (const ConfigError& e) {
      INFO(e.what());
      for (const auto& key : keys) CHECK(std::string(e.what()).find(key) != std::string::npos);
    }
  };
  fails("{type: adamw, update: {type: sign_sgd}}", {"trainer.type", "trainer.update"});
  fails("{type: offline_gd, epochs: 10, steps: 100}", {"trainer.epochs", "trainer.steps"});
  fails("{type: adam, data: offline, n: 40, epochs: 3, steps_per_d: 2}", {"trainer.epochs", "trainer.steps_per_d"});
  fails("{type: descent, update: {type: adam}, weight_decay: 0.1}", {"trainer.weight_decay", "trainer.update.weight_decay"});
  fails("{type: descent, data: stream}", {"trainer.data", "online"});
  fails("{type: online_sgd, update: {type: sign_sgd, betas: [0.9, 0.9]}}", {"trainer.update", "betas"});
  fails("{type: online_sgd, data: offline}", {"data"});  // the preset fixes its source
  // The one given wins over the other's default.
  CHECK(build_group(replica_configs(head + "trainer: {type: offline_gd, n: 10, batch: 5, steps: 7}\n", 1)).trainer->steps() == 7);
  CHECK(build_group(replica_configs(head + "trainer: {type: offline_gd, n: 10, batch: 5}\n", 1)).trainer->steps() == 200);
  CHECK(build_group(replica_configs(head + "trainer: {type: adam, data: offline, n: 10, batch: 5, epochs: 3}\n", 1))
            .trainer->steps() == 6);
  CHECK(build_group(replica_configs(head + "trainer: {type: adam, data: offline, n: 10}\n", 1)).trainer->steps() == 1000);
}

TEST_CASE("online: kernel path = batched path for every update rule", "[descent][kernel]") {
  for (const std::string adapter : {"{type: rank1, c: train}", "{type: lora, rank: 2, lr_ratio: 2}"}) {
    for (const auto& key : trainers::update_rule_registry().keys()) {
      INFO(adapter << ", update rule " << key);
      const std::string yaml = "dtype: float64\nbase: {d: 10, k: 3}\nteacher: {rank: 1, xi: 1.0, tau: 0.1}\nadapter: " +
                               adapter + "\n";
      BuiltGroup a = build_group(replica_configs(yaml, 2)), b = build_group(replica_configs(yaml, 2));
      Config update = Config::load_string("{type: " + key + "}");
      auto rule_a = trainers::update_rule_registry().make(update, key, 2);
      auto rule_b = trainers::update_rule_registry().make(update, key, 2);
      rule_a->init(a.model.adapter->parameters());
      rule_b->init(b.model.adapter->parameters());
      trainers::OnlineStep kernel(a.model, 4, trainers::GradPath::kAnalytic, true, *rule_a, /*allow_kernel=*/true);
      trainers::OnlineStep batched(b.model, 4, trainers::GradPath::kAnalytic, true, *rule_b, /*allow_kernel=*/false);
      if (!kernel.kernel()) {
        WARN("kernel path unavailable for " << adapter << ": " << kernel.path());
        continue;
      }
      const at::Tensor lr = at::tensor({0.02, 0.05}, at::kDouble), decay = at::tensor({0.0, 0.001}, at::kDouble);
      const auto pa = a.model.adapter->parameters(), pb = b.model.adapter->parameters();
      std::vector<at::Tensor> start;
      for (auto* p : pa) start.push_back(p->value.clone());
      for (int64_t step = 1; step <= 30; ++step) {
        const at::Tensor la = kernel.step(step, lr, decay, true).clone(), lb = batched.step(step, lr, decay, true);
        CHECK((la - lb).abs().max().item<double>() < 1e-10);
        CHECK(lb.min().item<double>() > 0);  // non-vacuous: a real loss
      }
      for (size_t j = 0; j < pa.size(); ++j) {
        CHECK((pa[j]->value - pb[j]->value).abs().max().item<double>() < 1e-10);
        CHECK((pa[j]->value - start[j]).abs().max().item<double>() > 1e-4);  // non-vacuous: they moved
      }
    }
  }
}
