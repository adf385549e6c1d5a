// Update rules: for every registered rule the tensor version (`apply`, the batched path) and the raw
// version (`apply_replica`, the kernel path) agree over several steps, state included; adam and adamw
// equal torch::optim::Adam / AdamW; sign_sgd moves each coordinate by eta against its gradient's sign.
#include <ATen/ATen.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "study/group_runner.h"
#include "framework/config.h"
#include "tests/support/group_fixtures.h"
#include "trainers/parameter_ops.h"
#include "trainers/update_rule.h"

using namespace lrlab;
using namespace lrlab::trainers;
using namespace lrlab::study;

namespace {

const auto kF64 = at::TensorOptions().dtype(at::kDouble);

/// The `update` sections a rule is tested with: its defaults, plus variants that reach its options.
std::vector<std::string> variants(const std::string& key) {
  std::vector<std::string> out{"{type: " + key + "}"};
  if (key == "adam") out.push_back("{type: adam, betas: [0.8, 0.99], eps: 1e-3, amsgrad: true, weight_decay: 0.3}");
  if (key == "adamw") out.push_back("{type: adamw, betas: [0.5, 0.9], amsgrad: true}");
  return out;
}

/// R stacked copies of the update section `map` (the rule's view).
std::shared_ptr<UpdateRule> make_rule(const std::string& map, int R) {
  std::vector<Config> docs;
  for (int r = 0; r < R; ++r) docs.push_back(Config::load_string("update: " + map + "\n", "<update_rules_test>"));
  const Config stacked = Config::stack(docs);
  return update_rule_registry().make(stacked.child("update"), kDefaultUpdateRule, R);
}

/// Parameters of three shapes: on the sphere [R, 5], a matrix [R, 2, 3] with lr_scale 3, a scalar [R].
std::vector<models::Parameter> parameters(int R) {
  at::manual_seed(3);
  std::vector<models::Parameter> ps(3);
  ps[0] = {"u", at::randn({R, 5}, kF64), {}, /*on_sphere=*/true, 1.0};
  ps[0].value.div_(ps[0].value.norm(2, {-1}, true));
  ps[1] = {"A", at::randn({R, 2, 3}, kF64), {}, false, 3.0};
  ps[2] = {"c", at::randn({R}, kF64), {}, false, 1.0};
  return ps;
}

std::vector<models::Parameter*> pointers(std::vector<models::Parameter>& ps) {
  std::vector<models::Parameter*> out;
  for (auto& p : ps) out.push_back(&p);
  return out;
}

}  // namespace

TEST_CASE("update rules: tensor apply = raw apply_replica over several steps, state included (float64)",
          "[update_rules]") {
  const int R = 3;
  const at::Tensor eta = at::tensor({0.05, 0.1, 0.02}, kF64);
  for (const auto& key : update_rule_registry().keys()) {
    for (const auto& map : variants(key)) {
      INFO("update: " << map);
      auto batched = make_rule(map, R), raw = make_rule(map, R);
      REQUIRE(batched->type() == key);
      auto a = parameters(R), b = parameters(R);
      batched->init(pointers(a));
      raw->init(pointers(b));
      double moved = 0;
      for (int64_t step = 1; step <= 6; ++step) {
        for (size_t j = 0; j < a.size(); ++j) {
          at::Tensor g = at::randn(a[j].value.sizes(), kF64);
          if (step == 2) g.view(-1)[0] = 0;  // sign(0) = 0 and friends
          const at::Tensor before = a[j].value.clone();
          batched->apply(j, a[j], g, eta * a[j].lr_scale, step);
          const int64_t n = b[j].value.numel() / R;
          for (int64_t r = 0; r < R; ++r)
            raw->apply_replica(j, r, b[j].value.data_ptr<double>() + r * n, g.data_ptr<double>() + r * n, n,
                               eta[r].item<double>() * b[j].lr_scale, step);
          moved = std::max(moved, (a[j].value - before).abs().max().item<double>());
          CHECK((a[j].value - b[j].value).abs().max().item<double>() < 1e-12);
        }
      }
      CHECK(moved > 1e-3);  // non-vacuous: the parameters moved
    }
  }
}

TEST_CASE("adam and adamw equal torch::optim::Adam / AdamW through apply_updates (lr_scale, decay)", "[update_rules]") {
  struct Case {
    std::string map;
    double wd;  // torch's weight_decay (adam: in the map; adamw: the trainer's decoupled decay)
    bool decoupled;
    bool amsgrad;
    double beta1, beta2, eps;
  };
  const std::vector<Case> cases = {
      {"{type: adam}", 0.0, false, false, 0.9, 0.999, 1e-8},
      {"{type: adam, weight_decay: 0.2, amsgrad: true, betas: [0.8, 0.95], eps: 1e-4}", 0.2, false, true, 0.8, 0.95, 1e-4},
      {"{type: adamw}", 0.01, true, false, 0.9, 0.999, 1e-8},
      {"{type: adamw, amsgrad: true, betas: [0.7, 0.9]}", 0.3, true, true, 0.7, 0.9, 1e-8},
  };
  const double lr = 0.03;
  for (const auto& c : cases) {
    INFO("update: " << c.map << ", weight_decay " << c.wd);
    BuiltGroup g = build_group({Config::load_string(
        "seed: 2\ndtype: float64\nbase: {d: 7, k: 2}\nadapter: {type: lora, rank: 2, lr_ratio: 4}\n", "<adam>")});
    auto& adapter = *g.model.adapter;
    const auto params = adapter.parameters();  // A (lr_scale 1), B (lr_scale 4)
    REQUIRE(params.size() == 2);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    std::vector<at::Tensor> theirs;
    for (auto* p : params) {
      theirs.push_back(p->value.detach().clone().requires_grad_(true));
      const double glr = lr * p->lr_scale;
      const auto betas = std::make_tuple(c.beta1, c.beta2);
      if (c.decoupled)
        groups.emplace_back(std::vector<at::Tensor>{theirs.back()},
                            std::make_unique<torch::optim::AdamWOptions>(
                                torch::optim::AdamWOptions(glr).betas(betas).eps(c.eps).weight_decay(c.wd).amsgrad(c.amsgrad)));
      else
        groups.emplace_back(std::vector<at::Tensor>{theirs.back()},
                            std::make_unique<torch::optim::AdamOptions>(
                                torch::optim::AdamOptions(glr).betas(betas).eps(c.eps).weight_decay(c.wd).amsgrad(c.amsgrad)));
    }
    std::unique_ptr<torch::optim::Optimizer> opt;
    if (c.decoupled)
      opt = std::make_unique<torch::optim::AdamW>(std::move(groups), torch::optim::AdamWOptions(lr));
    else
      opt = std::make_unique<torch::optim::Adam>(std::move(groups), torch::optim::AdamOptions(lr));
    auto rule = make_rule(c.map, 1);
    rule->init(params);
    const at::Tensor lr_t = at::full({1}, lr, kF64);
    const at::Tensor decay = c.decoupled ? at::full({1}, lr * c.wd, kF64) : at::Tensor();
    at::manual_seed(11);
    for (int64_t step = 1; step <= 8; ++step) {
      for (size_t j = 0; j < params.size(); ++j) {
        params[j]->grad = at::randn(params[j]->value.sizes(), kF64);
        theirs[j].mutable_grad() = params[j]->grad.clone();
      }
      apply_updates(adapter, *rule, lr_t, decay, /*spherical=*/true, step);
      opt->step();
      for (size_t j = 0; j < params.size(); ++j) {
        const double scale = theirs[j].abs().max().item<double>();
        CHECK((params[j]->value - theirs[j].detach()).abs().max().item<double>() < 1e-12 * std::max(1.0, scale));
      }
    }
  }
}

TEST_CASE("sign_sgd: theta <- theta - eta sign(g), sign(0) = 0, both versions", "[update_rules]") {
  auto rule = make_rule("{type: sign_sgd}", 2);
  CHECK(rule->decoupled_decay());
  models::Parameter p{"w", at::tensor({1.0, 2.0, 3.0, -1.0, 0.5, 0.0}, kF64).view({2, 3}), {}, false, 1.0};
  const at::Tensor g = at::tensor({0.5, 0.0, -2.0, 1e-30, -1e30, 0.0}, kF64).view({2, 3});
  rule->init({&p});
  rule->apply(0, p, g, at::tensor({0.1, 0.25}, kF64), 1);
  const at::Tensor want = at::tensor({0.9, 2.0, 3.1, -1.25, 0.75, 0.0}, kF64).view({2, 3});
  CHECK((p.value - want).abs().max().item<double>() < 1e-15);
  float raw[3] = {1.0f, 2.0f, 3.0f};
  const double graw[3] = {-4.0, 0.0, 7.0};
  rule->apply_replica(0, 0, raw, graw, 3, 0.5, 1);
  CHECK(raw[0] == 1.5f);
  CHECK(raw[1] == 2.0f);
  CHECK(raw[2] == 2.5f);
}
