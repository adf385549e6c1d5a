#include <memory>

#include "framework/config.h"
#include "models/activation_registry.h"
#include "models/activations/erf.h"
#include "models/activations/gelu.h"
#include "models/activations/hermite.h"
#include "models/activations/relu.h"
#include "models/activations/sigmoid.h"
#include "models/activations/softplus.h"
#include "models/activations/tanh.h"

namespace lrlab::models {

void register_activations(ActivationRegistry& r) {
  r.add(
      "relu", [](const Config& cfg) { return std::make_shared<Relu>(cfg); },
      "max(z, 0); closed-form arc-cosine kernel");
  r.add(
      "tanh", [](const Config& cfg) { return std::make_shared<Tanh>(cfg); },
      "tanh(z); kernel by Gauss-Hermite quadrature (quadrature_nodes)");
  r.add(
      "erf", [](const Config& cfg) { return std::make_shared<Erf>(cfg); },
      "erf(z / sqrt 2); closed-form arcsine kernel");
  r.add(
      "sigmoid", [](const Config& cfg) { return std::make_shared<Sigmoid>(cfg); },
      "1 / (1 + exp(-z)); kernel by Gauss-Hermite quadrature (quadrature_nodes)");
  r.add(
      "gelu", [](const Config& cfg) { return std::make_shared<Gelu>(cfg); },
      "z Phi(z) (exact erf form); kernel by Gauss-Hermite quadrature (quadrature_nodes)");
  r.add(
      "softplus", [](const Config& cfg) { return std::make_shared<Softplus>(cfg); },
      "log(1 + exp(beta z)) / beta (beta); kernel by Gauss-Hermite quadrature (quadrature_nodes)");
  r.add(
      "hermite", [](const Config& cfg) { return std::make_shared<Hermite>(cfg); },
      "sum_p a_p He_p / p!: p (He_p, 1..6) or coefficients [a_0, a_1, ...], normalize; exact kernel");
}

}  // namespace lrlab::models
