// delta_error_sym: zero for the student's equivalent parametrisations (u = -u* with an even activation on a
// zero base, a lam-preserving row permutation for scratch), equal to delta_error when no symmetry applies,
// and registered beside delta_error.
#include "models/symmetric_error.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <catch2/catch.hpp>
#include <memory>
#include <vector>

#include "study/group_runner.h"
#include "models/activations/gelu.h"
#include "models/activations/hermite.h"
#include "models/activations/relu.h"
#include "models/activations/tanh.h"
#include "models/metrics.h"
#include "tests/support/group_fixtures.h"

using namespace lrlab::models;

namespace {

const auto kF64 = at::TensorOptions().dtype(at::kDouble);

std::shared_ptr<Activation> hermite(std::vector<double> coefficients) {
  HermiteOptions o;
  o.coefficients = std::move(coefficients);
  return std::make_shared<Hermite>(o);
}

at::Tensor randn(std::vector<int64_t> shape, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::normal(0.0, 1.0, shape, gen, kF64);
}

}  // namespace

TEST_CASE("activation_is_even detects even activations", "[metrics][symmetry]") {
  CHECK(activation_is_even(*hermite({0, 0, 2})));            // He_2
  CHECK(activation_is_even(*hermite({0, 0, 0, 0, 24})));     // He_4
  CHECK(activation_is_even(*hermite({1, 0, 2, 0, 0.5})));    // even degrees only
  CHECK_FALSE(activation_is_even(*hermite({0, 0, 2, 1})));   // He_2 + He_3 / 6
  CHECK_FALSE(activation_is_even(*hermite({0, 1})));         // He_1
  CHECK_FALSE(activation_is_even(Relu()));
  CHECK_FALSE(activation_is_even(Tanh()));
  CHECK_FALSE(activation_is_even(Gelu()));
}

TEST_CASE("min_cost_assignment finds the optimal permutation", "[metrics][symmetry]") {
  // Brute force over the 4! permutations of a random cost.
  const at::Tensor c = at::rand({4, 4}, at::make_generator<at::CPUGeneratorImpl>(3), kF64).contiguous();
  std::vector<double> cost(c.data_ptr<double>(), c.data_ptr<double>() + 16);
  std::vector<int64_t> perm = {0, 1, 2, 3};
  double best = 1e300;
  do {
    double s = 0;
    for (int i = 0; i < 4; ++i) s += cost[i * 4 + perm[i]];
    best = std::min(best, s);
  } while (std::next_permutation(perm.begin(), perm.end()));
  const std::vector<int64_t> column = min_cost_assignment(cost, 4);
  double got = 0;
  for (int i = 0; i < 4; ++i) got += cost[i * 4 + column[i]];
  CHECK(got == Approx(best).epsilon(1e-14));
}

TEST_CASE("delta_error_sym: zero on equivalent students, delta_error otherwise", "[metrics][symmetry]") {
  SECTION("u = -u* with He_2 on a zero base (GLM): delta_error 2, delta_error_sym 0") {
    const at::Tensor u = randn({1, 1, 8}, 1);
    const at::Tensor delta_star = 1.5 * u / u.norm();  // W = 0: P = Delta*, Q = -Delta*
    const at::Tensor q = -delta_star, p = delta_star, lam = at::ones({1, 1}, kF64);
    CHECK(relative_delta_error(q, delta_star).item<double>() == Approx(2.0));
    CHECK(symmetric_delta_error(q, p, lam, delta_star, true, true).item<double>() < 1e-15);
    // not even (relu): no sign symmetry, it stays delta_error
    CHECK(symmetric_delta_error(q, p, lam, delta_star, false, true).item<double>() == Approx(2.0));
  }
  SECTION("a row permutation preserving lam (scratch student): 0; a permutation across lam values: not") {
    const at::Tensor w = randn({2, 4, 6}, 2), delta_star = 0.7 * randn({2, 4, 6}, 3);
    const at::Tensor p = w + delta_star;
    const at::Tensor lam = at::full({2, 4}, 0.25, kF64);
    const at::Tensor perm = at::tensor({2, 0, 3, 1}, at::kLong);
    const at::Tensor q = p.index_select(1, perm);
    CHECK(relative_delta_error(q - w, delta_star).min().item<double>() > 0.5);
    CHECK(symmetric_delta_error(q, p, lam, delta_star, false, true).max().item<double>() < 1e-14);
    // with lam values that differ between the permuted rows the student is a different function
    const at::Tensor signs = at::tensor({0.5, -0.5, 0.5, -0.5}, kF64).expand({2, 4});  // rows 0,2 vs 1,3
    CHECK(symmetric_delta_error(q, p, signs, delta_star, false, true).min().item<double>() > 0.1);
    const at::Tensor q2 = p.index_select(1, at::tensor({2, 1, 0, 3}, at::kLong));  // swaps rows 0 and 2 only
    CHECK(symmetric_delta_error(q2, p, signs, delta_star, false, true).max().item<double>() < 1e-14);
  }
  SECTION("no symmetry applies: equal to delta_error to rounding") {
    const at::Tensor w = randn({3, 4, 6}, 4), delta_star = randn({3, 4, 6}, 5), delta = randn({3, 4, 6}, 6);
    const at::Tensor lam = randn({3, 4}, 7);  // distinct lam: no permutation keeps them
    const at::Tensor expected = relative_delta_error(delta, delta_star);
    const at::Tensor got = symmetric_delta_error(w + delta, w + delta_star, lam, delta_star, false, true);
    CHECK(at::allclose(got, expected, 1e-13, 0));
    // near the teacher the identity matching wins even with symmetries allowed, with full relative accuracy
    const at::Tensor tiny = 1e-9 * randn({3, 4, 6}, 8);
    const at::Tensor near = symmetric_delta_error(w + delta_star + tiny, w + delta_star, at::ones({3, 4}, kF64),
                                                  delta_star, true, true);
    CHECK(at::allclose(near, relative_delta_error(delta_star + tiny, delta_star), 1e-6, 0));
  }
}

TEST_CASE("delta_error_sym is registered beside delta_error", "[metrics][symmetry]") {
  REQUIRE(metric_registry().contains("delta_error_sym"));
  REQUIRE(metric_registry().contains("delta_error"));
  CHECK_FALSE(metric_higher_is_better("delta_error_sym"));
}

TEST_CASE("delta_error_sym on built models: a scratch student on permuted teacher rows, a rank1 student",
          "[metrics][symmetry]") {
  MetricsOptions mo;
  mo.names = {"delta_error", "delta_error_sym"};
  const std::string problem =
      "dtype: float64\nbase: {d: 8, k: 3, activation: {type: relu}, second_layer: constant}\n"
      "teacher: {rank: 1, xi: 0.8}\n";
  {
    lrlab::study::BuiltGroup g = lrlab::study::build_group(lrlab::testing::replica_configs(problem + "adapter: {type: scratch}\n", 2));
    at::NoGradGuard no_grad;
    g.model.adapter->parameters()[0]->value.copy_(
        g.model.teacher->weight().index_select(1, at::tensor({1, 2, 0}, at::kLong)));
    MetricSet set(mo, g.model);
    const auto values = set.evaluate(g.model);
    CHECK(values.at("delta_error").min().item<double>() > 0.1);
    CHECK(values.at("delta_error_sym").max().item<double>() < 1e-12);
  }
  {
    lrlab::study::BuiltGroup g = lrlab::study::build_group(lrlab::testing::replica_configs(problem + "adapter: {type: rank1}\n", 2));
    MetricSet set(mo, g.model);
    const auto values = set.evaluate(g.model);
    CHECK(at::allclose(values.at("delta_error_sym"), values.at("delta_error"), 1e-12, 0));
  }
}
