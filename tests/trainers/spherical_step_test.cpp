// The spherical (Riemannian) update keeps u on the unit sphere and moves it along the tangent part
// of the gradient.

#include <catch2/catch.hpp>

#include <ATen/ATen.h>

#include "study/group_runner.h"
#include "trainers/trainer.h"

namespace {
lrlab::study::BuiltGroup rank1_group() {
  return lrlab::study::build_group({lrlab::Config::load_string(
      "seed: 1\ndtype: float64\nbase: {d: 9, k: 3}\nadapter: {type: rank1, c: teacher}\n", "sphere.yaml")});
}
}  // namespace

TEST_CASE("spherical step stays on the sphere and follows the tangent gradient", "[spherical]") {
  auto g = rank1_group();
  auto* u = g.model.adapter->parameters()[0];
  REQUIRE(u->on_sphere);
  at::manual_seed(7);
  const at::Tensor lr = at::full({1}, 1e-4, at::kDouble);
  for (int step = 0; step < 20; ++step) {
    const at::Tensor before = u->value.clone();
    u->grad = at::randn_like(u->value) * 3.0;
    const at::Tensor grad = u->grad.clone();
    lrlab::trainers::gradient_step(*g.model.adapter, lr, /*spherical=*/true);
    CHECK(u->value.norm().item<double>() == Approx(1.0).epsilon(1e-14));
    // First order: u_new - u = -lr (grad - <grad, u> u) + O(lr^2).
    const at::Tensor tangent = grad - (grad * before).sum(-1, true) * before;
    const at::Tensor moved = u->value - before;
    const double err = (moved + 1e-4 * tangent).norm().item<double>();
    CHECK(err < 1e-4 * 1e-3 * tangent.norm().item<double>() + 1e-12);
    // The step is orthogonal to u up to second order: <u_new - u, u> = -|u_new - u|^2 / 2 on the sphere.
    const double t = 1e-4 * tangent.norm().item<double>();
    CHECK(std::abs((moved * before).sum().item<double>()) <= 0.51 * t * t + 1e-15);
  }
}

TEST_CASE("a gradient along u does not move u under the spherical step", "[spherical]") {
  auto g = rank1_group();
  auto* u = g.model.adapter->parameters()[0];
  const at::Tensor before = u->value.clone();
  u->grad = before * 5.0;  // purely radial
  lrlab::trainers::gradient_step(*g.model.adapter, at::full({1}, 0.5, at::kDouble), true);
  CHECK(at::allclose(u->value, before, 0, 1e-14));
}
