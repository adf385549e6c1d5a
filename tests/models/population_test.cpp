// Population loss: equals Monte-Carlo for every adapter and several activations; its gradient (hand-
// derived rows + adapter chain rule) equals autograd through the kernels, central finite differences and
// the Monte-Carlo mean of the per-sample gradients; degenerate students give no NaN.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "framework/config.h"
#include "framework/context.h"
#include "framework/error.h"
#include "models/metrics.h"
#include "models/population.h"
#include "study/group_runner.h"
#include "tests/support/group_fixtures.h"
#include "trainers/data_sampler.h"
#include "trainers/gradients.h"

using namespace lrlab;
using namespace lrlab::study;
using namespace lrlab::testing;
using namespace lrlab::models;

namespace {

std::string problem_yaml(int d, int k, const std::string& activation, const std::string& adapter, double tau,
                         int teacher_rank = 1) {
  return "dtype: float64\n"
         "base: {d: " + std::to_string(d) + ", k: " + std::to_string(k) + ", activation: " + activation +
         ", second_layer: signs}\n"
         "teacher: {rank: " + std::to_string(teacher_rank) + ", xi: 0.8, tau: " + std::to_string(tau) + "}\n"
         "adapter: " + adapter + "\n";
}

/// Moves every adapter parameter away from its initialisation (B = 0 and Delta = 0 at init would make
/// the student equal the base network), with a fixed generator; sphere parameters stay unit vectors.
void perturb(Adapter& adapter, uint64_t seed, double scale) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::NoGradGuard no_grad;
  for (auto* p : adapter.parameters()) {
    const at::Tensor noise = at::normal(0.0, 1.0, p->value.sizes(), gen, p->value.options());
    if (p->on_sphere) {
      p->value.add_(noise * 0.3);
      p->value.div_(p->value.norm(2, {-1}, true));
    } else {
      p->value.add_(noise * scale);
    }
  }
}

struct MonteCarlo {
  std::vector<double> mean, se;  // per replica
};

/// (1/n) sum_b (f(x_b) - f*(x_b))^2 / 2 + tau^2 / 2 with its standard error, n fresh inputs per replica.
MonteCarlo monte_carlo_loss_se(Model& model, int64_t n, int64_t chunk) {
  const int64_t R = model.ctx.replicas();
  trainers::DataSampler sampler(model.ctx, chunk, model.base->d(), Stream::kTest);
  at::Tensor sum = at::zeros({R}, at::kDouble), sum2 = at::zeros({R}, at::kDouble);
  at::NoGradGuard no_grad;
  for (int64_t done = 0; done < n; done += chunk) {
    const at::Tensor& x = sampler.next_inputs();
    const at::Tensor wx = model.base->preactivations(x);
    const at::Tensor l = (model.adapter->forward(x, wx) - model.teacher->clean_labels(x, wx)).pow(2) * 0.5;  // [R,B]
    sum += l.sum(1);
    sum2 += l.pow(2).sum(1);
  }
  const double nn = static_cast<double>(n);
  const at::Tensor mean = sum / nn;
  const at::Tensor var = (sum2 / nn - mean.pow(2)) * (nn / (nn - 1));
  const at::Tensor tau = model.teacher->tau().to(at::kDouble);
  MonteCarlo out;
  for (int64_t r = 0; r < R; ++r) {
    out.mean.push_back(mean[r].item<double>() + 0.5 * std::pow(tau[r].item<double>(), 2));
    out.se.push_back(std::sqrt(var[r].item<double>() / nn));
  }
  return out;
}

struct Case {
  std::string name, yaml;
};

std::vector<std::string> activations() {
  return {"{type: relu}", "{type: erf}", "{type: tanh, quadrature_nodes: 80}", "{type: hermite, p: 3}"};
}

std::vector<std::string> adapters() {
  return {"{type: rank1, c: train, train_xi: true}",
          "{type: lora, rank: 2}",
          "{type: full}",
          "{type: scratch}",
          "{type: dora, rank: 1}",
          "{type: vera, rank: 4}",
          "{type: linearized, inner: {type: lora, rank: 2}}",
          "{type: linearized, inner: {type: full}}"};
}

/// Flattened gradients of every parameter, [sum of numels] per replica concatenated.
at::Tensor flat_grads(Adapter& adapter) {
  std::vector<at::Tensor> parts;
  for (auto* p : adapter.parameters()) parts.push_back(p->grad.detach().flatten());
  return at::cat(parts);
}

}  // namespace

TEST_CASE("population_loss equals the Monte-Carlo loss within 4 standard errors", "[population][montecarlo]") {
  for (const auto& act : activations())
    for (const auto& adapter : adapters()) {
      const double tau = adapter.find("lora") != std::string::npos ? 0.3 : 0.0;
      BuiltGroup g = build_group(replica_configs(problem_yaml(10, 3, act, adapter, tau, 1), 2));
      perturb(*g.model.adapter, 17, 0.3);
      INFO(act << " " << adapter);
      at::Tensor exact;
      {
        at::NoGradGuard no_grad;
        exact = population_loss(g.model).cpu();
      }
      // The registered metric reports the same numbers.
      MetricsOptions mo;
      mo.names = {"population_loss"};
      MetricSet set(mo, g.model);
      const at::Tensor metric = set.evaluate(g.model).at("population_loss");
      REQUIRE(at::allclose(metric, exact, 0, 0));
      const MonteCarlo mc = monte_carlo_loss_se(g.model, 200000, 50000);
      for (int r = 0; r < 2; ++r) {
        const double e = exact[r].item<double>();
        INFO("replica " << r << ": population " << e << ", Monte-Carlo " << mc.mean[r] << " +- " << mc.se[r]);
        REQUIRE(std::isfinite(e));
        CHECK(e > 1e-3);  // a non-trivial comparison
        CHECK(std::abs(e - mc.mean[r]) <= 4 * mc.se[r]);
      }
    }
}

TEST_CASE("population gradient: analytic == autograd == finite differences (float64)", "[population][gradient]") {
  for (const auto& act : activations())
    for (const auto& adapter : adapters()) {
      BuiltGroup g = build_group(replica_configs(problem_yaml(6, 3, act, adapter, 0.1, 2), 2));
      Model& m = g.model;
      perturb(*m.adapter, 5, 0.3);
      INFO(act << " " << adapter);
      const at::Tensor l_analytic = population_gradients(m, PopulationGradPath::kAnalytic);
      const at::Tensor analytic = flat_grads(*m.adapter);
      const at::Tensor l_autograd = population_gradients(m, PopulationGradPath::kAutograd);
      const at::Tensor autograd = flat_grads(*m.adapter);
      CHECK(at::allclose(l_analytic, l_autograd, 1e-13, 1e-15));
      const double scale = autograd.abs().max().item<double>();
      REQUIRE(scale > 1e-6);
      CHECK((analytic - autograd).abs().max().item<double>() <= 1e-11 * scale);

      // Central differences of sum_r L_r over every parameter element (the sphere is not enforced:
      // L is defined for any u, and the Euclidean gradient is what both paths return).
      std::vector<double> numeric;
      const double h = 1e-6;
      at::NoGradGuard no_grad;
      for (auto* p : m.adapter->parameters()) {
        at::Tensor flat = p->value.view({-1});
        for (int64_t i = 0; i < flat.numel(); ++i) {
          const double v = flat[i].item<double>();
          flat[i] = v + h;
          const double lp = population_loss(m).sum().item<double>();
          flat[i] = v - h;
          const double lm = population_loss(m).sum().item<double>();
          flat[i] = v;
          numeric.push_back((lp - lm) / (2 * h));
        }
      }
      const at::Tensor fd = at::tensor(numeric, at::kDouble);
      INFO("max |autograd - fd| = " << (autograd - fd).abs().max().item<double>() << ", scale " << scale);
      CHECK((autograd - fd).abs().max().item<double>() <= 1e-7 * (1 + scale));
    }
}

TEST_CASE("population gradient equals the Monte-Carlo mean of per-sample gradients", "[population][gradient][montecarlo]") {
  for (const std::string act : {"{type: relu}", "{type: erf}"})
    for (const std::string adapter : {"{type: rank1, c: train}", "{type: lora, rank: 1}"}) {
      INFO(act << " " << adapter);
      BuiltGroup g = build_group(replica_configs(problem_yaml(6, 3, act, adapter, 0.0), 1));
      Model& m = g.model;
      perturb(*m.adapter, 9, 0.5);
      population_gradients(m, PopulationGradPath::kAnalytic);
      const at::Tensor exact = flat_grads(*m.adapter);
      // Per-sample gradients averaged in 40 chunks of 25,000 samples; the standard error of their mean
      // from the spread of the chunk means.
      const int chunks = 40;
      trainers::DataSampler sampler(m.ctx, 25000, m.base->d(), Stream::kTest);
      std::vector<at::Tensor> means;
      for (int c = 0; c < chunks; ++c) {
        const at::Tensor& x = sampler.next_inputs();
        at::Tensor wx, y;
        {
          at::NoGradGuard no_grad;
          wx = m.base->preactivations(x);
          y = m.teacher->clean_labels(x, wx);
        }
        trainers::compute_gradients(m, x, wx, y, trainers::GradPath::kAnalytic, false);
        means.push_back(flat_grads(*m.adapter));
      }
      const at::Tensor stacked = at::stack(means);  // [chunks, P]
      const at::Tensor mc = stacked.mean(0);
      const at::Tensor se = stacked.std(0) / std::sqrt(static_cast<double>(chunks));
      INFO("population " << exact << "\nMonte-Carlo " << mc << "\nse " << se);
      CHECK(((exact - mc).abs() <= 4 * se + 1e-12).all().item<bool>());
      CHECK(exact.abs().max().item<double>() > 10 * se.max().item<double>());  // a non-trivial comparison
    }
}

TEST_CASE("linearized population loss: exact for a linear activation, a quadratic form in Delta", "[population]") {
  // sigma = He_1 (identity): the linearized student is the student itself, so both formulas agree.
  for (const std::string inner : {"{type: lora, rank: 2}", "{type: full}"}) {
    BuiltGroup lin = build_group(replica_configs(
        problem_yaml(7, 3, "{type: hermite, p: 1}", "{type: linearized, inner: " + inner + "}", 0.2), 2));
    BuiltGroup plain = build_group(replica_configs(problem_yaml(7, 3, "{type: hermite, p: 1}", inner, 0.2), 2));
    perturb(*lin.model.adapter, 3, 0.4);
    perturb(*plain.model.adapter, 3, 0.4);
    at::NoGradGuard no_grad;
    CHECK(at::allclose(population_loss(lin.model), population_loss(plain.model), 1e-13, 1e-15));
  }
  // Quadratic in D: L(t D) for t = 0, 1, 2, 3 has a vanishing third difference.
  BuiltGroup g = build_group(replica_configs(
      problem_yaml(7, 3, "{type: tanh}", "{type: linearized, inner: {type: full}}", 0.0), 1));
  perturb(*g.model.adapter, 4, 0.3);
  at::NoGradGuard no_grad;
  Parameter* delta = g.model.adapter->parameters()[0];
  const at::Tensor d0 = delta->value.clone();
  std::vector<double> l;
  for (double t : {0.0, 1.0, 2.0, 3.0}) {
    delta->value.copy_(d0 * t);
    l.push_back(population_loss(g.model).item<double>());
  }
  CHECK(std::abs(l[3] - 3 * l[2] + 3 * l[1] - l[0]) < 1e-12 * (1 + std::abs(l[3])));
}

TEST_CASE("population loss at degenerate students: teacher, zero rows, parallel rows", "[population]") {
  BuiltGroup g = build_group(replica_configs(problem_yaml(8, 3, "{type: relu}", "{type: scratch}", 0.2), 2));
  Model& m = g.model;
  Adapter& a = *m.adapter;
  Parameter* theta = a.parameters()[0];
  at::NoGradGuard no_grad;
  // Student == teacher: L = tau^2 / 2 to rounding, gradient ~ 0.
  theta->value.copy_(m.teacher->weight());
  at::Tensor l = population_loss(m);
  CHECK((l - 0.02).abs().max().item<double>() < 1e-15);
  population_gradients(m, PopulationGradPath::kAnalytic);
  CHECK(theta->grad.abs().max().item<double>() < 1e-12);
  // A zero row and two parallel rows: finite loss and gradients on both paths, for every activation.
  for (const std::string act : {"{type: relu}", "{type: erf}", "{type: tanh}", "{type: hermite, p: 3}"}) {
    INFO(act);
    BuiltGroup h = build_group(replica_configs(problem_yaml(8, 3, act, "{type: scratch}", 0.0), 2));
    Parameter* t = h.model.adapter->parameters()[0];
    t->value.select(1, 0).zero_();
    t->value.select(1, 2).copy_(t->value.select(1, 1) * 1.5);
    for (auto path : {PopulationGradPath::kAnalytic, PopulationGradPath::kAutograd}) {
      const at::Tensor loss = population_gradients(h.model, path);
      CHECK(at::isfinite(loss).all().item<bool>());
      CHECK(at::isfinite(t->grad).all().item<bool>());
    }
  }
}

TEST_CASE("population_loss is a default metric; a linearized student on degenerate rows is skipped",
          "[population]") {
  MetricsOptions defaults;
  CHECK(std::find(defaults.names.begin(), defaults.names.end(), "population_loss") != defaults.names.end());
  CHECK(metric_registry().contains("population_loss"));
  BuiltGroup g = build_group(replica_configs(problem_yaml(8, 2, "{type: relu}", "{type: linearized}", 0.0), 1));
  CHECK(has_population_loss(g.model));
  // W = 0 (the GLM case): every base row is zero, the linearized expansion has no exact path here.
  const std::string glm = "base: {d: 8, k: 2, zero_base: true}\nadapter: {type: linearized}\n";
  BuiltGroup z = build_group(replica_configs(glm, 1));
  CHECK_FALSE(has_population_loss(z.model));
  CHECK_THROWS_AS(population_loss(z.model), Error);
  MetricsOptions mo;
  mo.names = {"population_loss", "delta_error"};
  MetricSet set(mo, z.model);  // skips population_loss (with a message on stderr), keeps the rest
  const auto values = set.evaluate(z.model);
  CHECK(values.count("population_loss") == 0);
  CHECK(values.count("delta_error") == 1);
  CHECK_THROWS_AS(build_group(replica_configs(glm + "trainer: {type: population_gd}\n", 1)), ConfigError);
}
