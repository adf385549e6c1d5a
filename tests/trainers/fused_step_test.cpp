// The fused CPU step of online SGD equals the batched ATen reference path (float64 to 1e-12, float32 to
// 1e-5, relative): same samples, same losses, same parameters after several steps, for rank1 and lora,
// every registered activation, R in {1, 3}, B in {1, 5}, label noise, weight decay, LoRA+ ratios,
// trained xi and the non-spherical variant.

#include <catch2/catch.hpp>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "apps/group_runner.h"
#include "framework/config.h"
#include "trainers/online_step.h"

namespace {

using lrlab::trainers::GradPath;
using lrlab::trainers::OnlineStep;

struct Case {
  std::string adapter;
  std::string activation;
  int64_t replicas;
  int64_t batch;
  std::string dtype;
  bool spherical = true;
  double weight_decay = 0.0;
};

std::vector<lrlab::Config> configs(const Case& c) {
  std::vector<lrlab::Config> out;
  for (int64_t r = 0; r < c.replicas; ++r) {
    out.push_back(lrlab::Config::load_string(
        "seed: " + std::to_string(40 + r) + "\ndtype: " + c.dtype +
            "\nbase: {d: 13, k: 5, activation: " + c.activation + ", second_layer: signs}\n"
            "teacher: {rank: 2, xi: 1.5, tau: " + (r == 1 ? "0.0" : "0.2") + "}\n"
            "adapter: " + c.adapter + "\n",
        "fused_test.yaml"));
  }
  return out;
}

// max |a - b| / max(1, max |b|) over one tensor.
double rel_err(const at::Tensor& a, const at::Tensor& b) {
  const double scale = std::max(1.0, b.abs().max().item<double>());
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>() / scale;
}

// Runs `steps` steps of the fused and of the reference path from the same start and compares.
void compare(const Case& c, int steps = 6) {
  INFO("adapter " << c.adapter << ", activation " << c.activation << ", R " << c.replicas << ", B " << c.batch
                  << ", " << c.dtype << ", spherical " << c.spherical << ", weight_decay " << c.weight_decay);
  auto fused_group = lrlab::build_group(configs(c));
  auto ref_group = lrlab::build_group(configs(c));
  auto& fm = fused_group.model;
  auto& rm = ref_group.model;
  OnlineStep fused(fm, c.batch, GradPath::kAnalytic, c.spherical, /*allow_fused=*/true);
  OnlineStep ref(rm, c.batch, GradPath::kAnalytic, c.spherical, /*allow_fused=*/false);
  INFO("fused implementation: " << fused.implementation());
  REQUIRE(fused.fused());
  REQUIRE_FALSE(ref.fused());
  const double tol = c.dtype == "float64" ? 1e-12 : 1e-5;
  // Per-replica learning rates (different, so a mix-up of replicas shows).
  std::vector<double> lr_values;
  // Cubic activations (hermite) blow up at rates the bounded ones take.
  const double base_lr = c.activation.find("hermite") != std::string::npos ? 0.001 : 0.05;
  for (int64_t r = 0; r < c.replicas; ++r) lr_values.push_back(base_lr * (1.0 + 0.5 * static_cast<double>(r)));
  const at::Tensor lr = lrlab::per_replica(fm.ctx, lr_values);
  const at::Tensor decay = c.weight_decay > 0 ? lr * c.weight_decay : at::Tensor();
  for (int s = 0; s < steps; ++s) {
    const at::Tensor fl = fused.step(lr, decay, /*want_loss=*/true).clone();
    const at::Tensor rl = ref.step(lr, decay, /*want_loss=*/true);
    INFO("step " << s);
    CHECK(rel_err(fl, rl) < tol);
    REQUIRE(at::isfinite(rl).all().item<bool>());  // a diverging run would compare NaN with NaN
    CHECK(rl.abs().max().item<double>() > 0);      // the check above is not vacuous
  }
  auto fp = fm.adapter->parameters();
  auto rp = rm.adapter->parameters();
  REQUIRE(fp.size() == rp.size());
  for (size_t i = 0; i < fp.size(); ++i) {
    INFO("parameter " << fp[i]->name);
    CHECK(rel_err(fp[i]->value, rp[i]->value) < tol);
  }
  // The parameters moved (the comparison is not of two untouched starts).
  auto start = lrlab::build_group(configs(c));
  double moved = 0;
  auto sp = start.model.adapter->parameters();
  for (size_t i = 0; i < fp.size(); ++i) moved = std::max(moved, rel_err(fp[i]->value, sp[i]->value));
  CHECK(moved > 1e-4);
}

const std::vector<std::string> kAdapters = {
    "{type: rank1}",
    "{type: rank1, c: teacher, train_xi: true}",
    "{type: rank1, c: fixed_random, xi_from_teacher: false, xi: 0.7, train_xi: true}",
    "{type: lora, rank: 1}",
    "{type: lora, rank: 2, alpha: 2.0, lr_ratio: 3.0}",
    "{type: lora, rank: 3, scaling: rs, init_a: orthogonal}",
};

const std::vector<std::string> kActivations = {
    "{type: relu}",         "{type: tanh}",           "{type: erf}",     "{type: sigmoid}",
    "{type: gelu}",         "{type: softplus, beta: 2.0}", "{type: hermite, p: 3}",
    "{type: hermite, coefficients: [0.5, 1.0, 0.0, 2.0, 1.0]}",
};

}  // namespace

TEST_CASE("fused step equals the batched reference in float64 for every adapter option and activation",
          "[fused]") {
  for (const auto& adapter : kAdapters)
    for (const auto& activation : kActivations)
      for (int64_t replicas : {1, 3})
        for (int64_t batch : {1, 5}) compare({adapter, activation, replicas, batch, "float64"});
}

TEST_CASE("fused step equals the batched reference in float32", "[fused]") {
  for (const auto& adapter : kAdapters)
    for (const auto& activation : {"{type: relu}", "{type: tanh}"})
      for (int64_t replicas : {1, 3})
        for (int64_t batch : {1, 5}) compare({adapter, activation, replicas, batch, "float32"});
}

TEST_CASE("fused step equals the reference with weight decay and without the spherical step", "[fused]") {
  for (const auto& adapter : kAdapters) {
    for (const std::string dtype : {"float64", "float32"}) {
      compare({adapter, "{type: tanh}", 3, 5, dtype, /*spherical=*/false, /*weight_decay=*/0.0});
      compare({adapter, "{type: erf}", 3, 5, dtype, /*spherical=*/true, /*weight_decay=*/0.3});
      compare({adapter, "{type: relu}", 1, 1, dtype, /*spherical=*/false, /*weight_decay=*/0.1});
    }
  }
}

TEST_CASE("fused step splits replicas across threads with the same result", "[fused]") {
  // Enough work (R B d >= 131072, fused_step.cpp) for the parallel branch; compared against the reference.
  const int before = at::get_num_threads();
  at::set_num_threads(2);
  const int64_t replicas = 8, batch = 320;
  std::vector<lrlab::Config> cfgs;
  for (int64_t r = 0; r < replicas; ++r)
    cfgs.push_back(lrlab::Config::load_string("seed: " + std::to_string(r) +
                                              "\ndtype: float64\nbase: {d: 64, k: 3, activation: {type: tanh}}\n"
                                              "adapter: {type: lora, rank: 2}\n"));
  auto fg = lrlab::build_group(cfgs);
  auto rg = lrlab::build_group(cfgs);
  OnlineStep fused(fg.model, batch, GradPath::kAnalytic, true);
  OnlineStep ref(rg.model, batch, GradPath::kAnalytic, true, false);
  REQUIRE(fused.fused());
  const at::Tensor lr = at::full({replicas}, 0.2, at::kDouble);
  for (int s = 0; s < 3; ++s) {
    const at::Tensor fl = fused.step(lr, at::Tensor(), true).clone();
    CHECK(rel_err(fl, ref.step(lr, at::Tensor(), true)) < 1e-12);
  }
  if (lrlab::trainers::FusedStep::parallel_available()) {
    CHECK(fused.fused_step()->threads_used() == 2);  // the parallel branch really ran
  } else {
    WARN("fused_step.cpp was built without OpenMP: replicas run on one thread");
  }
  for (size_t i = 0; i < 2; ++i)
    CHECK(rel_err(fg.model.adapter->parameters()[i]->value, rg.model.adapter->parameters()[i]->value) < 1e-12);
  at::set_num_threads(before);
}

TEST_CASE("fused step declines what it does not implement and says why", "[fused]") {
  auto build = [](const std::string& adapter, const std::string& extra = "") {
    return lrlab::build_group({lrlab::Config::load_string(
        "seed: 1\ndtype: float64\nbase: {d: 8, k: 3}\nadapter: " + adapter + "\n" + extra)});
  };
  for (const std::string adapter : {"{type: full}", "{type: scratch}", "{type: lora, rank: 2, init: pissa}"}) {
    INFO(adapter);
    auto g = build(adapter);
    OnlineStep step(g.model, 2, GradPath::kAnalytic, true);
    CHECK_FALSE(step.fused());
    CHECK(step.implementation().find("batched (") == 0);
  }
  auto g = build("{type: rank1}");
  CHECK(OnlineStep(g.model, 2, GradPath::kAnalytic, true).fused());
  OnlineStep autograd(g.model, 2, GradPath::kAutograd, true);
  CHECK_FALSE(autograd.fused());
  CHECK(autograd.implementation() == "batched (autograd path)");
}
