// The generic gradient checker: scale-free comparisons, central finite differences (restoring the
// values bit for bit), the kink window, element sampling, and the report's failures and table.
#include "framework/gradcheck.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using lrlab::GradcheckOptions;
using lrlab::LossProbe;

TEST_CASE("compare_gradients: max abs error, scale-free relative error, worst element", "[gradcheck]") {
  const at::Tensor a = at::tensor({1.0, 2.0, 3.0, 4.0}, at::kDouble).view({2, 2});
  const at::Tensor b = at::tensor({1.0, 2.5, 3.0, 4.0}, at::kDouble).view({2, 2});
  const auto c = lrlab::compare_gradients(a, b);
  CHECK(c.max_abs_error == 0.5);
  CHECK(c.worst_index == std::vector<int64_t>{0, 1});
  CHECK(c.worst_a == 2.0);
  CHECK(c.worst_b == 2.5);
  CHECK(c.relative_error == Approx(0.5 / (a.norm().item<double>() + b.norm().item<double>())));
  CHECK(c.compared == 4);
  // The relative error does not change with the scale of both gradients.
  CHECK(lrlab::compare_gradients(a * 1e-9, b * 1e-9).relative_error == Approx(c.relative_error));
  // Both zero: 0, not NaN.
  CHECK(lrlab::compare_gradients(at::zeros({3}, at::kDouble), at::zeros({3}, at::kDouble)).relative_error == 0);
  // A mask leaves out the differing element.
  const auto masked = lrlab::compare_gradients(a, b, at::tensor({1, 0, 1, 1}, at::kInt).to(at::kBool).view({2, 2}));
  CHECK(masked.relative_error == 0);
  CHECK(masked.compared == 3);
  CHECK(masked.skipped == 1);
  // NaN is infinitely wrong.
  const auto nan = lrlab::compare_gradients(a, b.clone().fill_(std::numeric_limits<double>::quiet_NaN()));
  CHECK(std::isinf(nan.relative_error));
}

TEST_CASE("finite differences match the derivative and restore the values bit for bit", "[gradcheck]") {
  // Two replicas with independent losses L_r = sum_j theta_rj^3 + sin(theta_rj): dL/dtheta = 3 theta^2 + cos theta.
  at::Tensor theta = at::tensor({0.3, -1.7, 2.5, 0.0, 12.0, -0.4}, at::kDouble).view({2, 3});
  const at::Tensor before = theta.clone();
  auto loss = [&]() { return LossProbe{(theta.pow(3) + theta.sin()).sum(1), at::Tensor()}; };
  const auto fd = lrlab::finite_difference_gradient(theta, loss, GradcheckOptions{});
  CHECK(at::equal(theta, before));
  const at::Tensor exact = 3 * before.pow(2) + before.cos();
  CHECK(lrlab::compare_gradients(fd.gradient, exact).relative_error < 1e-9);
  CHECK(fd.checked.all().item<bool>());
}

TEST_CASE("the kink window skips elements near a kink; without it |x| at 0 fails", "[gradcheck]") {
  // L_r = sum_j |theta_rj|; replica 0 has an element 1e-8 from the kink at 0.
  at::Tensor theta = at::tensor({1e-8, 0.5, -0.7, 0.9, -0.2, 0.4}, at::kDouble).view({2, 3});
  const at::Tensor analytic = theta.sign();
  auto loss = [&]() { return LossProbe{theta.abs().sum(1), theta.abs().amin(1)}; };
  GradcheckOptions options;
  options.kink = 1e-4;
  const auto fd = lrlab::finite_difference_gradient(theta, loss, options);
  CHECK(fd.checked[0].any().item<bool>() == false);  // every element of replica 0 (its loss has a kink nearby)
  CHECK(fd.checked[1].all().item<bool>());
  CHECK(lrlab::compare_gradients(analytic, fd.gradient, fd.checked).relative_error < 1e-10);
  options.kink = 0;
  const auto naive = lrlab::finite_difference_gradient(theta, loss, options);
  CHECK(lrlab::compare_gradients(analytic, naive.gradient, naive.checked).relative_error > 1e-3);
}

TEST_CASE("finite differences on a random subset when a tensor is large", "[gradcheck]") {
  at::Tensor theta = at::linspace(-1, 1, 3 * 50, at::kDouble).view({3, 50});
  auto loss = [&]() { return LossProbe{theta.pow(2).sum(1), at::Tensor()}; };
  GradcheckOptions options;
  options.max_elements = 10;
  const auto fd = lrlab::finite_difference_gradient(theta, loss, options);
  CHECK(fd.checked.sum().item<int64_t>() == 30);
  const auto c = lrlab::compare_gradients(2 * theta, fd.gradient, fd.checked);
  CHECK(c.compared == 30);
  CHECK(c.skipped == 120);
  CHECK(c.relative_error < 1e-9);
}

TEST_CASE("gradient_check reports each tensor and names the one beyond tolerance", "[gradcheck]") {
  at::Tensor good = at::tensor({0.5, -1.0}, at::kDouble).view({1, 2});
  at::Tensor bad = at::tensor({2.0}, at::kDouble).view({1, 1});
  auto loss = [&]() { return LossProbe{good.pow(2).sum(1) + bad.pow(2).sum(1), at::Tensor()}; };
  const at::Tensor planted = 2 * bad * 1.01;  // 1% wrong
  const auto report = lrlab::gradient_check(
      {{"good", good, 2 * good, 2 * good}, {"bad", bad, planted, 2 * bad}}, loss, GradcheckOptions{});
  REQUIRE(report.tensors.size() == 2);
  CHECK(report.tensors[0].autograd.relative_error == 0);
  CHECK(report.tensors[0].finite_difference.relative_error < 1e-9);
  CHECK(report.tensors[1].autograd.relative_error == Approx(0.01 / 2.01));
  const auto failures = report.failures(1e-8, 1e-5);
  REQUIRE(failures.size() == 2);  // against autograd and against finite differences
  CHECK_THAT(failures[0], Catch::Contains("parameter 'bad'") && Catch::Contains("autograd"));
  CHECK_THAT(failures[1], Catch::Contains("parameter 'bad'") && Catch::Contains("finite differences"));
  const std::string table = report.table(1e-8, 1e-5);
  CHECK_THAT(table, Catch::Contains("good") && Catch::Contains("FAIL") && Catch::Contains("[0,0]"));
  CHECK(report.worst_relative_error("autograd") == Approx(0.01 / 2.01));
}
