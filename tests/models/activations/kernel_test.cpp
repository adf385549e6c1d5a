// Population kernels K(a, b): closed forms against quadrature and Monte-Carlo, gradients against finite
// differences and Price's theorem, and the degenerate cases (zero, parallel, anti-parallel vectors).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "models/activation.h"
#include "models/activations/erf.h"
#include "models/activations/gelu.h"
#include "models/activations/hermite.h"
#include "models/activations/relu.h"
#include "models/activations/sigmoid.h"
#include "models/activations/softplus.h"
#include "models/activations/tanh.h"

using namespace lrlab::models;

namespace {

const auto kF64 = at::TensorOptions().dtype(at::kDouble);
constexpr int64_t kSamples = 1000000;

struct Named {
  std::string name;
  std::shared_ptr<Activation> act;
};

std::shared_ptr<Activation> hermite_p(int p) {
  HermiteOptions o;
  o.p = p;
  return std::make_shared<Hermite>(o);
}

std::vector<Named> closed_forms() {
  std::vector<Named> out = {{"relu", std::make_shared<Relu>()}, {"erf", std::make_shared<Erf>()}};
  for (int p = 1; p <= 6; ++p) out.push_back({"hermite p=" + std::to_string(p), hermite_p(p)});
  HermiteOptions o;
  o.coefficients = {0.5, 1.0, -0.3, 0.2, 0.0, 0.1};
  out.push_back({"hermite [0.5, 1, -0.3, 0.2, 0, 0.1]", std::make_shared<Hermite>(o)});
  return out;
}

std::vector<Named> quadrature_kernels() {
  return {{"tanh", std::make_shared<Tanh>()},
          {"sigmoid", std::make_shared<Sigmoid>()},
          {"gelu", std::make_shared<Gelu>()},
          {"softplus", std::make_shared<Softplus>()},
          {"softplus beta 3", std::make_shared<Softplus>(SoftplusOptions{3.0, 40})}};
}

/// A configuration (|a|, |b|, cos t).
struct Geometry {
  double na, nb, c;
};

std::vector<Geometry> geometries() {
  std::vector<Geometry> out;
  const std::vector<std::pair<double, double>> norms = {{0.3, 1.0}, {1.0, 1.0}, {2.5, 1.0}, {0.3, 2.5}, {2.5, 2.5}};
  for (auto [na, nb] : norms)
    for (double c : {0.9999, 0.996, 0.99, 0.5, 0.0, -0.7, -0.9999, 1.0, -1.0}) out.push_back({na, nb, c});
  for (double nb : {0.3, 1.0, 2.5}) out.push_back({0.0, nb, 0.0});  // a = 0
  out.push_back({0.0, 0.0, 0.0});                                   // a = b = 0
  return out;
}

/// The Monte-Carlo subset of `geometries()` (each check costs 10^6 samples).
std::vector<Geometry> mc_geometries() {
  std::vector<Geometry> out;
  const std::vector<std::pair<double, double>> norms = {{0.3, 1.0}, {1.0, 1.0}, {0.3, 2.5}, {2.5, 2.5}};
  for (auto [na, nb] : norms)
    for (double c : {0.9999, 0.0, -0.7, 1.0, -1.0}) out.push_back({na, nb, c});
  for (double nb : {1.0, 2.5}) out.push_back({0.0, nb, 0.0});  // a = 0
  out.push_back({0.0, 0.0, 0.0});                              // a = b = 0
  return out;
}

/// The subset of `mc_geometries()` for the (cheaper, 2.5 10^5-sample) checks of dK/dsab.
std::vector<Geometry> price_geometries() {
  std::vector<Geometry> out;
  for (auto [na, nb] : std::vector<std::pair<double, double>>{{1.0, 1.0}, {0.3, 2.5}})
    for (double c : {0.9999, 0.0, 1.0, -1.0}) out.push_back({na, nb, c});
  out.push_back({0.0, 1.0, 0.0});
  return out;
}

/// Gauss-Hermite resolves sigma's features only down to ~ |a| pi / sqrt(2n) in z: the default 40 nodes
/// serve norms up to ~1 (errors < 1e-6); norms of 2.5 need ~160 (tanh: 5e-3 at 40, 3e-6 at 160).
void set_nodes_for(Activation& act, const Geometry& g) {
  act.set_quadrature_nodes(std::max(g.na, g.nb) > 1.0 ? 160 : 40);
}

/// The gradient of a leaf, or zero when the output does not depend on it (e.g. K = sab for He_1).
at::Tensor grad_or_zero(const at::Tensor& leaf) { return leaf.grad().defined() ? leaf.grad() : at::zeros_like(leaf); }

/// (saa, sbb, sab) as 0-dim float64 tensors.
struct Cov {
  at::Tensor saa, sbb, sab;
};

Cov cov(const Geometry& g) {
  return {at::full({}, g.na * g.na, kF64), at::full({}, g.nb * g.nb, kF64), at::full({}, g.na * g.nb * g.c, kF64)};
}

/// Standard normal pairs, shared by every Monte-Carlo estimate (fixed seed).
const std::pair<at::Tensor, at::Tensor>& normals() {
  static const std::pair<at::Tensor, at::Tensor> g = [] {
    auto gen = at::detail::createCPUGenerator(20240611);
    return std::make_pair(at::randn({kSamples}, gen, kF64), at::randn({kSamples}, gen, kF64));
  }();
  return g;
}

struct Estimate {
  double mean, se;
};

/// Monte-Carlo E[f(z1) f(z2)] with f = sigma (or sigma' for `derivative`), z1 = |a| g1,
/// z2 = |b| (c g1 + sqrt(1 - c^2) g2); se from the sample standard deviation.
Estimate monte_carlo(const Activation& act, const Geometry& g, bool derivative = false, int64_t samples = kSamples) {
  const at::Tensor g1 = normals().first.narrow(0, 0, samples), g2 = normals().second.narrow(0, 0, samples);
  const at::Tensor z1 = g.na * g1;
  const at::Tensor z2 = g.nb * (g.c * g1 + std::sqrt(std::max(0.0, 1.0 - g.c * g.c)) * g2);
  const at::Tensor prod = derivative ? act.derivative(z1) * act.derivative(z2) : act.value(z1) * act.value(z2);
  return {prod.mean().item<double>(), prod.std().item<double>() / std::sqrt(static_cast<double>(samples))};
}

double kernel_at(const Activation& act, const Geometry& g) {
  const Cov s = cov(g);
  return act.kernel(s.saa, s.sbb, s.sab).item<double>();
}

/// sqrt(K(a, a) K(b, b)) (>= |K(a, b)|): the scale for relative tolerances.
double scale_of(const Activation& act, const Geometry& g) {
  return std::sqrt(std::abs(kernel_at(act, {g.na, g.na, 1.0}) * kernel_at(act, {g.nb, g.nb, 1.0})));
}

std::string describe(const std::string& name, const Geometry& g) {
  return name + " |a| = " + std::to_string(g.na) + " |b| = " + std::to_string(g.nb) + " cos = " + std::to_string(g.c);
}

/// Vectors in R^3 with the geometry g, rotated by a fixed orthogonal matrix.
std::pair<at::Tensor, at::Tensor> vectors(const Geometry& g) {
  static const at::Tensor rotation = [] {
    auto gen = at::detail::createCPUGenerator(7);
    return std::get<0>(at::linalg_qr(at::randn({3, 3}, gen, kF64)));
  }();
  const at::Tensor a = at::tensor({g.na, 0.0, 0.0}, kF64);
  const at::Tensor b = at::tensor({g.nb * g.c, g.nb * std::sqrt(std::max(0.0, 1.0 - g.c * g.c)), 0.0}, kF64);
  return {at::matmul(rotation, a), at::matmul(rotation, b)};
}

at::Tensor kernel_of_vectors(const Activation& act, const at::Tensor& a, const at::Tensor& b) {
  return act.kernel(at::dot(a, a), at::dot(b, b), at::dot(a, b));
}

/// Autograd gradient of K(a, b) with respect to (a, b), concatenated [6].
at::Tensor autograd_gradient(const Activation& act, const Geometry& g) {
  auto [a0, b0] = vectors(g);
  at::Tensor a = a0.clone().set_requires_grad(true), b = b0.clone().set_requires_grad(true);
  kernel_of_vectors(act, a, b).backward();
  return at::cat({grad_or_zero(a), grad_or_zero(b)});
}

/// Central finite differences of K(a, b) with respect to (a, b), [6].
at::Tensor numeric_gradient(const Activation& act, const Geometry& g, double h = 1e-5) {
  auto [a, b] = vectors(g);
  at::Tensor x = at::cat({a, b});
  std::vector<double> out;
  for (int i = 0; i < 6; ++i) {
    at::Tensor xp = x.clone(), xm = x.clone();
    xp[i] += h;
    xm[i] -= h;
    const double kp = kernel_of_vectors(act, xp.slice(0, 0, 3), xp.slice(0, 3, 6)).item<double>();
    const double km = kernel_of_vectors(act, xm.slice(0, 0, 3), xm.slice(0, 3, 6)).item<double>();
    out.push_back((kp - km) / (2 * h));
  }
  return at::tensor(out, kF64);
}

}  // namespace

TEST_CASE("closed-form kernels equal Monte-Carlo within 4 standard errors", "[kernel][montecarlo]") {
  for (const auto& [name, act] : closed_forms()) {
    REQUIRE(act->kernel_is_exact());
    for (const Geometry& g : mc_geometries()) {
      INFO(describe(name, g));
      const double k = kernel_at(*act, g);
      REQUIRE(std::isfinite(k));
      const Estimate mc = monte_carlo(*act, g);
      INFO("K = " << k << ", MC = " << mc.mean << " +- " << mc.se);
      CHECK(std::abs(k - mc.mean) <= 4.0 * mc.se + 1e-12 * (1.0 + std::abs(k)));
    }
  }
}

TEST_CASE("quadrature kernels equal Monte-Carlo within 4 standard errors", "[kernel][montecarlo]") {
  for (const auto& [name, act] : quadrature_kernels()) {
    REQUIRE_FALSE(act->kernel_is_exact());
    for (const Geometry& g : mc_geometries()) {
      INFO(describe(name, g));
      set_nodes_for(*act, g);
      const double k = kernel_at(*act, g);
      REQUIRE(std::isfinite(k));
      const Estimate mc = monte_carlo(*act, g);
      INFO("K = " << k << ", MC = " << mc.mean << " +- " << mc.se);
      CHECK(std::abs(k - mc.mean) <= 4.0 * mc.se + 1e-12 * (1.0 + std::abs(k)));
    }
  }
}

TEST_CASE("closed-form kernels equal Gauss-Hermite quadrature", "[kernel][quadrature]") {
  for (const auto& [name, act] : closed_forms()) {
    // Smooth kernels converge fast (Hermite: exact for degree < 2n); ReLU's kink converges slowly.
    // erf(z / sqrt 2) at |a| = 2.5 needs ~160 nodes for 1e-12 (4e-6 at 40 nodes).
    const bool relu = name == "relu";
    const int n = relu ? 300 : name == "erf" ? 200 : 40;
    const double tol = relu ? 2e-3 : 1e-11;
    for (const Geometry& g : geometries()) {
      INFO(describe(name, g));
      const Cov s = cov(g);
      const double k = act->kernel(s.saa, s.sbb, s.sab).item<double>();
      const double q = gauss_hermite_expectation(*act, s.saa, s.sbb, s.sab, n).item<double>();
      INFO("closed form " << k << ", quadrature " << q);
      CHECK(std::abs(k - q) <= tol * (scale_of(*act, g) + 1e-300));
    }
  }
}

TEST_CASE("Gauss-Hermite rule integrates Gaussian moments exactly", "[kernel][quadrature]") {
  // sigma = He_p: E[He_m(z1) He_n(z2)] is a polynomial of degree m + n, exact once 2n > degree.
  Hermite he3(HermiteOptions{3, {}, false, 40});
  const at::Tensor saa = at::full({}, 1.7, kF64), sbb = at::full({}, 0.4, kF64), sab = at::full({}, -0.5, kF64);
  const double exact = he3.kernel(saa, sbb, sab).item<double>();
  for (int n : {4, 5, 10, 300}) {
    INFO("n = " << n);
    CHECK(gauss_hermite_expectation(he3, saa, sbb, sab, n).item<double>() == Approx(exact).epsilon(1e-12));
  }
  // 3 nodes cannot integrate degree 6 exactly
  CHECK(std::abs(gauss_hermite_expectation(he3, saa, sbb, sab, 3).item<double>() - exact) > 1e-3);
}

TEST_CASE("kernels broadcast over the covariance entries", "[kernel]") {
  auto gen = at::detail::createCPUGenerator(99);
  const at::Tensor a = at::randn({4, 5}, gen, kF64), b = at::randn({3, 5}, gen, kF64);
  const at::Tensor saa = (a * a).sum(-1).unsqueeze(1);  // [4, 1]
  const at::Tensor sbb = (b * b).sum(-1).unsqueeze(0);  // [1, 3]
  const at::Tensor sab = at::matmul(a, b.t());          // [4, 3]
  std::vector<Named> all = closed_forms();
  for (auto& q : quadrature_kernels()) all.push_back(q);
  for (const auto& [name, act] : all) {
    INFO(name);
    const at::Tensor k = act->kernel(saa, sbb, sab);
    REQUIRE(k.sizes() == sab.sizes());
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 3; ++j)
        CHECK(k[i][j].item<double>() ==
              Approx(act->kernel(saa[i][0], sbb[0][j], sab[i][j]).item<double>()).epsilon(1e-13).margin(1e-14));
  }
}

TEST_CASE("kernel gradients equal finite differences, degenerate geometries included", "[kernel][gradient]") {
  std::vector<Named> all = closed_forms();
  for (auto& q : quadrature_kernels()) all.push_back(q);
  for (const auto& [name, act] : all) {
    for (const Geometry& g : geometries()) {
      INFO(describe(name, g));
      // Accurate quadrature, so that its derivative kink at |a| = |b| (where the larger-first ordering
      // switches; the kink is the quadrature error of the gradient) stays below the tolerance.
      if (!act->kernel_is_exact()) set_nodes_for(*act, g);
      const at::Tensor grad = autograd_gradient(*act, g);
      REQUIRE(at::isfinite(grad).all().item<bool>());
      // ReLU's kernel is 1-homogeneous in each vector: not differentiable at a zero vector.
      if (name == "relu" && (g.na == 0.0 || g.nb == 0.0)) continue;
      const at::Tensor numeric = numeric_gradient(*act, g);
      const double err = (grad - numeric).abs().max().item<double>();
      INFO("autograd " << grad << "\nnumeric " << numeric);
      CHECK(err <= 1e-6 * (1.0 + scale_of(*act, g) + grad.abs().max().item<double>()));
    }
  }
}

TEST_CASE("dK/dsab equals E[sigma'(z1) sigma'(z2)] (Price's theorem) by Monte-Carlo",
          "[kernel][gradient][montecarlo]") {
  std::vector<Named> all = closed_forms();
  for (auto& q : quadrature_kernels()) all.push_back(q);
  for (const auto& [name, act] : all) {
    for (const Geometry& g : price_geometries()) {
      if (name == "relu" && (g.na == 0.0 || g.nb == 0.0)) continue;  // not differentiable there
      INFO(describe(name, g));
      set_nodes_for(*act, g);
      Cov s = cov(g);
      s.sab.set_requires_grad(true);
      act->kernel(s.saa, s.sbb, s.sab).backward();
      const double dsab = grad_or_zero(s.sab).item<double>();
      const Estimate mc = monte_carlo(*act, g, /*derivative=*/true, /*samples=*/250000);
      INFO("dK/dsab = " << dsab << ", MC = " << mc.mean << " +- " << mc.se);
      CHECK(std::abs(dsab - mc.mean) <= 4.0 * mc.se + 1e-9 * (1.0 + std::abs(dsab)));
    }
  }
}

TEST_CASE("ReLU kernel: exact values and gradient across the series switch and at +-1", "[kernel][relu]") {
  Relu relu;
  const at::Tensor one = at::ones({}, kF64);
  std::vector<double> cs = {-1.0, -1.0 + 1e-15, -0.9999999, -0.995, -0.99, -0.5, 0.0, 1e-9, 0.3, 0.99};
  const double c_switch = std::sqrt(0.99);
  for (double d : {-1e-12, 0.0, 1e-12}) cs.push_back(c_switch + d);
  for (double c : {0.996, 0.9999, 0.9999999, 1.0 - 1e-15, 1.0}) cs.push_back(c);
  for (double c : cs) {
    INFO("cos = " << c);
    // reference in long double: J(c) = sqrt(1 - c^2) + (pi - acos c) c
    const long double cl = c;
    const long double t = std::acos(cl);
    const long double j = std::sqrt(1.0L - cl * cl) + (3.14159265358979323846264338327950288L - t) * cl;
    const double reference = static_cast<double>(j / (2.0L * 3.14159265358979323846264338327950288L));
    at::Tensor sab = at::full({}, c, kF64).set_requires_grad(true);
    const at::Tensor k = relu.kernel(one, one, sab);
    CHECK(k.item<double>() == Approx(reference).epsilon(1e-14).margin(1e-16));
    k.backward();
    // Price: dK/dsab = P(z1 > 0, z2 > 0) = (pi - t) / (2 pi), finite at c = +-1
    CHECK(sab.grad().item<double>() ==
          Approx(static_cast<double>((M_PI - t) / (2 * M_PI))).epsilon(1e-12).margin(1e-15));
  }
  // rounding above 1 (parallel vectors): clamped value, gradient of the limit
  at::Tensor sab = at::full({}, 1.0 + 4e-16, kF64).set_requires_grad(true);
  const at::Tensor k = relu.kernel(one, one, sab);
  CHECK(k.item<double>() == Approx(0.5));
  k.backward();
  CHECK(sab.grad().item<double>() == Approx(0.5));
  // zero vectors: exactly 0
  const at::Tensor zero = at::zeros({}, kF64);
  CHECK(relu.kernel(zero, one, zero).item<double>() == 0.0);
  CHECK(relu.kernel(zero, zero, zero).item<double>() == 0.0);
}

TEST_CASE("kernels at zero vectors: finite values and finite gradients", "[kernel]") {
  std::vector<Named> all = closed_forms();
  for (auto& q : quadrature_kernels()) all.push_back(q);
  for (const auto& [name, act] : all) {
    INFO(name);
    for (double nb : {0.0, 1e-200, 1e-10, 1.0}) {
      INFO("|b| = " << nb);
      at::Tensor saa = at::zeros({}, kF64).set_requires_grad(true);
      at::Tensor sbb = at::full({}, nb * nb, kF64).set_requires_grad(true);
      at::Tensor sab = at::zeros({}, kF64).set_requires_grad(true);
      const at::Tensor k = act->kernel(saa, sbb, sab);
      REQUIRE(std::isfinite(k.item<double>()));
      k.backward();
      CHECK(std::isfinite(grad_or_zero(saa).item<double>()));
      CHECK(std::isfinite(grad_or_zero(sbb).item<double>()));
      CHECK(std::isfinite(grad_or_zero(sab).item<double>()));
    }
    // float32 too
    const auto f32 = at::TensorOptions().dtype(at::kFloat);
    at::Tensor a = at::zeros({3}, f32).set_requires_grad(true);
    at::Tensor b = at::tensor({0.6f, 0.8f, 0.0f}, f32).set_requires_grad(true);
    const at::Tensor k = kernel_of_vectors(*act, a, b);
    REQUIRE(std::isfinite(k.item<float>()));
    k.backward();
    CHECK(at::isfinite(grad_or_zero(a)).all().item<bool>());
    CHECK(at::isfinite(grad_or_zero(b)).all().item<bool>());
  }
}

TEST_CASE("kernels on CUDA equal the CPU", "[kernel][cuda]") {
  if (!at::hasCUDA()) {
    WARN("CUDA not available: skipped");
    return;
  }
  std::vector<Named> all = closed_forms();
  for (auto& q : quadrature_kernels()) all.push_back(q);
  const auto cuda = kF64.device(at::kCUDA);
  for (const auto& [name, act] : all) {
    INFO(name);
    for (const Geometry& g : geometries()) {
      const Cov s = cov(g);
      const double cpu = act->kernel(s.saa, s.sbb, s.sab).item<double>();
      const double gpu = act->kernel(s.saa.to(cuda), s.sbb.to(cuda), s.sab.to(cuda)).item<double>();
      CHECK(gpu == Approx(cpu).epsilon(1e-12).margin(1e-14));
    }
    const at::Tensor z = at::linspace(-3.0, 3.0, 7, cuda);
    CHECK((act->derivative(z).cpu() - act->derivative(z.cpu())).abs().max().item<double>() < 1e-12);
  }
}
