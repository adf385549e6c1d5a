#pragma once
/// Helpers shared by the activation implementations (not part of the public activation API):
/// reading the `quadrature_nodes` option that every activation accepts, reporting option errors for
/// options built in code, and dtype-dependent thresholds for the numerically careful kernels.

#include <ATen/ATen.h>

#include <string>

namespace lrlab {
class Config;
}

namespace lrlab::models::detail {

/// Default Gauss-Hermite nodes per dimension (the `quadrature_nodes` option).
constexpr int kDefaultQuadratureNodes = 40;
/// Largest accepted node count: the normalised Hermite recurrence used for the rule overflows near
/// n ~ 700, and the quadrature costs n^2 activation evaluations per kernel entry.
constexpr int kMaxQuadratureNodes = 300;

/// "" when `n` is an acceptable node count (2..kMaxQuadratureNodes), otherwise the problem.
std::string quadrature_nodes_problem(int n);
/// Reads `quadrature_nodes` from `cfg` (default 40); validate it with quadrature_nodes_problem.
int read_quadrature_nodes(const Config& cfg);
/// Reports an invalid option of activation `type`: through `cfg->fail(key, message)` (located in the
/// YAML) when `cfg` is given, else as ConfigError "<type>: <key>: <message>" (options built in code).
[[noreturn]] void option_fail(const Config* cfg, const std::string& type, const std::string& key,
                              const std::string& message);

/// Machine epsilon of a floating dtype (float64, float32, float16, bfloat16).
double dtype_eps(at::ScalarType type);
/// Smallest positive normal number of a floating dtype.
double dtype_min(at::ScalarType type);
/// A 0-dim tensor holding `value` with the dtype and device of `like` (for at::where branches).
at::Tensor scalar_like(const at::Tensor& like, double value);

/// The loop of every Activation::cpu_values: for i < n, `both(z[i], v, dv)` sets v = sigma(z[i]) and
/// dv = sigma'(z[i]); writes v[i] and, when `dv` is not null, dv[i] (v may alias z: z[i] is read first).
template <class Both>
inline void scalar_values(const double* z, double* v, double* dv, int64_t n, Both both) {
  double value = 0.0, slope = 0.0;
  if (dv == nullptr) {
    for (int64_t i = 0; i < n; ++i) {
      both(z[i], value, slope);
      v[i] = value;
    }
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    both(z[i], value, slope);
    v[i] = value;
    dv[i] = slope;
  }
}

}  // namespace lrlab::models::detail
