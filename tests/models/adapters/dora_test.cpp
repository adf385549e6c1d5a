// The `dora` adapter: gradients, W' = W at init, the never-formed row norms against the dense formula,
// option errors, and end-to-end recovery of a rank-1 teacher.
#include <catch2/catch.hpp>

#include <chrono>

#include "framework/error.h"
#include "models/adapters/dora.h"
#include "tests/models/adapters/adapter_test_support.h"
#include "tests/models/adapters/e2e_support.h"

using lrlab::test::build_test_model;

namespace {
double max_abs(const at::Tensor& t) { return t.abs().max().item<double>(); }
}  // namespace

TEST_CASE("dora: analytic gradient == autograd == finite differences, rank 1 and 3, both scalings",
          "[adapters][dora][gradcheck]") {
  for (int rank : {1, 3}) {
    lrlab::test::check_adapter_gradients(fmt::format("{{type: dora, rank: {}, alpha: 1.5}}", rank));
    lrlab::test::check_adapter_gradients(fmt::format("{{type: dora, rank: {}, scaling: rs, init_a: orthogonal}}", rank));
  }
}

TEST_CASE("dora: W' = W at init; forward equals lam^T sigma(W' x) with the dense re-normalised W'",
          "[adapters][dora]") {
  auto model = build_test_model("{type: dora, rank: 2, alpha: 0.7}", "{type: gelu}", 3, 9, 5);
  auto& dora = *model.adapter;
  CHECK(max_abs(dora.effective_weight() - model.base->weight()) <= 1e-14);
  const at::Tensor x = lrlab::test::test_normal({3, 6, 9}, 8);
  const at::Tensor wx = model.base->preactivations(x);
  CHECK(max_abs(dora.forward(x, wx) - model.base->output(wx)) <= 1e-14);
  CHECK(max_abs(dora.delta()) <= 1e-14);

  // Away from the init: the forward pass (row norms from W A^T and A A^T, no k x d matrix) equals the
  // dense definition W' = diag(m) rownormalise(W + s B A).
  lrlab::perturb_parameters(dora, 0.7, 9);
  auto params = dora.parameters();  // m, A, B
  REQUIRE(params[0]->name == "m");
  const at::Tensor v = model.base->weight() + 0.7 / 2 * at::bmm(params[2]->value, params[1]->value);
  const at::Tensor w_prime = (params[0]->value / v.norm(2, {2})).unsqueeze(2) * v;
  CHECK(max_abs(dora.effective_weight() - w_prime) <= 1e-13);
  const at::Tensor h_dense = at::bmm(x, w_prime.transpose(1, 2));
  CHECK(max_abs(dora.preactivations(x, wx) - h_dense) <= 1e-13);
  CHECK(max_abs(dora.delta() - (w_prime - model.base->weight())) <= 1e-13);
  CHECK(params[2]->lr_scale == 1.0);
}

TEST_CASE("dora: lr_ratio applies to B; a zero base is a clear error; option errors name the key",
          "[adapters][dora]") {
  auto model = build_test_model("{type: dora, lr_ratio: 8}", "{type: tanh}", 1);
  auto params = model.adapter->parameters();
  CHECK(params[0]->lr_scale == 1.0);
  CHECK(params[1]->lr_scale == 1.0);
  CHECK(params[2]->lr_scale == 8.0);
  const lrlab::Config root = lrlab::Config::load_string(
      "dtype: float64\nbase: {d: 7, k: 4, zero_base: true}\nadapter: {type: dora}\n", "<zero>");
  CHECK_THROWS_WITH(lrlab::models::build_model(root, lrlab::make_context(root, {1})),
                    Catch::Contains("dora") && Catch::Contains("zero row"));
  CHECK_THROWS_WITH(build_test_model("{type: dora, rank: 9}", "{type: tanh}", 1), Catch::Contains("adapter.rank"));
  CHECK_THROWS_WITH(build_test_model("{type: dora, alpha: 0}", "{type: tanh}", 1), Catch::Contains("adapter.alpha"));
}

TEST_CASE("dora: rank-1 fine-tuning reaches delta_error < 0.1 on d = 64, k = 4, ReLU for 3 seeds",
          "[adapters][dora][e2e]") {
  const auto start = std::chrono::steady_clock::now();
  // Budget (configs/examples/dora.yaml): 6000 online-SGD steps, batch 8, step size 16 / d.
  const std::vector<double> errors = lrlab::test::example_final_delta_errors("dora", 3);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO("dora e2e: 3 seeds in " << seconds << " s");
  REQUIRE(errors.size() == 3);
  for (size_t i = 0; i < errors.size(); ++i) {
    INFO("seed " << i << ": delta_error " << errors[i]);
    CHECK(errors[i] < 0.1);
  }
}
