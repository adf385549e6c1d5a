// Learning-rate schedules produce the rates they claim, per replica, in place; decoupled weight decay.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "framework/config.h"
#include "framework/context.h"
#include "framework/error.h"
#include "study/group_runner.h"
#include "trainers/lr_schedule.h"
#include "trainers/descent.h"
#include "trainers/parameter_ops.h"
#include "trainers/schedule.h"

using namespace lrlab;
using namespace lrlab::study;
using namespace lrlab::trainers;

namespace {

/// The schedule of one replica per YAML mapping in `maps` (e.g. "{type: step, every: 2}"), stacked.
std::shared_ptr<const Schedule> schedule(const std::vector<std::string>& maps, const std::vector<double>& lr) {
  std::vector<Config> docs;
  for (const auto& m : maps) docs.push_back(Config::load_string("schedule: " + m + "\n", "<lr_schedule_test>"));
  return make_schedule(Config::stack(docs).child("schedule"), lr);
}

/// Replica 0's rate of update s with base rate lr and budget T = 100 (no lr_scaling).
double rate_of(const std::string& map, double lr, int64_t s) { return schedule({map}, {lr})->rate(0, lr, 1.0, s, 100); }

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
  CHECK(rate_of("{type: constant}", 0.3, 12345) == 0.3);
  CHECK(schedule({"{type: constant}"}, {0.3})->constant());

  const std::string step = "{type: step, every: 10, gamma: 0.5}";
  CHECK(rate_of(step, 0.8, 0) == 0.8);
  CHECK(rate_of(step, 0.8, 9) == 0.8);
  CHECK(rate_of(step, 0.8, 10) == 0.4);
  CHECK(rate_of(step, 0.8, 25) == Approx(0.2).epsilon(1e-15));

  const std::string inv = "{type: inverse_time, t0: 50}";
  CHECK(rate_of(inv, 1.0, 0) == 1.0);
  CHECK(rate_of(inv, 1.0, 50) == Approx(0.5).epsilon(1e-15));
  CHECK(rate_of(inv, 1.0, 150) == Approx(0.25).epsilon(1e-15));

  const std::string cosine = "{type: cosine, min_lr: 0.1}";
  CHECK(rate_of(cosine, 1.0, 0) == 1.0);
  CHECK(rate_of(cosine, 1.0, 50) == Approx(0.55).epsilon(1e-15));
  CHECK(rate_of(cosine, 1.0, 100) == Approx(0.1).epsilon(1e-15));
  CHECK(rate_of(cosine, 1.0, 25) == Approx(0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI / 4))).epsilon(1e-15));
  // lr (s + 1) / 10 for s < 10, then cosine over the remaining 90 updates
  const std::string warm = "{type: cosine, min_lr: 0.1, warmup: 10}";
  CHECK(rate_of(warm, 1.0, 0) == Approx(0.1).epsilon(1e-15));
  CHECK(rate_of(warm, 1.0, 4) == Approx(0.5).epsilon(1e-15));
  CHECK(rate_of(warm, 1.0, 10) == 1.0);
  CHECK(rate_of(warm, 1.0, 55) == Approx(0.55).epsilon(1e-15));

  const std::string linear = "{type: linear, min_lr: 0.2, warmup: 20}";  // warm-up, then 80 updates to 0.2
  CHECK(rate_of(linear, 1.0, 0) == Approx(0.05).epsilon(1e-15));
  CHECK(rate_of(linear, 1.0, 19) == 1.0);
  CHECK(rate_of(linear, 1.0, 20) == 1.0);
  CHECK(rate_of(linear, 1.0, 60) == Approx(0.6).epsilon(1e-15));
  CHECK(rate_of(linear, 1.0, 100) == Approx(0.2).epsilon(1e-15));
  CHECK(rate_of("{type: linear}", 2.0, 50) == Approx(1.0).epsilon(1e-15));
}

TEST_CASE("schedules: every registered schedule follows its formula, per replica, with lr_scaling", "[lr_schedule]") {
  // The formula of each schedule (schedules.h), for base rate lr (after the factor f) at update s of T.
  constexpr int64_t T = 120;
  // Replica 0: warm-up 5, min_lr 0.1; replica 1: no warm-up, min_lr 0.3; then `shape`(lr, min_lr f, u).
  auto warm_then = [](double (*shape)(double, double, double)) {
    return [shape](size_t r, double lr, double f, int64_t s) {
      const int64_t w = r ? 0 : 5;
      if (s < w) return lr * static_cast<double>(s + 1) / static_cast<double>(w);
      const double u = std::min(1.0, static_cast<double>(s - w) / static_cast<double>(T - w));
      return shape(lr, (r ? 0.3 : 0.1) * f, u);
    };
  };
  struct Case {
    std::vector<std::string> maps;  // two replicas
    std::function<double(size_t r, double lr, double f, int64_t s)> formula;
  };
  std::map<std::string, Case> cases = {
      {"constant", {{"{type: constant}", "{}"}, [](size_t, double lr, double, int64_t) { return lr; }}},
      {"step", {{"{type: step, every: 7, gamma: 0.5}", "{type: step, every: 3, gamma: 0.9}"},
                [](size_t r, double lr, double, int64_t s) { return lr * std::pow(r ? 0.9 : 0.5, s / (r ? 3 : 7)); }}},
      {"inverse_time", {{"{type: inverse_time, t0: 10}", "{type: inverse_time, t0: 40}"},
                        [](size_t r, double lr, double, int64_t s) { return lr / (1 + s / (r ? 40.0 : 10.0)); }}},
      {"cosine", {{"{type: cosine, min_lr: 0.1, warmup: 5}", "{type: cosine, min_lr: 0.3}"},
                  warm_then([](double lr, double m, double u) { return m + (lr - m) * 0.5 * (1 + std::cos(M_PI * u)); })}},
      {"linear", {{"{type: linear, min_lr: 0.1, warmup: 5}", "{type: linear, min_lr: 0.3}"},
                  warm_then([](double lr, double m, double u) { return lr + (m - lr) * u; })}},
  };
  for (const auto& key : schedule_registry().keys()) {
    INFO("schedule " << key);
    REQUIRE(cases.count(key));  // a new schedule needs its formula here
    const Case& c = cases.at(key);
    std::vector<std::string> maps = c.maps;
    if (maps[1] == "{}") maps[1] = maps[0];
    const auto sch = schedule(maps, {1.0, 2.0});
    CHECK(sch->type() == key);
    const double f = 0.25;  // lr_scaling factor
    bool varies = false;
    for (int64_t s = 0; s <= T + 5; ++s)
      for (size_t r = 0; r < 2; ++r) {
        const double lr = (r ? 2.0 : 1.0) * f;
        const double want = c.formula(r, lr, f, s);
        CHECK(sch->rate(r, lr, f, s, T) == Approx(want).epsilon(1e-14));
        varies = varies || want != lr;
      }
    CHECK(sch->constant() == !varies);
  }
}

TEST_CASE("LearningRates: per-replica schedules rewritten in place, decay = lr * weight_decay", "[lr_schedule]") {
  for (auto dtype : {at::kDouble, at::kFloat}) {
    const Context ctx = cpu_context(3, dtype);
    const auto steps = schedule({"{type: step, every: 2, gamma: 0.5}", "{type: step, every: 3, gamma: 0.1}",
                                 "{type: step, every: 100}"},
                                {1.0, 2.0, 4.0});
    LearningRates rates(ctx, {1.0, 2.0, 4.0}, steps, 1.0, 100, {0.0, 0.5, 0.25});
    const void* lr_memory = rates.lr().data_ptr();
    const void* decay_memory = rates.decay().data_ptr();
    REQUIRE(rates.has_decay());
    for (int64_t s = 0; s < 10; ++s) {
      rates.set_step(s);
      const std::vector<double> want = {1.0 * std::pow(0.5, static_cast<double>(s / 2)),
                                        2.0 * std::pow(0.1, static_cast<double>(s / 3)),
                                        4.0 * std::pow(0.1, static_cast<double>(s / 100))};
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
  LearningRates constant(cpu_context(2), {0.1, 0.2}, nullptr, 1.0, 10);
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
  auto& sgd = dynamic_cast<Descent&>(*g.trainer);
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
  fails("{type: online_sgd, schedule: {type: exponential}}", "trainer.schedule.type");
  fails("{type: online_sgd, lr: 0.1, schedule: {type: linear, min_lr: 0.5}}", "trainer.schedule.min_lr");
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
