// The `vera` adapter: gradients, VeRA's init (the student starts at the base model), frozen random
// matrices that are buffers and never trained, the dense Delta, LoRA+ on b_vec, option errors.
#include <catch2/catch.hpp>

#include "models/adapters/vera.h"
#include "tests/models/adapters/adapter_test_support.h"
#include "trainers/gradients.h"
#include "trainers/trainer.h"

using lrlab::test::build_test_model;

namespace {
double max_abs(const at::Tensor& t) { return t.abs().max().item<double>(); }
}  // namespace

TEST_CASE("vera: analytic gradient == autograd == finite differences, rank 1 and 3", "[adapters][vera][gradcheck]") {
  for (int rank : {1, 3}) {
    lrlab::test::check_adapter_gradients(fmt::format("{{type: vera, rank: {}}}", rank));
    lrlab::test::check_adapter_gradients(fmt::format("{{type: vera, rank: {}, init: gaussian, d_init: 0.3}}", rank));
  }
}

TEST_CASE("vera: init d_vec = d_init, b_vec = 0; Delta = diag(b) B diag(d) A; A and B stay frozen",
          "[adapters][vera]") {
  auto model = build_test_model("{type: vera, rank: 6, d_init: 0.25, lr_ratio: 3}", "{type: tanh}", 2);
  auto& vera = *model.adapter;
  auto params = vera.parameters();
  auto buffers = vera.buffers();
  REQUIRE(params.size() == 2);
  REQUIRE(buffers.size() == 2);
  CHECK(params[0]->name == "d_vec");
  CHECK(params[1]->name == "b_vec");
  CHECK(max_abs(params[0]->value - 0.25) == 0);
  CHECK(max_abs(params[1]->value) == 0);
  CHECK(params[0]->value.sizes() == at::IntArrayRef({2, 6}));
  CHECK(params[1]->value.sizes() == at::IntArrayRef({2, 4}));
  CHECK(params[1]->lr_scale == 3.0);
  CHECK(buffers[0]->value.sizes() == at::IntArrayRef({2, 6, 7}));  // A [R, r, d]
  CHECK(buffers[1]->value.sizes() == at::IntArrayRef({2, 4, 6}));  // B [R, k, r]
  // Kaiming uniform bounds 1/sqrt(fan_in); replicas draw different matrices.
  CHECK(max_abs(buffers[0]->value) <= 1 / std::sqrt(7.0));
  CHECK(max_abs(buffers[1]->value) <= 1 / std::sqrt(6.0));
  CHECK(max_abs(buffers[0]->value[0] - buffers[0]->value[1]) > 0);
  CHECK(max_abs(vera.delta()) == 0);

  // Training steps move d_vec and b_vec only.
  const at::Tensor a = buffers[0]->value.clone(), b = buffers[1]->value.clone();
  for (int step = 0; step < 3; ++step) {
    const at::Tensor x = lrlab::test::test_normal({2, 5, 7}, step), y = lrlab::test::test_normal({2, 5}, 50 + step);
    lrlab::trainers::compute_gradients(model, x, model.base->preactivations(x), y,
                                       lrlab::trainers::GradPath::kAnalytic, false);
    lrlab::trainers::gradient_step(vera, at::full({2}, 0.5, at::kDouble), true);
  }
  CHECK(max_abs(buffers[0]->value - a) == 0);
  CHECK(max_abs(buffers[1]->value - b) == 0);
  CHECK(max_abs(params[1]->value) > 0);
  const at::Tensor dense = at::bmm(params[1]->value.unsqueeze(2) * b * params[0]->value.unsqueeze(1), a);
  CHECK(max_abs(vera.delta() - dense) <= 1e-15);
  const at::Tensor x = lrlab::test::test_normal({2, 3, 7}, 99);
  const at::Tensor wx = model.base->preactivations(x);
  CHECK(max_abs(vera.preactivations(x, wx) - (wx + at::bmm(x, dense.transpose(1, 2)))) <= 1e-14);
}

TEST_CASE("vera: option errors name the key", "[adapters][vera]") {
  CHECK_THROWS_WITH(build_test_model("{type: vera, rank: 8}", "{type: tanh}", 1),
                    Catch::Contains("adapter.rank") && Catch::Contains("1..d = 7"));
  CHECK_THROWS_WITH(build_test_model("{type: vera, init: orthogonal}", "{type: tanh}", 1),
                    Catch::Contains("adapter.init"));
  CHECK_THROWS_WITH(build_test_model("{type: vera, rank: 2, lr_ratio: 0}", "{type: tanh}", 1),
                    Catch::Contains("adapter.lr_ratio"));
}
