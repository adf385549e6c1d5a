// The `linearized` adapter: gradients when wrapping rank1 and lora, agreement with the true model to
// first order (the error shrinks quadratically with the size of Delta), and its delegation to the inner
// adapter.
#include <catch2/catch.hpp>

#include <cmath>

#include "models/adapters/linearized.h"
#include "tests/models/adapters/adapter_test_support.h"

using lrlab::test::build_test_model;

namespace {
double max_abs(const at::Tensor& t) { return t.abs().max().item<double>(); }
}  // namespace

TEST_CASE("linearized: analytic gradient == autograd == finite differences around rank1 and lora",
          "[adapters][linearized][gradcheck]") {
  lrlab::test::check_adapter_gradients("{type: linearized, inner: {type: rank1, c: train, train_xi: true}}");
  for (int rank : {1, 3})
    lrlab::test::check_adapter_gradients(fmt::format("{{type: linearized, inner: {{type: lora, rank: {}}}}}", rank));
}

TEST_CASE("linearized: equals the true model to first order (error ~ t^2)", "[adapters][linearized]") {
  for (const char* activation : {"{type: tanh}", "{type: softplus}", "{type: hermite, p: 3}"}) {
    INFO(activation);
    // The same lora inner adapter, linearized and not; Delta = s B A scales with t through B.
    auto lin = build_test_model("{type: linearized, inner: {type: lora, rank: 2}}", activation, 2);
    auto exact = build_test_model("{type: lora, rank: 2}", activation, 2);
    auto lin_params = lin.adapter->parameters();
    auto exact_params = exact.adapter->parameters();
    const at::Tensor direction = lrlab::test::test_normal(exact_params[1]->value.sizes(), 17);
    const at::Tensor x = lrlab::test::test_normal({2, 50, 7}, 18);
    const at::Tensor wx = lin.base->preactivations(x);
    // At Delta = 0 both are the base model.
    CHECK(max_abs(lin.adapter->forward(x, wx) - lin.base->output(wx)) <= 1e-15);
    std::vector<double> log_t, log_err;
    for (double t = 0.2; t > 0.2 / 40; t /= 2) {
      lin_params[1]->value.copy_(t * direction);
      exact_params[1]->value.copy_(t * direction);
      const double err = max_abs(lin.adapter->forward(x, wx) - exact.adapter->forward(x, wx));
      log_t.push_back(std::log(t));
      log_err.push_back(std::log(err));
    }
    // Least-squares slope of log error against log t.
    const double n = static_cast<double>(log_t.size());
    double mt = 0, me = 0;
    for (size_t i = 0; i < log_t.size(); ++i) mt += log_t[i] / n, me += log_err[i] / n;
    double cov = 0, var = 0;
    for (size_t i = 0; i < log_t.size(); ++i) cov += (log_t[i] - mt) * (log_err[i] - me), var += std::pow(log_t[i] - mt, 2);
    const double slope = cov / var;
    INFO("slope " << slope);
    CHECK(slope == Approx(2.0).margin(0.1));
  }
}

TEST_CASE("linearized: parameters, buffers, Delta and the row space are the inner adapter's",
          "[adapters][linearized]") {
  auto model = build_test_model("{type: linearized, inner: {type: lora, rank: 2, init: pissa, lr_ratio: 2}}",
                                "{type: tanh}", 1);
  auto& lin = dynamic_cast<lrlab::models::Linearized&>(*model.adapter);
  CHECK(lin.type() == "linearized");
  CHECK(lin.inner().type() == "lora");
  REQUIRE(lin.parameters().size() == 2);
  CHECK(lin.parameters()[1]->lr_scale == 2.0);
  CHECK(lin.buffers().size() == 2);
  lrlab::perturb_parameters(lin, 0.3, 4);
  CHECK(max_abs(lin.delta() - lin.inner().delta()) == 0);
  CHECK(max_abs(lin.effective_weight() - lin.inner().effective_weight()) == 0);
  CHECK_THROWS_WITH(build_test_model("{type: linearized, inner: {type: lorax}}", "{type: tanh}", 1),
                    Catch::Contains("adapter.inner.type") && Catch::Contains("lora"));
  CHECK_THROWS_WITH(build_test_model("{type: linearized, inner: {type: lora, rnk: 1}}", "{type: tanh}", 1),
                    Catch::Contains("rnk"));
}
