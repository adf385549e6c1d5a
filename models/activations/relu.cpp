#include "models/activations/relu.h"

#include <cmath>
#include <vector>

#include "framework/config.h"
#include "models/activations/common.h"

namespace lrlab::models {

namespace {

void validate(const ReluOptions& o, const Config* cfg) {
  const std::string problem = detail::quadrature_nodes_problem(o.quadrature_nodes);
  if (!problem.empty()) detail::option_fail(cfg, "relu", "quadrature_nodes", problem);
}

}  // namespace

ReluOptions ReluOptions::from_config(const Config& cfg) {
  ReluOptions o;
  o.quadrature_nodes = detail::read_quadrature_nodes(cfg);
  cfg.finish();
  validate(o, &cfg);
  return o;
}

Relu::Relu(const ReluOptions& options) {
  validate(options, nullptr);
  quadrature_nodes_ = options.quadrature_nodes;
}

Relu::Relu(const Config& cfg) : Relu(ReluOptions::from_config(cfg)) {}

at::Tensor Relu::value(const at::Tensor& z) const { return at::relu(z); }

at::Tensor Relu::derivative(const at::Tensor& z) const { return (z > 0).to(z.scalar_type()); }

namespace {

// Below this value of u = 1 - c^2 (|c| > 0.995) the series branch is used.
constexpr double kSeriesBelow = 0.01;
// Terms of the series of g(u) / u^{3/2}: truncation error < 0.01^9 relative at the switch point.
constexpr int kSeriesTerms = 9;

}  // namespace

// Arc-cosine kernel (Cho & Saul 2009), MATH.md:
//   K = |a||b| J(c) / (2 pi),  c = cos t = sab / sqrt(saa sbb),  J(c) = sin t + (pi - t) cos t.
// J'(c) = pi - t is bounded, but the naive autograd of sqrt(1 - c^2) + (pi - acos c) c computes it as
// -c / sqrt(1 - c^2) + c / sqrt(1 - c^2) + (pi - t): two infinities at parallel / anti-parallel vectors.
// J has a genuine (1 - |c|)^{3/2} singularity there, so we evaluate:
// - |c| <= sqrt(1 - 0.01) (u = 1 - c^2 >= 0.01): the direct formula; the cancelling terms are at most
//   |c| / sqrt(u) <= 10, so the gradient loses at most one digit;
// - u < 0.01: J(c) = pi max(c, 0) + g(u), where with tau = asin(sqrt u) (the angle to the nearer of
//   +-a, so that t = tau for c > 0 and t = pi - tau for c < 0):
//     g = sin tau - tau cos tau = sqrt(u) - asin(sqrt u) sqrt(1 - u).
//   With y = sqrt u, g'(y) = y asin(y) / sqrt(1 - y^2) = sum_k c_k y^{2k+2}, c_k = 4^k (k!)^2 / (2k+1)!,
//   so g(u) = u^{3/2} sum_k c_k u^k / (2k + 3) (c_0 = 1, c_{k+1} = c_k 2(k+1) / (2k+3)).
//   at::pow(u, 1.5) has the exact derivative 1.5 u^{1/2}, which is 0 (not NaN) at u = 0.
// - c is clamped into [-1, 1] with a straight-through clamp (the value is clamped; the gradient is the
//   identity), so rounding that makes |c| slightly above 1 for parallel vectors keeps dK/dsab = 1/2
//   (Price: E[1{z1 > 0} 1{z2 > 0}] = (pi - t) / (2 pi)).
// - saa sbb <= sqrt(DBL_MIN) (a zero vector): K = 0 exactly with a zero gradient (K is not differentiable
//   at a zero vector; near it the vector gradients stay bounded because K is 1-homogeneous in each).
// Every sqrt / acos / division is taken of a `where`-guarded argument so that no inf reaches backward.
at::Tensor Relu::kernel(const at::Tensor& saa, const at::Tensor& sbb, const at::Tensor& sab) const {
  const double tiny = std::sqrt(detail::dtype_min(saa.scalar_type()));
  const at::Tensor zero = detail::scalar_like(saa, 0.0);
  const at::Tensor one = detail::scalar_like(saa, 1.0);

  const at::Tensor prod = saa * sbb;
  const at::Tensor nonzero = prod > tiny;
  const at::Tensor norms = at::sqrt(at::where(nonzero, prod, one));  // |a||b| (1 where a zero vector)
  at::Tensor c = at::where(nonzero, sab / norms, zero);
  c = c - (c - c.clamp(-1.0, 1.0)).detach();  // straight-through clamp into [-1, 1]
  const at::Tensor abs_c = c.abs();
  const at::Tensor u = (1.0 - abs_c) * (1.0 + abs_c);  // sin^2 t in [0, 1]; 1 - |c| is exact near |c| = 1

  const at::Tensor direct = u >= kSeriesBelow;
  const at::Tensor c_direct = at::where(direct, c, zero);
  const at::Tensor j_direct = at::sqrt(1.0 - c_direct * c_direct) + (M_PI - at::acos(c_direct)) * c_direct;

  std::vector<double> e(kSeriesTerms);  // e_k = c_k / (2k + 3)
  double ck = 1.0;
  for (int k = 0; k < kSeriesTerms; ++k) {
    e[k] = ck / (2.0 * k + 3.0);
    ck *= 2.0 * (k + 1) / (2.0 * k + 3.0);
  }
  const at::Tensor u_series = at::where(direct, zero, u);
  at::Tensor series = at::full_like(u_series, e[kSeriesTerms - 1]);
  for (int k = kSeriesTerms - 2; k >= 0; --k) series = series * u_series + e[k];  // Horner
  const at::Tensor j_series = M_PI * at::relu(c) + at::pow(u_series, 1.5) * series;

  const at::Tensor j = at::where(direct, j_direct, j_series);
  return at::where(nonzero, norms * j, zero) * (0.5 / M_PI);
}

// Branch-free (the signs of h are random, so a branch mispredicts half the time) and vectorisable;
// NaN stays NaN in v as in at::relu (a divergence shows in the loss), and sigma'(NaN) = 0.
void Relu::cpu_values(const double* z, double* v, double* dv, int64_t n) const {
  if (dv != nullptr)
    for (int64_t i = 0; i < n; ++i) dv[i] = z[i] > 0 ? 1.0 : 0.0;  // before v: v may alias z
  for (int64_t i = 0; i < n; ++i) v[i] = z[i] <= 0 ? 0.0 : z[i];
}

std::optional<fused::ActivationDesc> Relu::cuda_descriptor(std::string*) const {
  fused::ActivationDesc desc;
  desc.kind = fused::ActivationKind::kRelu;
  return desc;
}

}  // namespace lrlab::models
