// population_gd: monotone decrease of the exact population loss, recovery of the teacher, and the two
// gradient paths agree along a trajectory.
#include <ATen/ATen.h>

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

}  // namespace

TEST_CASE("population_gd decreases the population loss monotonically and recovers a rank-1 teacher",
          "[population_gd]") {
  // d = 32, k = 4, ReLU, rank-1 fine-tuning (u on the sphere, c trained from a random start).
  const std::string yaml = R"(
dtype: float64
base: {d: 32, k: 4, activation: {type: relu}}
teacher: {rank: 1, xi: 1.0}
adapter: {type: rank1, c: train}
trainer: {type: population_gd, steps: STEPS, lr: LR}
metrics: {names: [population_loss, delta_error, overlap], every: 1}
)";
  std::string text = yaml;
  text.replace(text.find("STEPS"), 5, "600");
  text.replace(text.find("LR"), 2, "8.0");
  const int R = 3;
  GroupOutcome out = run_group(replica_configs(text, R), records(R));
  for (int r = 0; r < R; ++r) {
    const std::string run = "run" + std::to_string(r);
    const auto loss = curve(*out.recorder, run, "population_loss");
    const auto err = curve(*out.recorder, run, "delta_error");
    REQUIRE(loss.size() == 601);
    int increases = 0;
    for (size_t t = 1; t < loss.size(); ++t)
      if (loss[t] > loss[t - 1] * (1 + 1e-12) + 1e-16) ++increases;
    INFO(run << ": loss " << loss.front() << " -> " << loss.back() << ", delta_error " << err.front() << " -> "
             << err.back() << ", overlap " << curve(*out.recorder, run, "overlap").back());
    CHECK(increases == 0);
    CHECK(err.back() < 1e-3);
    CHECK(loss.back() < 1e-6 * loss.front());
  }
}

TEST_CASE("population_gd: analytic and autograd gradient paths follow the same trajectory", "[population_gd]") {
  for (const std::string adapter : {"{type: rank1, c: train}", "{type: lora, rank: 2}", "{type: full}"}) {
    INFO(adapter);
    const std::string base = "dtype: float64\nbase: {d: 12, k: 3, activation: {type: erf}}\nteacher: {rank: 2, xi: 1.0}\n"
                             "adapter: " + adapter + "\nmetrics: {names: [population_loss], every: 10}\n";
    GroupOutcome a = run_group(replica_configs(base + "trainer: {type: population_gd, steps: 50, lr: 2.0, grad: analytic}\n", 2), records(2));
    GroupOutcome b = run_group(replica_configs(base + "trainer: {type: population_gd, steps: 50, lr: 2.0, grad: autograd}\n", 2), records(2));
    for (const std::string run : {"run0", "run1"}) {
      const auto la = curve(*a.recorder, run, "population_loss"), lb = curve(*b.recorder, run, "population_loss");
      REQUIRE(la.size() == lb.size());
      CHECK(la.back() < 0.9 * la.front());
      for (size_t i = 0; i < la.size(); ++i) CHECK(la[i] == Approx(lb[i]).epsilon(1e-10));
    }
  }
}

TEST_CASE("population_gd: options are validated", "[population_gd]") {
  const std::string base = "base: {d: 8, k: 2}\n";
  CHECK_THROWS_AS(build_group(replica_configs(base + "trainer: {type: population_gd, lr: -1}\n", 1)), ConfigError);
  CHECK_THROWS_AS(build_group(replica_configs(base + "trainer: {type: population_gd, batch: 4}\n", 1)), ConfigError);
  CHECK_NOTHROW(build_group(replica_configs(base + "trainer: {type: population_gd, schedule: {type: cosine}}\n", 1)));
}
