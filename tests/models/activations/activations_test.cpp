// Activations: derivative against autograd, Hermite structure, registry and config errors.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "framework/config.h"
#include "framework/error.h"
#include "models/activation.h"
#include "models/activation_registry.h"
#include "models/activations/erf.h"
#include "models/activations/gelu.h"
#include "models/activations/hermite.h"
#include "models/activations/relu.h"
#include "models/activations/sigmoid.h"
#include "models/activations/softplus.h"
#include "models/activations/tanh.h"

using namespace lrlab;
using namespace lrlab::models;

namespace {

const auto kF64 = at::TensorOptions().dtype(at::kDouble);

struct Named {
  std::string name;
  std::shared_ptr<Activation> act;
};

std::shared_ptr<Activation> hermite_p(int p, bool normalize = false) {
  HermiteOptions o;
  o.p = p;
  o.normalize = normalize;
  return std::make_shared<Hermite>(o);
}

std::shared_ptr<Activation> hermite_list(std::vector<double> coefficients, bool normalize = false) {
  HermiteOptions o;
  o.coefficients = std::move(coefficients);
  o.normalize = normalize;
  return std::make_shared<Hermite>(o);
}

std::vector<Named> all_activations() {
  std::vector<Named> out = {
      {"relu", std::make_shared<Relu>()},
      {"tanh", std::make_shared<Tanh>()},
      {"erf", std::make_shared<Erf>()},
      {"sigmoid", std::make_shared<Sigmoid>()},
      {"gelu", std::make_shared<Gelu>()},
      {"softplus", std::make_shared<Softplus>()},
      {"softplus beta 3", std::make_shared<Softplus>(SoftplusOptions{3.0, 40})},
      {"hermite [0.5, 1, -0.3, 0.2, 0, 0.1]", hermite_list({0.5, 1.0, -0.3, 0.2, 0.0, 0.1})},
      {"hermite [0, 0, 1, 1] normalized", hermite_list({0.0, 0.0, 1.0, 1.0}, true)},
  };
  for (int p = 1; p <= 6; ++p) out.push_back({"hermite p=" + std::to_string(p), hermite_p(p)});
  return out;
}

double factorial(int n) { return n <= 1 ? 1.0 : n * factorial(n - 1); }

Config yaml(const std::string& text) { return Config::load_string(text, "<test>"); }

std::string error_of(const std::string& text) {
  try {
    make_activation(yaml(text));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("derivative equals the autograd derivative of value", "[activation]") {
  auto gen = at::detail::createCPUGenerator(1234);
  at::Tensor z = at::randn({2000}, gen, kF64) * 2.0;
  z = at::cat({z, at::linspace(-6.0, 6.0, 241, kF64)});
  for (const auto& [name, act] : all_activations()) {
    INFO(name);
    at::Tensor zz = z;
    if (name == "relu") zz = at::masked_select(z, z.abs() > 1e-6);  // the kink: no derivative at 0
    at::Tensor leaf = zz.clone().set_requires_grad(true);
    act->value(leaf).sum().backward();
    const at::Tensor autograd = leaf.grad();
    const at::Tensor analytic = act->derivative(zz);
    REQUIRE(analytic.sizes() == zz.sizes());
    const double err = ((autograd - analytic).abs() / (1.0 + analytic.abs())).max().item<double>();
    CHECK(err < 1e-12);
  }
}

TEST_CASE("values match their definitions", "[activation]") {
  const at::Tensor z = at::linspace(-4.0, 4.0, 81, kF64);
  const auto close = [](const at::Tensor& a, const at::Tensor& b) {
    return ((a - b).abs() / (1.0 + b.abs())).max().item<double>();
  };
  CHECK(close(Relu().value(z), at::clamp_min(z, 0.0)) == 0.0);
  CHECK(close(Erf().value(z), 2.0 * (0.5 * at::erfc(-z / std::sqrt(2.0))) - 1.0) < 1e-15);  // 2 Phi - 1
  CHECK(close(Gelu().value(z), z * 0.5 * at::erfc(-z / std::sqrt(2.0))) < 1e-15);
  CHECK(close(Softplus().value(z), at::log1p(at::exp(z))) < 1e-15);
  CHECK(close(Softplus(SoftplusOptions{2.0, 40}).value(z), at::log1p(at::exp(2.0 * z)) / 2.0) < 1e-15);
  // no overflow far out: softplus(800) = 800
  CHECK(Softplus().value(at::full({1}, 800.0, kF64)).item<double>() == Approx(800.0));
  // He_3 = z^3 - 3z, He_6 = z^6 - 15 z^4 + 45 z^2 - 15
  CHECK(close(hermite_p(3)->value(z), z.pow(3) - 3.0 * z) < 1e-14);
  CHECK(close(hermite_p(6)->value(z), z.pow(6) - 15.0 * z.pow(4) + 45.0 * z.pow(2) - 15.0) < 1e-13);
  // coefficient list: sigma = 0.5 + He_1 + 2 He_3 / 3!
  CHECK(close(hermite_list({0.5, 1.0, 0.0, 2.0})->value(z), 0.5 + z + (z.pow(3) - 3.0 * z) / 3.0) < 1e-14);
  // normalize: He_p / sqrt(p!)
  CHECK(close(hermite_p(4, true)->value(z), hermite_p(4)->value(z) / std::sqrt(24.0)) < 1e-14);
}

TEST_CASE("activations work in float32 and keep the input shape", "[activation]") {
  const at::Tensor z = at::linspace(-3.0, 3.0, 12, at::TensorOptions().dtype(at::kFloat)).reshape({3, 4});
  for (const auto& [name, act] : all_activations()) {
    INFO(name);
    const at::Tensor v = act->value(z), d = act->derivative(z);
    CHECK(v.scalar_type() == at::kFloat);
    CHECK(d.scalar_type() == at::kFloat);
    CHECK(v.sizes() == z.sizes());
    CHECK(d.sizes() == z.sizes());
    const at::Tensor s = at::full({}, 1.0f, z.options());
    const at::Tensor k = act->kernel(s, s * 2.0, s * 0.5);
    CHECK(k.scalar_type() == at::kFloat);
    CHECK(std::isfinite(k.item<float>()));
  }
}

TEST_CASE("Hermite orthogonality E[He_m He_n] = n! delta_mn through the kernel", "[activation][hermite]") {
  // K(a, a) for |a| = 1 is E[sigma(z)^2]; with sigma = He_m + He_n (a_m = m!, a_n = n!) polarisation
  // gives E[He_m He_n] = (K - m! - n!) / 2 for m != n, and K / 4 for sigma = 2 He_m.
  const at::Tensor one = at::ones({}, kF64);
  for (int m = 0; m <= 6; ++m) {
    for (int n = m; n <= 6; ++n) {
      std::vector<double> a(7, 0.0);
      a[m] += factorial(m);
      a[n] += factorial(n);
      if (m == 0 && n == 0) a[1] = 1e-300;  // keep the list non-constant (validation); negligible
      Hermite act(HermiteOptions{0, a, false, 40});
      const double k = act.kernel(one, one, one).item<double>();
      const double e_mn = m == n ? k / 4.0 : (k - factorial(m) - factorial(n)) / 2.0;
      INFO("m = " << m << ", n = " << n);
      CHECK(e_mn == Approx(m == n ? factorial(n) : 0.0).margin(1e-12));
    }
  }
  // MATH.md: unit vectors, He_p: K = p! <a, b>^p
  for (int p = 1; p <= 6; ++p) {
    for (double rho : {-1.0, -0.6, 0.0, 0.3, 0.9999, 1.0}) {
      const at::Tensor r = at::full({}, rho, kF64);
      CHECK(hermite_p(p)->kernel(one, one, r).item<double>() == Approx(factorial(p) * std::pow(rho, p)).margin(1e-13));
    }
  }
}

TEST_CASE("Hermite coefficients and information exponent", "[activation][hermite]") {
  for (int p = 1; p <= 6; ++p) {
    auto h = std::dynamic_pointer_cast<Hermite>(hermite_p(p));
    CHECK(h->information_exponent() == p);
    REQUIRE(h->coefficients().size() == static_cast<size_t>(p + 1));
    CHECK(h->coefficients()[p] == factorial(p));
    auto hn = std::dynamic_pointer_cast<Hermite>(hermite_p(p, true));
    CHECK(hn->coefficients()[p] == Approx(std::sqrt(factorial(p))));
  }
  auto h = std::dynamic_pointer_cast<Hermite>(hermite_list({1.0, 0.0, 0.0, 2.0, 0.5, 0.0, 0.0}));
  CHECK(h->information_exponent() == 3);
  CHECK(h->coefficients() == std::vector<double>{1.0, 0.0, 0.0, 2.0, 0.5});  // trailing zeros dropped
  auto normalized = std::dynamic_pointer_cast<Hermite>(hermite_list({1.0, 0.0, 3.0}, true));
  const at::Tensor one = at::ones({}, kF64);
  CHECK(normalized->kernel(one, one, one).item<double>() == Approx(1.0));  // E[sigma^2] = 1
}

TEST_CASE("make_activation builds every registered type through the registry", "[activation][config]") {
  const std::vector<std::string> keys = activation_registry().keys();
  CHECK(keys == std::vector<std::string>{"erf", "gelu", "hermite", "relu", "sigmoid", "softplus", "tanh"});
  for (const auto& key : keys) {
    INFO(key);
    const std::string text = key == "hermite" ? "{type: hermite, p: 2}" : "{type: " + key + "}";
    auto act = make_activation(yaml(text));
    REQUIRE(act);
    CHECK(act->type() == key);
    CHECK(act->quadrature_nodes() == 40);
    CHECK(act->kernel_is_exact() == (key == "relu" || key == "erf" || key == "hermite"));
  }
  CHECK(make_activation(yaml("{}"))->type() == "relu");  // the default type
  CHECK(make_activation(yaml("{type: tanh, quadrature_nodes: 12}"))->quadrature_nodes() == 12);
  auto h =
      std::dynamic_pointer_cast<Hermite>(make_activation(yaml("{type: hermite, coefficients: [0, 0, 1.5, 0, 2]}")));
  REQUIRE(h);
  CHECK(h->information_exponent() == 2);
  CHECK(h->coefficients() == std::vector<double>{0.0, 0.0, 1.5, 0.0, 2.0});
  auto s = std::dynamic_pointer_cast<Softplus>(make_activation(yaml("{type: softplus, beta: 2.5}")));
  REQUIRE(s);
  CHECK(s->beta() == 2.5);
}

TEST_CASE("activation config errors name the key and list the choices", "[activation][config]") {
  using Catch::Matchers::Contains;
  const std::string unknown = error_of("{type: reluu}");
  CHECK_THAT(unknown, Contains("unknown activation type 'reluu'"));
  for (const char* known : {"erf", "gelu", "hermite", "relu", "sigmoid", "softplus", "tanh"})
    CHECK_THAT(unknown, Contains(known));
  CHECK_THAT(unknown, Contains("did you mean 'relu'"));

  CHECK_THAT(error_of("{type: hermite, p: 9}"), Contains("p: p must be in 1..6, got 9"));
  CHECK_THAT(error_of("{type: hermite, p: 0}"), Contains("p must be in 1..6, got 0"));
  CHECK_THAT(error_of("{type: hermite}"), Contains("hermite needs p"));
  CHECK_THAT(error_of("{type: hermite, p: 2, coefficients: [0, 1]}"), Contains("either p or coefficients"));
  CHECK_THAT(error_of("{type: hermite, coefficients: [1]}"), Contains("coefficients: some a_p with p >= 1"));
  CHECK_THAT(error_of("{type: hermite, coefficients: [0, 0, 0]}"), Contains("coefficients"));
  CHECK_THAT(error_of("{type: relu, quadrature_nodes: 1}"),
             Contains("quadrature_nodes: quadrature_nodes must be in 2..300, got 1"));
  CHECK_THAT(error_of("{type: softplus, beta: -1}"), Contains("beta: beta must be a finite number > 0"));

  const std::string unknown_key = error_of("{type: relu, slope: 0.1}");
  CHECK_THAT(unknown_key, Contains("slope"));
  CHECK_THAT(error_of("{type: hermite, p: 3, normalise: true}"), Contains("normalise"));
  CHECK_THAT(error_of("{type: tanh, quadrature_node: 3}"), Contains("quadrature_node"));

  // options built in code report the activation and the option
  try {
    Hermite(HermiteOptions{9, {}, false, 40});
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK_THAT(std::string(e.what()), Contains("hermite: p: p must be in 1..6, got 9"));
  }
}
