// models/metrics: the documented degenerate case of delta_error (teacher.xi = 0, Delta* = 0: the
// absolute error ||Delta||_F) and the refusal of a metric listed twice.

#include "models/metrics.h"

#include <ATen/ATen.h>

#include <catch2/catch.hpp>

#include "framework/config.h"
#include "framework/error.h"

TEST_CASE("delta_error is the absolute error ||Delta||_F when Delta* = 0 (teacher.xi = 0)", "[metrics]") {
  const auto f64 = at::TensorOptions().dtype(at::kDouble);
  const at::Tensor delta_star = at::zeros({2, 3, 4}, f64);  // [R, k, d]
  at::Tensor delta = at::zeros({2, 3, 4}, f64);
  delta[1][0][0] = 3.0;
  delta[1][2][3] = 4.0;
  const at::Tensor e = lrlab::models::relative_delta_error(delta, delta_star);  // [R]
  CHECK(e[0].item<double>() == 0.0);       // at the init: no 0/0, a defined 0
  CHECK(e[1].item<double>() == Approx(5.0));  // ||Delta||_F
  // With Delta* != 0 it stays the relative error.
  const at::Tensor star = at::full({2, 3, 4}, 0.5, f64);
  CHECK(lrlab::models::relative_delta_error(star * 2, star)[0].item<double>() == Approx(1.0));
}

TEST_CASE("metrics.names may not list a metric twice", "[metrics]") {
  const lrlab::Config cfg = lrlab::Config::load_string("metrics:\n  names: [overlap, test_loss, overlap]\n", "m.yaml");
  CHECK_THROWS_WITH(lrlab::models::MetricsOptions::from_config(cfg.child("metrics")),
                    Catch::Contains("m.yaml:2:") && Catch::Contains("metrics.names") &&
                        Catch::Contains("'overlap' is listed twice"));
}
