#include "models/gaussian_quadrature.h"

#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "framework/error.h"
#include "models/activation.h"
#include "models/activations/common.h"

namespace lrlab::models {

namespace {

/// A product rule for the standard normal measure: E[f(x)] ~ sum_i w_i f(x_i), sum_i w_i = 1.
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

/// Makes a rule exactly symmetric (so that odd moments vanish to the last bit: important for gradients at
/// parallel vectors, where the derivative with respect to L22 is a sum of x_j terms that must cancel) and
/// normalises its weights to sum 1.
void symmetrize(Rule& rule) {
  const int n = static_cast<int>(rule.nodes.size());
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
}

// Golub-Welsch: the nodes are the eigenvalues of the Jacobi matrix of the monic He_k recurrence
// x He_k = He_{k+1} + k He_{k-1}, symmetrised (zero diagonal, off-diagonal sqrt(k)); eigh runs in
// float64. The nodes are then polished by Newton on psi_n (psi_n' = sqrt(n) psi_{n-1}) and the weights
// taken from the Christoffel formula w_i = 1 / (n psi_{n-1}(x_i)^2) (for the normalised measure), which
// is accurate even for the tiny tail weights that eigenvector components resolve poorly.
Rule gauss_hermite_rule(int n) {
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
  symmetrize(rule);
  return rule;
}

/// Half-width of the trapezoid rule's interval: the standard normal mass beyond 10 is 1.5e-23.
constexpr double kTrapezoidCutoff = 10.0;

// The trapezoid rule on the real line, x_k = k h for |k h| <= 10, w_k proportional to h phi(x_k). For an
// integrand f phi with f analytic in the strip |Im x| < c, its error decays like exp(-2 pi c / h), so each
// level (h divided by 1.5) raises the error to the power 1.5; Gauss-Hermite's error decays only like
// exp(-2 c sqrt(n)) in its node count, far slower for the steep activations (tanh(L x) has poles at
// |Im x| = pi / (2 L)), which is why the adaptive kernel uses this rule.
Rule trapezoid_rule(int level) {
  const double h = trapezoid_step(level);
  const int half = static_cast<int>(std::ceil(kTrapezoidCutoff / h));
  Rule rule;
  for (int k = -half; k <= half; ++k) {
    const double x = k * h;
    rule.nodes.push_back(x);
    rule.weights.push_back(std::exp(-0.5 * x * x));
  }
  symmetrize(rule);
  return rule;
}

/// The rule for a key (positive: Gauss-Hermite with that many nodes; -1 - level: trapezoid), cached.
const Rule& cached_rule(int key) {
  static std::mutex mutex;
  static std::map<int, Rule> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, key > 0 ? gauss_hermite_rule(key) : trapezoid_rule(-1 - key)).first;
  return it->second;
}

int trapezoid_key(int level) { return -1 - level; }

at::Tensor to_tensor(const std::vector<double>& values, const at::TensorOptions& options) {
  at::Tensor t = at::empty({static_cast<int64_t>(values.size())}, at::TensorOptions().dtype(at::kDouble));
  std::copy(values.begin(), values.end(), t.data_ptr<double>());
  return t.to(options);
}

/// g(z1, z2) elementwise on broadcasting tensors.
using PairFunction = std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>;

/// The pair as z1 = l11 x, z2 = l21 x + sqrt(v) y with x, y independent standard normals (a Cholesky
/// factor); below v = t the chord in v is used (see gauss_hermite_expectation). Broadcasting tensors.
struct Factor {
  at::Tensor l11, l21, v, t;
};

// E[g(z1, z2)] ~ sum_i w_i F_i(v), F_i(v) = sum_j w_j g(l11 x_i, l21 x_i + sqrt(v) x_j), with the chord
// F_i(v) ~ F_i(0) + (v / t) (F_i(t) - F_i(0)) below t (F_i is even in sqrt(v), hence smooth in v).
// Shapes: the factor broadcasts to S; z1 [S..., n], z2 [S..., n, n]; the result has shape S.
at::Tensor rule_sum(const PairFunction& g, const Factor& f, const Rule& rule) {
  const auto options = f.l11.options().requires_grad(false);
  const at::Tensor x = to_tensor(rule.nodes, options);    // [n]
  const at::Tensor w = to_tensor(rule.weights, options);  // [n]
  const at::Tensor wide = f.v > f.t;
  const at::Tensor l22 = at::sqrt(at::where(wide, f.v, f.t));  // sqrt(max(v, t)), gradient only above t
  const at::Tensor z1 = f.l11.unsqueeze(-1) * x;                                  // [S1..., n]
  const at::Tensor m = f.l21.unsqueeze(-1) * x;                                   // [S2..., n]
  const at::Tensor z2 = m.unsqueeze(-1) + l22.unsqueeze(-1).unsqueeze(-1) * x;    // [S..., n, n]
  const at::Tensor inner_wide = (g(z1.unsqueeze(-1), z2) * w).sum(-1);            // [S..., n]
  const at::Tensor inner_zero = g(z1, m);                                         // [S..., n]
  const at::Tensor chord = inner_zero + (f.v / f.t).unsqueeze(-1) * (inner_wide - inner_zero);
  const at::Tensor inner = at::where(wide.unsqueeze(-1), inner_wide, chord);      // [S..., n]
  return (w * inner).sum(-1);                                                     // S
}

// The product factor of the covariance [[saa, sab], [sab, sbb]], larger variance first.
// Numerical care (the map covariance -> K is smooth on the PSD cone, the Cholesky map is not):
// - Because g is symmetric (the same sigma on both sides), we put the LARGER variance first
//   (s1 = max(saa, sbb), s2 = min). Then L11 = 0 only when both vectors vanish, and the 1/L11 factor
//   in dL21/dsab never multiplies an O(1) sum whose exact value is O(L11) (which happens when a small
//   vector comes first: catastrophic cancellation, NaN at zero).
// - s1 <= sqrt(DBL_MIN) (both vectors zero): L11 = L21 = 0 with zero gradient (the gradient with respect
//   to the vectors, 2a dK/dsaa + b dK/dsab, vanishes there anyway).
// - v = s2 - L21^2 is the squared norm of the component of the smaller vector orthogonal to the larger:
//   0 for parallel vectors (or slightly negative by rounding), where d sqrt(v)/dv is infinite although
//   dK/dv = E[sigma(z1) sigma''(z2)] / 2 is finite; below t = sqrt(eps) (conditional standard deviation
//   1e-4 in float64) rule_sum uses the chord, exact to O(t^2) in value and O(t) in dK/dv, with no sqrt of v.
// - Every sqrt / division is taken of a `where`-guarded argument, so no inf reaches the backward pass of
//   a branch that is not selected.
// - The two orderings are different quadratures of the same integral: the result is continuous at
//   saa = sbb (both orderings coincide there) but its derivative has a kink of the size of the
//   quadrature error of the gradient.
Factor product_factor(const at::Tensor& saa, const at::Tensor& sbb, const at::Tensor& sab) {
  check(saa.scalar_type() == sbb.scalar_type() && saa.scalar_type() == sab.scalar_type(),
        "Gaussian kernel quadrature: saa, sbb, sab must have the same dtype");
  const double tiny = std::sqrt(detail::dtype_min(saa.scalar_type()));
  const at::Tensor zero = detail::scalar_like(saa, 0.0);
  const at::Tensor one = detail::scalar_like(saa, 1.0);
  const at::Tensor first = saa >= sbb;
  const at::Tensor s1 = at::where(first, saa, sbb);
  const at::Tensor s2 = at::where(first, sbb, saa);
  const at::Tensor has1 = s1 > tiny;
  const at::Tensor root1 = at::sqrt(at::where(has1, s1, one));
  Factor f;
  f.l11 = at::where(has1, root1, zero);
  f.l21 = at::where(has1, sab / root1, zero);
  f.v = s2 - f.l21 * f.l21;
  f.t = detail::scalar_like(saa, std::sqrt(detail::dtype_eps(saa.scalar_type())));
  return f;
}

// The difference factor of rows a, b [..., d]: with the larger row first (big, other) and e = other - big,
//   z1 = <big, x> = L11 x,  zeta = <e, x> = L21 x + sqrt(v) y,
//   L11 = |big|, L21 = <big, e> / L11, v = |e|^2 - L21^2 (the part of e orthogonal to big),
// all from the vectors, so v and L21 carry the relative precision of e however small it is. The chord
// threshold is relative, t = sqrt(eps) |e|^2: the chord's error O(t^2) then stays eps |e|^4, far below the
// O(|e|^2) value. The integrand (sigma(z1) - sigma(z1 + zeta))^2 is symmetric in (a, b).
Factor difference_factor(const at::Tensor& a, const at::Tensor& b) {
  check(a.scalar_type() == b.scalar_type(), "squared_difference_expectation: a and b must have the same dtype");
  const double tiny = std::sqrt(detail::dtype_min(a.scalar_type()));
  const at::Tensor zero = detail::scalar_like(a, 0.0);
  const at::Tensor one = detail::scalar_like(a, 1.0);
  const at::Tensor saa = (a * a).sum(-1), sbb = (b * b).sum(-1);            // [...]
  const at::Tensor first = (saa >= sbb).unsqueeze(-1);                        // [..., 1]
  const at::Tensor big = at::where(first, a, b), e = at::where(first, b - a, a - b);  // [..., d]
  const at::Tensor s1 = at::where(first.squeeze(-1), saa, sbb);
  const at::Tensor see = (e * e).sum(-1), c = (big * e).sum(-1);            // [...]
  const at::Tensor has1 = s1 > tiny;
  const at::Tensor root1 = at::sqrt(at::where(has1, s1, one));
  Factor f;
  f.l11 = at::where(has1, root1, zero);
  f.l21 = at::where(has1, c / root1, zero);
  f.v = see - f.l21 * f.l21;
  f.t = at::clamp_min(std::sqrt(detail::dtype_eps(a.scalar_type())) * see.detach(), tiny);
  return f;
}

/// Factor entries `index` [m] of a flattened factor (entries [N]).
Factor select(const Factor& f, const at::Tensor& index) {
  return {f.l11.index_select(0, index), f.l21.index_select(0, index), f.v.index_select(0, index),
          f.t.index_select(0, index)};
}

/// The trapezoid rule at `level` on a flattened factor [N], in chunks that bound the [chunk, n, n] temporaries.
at::Tensor trapezoid_sum(const PairFunction& g, const Factor& f, int level) {
  const Rule& rule = cached_rule(trapezoid_key(level));
  const int64_t n = static_cast<int64_t>(rule.nodes.size()), count = f.l11.size(0);
  const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 22) / (n * n));
  if (count <= chunk) return rule_sum(g, f, rule);
  std::vector<at::Tensor> parts;
  for (int64_t start = 0; start < count; start += chunk) {
    const int64_t len = std::min(chunk, count - start);
    parts.push_back(rule_sum(g, {f.l11.narrow(0, start, len), f.l21.narrow(0, start, len),
                                 f.v.narrow(0, start, len), f.t.narrow(0, start, len)}, rule));
  }
  return at::cat(parts);
}

bool any_requires_grad(const Factor& f) {
  return f.l11.requires_grad() || f.l21.requires_grad() || f.v.requires_grad() || f.t.requires_grad();
}

/// Refinement tolerance relative to the scale: 1e-11, or 100 eps for a coarser dtype.
double refinement_tolerance(at::ScalarType type) { return std::max(1e-11, 100.0 * detail::dtype_eps(type)); }

// The adaptive driver. Each entry is integrated at levels 0, 1, 2, ... until two successive estimates agree
// within tol * scale (scale [S], or |estimate| when undefined) plus, when `noise_moment` M [S] is given, the
// rounding noise of a squared-difference integrand, 100 eps sqrt(|estimate| M): each node's
// (sigma(z1) - sigma(z2))^2 carries an error of about 2 eps |sigma| |sigma(z1) - sigma(z2)|, whose mean is
// at most 2 eps sqrt(D E[sigma^2]) (Cauchy-Schwarz), so no level can agree better than that; the finer one
// is accepted. The trapezoid
// rule converges geometrically (error_{l+1} ~ error_l^1.5 / C), so the accepted estimate's error is far
// below tol * scale. The level search runs without autograd; when the inputs require grad, each entry is
// then evaluated once more at its accepted level with autograd (the choice is piecewise constant).
GaussianEstimate adaptive(const PairFunction& g, const Factor& factor, const at::Tensor& scale,
                          const at::Tensor& noise_moment) {
  const auto shape = at::infer_size(at::infer_size(at::infer_size(factor.l11.sizes(), factor.l21.sizes()),
                                                   factor.v.sizes()),
                                    factor.t.sizes());
  auto flat = [&](const at::Tensor& t) { return t.expand(shape).reshape({-1}); };
  const Factor f{flat(factor.l11), flat(factor.l21), flat(factor.v), flat(factor.t)};
  const int64_t count = f.l11.size(0);
  const double tol = refinement_tolerance(f.l11.scalar_type());
  const double floor = detail::dtype_min(f.l11.scalar_type());
  const auto long_options = at::TensorOptions().dtype(at::kLong).device(f.l11.device());

  GaussianEstimate out;
  at::Tensor value, level = at::full({count}, kMaxTrapezoidLevel, long_options);
  {
    at::NoGradGuard no_grad;
    const Factor fd{f.l11.detach(), f.l21.detach(), f.v.detach(), f.t.detach()};
    const at::Tensor sc = scale.defined() ? scale.detach().expand(shape).reshape({-1}) : at::Tensor();
    const at::Tensor nm = noise_moment.defined() ? noise_moment.detach().expand(shape).reshape({-1}) : at::Tensor();
    const double noise = 100.0 * detail::dtype_eps(f.l11.scalar_type());
    value = trapezoid_sum(g, fd, 0);
    out.error = at::full({count}, std::numeric_limits<double>::infinity(), f.l11.options());
    at::Tensor active = at::arange(count, long_options), prev = value;
    for (int l = 1; l <= kMaxTrapezoidLevel && active.numel() > 0; ++l) {
      const at::Tensor cur = trapezoid_sum(g, select(fd, active), l);
      const at::Tensor diff = (cur - prev).abs();
      at::Tensor bound = tol * (sc.defined() ? sc.index_select(0, active) : cur.abs()) + floor;
      if (nm.defined()) bound = bound + noise * at::sqrt(cur.abs() * nm.index_select(0, active));
      const at::Tensor done = diff <= bound;
      value.index_put_({active}, cur);
      out.error.index_put_({active}, diff);
      level.index_put_({active.masked_select(done)}, l);
      out.max_level = l;
      const at::Tensor open = done.logical_not();
      active = active.masked_select(open);
      prev = cur.masked_select(open);
    }
    out.converged = active.numel() == 0;
  }
  out.error = out.error.reshape(shape);
  if (!(at::GradMode::is_enabled() && any_requires_grad(f))) {
    out.value = value.reshape(shape);
    return out;
  }
  at::Tensor result = at::zeros({count}, f.l11.options().requires_grad(false));
  for (int l = 1; l <= out.max_level; ++l) {
    const at::Tensor index = (level == l).nonzero().squeeze(1);
    if (index.numel() > 0) result = result.index_put({index}, trapezoid_sum(g, select(f, index), l));
  }
  out.value = result.reshape(shape);
  return out;
}

/// E[sigma(z)^2], z ~ N(0, s), by the 1-D trapezoid rule at level 4 (s [S] -> [S], no grad): a scale only.
at::Tensor second_moment(const Activation& act, const at::Tensor& s) {
  at::NoGradGuard no_grad;
  const Rule& rule = cached_rule(trapezoid_key(4));
  const auto options = s.options().requires_grad(false);
  const at::Tensor x = to_tensor(rule.nodes, options), w = to_tensor(rule.weights, options);  // [n]
  return (act.value(at::sqrt(at::clamp_min(s.detach(), 0.0)).unsqueeze(-1) * x).pow(2) * w).sum(-1);
}

PairFunction product_of(const Activation& act) {
  return [&act](const at::Tensor& z1, const at::Tensor& z2) { return act.value(z1) * act.value(z2); };
}

}  // namespace

double trapezoid_step(int level) { return 0.6 / std::pow(1.5, level); }

// Shapes: saa, sbb, sab broadcast to S. The tolerance scale sqrt(E[sigma(z1)^2] E[sigma(z2)^2]) bounds |K|
// (Cauchy-Schwarz); a coarse 1-D trapezoid (level 4) estimates it, which is all a scale needs.
GaussianEstimate adaptive_kernel(const Activation& act, const at::Tensor& saa, const at::Tensor& sbb,
                                 const at::Tensor& sab) {
  const Factor f = product_factor(saa, sbb, sab);
  const at::Tensor scale = at::sqrt(second_moment(act, saa) * second_moment(act, sbb));
  return adaptive(product_of(act), f, scale, at::Tensor());
}

at::Tensor trapezoid_kernel(const Activation& act, const at::Tensor& saa, const at::Tensor& sbb,
                            const at::Tensor& sab, int level) {
  check(level >= 0 && level <= kMaxTrapezoidLevel + 2,
        "trapezoid_kernel: level must be in 0.." + std::to_string(kMaxTrapezoidLevel + 2));
  const Factor f = product_factor(saa, sbb, sab);
  const auto shape = at::infer_size(at::infer_size(f.l11.sizes(), f.l21.sizes()), f.v.sizes());
  auto flat = [&](const at::Tensor& t) { return t.expand(shape).reshape({-1}); };
  return trapezoid_sum(product_of(act), {flat(f.l11), flat(f.l21), flat(f.v), flat(f.t)}, level).reshape(shape);
}

GaussianEstimate squared_difference_expectation(const Activation& act, const at::Tensor& a, const at::Tensor& b) {
  const PairFunction g = [&act](const at::Tensor& z1, const at::Tensor& zeta) {
    return (act.value(z1) - act.value(z1 + zeta)).pow(2);
  };
  const Factor f = difference_factor(a, b);
  return adaptive(g, f, at::Tensor(), second_moment(act, f.l11.detach() * f.l11.detach()));
}

// 2-D Gauss-Hermite quadrature of E[sigma(z1) sigma(z2)], (z1, z2) ~ N(0, [[saa, sab], [sab, sbb]]), on the
// product factor above (numerical care there and in rule_sum). Accuracy: the rule resolves sigma's
// features down to about sqrt(s1) pi / sqrt(2n) in z, so saturating activations at norms >~ 2 need many
// nodes (tanh at |a| = |b| = 2.5: 5e-3 at 40 nodes, 3e-6 at 160); polynomials of degree < 2n are integrated
// exactly. The kernels use the adaptive rule instead (adaptive_kernel).
at::Tensor gauss_hermite_expectation(const Activation& act, const at::Tensor& saa, const at::Tensor& sbb,
                                     const at::Tensor& sab, int n) {
  check(n >= 1 && n <= detail::kMaxQuadratureNodes, "gauss_hermite_expectation: n must be in 1.." +
                                                        std::to_string(detail::kMaxQuadratureNodes) + ", got " +
                                                        std::to_string(n));
  return rule_sum(product_of(act), product_factor(saa, sbb, sab), cached_rule(n));
}

}  // namespace lrlab::models
