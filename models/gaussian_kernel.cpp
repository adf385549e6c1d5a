#include "models/gaussian_kernel.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <vector>

#include "framework/error.h"
#include "models/activation.h"
#include "models/activations/common.h"

namespace lrlab::models {

namespace {

/// A 1-D rule for the standard normal measure: E[f(g)] ~ sum_i w_i f(x_i) (the density is in w).
struct NormalRule {
  std::vector<double> x, w;
};

/// Gauss-Legendre nodes and weights on [-1, 1] (Newton on the Legendre recurrence from Chebyshev guesses).
void gauss_legendre(int n, std::vector<double>& t, std::vector<double>& w) {
  t.assign(n, 0.0);
  w.assign(n, 0.0);
  for (int i = 0; i < n; ++i) {
    double x = std::cos(M_PI * (i + 0.75) / (n + 0.5));
    double dp = 1.0;
    for (int it = 0; it < 100; ++it) {
      double p0 = 1.0, p1 = x;
      for (int k = 2; k <= n; ++k) {
        const double p2 = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = n * (x * p1 - p0) / (x * x - 1.0);
      const double dx = p1 / dp;
      x -= dx;
      if (std::fabs(dx) < 1e-16) break;
    }
    t[i] = x;
    w[i] = 2.0 / ((1.0 - x * x) * dp * dp);
  }
}

/// The composite Gauss-Legendre rule with `per_panel` nodes on the panels between consecutive `edges`
/// (0 = edges[0] < edges[1] < ...) and their mirror images, times the standard normal density; weights
/// normalised to sum to 1 (constants exact). No node at 0 and exact symmetry x_{-i} = -x_i.
NormalRule composite_rule(const std::vector<double>& edges, int per_panel) {
  std::vector<double> t, tw;
  gauss_legendre(per_panel, t, tw);
  NormalRule rule;
  for (int side : {-1, 1})
    for (std::size_t p = 0; p + 1 < edges.size(); ++p) {
      const double mid = 0.5 * (edges[p] + edges[p + 1]), half = 0.5 * (edges[p + 1] - edges[p]);
      for (int i = 0; i < per_panel; ++i) {
        const double x = side * (mid + half * t[i]);
        rule.x.push_back(x);
        rule.w.push_back(half * tw[i] * std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI));
      }
    }
  double total = 0.0;
  for (double w : rule.w) total += w;
  for (double& w : rule.w) w /= total;
  return rule;
}

/// Panel edges graded geometrically from 1/kMaxNorm up to `grade_to` (sigma(L g) turns within 1/L of
/// g = 0; the ratio 2 keeps sigma's nearest complex singularity, at i pi / (2 L) for tanh, a few panel
/// widths away from each panel), then uniform steps of `step` up to `end` (the Gaussian and, for the
/// coefficients, the oscillations of psi_j).
std::vector<double> graded_edges(double grade_to, double step, double end) {
  std::vector<double> edges = {0.0};
  for (double e = 1.0 / kMaxNorm; e < grade_to * (1 + 1e-12); e *= 2) edges.push_back(e);
  for (double e = grade_to + step; e < end + 1e-12; e += step) edges.push_back(e);
  return edges;
}

/// The rule of the coefficients c_j: psi_j (j < 112) oscillates with wavelength >= 0.42 within
/// |g| < 2 sqrt(j), and psi_j(g) phi(g) < e^(-g^2 / 4) makes |g| > 12.5 negligible (1e-17): panels of 1/2
/// with 12 nodes (degree 23) resolve it to ~1e-18.
const NormalRule& coefficient_rule() {
  static const NormalRule rule = composite_rule(graded_edges(0.5, 0.5, 12.5), 12);
  return rule;
}

/// The outer rule of the direct 2-D integral: the integrand is sigma(L11 x) times a Gaussian smoothing
/// of sigma, both turning at x = 0; unit panels with 10 nodes integrate the Gaussian to ~1e-17 up to 10.
const NormalRule& outer_rule() {
  static const NormalRule rule = composite_rule(graded_edges(1.0, 1.0, 10.0), 10);
  return rule;
}

/// w_n psi_j(x_n) [N, J] on the coefficient rule, in float64 on the CPU (the normalised recurrence
/// psi_{j+1} = (x psi_j - sqrt(j) psi_{j-1}) / sqrt(j + 1) stays in range).
const at::Tensor& weighted_hermite_matrix() {
  static const at::Tensor matrix = [] {
    const NormalRule& rule = coefficient_rule();
    const int64_t n = static_cast<int64_t>(rule.x.size());
    at::Tensor m = at::empty({n, kSeriesTerms}, at::TensorOptions().dtype(at::kDouble));
    auto acc = m.accessor<double, 2>();
    for (int64_t i = 0; i < n; ++i) {
      const double x = rule.x[static_cast<std::size_t>(i)];
      double prev = 0.0, cur = 1.0;
      for (int j = 0; j < kSeriesTerms; ++j) {
        acc[i][j] = rule.w[static_cast<std::size_t>(i)] * cur;
        const double next = (x * cur - std::sqrt(static_cast<double>(j)) * prev) / std::sqrt(j + 1.0);
        prev = cur;
        cur = next;
      }
    }
    return m;
  }();
  return matrix;
}

at::Tensor vector_tensor(const std::vector<double>& values, const at::TensorOptions& options) {
  at::Tensor t = at::empty({static_cast<int64_t>(values.size())}, at::TensorOptions().dtype(at::kDouble));
  std::copy(values.begin(), values.end(), t.data_ptr<double>());
  return t.to(options);
}

/// sqrt(s) with zero value and zero gradient where s <= tiny (a zero vector).
at::Tensor guarded_sqrt(const at::Tensor& s, double tiny) {
  const at::Tensor has = s > tiny;
  return at::where(has, at::sqrt(at::where(has, s, detail::scalar_like(s, 1.0))), detail::scalar_like(s, 0.0));
}

/// [rho^0, ..., rho^(J-1)] along a new last axis, by repeated doubling with products only (pow's
/// backward is NaN at rho = 0 for the zeroth power's second derivative).
at::Tensor powers(const at::Tensor& rho, int terms) {
  at::Tensor p = at::ones_like(rho).unsqueeze(-1);
  at::Tensor r = rho.unsqueeze(-1);  // rho^(2^k)
  while (p.size(-1) < terms) {
    p = at::cat({p, p * r}, -1);
    r = r * r;
  }
  return p.narrow(-1, 0, terms);
}

/// The 2-D integral for 1-D tensors saa, sbb, sab [M] (max(saa, sbb) positive; see the header).
at::Tensor direct_kernel(const Activation& act, const at::Tensor& saa, const at::Tensor& sbb, const at::Tensor& sab) {
  const auto options = saa.options().requires_grad(false);
  const double t = std::sqrt(detail::dtype_eps(saa.scalar_type()));
  const at::Tensor first = saa >= sbb;
  const at::Tensor s1 = at::where(first, saa, sbb), s2 = at::where(first, sbb, saa);
  const at::Tensor l11 = at::sqrt(s1);
  const at::Tensor l21 = sab / l11;
  const at::Tensor v = s2 - l21 * l21;
  const at::Tensor wide = v > t;
  const at::Tensor l22 = at::sqrt(at::where(wide, v, detail::scalar_like(v, t)));

  // Trapezoidal step: sigma(m + L22 y) is analytic for |Im y| < pi / (2 L22) (tanh's poles; sigmoid,
  // softplus and gelu have wider strips). The error 2 M exp(-2 pi d / h) with d = 0.8 pi / (2 L22) is
  // below 1e-17 for h = 0.18 / L22; for small L22 the Gaussian's own growth e^(d^2/2) caps d at 3.5 and
  // h at 0.45. |y| <= 9.5 keeps all but e^-45 of the mass.
  const double lmax = l22.detach().max().item<double>();
  const double h = std::min(0.45, 0.18 / std::max(lmax, 1e-300));
  const int k = static_cast<int>(std::ceil(9.5 / h));
  std::vector<double> ys, yw;
  double total = 0.0;
  for (int i = -k; i <= k; ++i) {
    ys.push_back(i * h);
    yw.push_back(std::exp(-0.5 * i * h * i * h));
    total += yw.back();
  }
  for (double& w : yw) w /= total;
  const at::Tensor y = vector_tensor(ys, options), wy = vector_tensor(yw, options);
  const NormalRule& rule = outer_rule();
  const at::Tensor x = vector_tensor(rule.x, options), wx = vector_tensor(rule.w, options);

  // Chunks of entries keep the [chunk, N, 2k+1] inner tensor near 2^22 elements.
  const int64_t m = saa.size(0), inner_size = x.size(0) * y.size(0);
  const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 22) / inner_size);
  std::vector<at::Tensor> parts;
  for (int64_t start = 0; start < m; start += chunk) {
    const int64_t len = std::min(chunk, m - start);
    const at::Tensor c11 = l11.narrow(0, start, len).unsqueeze(-1), c21 = l21.narrow(0, start, len).unsqueeze(-1);
    const at::Tensor c22 = l22.narrow(0, start, len), cv = v.narrow(0, start, len);
    const at::Tensor cwide = wide.narrow(0, start, len);
    const at::Tensor mm = c21 * x;                                                          // [len, N]
    const at::Tensor z2 = mm.unsqueeze(-1) + c22.unsqueeze(-1).unsqueeze(-1) * y;            // [len, N, 2k+1]
    const at::Tensor inner_wide = (act.value(z2) * wy).sum(-1);                              // [len, N]
    const at::Tensor inner_zero = act.value(mm);                                             // [len, N]
    // As in gauss_hermite_expectation: below v = t the chord in v (no sqrt of v, smooth through v = 0).
    const at::Tensor chord = inner_zero + (cv / t).unsqueeze(-1) * (inner_wide - inner_zero);
    const at::Tensor inner = at::where(cwide.unsqueeze(-1), inner_wide, chord);
    parts.push_back((act.value(c11 * x) * wx * inner).sum(-1));
  }
  return parts.size() == 1 ? parts.front() : at::cat(parts);
}

}  // namespace

at::Tensor hermite_coefficients(const Activation& act, const at::Tensor& s) {
  const auto options = s.options().requires_grad(false);
  const double tiny = std::sqrt(detail::dtype_min(s.scalar_type()));
  const at::Tensor x = vector_tensor(coefficient_rule().x, options);
  const at::Tensor values = act.value(guarded_sqrt(s, tiny).unsqueeze(-1) * x);  // [S..., N]
  return at::matmul(values, weighted_hermite_matrix().to(options));              // [S..., J]
}

at::Tensor series_or_direct_kernel(const Activation& act, const at::Tensor& saa, const at::Tensor& sbb,
                                   const at::Tensor& sab) {
  check(saa.scalar_type() == sbb.scalar_type() && saa.scalar_type() == sab.scalar_type(),
        "kernel: saa, sbb, sab must have the same dtype");
  const double tiny = std::sqrt(detail::dtype_min(saa.scalar_type()));
  const auto shape = at::infer_size(at::infer_size(saa.sizes(), sbb.sizes()), sab.sizes());
  // The series. The coefficients are computed on saa and sbb as given ([R,k,1] and [R,1,k] in the
  // population loss: once per row), then broadcast.
  const at::Tensor both = (saa > tiny) & (sbb > tiny);
  const at::Tensor norm2 = at::where(both, saa * sbb, detail::scalar_like(saa, 1.0));
  const at::Tensor rho = at::where(both, sab / at::sqrt(norm2), detail::scalar_like(saa, 0.0));
  const at::Tensor series =
      (hermite_coefficients(act, saa) * hermite_coefficients(act, sbb) * powers(rho, kSeriesTerms)).sum(-1);
  // The direct rule also takes a vector much shorter than the other (one zero vector included): the
  // series' rho^j c_j(saa) with c_j ~ saa^(j/2) has derivatives in saa and rho that cancel like 1/sqrt(saa),
  // while the Cholesky form (larger variance first) has dK/dsab = E[sigma(z1) sigma'(z2)] ... directly.
  const at::Tensor lopsided = (at::maximum(saa, sbb) > tiny) & (at::minimum(saa, sbb) <= 1e-6 * at::maximum(saa, sbb));
  const at::Tensor direct = (both & (rho.abs() > kSeriesCorrelation)) | lopsided;
  const at::Tensor flat_direct = direct.expand(shape).reshape({-1});
  const at::Tensor index = flat_direct.nonzero().squeeze(-1);
  if (index.numel() == 0) return series.expand(shape);
  auto pick = [&](const at::Tensor& t) { return t.expand(shape).reshape({-1}).index_select(0, index); };
  const at::Tensor values = direct_kernel(act, pick(saa), pick(sbb), pick(sab));
  return at::index_copy(series.expand(shape).reshape({-1}), 0, index, values).reshape(shape);
}

}  // namespace lrlab::models
