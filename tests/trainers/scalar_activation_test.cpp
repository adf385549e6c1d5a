// The scalar activations of the fused step equal the tensor activations (the reference) in float64.

#include <catch2/catch.hpp>

#include <ATen/ATen.h>

#include <memory>

#include "models/activations/erf.h"
#include "models/activations/gelu.h"
#include "models/activations/hermite.h"
#include "models/activations/relu.h"
#include "models/activations/sigmoid.h"
#include "models/activations/softplus.h"
#include "models/activations/tanh.h"
#include "trainers/scalar_activation.h"

namespace {

// A new activation type without a scalar version.
class Shifted : public lrlab::models::Relu {
 public:
  std::string type() const override { return "shifted"; }
  at::Tensor value(const at::Tensor& z) const override { return Relu::value(z - 1.0); }
};

}  // namespace

TEST_CASE("scalar activations equal the tensor activations", "[fused][activation]") {
  using namespace lrlab::models;
  SoftplusOptions sp;
  sp.beta = 2.5;
  HermiteOptions h3;
  h3.p = 3;
  HermiteOptions hc;
  hc.coefficients = {0.3, 1.0, -0.5, 2.0, 0.0, 1.5};
  hc.normalize = true;
  std::vector<std::shared_ptr<Activation>> acts = {
      std::make_shared<Relu>(),     std::make_shared<Tanh>(), std::make_shared<Erf>(),
      std::make_shared<Sigmoid>(),  std::make_shared<Gelu>(), std::make_shared<Softplus>(sp),
      std::make_shared<Hermite>(h3), std::make_shared<Hermite>(hc)};
  // z over [-40, 40] (overflow-prone ends of sigmoid/softplus included) and near 0.
  at::Tensor z = at::cat({at::linspace(-40, 40, 801, at::kDouble), at::linspace(-1e-3, 1e-3, 21, at::kDouble)});
  for (const auto& act : acts) {
    INFO("activation " << act->type());
    auto s = lrlab::trainers::ScalarActivation::from(*act);
    REQUIRE(s.has_value());
    const at::Tensor v = act->value(z), dv = act->derivative(z);
    for (int64_t i = 0; i < z.numel(); ++i) {
      const double zi = z[i].item<double>();
      const double ref_v = v[i].item<double>(), ref_d = dv[i].item<double>();
      INFO("z = " << zi);
      REQUIRE(s->value(zi) == Approx(ref_v).epsilon(1e-12).margin(1e-12 * std::max(1.0, std::abs(ref_v))));
      REQUIRE(s->derivative(zi) == Approx(ref_d).epsilon(1e-12).margin(1e-15));  // tanh'(19): 0 vs 2e-16
    }
  }
}

TEST_CASE("an activation type without a scalar version is declined", "[fused][activation]") {
  Shifted shifted;
  CHECK_FALSE(lrlab::trainers::ScalarActivation::from(shifted).has_value());
}
