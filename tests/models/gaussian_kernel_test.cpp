// The accurate quadrature kernel (issue 12) of every registered activation without a closed form:
// against an independent fine 2-D rule at large norms (3 and 10) on both sides of the series/direct
// switch, the population loss near convergence against the squared-difference integral (no
// cancellation), Monte-Carlo with 10^7 samples, and the per-call cost.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <ctime>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "framework/config.h"
#include "models/activation.h"
#include "models/activation_registry.h"
#include "models/gaussian_kernel.h"
#include "models/population.h"

using namespace lrlab::models;

namespace {

const auto kF64 = at::TensorOptions().dtype(at::kDouble);

/// Every registered activation whose kernel is quadrature (built with its default options).
std::vector<std::shared_ptr<Activation>> quadrature_activations() {
  std::vector<std::shared_ptr<Activation>> out;
  for (const std::string& key : activation_registry().keys()) {
    std::shared_ptr<Activation> act;
    try {
      act = make_activation(lrlab::Config::load_string("{type: " + key + "}", "<test>"));
    } catch (const lrlab::Error&) {
      continue;  // needs options (hermite: a closed form anyway)
    }
    if (!act->kernel_is_exact()) out.push_back(act);
  }
  return out;
}

/// An independent reference: (z1, z2) = (na g1, nb (c g1 + s g2)), both integrals by composite 10-point
/// Gauss-Legendre on uniform panels of width 0.1 over [-10, 10] (sigma(10 g) has its nearest singularity
/// 0.157 off the axis: 3 panel half-widths), sums in long double. `diff` integrates
/// (sigma(z1) - sigma(z2))^2 instead of sigma(z1) sigma(z2) (no cancellation).
long double reference(const Activation& act, double na, double nb, double c, bool diff = false) {
  static const std::vector<double> rule_x = [] {
    std::vector<double> x;
    const double t[5] = {0.1488743389816312, 0.4333953941292472, 0.6794095682990244, 0.8650633666889845,
                         0.9739065285171717};
    for (int p = 0; p < 200; ++p)
      for (int i = 0; i < 5; ++i)
        for (int s : {-1, 1}) x.push_back(-10.0 + 0.1 * p + 0.05 + s * 0.05 * t[i]);
    return x;
  }();
  static const std::vector<double> rule_w = [] {
    std::vector<double> w;
    const double t[5] = {0.1488743389816312, 0.4333953941292472, 0.6794095682990244, 0.8650633666889845,
                         0.9739065285171717};
    const double wt[5] = {0.2955242247147529, 0.2692667193099963, 0.2190863625159820, 0.1494513491505806,
                          0.0666713443086881};
    for (int p = 0; p < 200; ++p)
      for (int i = 0; i < 5; ++i)
        for (int s : {-1, 1}) {
          const double x = -10.0 + 0.1 * p + 0.05 + s * 0.05 * t[i];
          w.push_back(0.05 * wt[i] * std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI));
        }
    return w;
  }();
  const std::size_t n = rule_x.size();
  const double s = std::sqrt(std::max(0.0, 1.0 - c * c));
  std::vector<double> z(n), v(n), v1(n);
  for (std::size_t i = 0; i < n; ++i) z[i] = na * rule_x[i];
  act.cpu_values(z.data(), v1.data(), nullptr, static_cast<int64_t>(n));
  long double total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) z[j] = nb * (c * rule_x[i] + s * rule_x[j]);
    act.cpu_values(z.data(), v.data(), nullptr, static_cast<int64_t>(n));
    long double inner = 0;
    for (std::size_t j = 0; j < n; ++j) {
      const long double f = diff ? (static_cast<long double>(v1[i]) - v[j]) * (static_cast<long double>(v1[i]) - v[j])
                                 : static_cast<long double>(v1[i]) * v[j];
      inner += rule_w[j] * f;
    }
    total += rule_w[i] * inner;
  }
  return total;
}

/// E[sigma(n g)^2] by the 1-D reference rule (sqrt of the product of two: the kernel's scale).
double second_moment(const Activation& act, double n) { return static_cast<double>(reference(act, n, n, 1.0)); }

double kernel_at(const Activation& act, double na, double nb, double c) {
  return act
      .kernel(at::full({}, na * na, kF64), at::full({}, nb * nb, kF64), at::full({}, na * nb * c, kF64))
      .item<double>();
}

}  // namespace

TEST_CASE("accurate kernel: every quadrature activation against a fine 2-D rule at norms 3 and 10",
          "[kernel][quadrature][accuracy]") {
  const auto acts = quadrature_activations();
  REQUIRE(acts.size() >= 4);  // tanh, sigmoid, gelu, softplus
  double worst = 0;
  struct G {
    double na, nb;
  };
  for (const auto& act : acts) {
    std::map<double, double> moments;
    for (double n : {0.5, 2.0, 3.0, 10.0}) moments[n] = second_moment(*act, n);
    for (G g : {G{3, 3}, G{10, 10}, G{10, 2}, G{0.5, 10}})
      // Both sides of the series/direct switch at |rho| = 0.7, near-parallel and exactly (anti)parallel.
      for (double c : {0.0, 0.69, 0.71, -0.9, 0.999, 1.0, -1.0}) {
        INFO(act->type() << " |a| = " << g.na << " |b| = " << g.nb << " cos = " << c);
        const double ref = static_cast<double>(reference(*act, g.na, g.nb, c));
        const double scale = std::sqrt(moments.at(g.na) * moments.at(g.nb));
        const double k = kernel_at(*act, g.na, g.nb, c);
        INFO("kernel " << k << " reference " << ref << " scale " << scale);
        CHECK(std::abs(k - ref) <= 1e-14 * scale);
        worst = std::max(worst, std::abs(k - ref) / scale);
      }
  }
  WARN("largest kernel error over the geometries: " << worst << " of the kernel's scale");
}

TEST_CASE("accurate kernel: the old 40-node Gauss-Hermite rule is far off where the new one is not",
          "[kernel][quadrature][accuracy]") {
  // Non-vacuity: the geometries above do separate a careless rule from an accurate one.
  const auto tanh_act = make_activation(lrlab::Config::load_string("{type: tanh}", "<test>"));
  const double ref = static_cast<double>(reference(*tanh_act, 3, 3, 0.999));
  const double gh = gauss_hermite_expectation(*tanh_act, at::full({}, 9.0, kF64), at::full({}, 9.0, kF64),
                                              at::full({}, 9 * 0.999, kF64), 40)
                        .item<double>();
  CHECK(std::abs(gh - ref) > 1e-6);
  CHECK(std::abs(kernel_at(*tanh_act, 3, 3, 0.999) - ref) < 1e-14);
}

TEST_CASE("population loss near convergence within 1e-8 relative or 1e-14 (times the scale) absolute",
          "[population][quadrature][accuracy]") {
  // One neuron (k = 1, lam = 1): L = E[(sigma(<q,x>) - sigma(<p,x>))^2] / 2, whose reference integrates the
  // squared difference directly. |p| = xi* in {3, 10}; q = p rotated by a small angle and rescaled, so the
  // loss runs from O(1) to ~1e-12 times the scale.
  for (const auto& act : quadrature_activations())
    for (double xi : {3.0, 10.0})
      for (double eps : {0.3, 1e-2, 1e-4, 1e-6}) {
        const double c = std::cos(eps), nq = xi * (1 + 0.5 * eps);
        const at::Tensor p = at::tensor({xi, 0.0}, kF64).view({1, 1, 2});
        const at::Tensor q = at::tensor({nq * c, nq * std::sin(eps)}, kF64).view({1, 1, 2});
        const at::Tensor lam = at::ones({1, 1}, kF64), tau = at::zeros({1}, kF64);
        const double loss = population_loss(*act, lam, q, p, tau).item<double>();
        const double ref = 0.5 * static_cast<double>(reference(*act, xi, nq, c, /*diff=*/true));
        const double scale = second_moment(*act, xi);
        INFO(act->type() << " xi* = " << xi << " angle " << eps << ": loss " << loss << " reference " << ref
                         << " scale " << scale);
        CHECK(loss >= 0.0);
        CHECK(std::abs(loss - ref) <= std::max(1e-8 * ref, 1e-14 * std::max(1.0, scale)));
      }
}

TEST_CASE("population loss equals Monte-Carlo (10^7 samples) within 4 standard errors at xi* = 3 and 10",
          "[population][quadrature][montecarlo]") {
  // k = 2 rows in d = 3, rows of norm ~xi*, a student near (not at) the teacher.
  auto gen = at::detail::createCPUGenerator(31);
  const int64_t samples = 10000000;
  const at::Tensor x = at::randn({samples, 3}, gen, kF64);
  for (const auto& act : quadrature_activations())
    for (double xi : {3.0, 10.0}) {
      const at::Tensor p = xi * at::tensor({0.8, 0.6, 0.0, 0.0, 0.6, 0.8}, kF64).view({1, 2, 3});
      const at::Tensor q = p + at::tensor({0.05, -0.1, 0.2, 0.1, 0.0, -0.1}, kF64).view({1, 2, 3});
      const at::Tensor lam = at::tensor({0.7, -0.4}, kF64).view({1, 2});
      const double loss = population_loss(*act, lam, q, p, at::zeros({1}, kF64)).item<double>();
      const at::Tensor fq = (act->value(at::matmul(x, q[0].t())) * lam[0]).sum(-1);
      const at::Tensor fp = (act->value(at::matmul(x, p[0].t())) * lam[0]).sum(-1);
      const at::Tensor half_sq = 0.5 * (fq - fp).pow(2);
      const double mean = half_sq.mean().item<double>();
      const double se = half_sq.std().item<double>() / std::sqrt(static_cast<double>(samples));
      INFO(act->type() << " xi* = " << xi << ": loss " << loss << " Monte-Carlo " << mean << " +- " << se);
      CHECK(std::abs(loss - mean) <= 4 * se);
    }
}

TEST_CASE("accurate kernel: per-call cost of a population loss", "[population][quadrature][speed]") {
  // R = 16 replicas of k = 8 rows in d = 32 near a teacher of norm 3 (every diagonal term on the direct
  // path), tanh, against the former rule (three 40-node Gauss-Hermite kernel matrices per loss). CPU time
  // of this process, so that a loaded machine does not change the ratio.
  const auto act = make_activation(lrlab::Config::load_string("{type: tanh}", "<test>"));
  auto gen = at::detail::createCPUGenerator(5);
  const at::Tensor p = 3.0 * at::randn({16, 8, 32}, gen, kF64) / std::sqrt(32.0);
  const at::Tensor q = p + 0.01 * at::randn({16, 8, 32}, gen, kF64);
  const at::Tensor lam = at::ones({16, 8}, kF64) / 8.0, tau = at::zeros({16}, kF64);
  population_loss(*act, lam, q, p, tau);  // builds the cached rules
  const int calls = 5;
  std::clock_t start = std::clock();
  for (int i = 0; i < calls; ++i) population_loss(*act, lam, q, p, tau);
  const double ms = 1000.0 * static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC / calls;
  start = std::clock();
  for (int i = 0; i < calls; ++i) {
    const at::Tensor saa = (q * q).sum(-1).unsqueeze(2), sbb = (p * p).sum(-1).unsqueeze(1);
    gauss_hermite_expectation(*act, saa, sbb, at::bmm(q, p.transpose(1, 2)), 40);
  }
  const double gh_ms = 3 * 1000.0 * static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC / calls;
  WARN("population_loss, tanh, R = 16, k = 8: " << ms << " ms CPU per call; with the former 40-node Gauss-Hermite "
                                                << "kernels: " << gh_ms << " ms");
  CHECK(ms < 3 * gh_ms);
}
