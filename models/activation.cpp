#include "models/activation.h"

#include <cfloat>
#include <cmath>
#include <utility>
#include <vector>

#include "framework/config.h"
#include "framework/error.h"
#include "models/activation_registry.h"
#include "models/activations/common.h"
#include "models/gaussian_quadrature.h"

namespace lrlab::models {

namespace detail {

std::string quadrature_nodes_problem(int n) {
  if (n < 2 || n > kMaxQuadratureNodes)
    return "quadrature_nodes must be in 2.." + std::to_string(kMaxQuadratureNodes) + ", got " + std::to_string(n);
  return "";
}

int read_quadrature_nodes(const Config& cfg) { return cfg.get<int>("quadrature_nodes", kDefaultQuadratureNodes); }

void option_fail(const Config* cfg, const std::string& type, const std::string& key, const std::string& message) {
  if (cfg != nullptr) cfg->fail(key, message);
  throw ConfigError(type + ": " + key + ": " + message);
}

double dtype_eps(at::ScalarType type) {
  switch (type) {
    case at::kDouble:
      return DBL_EPSILON;
    case at::kFloat:
      return FLT_EPSILON;
    case at::kHalf:
      return 9.765625e-4;
    case at::kBFloat16:
      return 7.8125e-3;
    default:
      throw Error("activation kernels need a floating dtype, got " + std::string(c10::toString(type)));
  }
}

double dtype_min(at::ScalarType type) {
  switch (type) {
    case at::kDouble:
      return DBL_MIN;
    case at::kFloat:
      return FLT_MIN;
    case at::kHalf:
      return 6.103515625e-5;
    case at::kBFloat16:
      return FLT_MIN;
    default:
      throw Error("activation kernels need a floating dtype, got " + std::string(c10::toString(type)));
  }
}

at::Tensor scalar_like(const at::Tensor& like, double value) {
  return at::full({}, value, like.options().requires_grad(false));
}

}  // namespace detail

// The default kernel: the adaptive quadrature of models/gaussian_quadrature.h, accurate to about 1e-11 of
// sqrt(K(a, a) K(b, b)) at every norm (the fixed 40-node Gauss-Hermite rule it replaces was off by 5e-3 for
// tanh at |a| = |b| = 2.5). `quadrature_nodes_` is the node count of the fixed Gauss-Hermite rule for the
// callers that ask for it (the linearized student's 1-D terms), not of this kernel.
at::Tensor Activation::kernel(const at::Tensor& saa, const at::Tensor& sbb, const at::Tensor& sab) const {
  return adaptive_kernel(*this, saa, sbb, sab).value;
}

std::shared_ptr<Activation> make_activation(const Config& cfg) { return activation_registry().make(cfg, "relu"); }

}  // namespace lrlab::models

namespace lrlab::models {

void Activation::cpu_values(const double*, double*, double*, int64_t) const {
  throw Error("activation '" + type() + "' has no scalar CPU kernel (has_cpu_values() is false)");
}

}  // namespace lrlab::models
