// Learning-rate schedules produce the rates they claim, per replica, in place; decoupled weight decay.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "framework/config.h"
#include "framework/context.h"
#include "framework/error.h"
#include "study/group_runner.h"
#include "trainers/lr_schedule.h"
#include "trainers/online_sgd.h"

using namespace lrlab;
using namespace lrlab::study;
using namespace lrlab::trainers;

namespace {

LrScheduleOptions schedule(const std::string& type) {
  LrScheduleOptions o;
  o.type = type;
  return o;
}

Context cpu_context(int replicas, at::ScalarType dtype = at::kDouble) {
  Context ctx;
  ctx.dtype = dtype;
  for (int r = 0; r < replicas; ++r) ctx.seeds.push_back(r);
  return ctx;
}

std::vector<Config> replica_configs(const std::vector<std::string>& yamls) {
  std::vector<Config> out;
  int seed = 1;
  for (const auto& y : yamls) {
    Config c = Config::load_string(y, "<lr_schedule_test>");
    c.set("seed", std::to_string(seed++));
    out.push_back(c);
  }
  return out;
}

}  // namespace

TEST_CASE("schedules: the formulas", "[lr_schedule]") {
  CHECK(scheduled_lr(schedule("constant"), 0.3, 12345, 100) == 0.3);

  LrScheduleOptions step = schedule("step");
  step.every = 10;
  step.gamma = 0.5;
  CHECK(scheduled_lr(step, 0.8, 0, 100) == 0.8);
  CHECK(scheduled_lr(step, 0.8, 9, 100) == 0.8);
  CHECK(scheduled_lr(step, 0.8, 10, 100) == 0.4);
  CHECK(scheduled_lr(step, 0.8, 25, 100) == Approx(0.2).epsilon(1e-15));

  LrScheduleOptions inv = schedule("inverse_time");
  inv.t0 = 50;
  CHECK(scheduled_lr(inv, 1.0, 0, 100) == 1.0);
  CHECK(scheduled_lr(inv, 1.0, 50, 100) == Approx(0.5).epsilon(1e-15));
  CHECK(scheduled_lr(inv, 1.0, 150, 100) == Approx(0.25).epsilon(1e-15));

  LrScheduleOptions cosine = schedule("cosine");
  cosine.min_lr = 0.1;
  CHECK(scheduled_lr(cosine, 1.0, 0, 100) == 1.0);
  CHECK(scheduled_lr(cosine, 1.0, 50, 100) == Approx(0.55).epsilon(1e-15));
  CHECK(scheduled_lr(cosine, 1.0, 100, 100) == Approx(0.1).epsilon(1e-15));
  CHECK(scheduled_lr(cosine, 1.0, 25, 100) == Approx(0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI / 4))).epsilon(1e-15));
  cosine.warmup = 10;  // lr (s + 1) / 10 for s < 10, then cosine over the remaining 90 updates
  CHECK(scheduled_lr(cosine, 1.0, 0, 100) == Approx(0.1).epsilon(1e-15));
  CHECK(scheduled_lr(cosine, 1.0, 4, 100) == Approx(0.5).epsilon(1e-15));
  CHECK(scheduled_lr(cosine, 1.0, 10, 100) == 1.0);
  CHECK(scheduled_lr(cosine, 1.0, 55, 100) == Approx(0.55).epsilon(1e-15));
}

TEST_CASE("LearningRates: per-replica schedules rewritten in place, decay = lr * weight_decay", "[lr_schedule]") {
  for (auto dtype : {at::kDouble, at::kFloat}) {
    const Context ctx = cpu_context(3, dtype);
    LrScheduleOptions a = schedule("step"), b = schedule("step"), c = schedule("step");
    a.every = 2;
    a.gamma = 0.5;
    b.every = 3;
    b.gamma = 0.1;
    c.every = 100;
    LearningRates rates(ctx, {1.0, 2.0, 4.0}, {a, b, c}, 100, {0.0, 0.5, 0.25});
    const void* lr_memory = rates.lr().data_ptr();
    const void* decay_memory = rates.decay().data_ptr();
    REQUIRE(rates.has_decay());
    for (int64_t s = 0; s < 10; ++s) {
      rates.set_step(s);
      const std::vector<double> want = {scheduled_lr(a, 1.0, s, 100), scheduled_lr(b, 2.0, s, 100),
                                        scheduled_lr(c, 4.0, s, 100)};
      CHECK(rates.values() == want);
      const at::Tensor lr = rates.lr().to(at::kDouble), decay = rates.decay().to(at::kDouble);
      for (int r = 0; r < 3; ++r) {
        CHECK(lr[r].item<double>() == Approx(want[r]).epsilon(1e-7));
        CHECK(decay[r].item<double>() == Approx(want[r] * std::vector<double>{0.0, 0.5, 0.25}[r]).epsilon(1e-7).margin(1e-30));
      }
      CHECK(rates.lr().data_ptr() == lr_memory);  // the same tensor all along
      CHECK(rates.decay().data_ptr() == decay_memory);
    }
  }
  LearningRates constant(cpu_context(2), {0.1, 0.2}, {}, 10);
  CHECK_FALSE(constant.has_decay());
  constant.set_step(7);
  CHECK(constant.values() == std::vector<double>{0.1, 0.2});
}

TEST_CASE("schedules from the config: per replica, lr_scaling applies to min_lr, errors name the key",
          "[lr_schedule]") {
  const std::string head = "base: {d: 10, k: 2}\n";
  BuiltGroup g = build_group(replica_configs(
      {head + "trainer: {type: online_sgd, steps: 100, lr: 1.0, lr_scaling: inverse_d, schedule: {type: cosine, min_lr: 0.5}}\n",
       head + "trainer: {type: online_sgd, steps: 100, lr: 2.0, lr_scaling: inverse_d, schedule: {type: cosine, min_lr: 0.2, warmup: 10}}\n"}));
  auto& sgd = dynamic_cast<OnlineSgd&>(*g.trainer);
  auto& rates = const_cast<LearningRates&>(sgd.learning_rates());
  rates.set_step(100);
  CHECK(rates.values()[0] == Approx(0.05));  // min_lr / d
  CHECK(rates.values()[1] == Approx(0.02));
  rates.set_step(0);
  CHECK(rates.values()[0] == Approx(0.1));
  CHECK(rates.values()[1] == Approx(0.2 / 10));  // warm-up: lr / d * 1 / 10
  const auto stackable = trainer_registry().find("online_sgd", g.config).stackable;
  CHECK(std::find(stackable.begin(), stackable.end(), "schedule.min_lr") != stackable.end());
  CHECK(std::find(stackable.begin(), stackable.end(), "weight_decay") != stackable.end());

  auto fails = [&](const std::string& trainer, const std::string& key) {
    try {
      build_group(replica_configs({head + "trainer: " + trainer + "\n"}));
      FAIL("no error for " << trainer);
    } catch (const ConfigError& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find(key) != std::string::npos);
    }
  };
  fails("{type: online_sgd, schedule: {type: step, every: 0}}", "trainer.schedule.every");
  fails("{type: online_sgd, schedule: {type: step, gamma: -1}}", "trainer.schedule.gamma");
  fails("{type: online_sgd, lr: 0.1, schedule: {type: cosine, min_lr: 0.5}}", "trainer.schedule.min_lr");
  fails("{type: online_sgd, schedule: {type: inverse_time, t0: 0}}", "trainer.schedule.t0");
  fails("{type: online_sgd, schedule: {type: constant, gamma: 0.5}}", "gamma");  // a key of another type
  fails("{type: online_sgd, schedule: {type: linear}}", "trainer.schedule.type");
  fails("{type: online_sgd, weight_decay: -0.1}", "trainer.weight_decay");
}

TEST_CASE("weight decay: decoupled, per replica, scaled by lr_scale, never on the sphere", "[lr_schedule]") {
  const std::string head = "dtype: float64\nbase: {d: 6, k: 2}\n";
  BuiltGroup g = build_group(replica_configs({head + "adapter: {type: lora, rank: 1, lr_ratio: 4}\n",
                                              head + "adapter: {type: lora, rank: 1, lr_ratio: 4}\n"}));
  auto& adapter = *g.model.adapter;
  auto params = adapter.parameters();  // A (lr_scale 1), B (lr_scale 4)
  at::NoGradGuard no_grad;
  for (auto* p : params) p->value.fill_(1.0);
  const at::Tensor decay = at::tensor({0.01, 0.02}, at::kDouble);  // lr_s * weight_decay per replica
  apply_weight_decay(adapter, decay);
  CHECK(params[0]->value[0].max().item<double>() == Approx(0.99));
  CHECK(params[0]->value[1].min().item<double>() == Approx(0.98));
  CHECK(params[1]->value[0].max().item<double>() == Approx(1 - 4 * 0.01));
  CHECK(params[1]->value[1].max().item<double>() == Approx(1 - 4 * 0.02));

  BuiltGroup r1 = build_group(replica_configs({head + "adapter: {type: rank1, c: train}\n"}));
  auto rp = r1.model.adapter->parameters();  // u (sphere), c
  const at::Tensor u0 = rp[0]->value.clone(), c0 = rp[1]->value.clone();
  apply_weight_decay(*r1.model.adapter, at::tensor({0.1}, at::kDouble));
  CHECK(at::equal(rp[0]->value, u0));
  CHECK(at::allclose(rp[1]->value, c0 * 0.9));
}
