// Every registered activation's scalar CPU kernel (Activation::cpu_values, used by the kernel path)
// equals its tensor value/derivative (the reference) in float64, over every registry key.

#include <catch2/catch.hpp>

#include <ATen/ATen.h>

#include <memory>
#include <set>
#include <vector>

#include "framework/config.h"
#include "framework/error.h"
#include "models/activation_registry.h"
#include "models/activations/relu.h"

namespace {

using lrlab::Config;
using lrlab::models::Activation;
using lrlab::models::activation_registry;

// Option variants beyond each type's defaults (and the configs of types that have no defaults).
const std::vector<std::string> kVariants = {
    "{type: softplus, beta: 2.5}", "{type: hermite, p: 3}",
    "{type: hermite, coefficients: [0.3, 1.0, -0.5, 2.0, 0.0, 1.5], normalize: true}"};

// One activation per registry key (with its defaults where it has them) and every variant.
std::vector<std::shared_ptr<Activation>> every_activation() {
  std::vector<std::shared_ptr<Activation>> out;
  std::set<std::string> covered;
  for (const auto& text : kVariants) {
    out.push_back(activation_registry().make(Config::load_string(text), "relu"));
    covered.insert(out.back()->type());
  }
  for (const auto& key : activation_registry().keys()) {
    try {
      out.push_back(activation_registry().make(Config::load_string("{type: " + key + "}"), key));
    } catch (const lrlab::ConfigError&) {
      INFO("activation '" << key << "' needs options: add a config of it to kVariants");
      CHECK(covered.count(key) == 1);
    }
  }
  return out;
}

// A new activation type that changes value() of a registered one: it must not inherit the kernel.
class Shifted : public lrlab::models::Relu {
 public:
  std::string type() const override { return "shifted"; }
  at::Tensor value(const at::Tensor& z) const override { return Relu::value(z - 1.0); }
  bool has_cpu_values() const override { return false; }
};

}  // namespace

TEST_CASE("every registered activation's cpu_values equals its tensor value and derivative", "[activation][kernel]") {
  // z over [-40, 40] (overflow-prone ends of sigmoid/softplus included) and near 0.
  const at::Tensor z = at::cat({at::linspace(-40, 40, 801, at::kDouble), at::linspace(-1e-3, 1e-3, 21, at::kDouble)});
  const int64_t n = z.numel();
  for (const auto& act : every_activation()) {
    INFO("activation " << act->type());
    REQUIRE(act->has_cpu_values());  // every built-in activation has a scalar kernel
    std::vector<double> v(n), dv(n), alias(z.data_ptr<double>(), z.data_ptr<double>() + n);
    act->cpu_values(z.data_ptr<double>(), v.data(), dv.data(), n);
    act->cpu_values(alias.data(), alias.data(), nullptr, n);  // v may alias z; dv may be null
    const at::Tensor ref_v = act->value(z), ref_d = act->derivative(z);
    for (int64_t i = 0; i < n; ++i) {
      const double rv = ref_v[i].item<double>(), rd = ref_d[i].item<double>();
      INFO("z = " << z[i].item<double>());
      REQUIRE(v[i] == Approx(rv).epsilon(1e-12).margin(1e-12 * std::max(1.0, std::abs(rv))));
      REQUIRE(alias[i] == v[i]);
      REQUIRE(dv[i] == Approx(rd).epsilon(1e-12).margin(1e-15));  // tanh'(19): 0 vs 2e-16
    }
  }
}

TEST_CASE("relu's cpu_values keeps NaN in the value, as at::relu", "[activation][kernel]") {
  const lrlab::models::Relu relu;
  const double z[3] = {std::nan(""), -1.0, 2.0};
  double v[3], dv[3];
  relu.cpu_values(z, v, dv, 3);
  CHECK(std::isnan(v[0]));
  CHECK(std::isnan(relu.value(at::full({1}, std::nan(""), at::kDouble))[0].item<double>()));
  CHECK(dv[0] == 0.0);
  CHECK(v[1] == 0.0);
  CHECK(v[2] == 2.0);
}

TEST_CASE("an activation without a scalar kernel says so and throws when asked", "[activation][kernel]") {
  Shifted shifted;
  CHECK_FALSE(shifted.has_cpu_values());
  double z = 0.0, v = 0.0;
  CHECK_THROWS_AS(shifted.Activation::cpu_values(&z, &v, nullptr, 1), lrlab::Error);
}
