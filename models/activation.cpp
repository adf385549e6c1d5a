#include "models/activation.h"

#include <cfloat>
#include <cmath>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "framework/config.h"
#include "framework/error.h"
#include "models/activation_registry.h"
#include "models/activations/common.h"
#include "models/gaussian_kernel.h"

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

namespace {

/// Gauss-Hermite rule for the standard normal measure: E[f(x)] ~ sum_i w_i f(x_i), sum_i w_i = 1.
struct Rule {
  std::vector<double> nodes;    // [n], ascending, exactly antisymmetric (x_{n-1-i} = -x_i)
  std::vector<double> weights;  // [n], symmetric
};

// Normalised probabilists' Hermite polynomials psi_k = He_k / sqrt(k!) at x: returns {psi_n, psi_{n-1}}.
// The normalisation keeps the recurrence in range (He_k itself overflows for large k):
// psi_{k+1} = (x psi_k - sqrt(k) psi_{k-1}) / sqrt(k+1).
std::pair<double, double> normalized_hermite(int n, double x) {
  double prev = 1.0, cur = x;  // psi_0, psi_1
  if (n == 0) return {1.0, 0.0};
  for (int k = 1; k < n; ++k) {
    const double next = (x * cur - std::sqrt(static_cast<double>(k)) * prev) / std::sqrt(k + 1.0);
    prev = cur;
    cur = next;
  }
  return {cur, prev};
}

// Golub-Welsch: the nodes are the eigenvalues of the Jacobi matrix of the monic He_k recurrence
// x He_k = He_{k+1} + k He_{k-1}, symmetrised (zero diagonal, off-diagonal sqrt(k)); eigh runs in
// float64. The nodes are then polished by Newton on psi_n (psi_n' = sqrt(n) psi_{n-1}) and the weights
// taken from the Christoffel formula w_i = 1 / (n psi_{n-1}(x_i)^2) (for the normalised measure), which
// is accurate even for the tiny tail weights that eigenvector components resolve poorly.
Rule compute_rule(int n) {
  Rule rule;
  rule.nodes.resize(n);
  rule.weights.resize(n);
  if (n == 1) {
    rule.nodes[0] = 0.0;
    rule.weights[0] = 1.0;
    return rule;
  }
  at::Tensor jacobi = at::zeros({n, n}, at::TensorOptions().dtype(at::kDouble));
  auto acc = jacobi.accessor<double, 2>();
  for (int k = 1; k < n; ++k) acc[k][k - 1] = acc[k - 1][k] = std::sqrt(static_cast<double>(k));
  at::Tensor eigenvalues = std::get<0>(at::linalg_eigh(jacobi)).contiguous();
  auto ev = eigenvalues.accessor<double, 1>();
  for (int i = 0; i < n; ++i) {
    double x = ev[i];
    for (int it = 0; it < 4; ++it) {
      auto [pn, pn1] = normalized_hermite(n, x);
      x -= pn / (std::sqrt(static_cast<double>(n)) * pn1);
    }
    rule.nodes[i] = x;
    const double pn1 = normalized_hermite(n, x).second;
    rule.weights[i] = 1.0 / (n * pn1 * pn1);
  }
  // Exact symmetry, so that odd moments vanish to the last bit (important for gradients at parallel
  // vectors, where the derivative with respect to L22 is a sum of x_j terms that must cancel).
  for (int i = 0; i < n / 2; ++i) {
    const int j = n - 1 - i;
    const double x = 0.5 * (rule.nodes[j] - rule.nodes[i]);
    const double w = 0.5 * (rule.weights[i] + rule.weights[j]);
    rule.nodes[i] = -x;
    rule.nodes[j] = x;
    rule.weights[i] = rule.weights[j] = w;
  }
  if (n % 2 == 1) rule.nodes[n / 2] = 0.0;
  double total = 0.0;
  for (double w : rule.weights) total += w;
  for (double& w : rule.weights) w /= total;
  return rule;
}

const Rule& cached_rule(int n) {
  static std::mutex mutex;
  static std::map<int, Rule> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(n);
  if (it == cache.end()) it = cache.emplace(n, compute_rule(n)).first;
  return it->second;
}

at::Tensor to_tensor(const std::vector<double>& values, const at::TensorOptions& options) {
  at::Tensor t = at::empty({static_cast<int64_t>(values.size())}, at::TensorOptions().dtype(at::kDouble));
  std::copy(values.begin(), values.end(), t.data_ptr<double>());
  return t.to(options);
}

}  // namespace

at::Tensor Activation::kernel(const at::Tensor& saa, const at::Tensor& sbb, const at::Tensor& sab) const {
  return series_or_direct_kernel(*this, saa, sbb, sab);
}

// 2-D Gauss-Hermite quadrature of E[sigma(z1) sigma(z2)], (z1, z2) ~ N(0, [[saa, sab], [sab, sbb]]).
//
// With the Cholesky factor L = [[L11, 0], [L21, L22]] and independent standard x, y:
//   z1 = L11 x,  z2 = L21 x + L22 y,  L11 = sqrt(s1), L21 = sab / L11, L22 = sqrt(v), v = s2 - L21^2,
//   E ~ sum_i w_i sigma(L11 x_i) F_i(v),  F_i(v) = sum_j w_j sigma(L21 x_i + sqrt(v) x_j).
//
// Numerical care (the map covariance -> K is smooth on the PSD cone, the Cholesky map is not):
// - Because the same sigma acts on both sides, K is symmetric, and we put the LARGER variance first
//   (s1 = max(saa, sbb), s2 = min). Then L11 = 0 only when both vectors vanish, and the 1/L11 factor
//   in dL21/dsab never multiplies an O(1) sum whose exact value is O(L11) (which happens when a small
//   vector comes first: catastrophic cancellation, NaN at zero).
// - s1 <= sqrt(DBL_MIN) (both vectors zero): L11 = L21 = 0 with zero gradient (the gradient with respect
//   to the vectors, 2a dK/dsaa + b dK/dsab, vanishes there anyway).
// - v = s2 - L21^2 is the squared norm of the component of the smaller vector orthogonal to the larger:
//   0 for parallel vectors (or slightly negative by rounding), where d sqrt(v)/dv is infinite although
//   dK/dv = E[sigma(z1) sigma''(z2)] / 2 is finite. F_i is even in sqrt(v) (symmetric nodes), hence
//   smooth in v; below t = sqrt(eps) (conditional standard deviation 1e-4 in float64) we use its chord
//     F_i(v) ~ F_i(0) + (v / t) (F_i(t) - F_i(0)),  F_i(0) = sigma(L21 x_i),
//   which is exact to O(t^2) in value and O(t) in dK/dv, needs no sqrt of v, and stays smooth (linear)
//   for the tiny negative v that rounding gives. Above t, sqrt(v) is safe (v >= t > 0).
// - Every sqrt / division is taken of a `where`-guarded argument, so no inf reaches the backward pass of
//   a branch that is not selected.
// - The two orderings are different quadratures of the same integral: the result is continuous at
//   saa = sbb (both orderings coincide there) but its derivative has a kink of the size of the
//   quadrature error of the gradient (negligible when the rule resolves sigma, see quadrature_nodes).
// Accuracy: the rule resolves sigma's features down to about sqrt(s1) pi / sqrt(2n) in z, so saturating
// activations at norms >~ 2 need more than the default 40 nodes (tanh at |a| = |b| = 2.5: 5e-3 at 40
// nodes, 3e-6 at 160); polynomials of degree < 2n are integrated exactly.
// Shapes: saa, sbb, sab broadcast to S; z1 [S..., n], z2 [S..., n, n]; the result has shape S.
at::Tensor gauss_hermite_expectation(const Activation& act, const at::Tensor& saa, const at::Tensor& sbb,
                                     const at::Tensor& sab, int n) {
  check(n >= 1 && n <= detail::kMaxQuadratureNodes, "gauss_hermite_expectation: n must be in 1.." +
                                                        std::to_string(detail::kMaxQuadratureNodes) + ", got " +
                                                        std::to_string(n));
  check(saa.scalar_type() == sbb.scalar_type() && saa.scalar_type() == sab.scalar_type(),
        "gauss_hermite_expectation: saa, sbb, sab must have the same dtype");
  const Rule& rule = cached_rule(n);
  const auto options = saa.options().requires_grad(false);
  const at::Tensor x = to_tensor(rule.nodes, options);    // [n]
  const at::Tensor w = to_tensor(rule.weights, options);  // [n]

  const double t = std::sqrt(detail::dtype_eps(saa.scalar_type()));
  const double tiny = std::sqrt(detail::dtype_min(saa.scalar_type()));
  const at::Tensor zero = detail::scalar_like(saa, 0.0);
  const at::Tensor one = detail::scalar_like(saa, 1.0);
  const at::Tensor t_tensor = detail::scalar_like(saa, t);

  const at::Tensor first = saa >= sbb;
  const at::Tensor s1 = at::where(first, saa, sbb);
  const at::Tensor s2 = at::where(first, sbb, saa);
  const at::Tensor has1 = s1 > tiny;
  const at::Tensor root1 = at::sqrt(at::where(has1, s1, one));
  const at::Tensor l11 = at::where(has1, root1, zero);
  const at::Tensor l21 = at::where(has1, sab / root1, zero);
  const at::Tensor v = s2 - l21 * l21;
  const at::Tensor wide = v > t;
  const at::Tensor l22 = at::sqrt(at::where(wide, v, t_tensor));  // sqrt(max(v, t)), gradient only above t

  const at::Tensor z1 = l11.unsqueeze(-1) * x;                                              // [S1..., n]
  const at::Tensor m = l21.unsqueeze(-1) * x;                                               // [S2..., n]
  const at::Tensor z2 = m.unsqueeze(-1) + l22.unsqueeze(-1).unsqueeze(-1) * x;              // [S..., n, n]
  const at::Tensor inner_wide = (act.value(z2) * w).sum(-1);                                // [S..., n]
  const at::Tensor inner_zero = act.value(m);                                               // [S2..., n]
  const at::Tensor chord = inner_zero + (v / t).unsqueeze(-1) * (inner_wide - inner_zero);  // [S..., n]
  const at::Tensor inner = at::where(wide.unsqueeze(-1), inner_wide, chord);                // [S..., n]
  return (act.value(z1) * w * inner).sum(-1);                                               // S
}

std::shared_ptr<Activation> make_activation(const Config& cfg) { return activation_registry().make(cfg, "relu"); }

}  // namespace lrlab::models

namespace lrlab::models {

void Activation::cpu_values(const double*, double*, double*, int64_t) const {
  throw Error("activation '" + type() + "' has no scalar CPU kernel (has_cpu_values() is false)");
}

}  // namespace lrlab::models

namespace lrlab::models {

std::optional<fused::ActivationDesc> Activation::cuda_descriptor(std::string* why) const {
  if (why) *why = "activation '" + type() + "' has no fused CUDA step";
  return std::nullopt;
}

}  // namespace lrlab::models
