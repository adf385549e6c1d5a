// The fused CUDA step's maths on the CPU (tag [cuda_fused]; no GPU needed): Philox4x32-10 against the
// published known answers, its normals' moments, the sampling contract (a replica's numbers do not
// depend on its group or on the launch length), the components' descriptors and the refusal reasons,
// and the proof of the device code's maths: fused::host_steps (the same LRLAB_HD functions the kernel
// runs) fed the same injected samples equals the batched path to 1e-12 in float64 over several steps,
// for every activation, the rank1 variants, B in {1, 3, 5}, label noise, weight decay, with and without
// the spherical step. The comparisons are non-vacuous: the loss is non-zero and the parameters moved.

#include <catch2/catch.hpp>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "framework/config.h"
#include "framework/error.h"
#include "models/activation_registry.h"
#include "models/metrics.h"
#include "models/register.h"
#include "tests/models/adapters/adapter_test_support.h"
#include "tests/trainers/cuda/fused_test_support.h"
#include "trainers/cuda/fused_math.h"
#include "trainers/cuda/fused_step.h"
#include "trainers/monitor.h"
#include "trainers/online_step.h"
#include "trainers/recorder.h"
#include "trainers/update_rule.h"

namespace {

using lrlab::Config;
namespace fused = lrlab::fused;
using lrlab::trainers::FusedStep;
using lrlab::trainers::UpdateRule;
using namespace lrlab::fused_test;

// An activation config for every registered key: `{type: key}`, or the test list's entry when the
// key needs options (hermite); a new activation without defaults fails here until listed.
std::vector<std::string> every_activation() {
  std::vector<std::string> out;
  for (const auto& key : lrlab::models::activation_registry().keys()) {
    const std::string plain = "{type: " + key + "}";
    try {
      lrlab::models::make_activation(Config::load_string(plain));
      out.push_back(plain);
    } catch (const lrlab::Error&) {
      bool listed = false;
      for (const auto& a : lrlab::test::test_activations())
        if (a.rfind("{type: " + key + ",", 0) == 0) {
          out.push_back(a);
          listed = true;
        }
      INFO("activation " << key);
      CHECK(listed);
    }
  }
  for (const auto& a : lrlab::test::test_activations())
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);  // e.g. a second hermite
  return out;
}

}  // namespace

// Random123's known-answer vectors (github.com/DEShawResearch/random123, tests/kat_vectors, the three
// "philox4x32 10" lines: counter, key, expected output), which Salmon et al. (SC 2011) published
// with the generator.
TEST_CASE("Philox4x32-10 matches the Random123 known-answer vectors", "[cuda_fused]") {
  struct Kat {
    fused::Words4 ctr;
    uint32_t k0, k1;
    fused::Words4 out;
  };
  const Kat kats[] = {
      {{{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}}},
      {{{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu,
       {{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}}},
      {{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u,
       {{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}}},
  };
  for (const Kat& k : kats) {
    const fused::Words4 got = fused::philox4x32(k.ctr, k.k0, k.k1);
    for (int i = 0; i < 4; ++i) CHECK(got.v[i] == k.out.v[i]);
  }
}

TEST_CASE("Philox normals have the moments of N(0, 1) and are uncorrelated", "[cuda_fused]") {
  // 1e6 normals of one draw: mean, variance, fourth moment, and the correlation of neighbours (the two
  // Box-Muller lanes, and consecutive blocks), each within about 5 standard errors.
  const int n = 1000000;
  double s1 = 0, s2 = 0, s4 = 0, lag1 = 0, lag2 = 0, prev = 0, prev2 = 0;
  int not_finite = 0;
  for (int j = 0; j < n; ++j) {
    const double z = fused::normal(12345, 7, fused::kDrawInputs, static_cast<uint32_t>(j));
    not_finite += std::isfinite(z) ? 0 : 1;
    s1 += z;
    s2 += z * z;
    s4 += z * z * z * z;
    lag1 += z * prev;
    lag2 += z * prev2;
    prev2 = prev;
    prev = z;
  }
  REQUIRE(not_finite == 0);
  const double mean = s1 / n, var = s2 / n - mean * mean;
  CHECK(std::fabs(mean) < 5.0 / std::sqrt(n));
  CHECK(std::fabs(var - 1.0) < 5.0 * std::sqrt(2.0 / n));
  CHECK(std::fabs(s4 / n - 3.0) < 5.0 * std::sqrt(96.0 / n));
  CHECK(std::fabs(lag1 / n) < 5.0 / std::sqrt(n));
  CHECK(std::fabs(lag2 / n) < 5.0 / std::sqrt(n));
  // Another step, stream or seed gives other numbers.
  const double z0 = fused::normal(12345, 7, fused::kDrawInputs, 0);
  CHECK(z0 != fused::normal(12345, 8, fused::kDrawInputs, 0));
  CHECK(z0 != fused::normal(12345, 7, fused::kDrawNoise, 0));
  CHECK(z0 != fused::normal(12346, 7, fused::kDrawInputs, 0));
}

TEST_CASE("a replica's fused run does not depend on its group or on the launch length", "[cuda_fused]") {
  // The replica seeded 41: alone, second of three, one launch of 6 steps or six launches of 1.
  Case alone{"{type: rank1, train_xi: true}", "{type: tanh}", 1, 2};
  alone.seeds = {41};
  alone.grouped_start = false;
  Case group = alone;
  group.replicas = 3;
  group.seeds = {40, 41, 42};
  auto run = [](const Case& c, int launch) {
    auto m = build(c);
    auto rule = make_rule("sgd", m);
    auto step = FusedStep::make(m, c.batch, true, *rule, nullptr);
    REQUIRE(step);
    const at::Tensor lr = at::full({c.replicas}, 0.05, at::kDouble);
    for (int s = 1; s <= 6; s += launch) step->steps(s, launch, lr, at::Tensor(), false);
    return m.adapter->parameters()[0]->value.clone();  // u [R, d]
  };
  const at::Tensor a = run(alone, 1), b = run(alone, 6), g = run(group, 3);
  CHECK(at::equal(a, b));
  CHECK(at::equal(a[0], g[1]));
  auto start = build(alone);
  CHECK(rel_err(a, start.adapter->parameters()[0]->value) > 1e-3);  // the steps moved u
}

TEST_CASE("each activation's fused descriptor evaluates its cpu_values", "[cuda_fused]") {
  for (const auto& text : every_activation()) {
    INFO(text);
    const auto act = lrlab::models::make_activation(Config::load_string(text));
    std::string why;
    const auto desc = act->cuda_descriptor(&why);
    INFO(why);
    REQUIRE(desc);  // every built-in activation runs in the fused step
    for (double z = -4.1; z < 4.2; z += 0.37) {
      for (const double x : {z, 0.0}) {
        double v = 0, dv = 0, cv = 0, cdv = 0;
        fused::activation(*desc, x, &v, &dv);
        act->cpu_values(&x, &cv, &cdv, 1);
        CHECK(v == Approx(cv).epsilon(1e-14).margin(1e-15));
        CHECK(dv == Approx(cdv).epsilon(1e-14).margin(1e-15));
      }
    }
  }
}

TEST_CASE("fused step: which adapters and update rules it takes, and why not", "[cuda_fused]") {
  for (const auto& key : lrlab::models::adapter_registry().keys()) {
    if (key == "planted_error") continue;  // registered by tests/apps/gradcheck_command_test.cpp
    INFO("adapter " << key);
    auto m = build({"{type: " + key + "}", "{type: relu}", 2, 1});
    auto rule = make_rule("sgd", m);
    std::string why;
    const auto step = FusedStep::make(m, 1, true, *rule, &why);
    const bool described = m.adapter->cuda_descriptor(nullptr).has_value();
    CHECK(static_cast<bool>(step) == described);
    if (key == "rank1") CHECK(step);
    if (!step) CHECK(why == "adapter '" + key + "' has no fused CUDA step");
  }
  for (const auto& key : lrlab::trainers::update_rule_registry().keys()) {
    INFO("rule " << key);
    auto m = build({});
    auto rule = make_rule(key, m);
    std::string why;
    const auto step = FusedStep::make(m, 3, true, *rule, &why);
    CHECK(static_cast<bool>(step) == rule->plain_descent());
    if (!step) CHECK(why == "update rule '" + key + "' has no fused CUDA step");
  }
  std::string why;
  auto m = build({});
  auto rule = make_rule("sgd", m);
  CHECK_FALSE(FusedStep::make(m, 17, true, *rule, &why));  // B above the kernel's limit
  CHECK(why == "batch above the fused step's limit (16)");
}

TEST_CASE("online step path names: the fused CUDA step is chosen only on CUDA", "[cuda_fused]") {
  auto m = build({});
  auto rule = make_rule("sgd", m);
  using lrlab::trainers::GradPath;
  using lrlab::trainers::OnlineStep;
  // On the CPU the kernel path stays the fast path; the fused step never replaces it.
  CHECK(OnlineStep(m, 3, GradPath::kAnalytic, true, *rule).path() == "kernel");
  CHECK(OnlineStep(m, 3, GradPath::kAnalytic, true, *rule, false).path() == "batched (kernel path disabled)");
  CHECK_FALSE(OnlineStep(m, 3, GradPath::kAnalytic, true, *rule).multi_step());
  // On CUDA (OnlineStep::choose): the option first, then the build, then the components' verdict.
  using lrlab::trainers::fused_path_name;
  CHECK(fused_path_name(true, true, true, "") == "cuda_fused");
  CHECK(fused_path_name(false, true, true, "") == "batched (fused CUDA step disabled)");
  CHECK(fused_path_name(false, false, false, "x") == "batched (fused CUDA step disabled)");
  CHECK(fused_path_name(true, false, false, "x") == "batched (built without the fused CUDA step)");
  // The reason FusedStep::make gives for a model it refuses, as the path names it.
  auto lora = build({"{type: lora}", "{type: tanh}", 2, 1});
  auto lora_rule = make_rule("sgd", lora);
  std::string why;
  CHECK_FALSE(FusedStep::make(lora, 1, true, *lora_rule, &why));
  CHECK(fused_path_name(true, true, false, why) == "batched (adapter 'lora' has no fused CUDA step)");
}

TEST_CASE("the monitor's next record step bounds a multi-step launch", "[cuda_fused]") {
  auto m = build({"{type: rank1}", "{type: tanh}", 1, 1});
  lrlab::models::MetricsOptions options;
  options.names = {"overlap"};
  options.every = 5;
  lrlab::models::MetricSet metrics(options, m);
  lrlab::Recorder recorder({lrlab::RunRecord{"run0", 40}}, {}, [](const std::string&) { return true; });
  lrlab::trainers::Monitor monitor(metrics, recorder, /*total_steps=*/12, /*early_stop=*/false);
  REQUIRE(monitor.every() == 5);
  const int64_t expected[] = {5, 5, 5, 5, 5, 10, 10, 10, 10, 10, 12, 12};  // steps 1..12
  for (int64_t step = 1; step <= 12; ++step) {
    INFO("step " << step);
    CHECK(monitor.next_due(step) == expected[step - 1]);
    CHECK(monitor.due(monitor.next_due(step)));
  }
}

TEST_CASE("fused step (host) equals the batched path for every activation", "[cuda_fused]") {
  for (const auto& activation : every_activation()) {
    compare({"{type: rank1}", activation, 3, 1});
    compare({"{type: rank1}", activation, 3, 3, /*weight_decay=*/0.2});
  }
}

TEST_CASE("fused step (host) equals the batched path for the rank1 variants", "[cuda_fused]") {
  for (const char* adapter :
       {"{type: rank1, c: teacher, train_xi: true}", "{type: rank1, c: fixed_random, train_xi: true}",
        "{type: rank1, c: fixed_random}", "{type: rank1, c_init: zero}",
        "{type: rank1, xi_from_teacher: false, xi: 0.7, train_xi: true}"}) {
    compare({adapter, "{type: erf}", 3, 3, /*weight_decay=*/0.1});
    compare({adapter, "{type: relu}", 1, 5, /*weight_decay=*/0.0, /*spherical=*/false});
  }
}

TEST_CASE("fused step (host) equals the batched path over multi-step launches and in float32", "[cuda_fused]") {
  compare({"{type: rank1, train_xi: true}", "{type: tanh}", 3, 2, 0.1}, 8, 4);
  compare({"{type: rank1}", "{type: gelu}", 2, 1}, 6, 3);
  Case f32{"{type: rank1}", "{type: tanh}", 3, 3};
  f32.dtype = "float32";
  compare(f32);
}
