#pragma once
/// The population kernel K(a, b) = E[sigma(<a,x>) sigma(<b,x>)] of an activation without a closed form,
/// to near machine precision at every geometry (issue 12; MATH.md "Population loss", docs/math.md).
///
/// With saa = |a|^2, sbb = |b|^2, sab = <a, b> and rho = sab / sqrt(saa sbb):
/// - |rho| <= kSeriesCorrelation: the Hermite (Mehler) series
///     K = sum_j c_j(saa) c_j(sbb) rho^j,   c_j(s) = E[sigma(sqrt(s) g) psi_j(g)],  g ~ N(0, 1),
///   psi_j = He_j / sqrt(j!), truncated after kSeriesTerms terms (the tail is below
///   kSeriesCorrelation^kSeriesTerms sqrt(E sigma(z1)^2 E sigma(z2)^2) by Cauchy-Schwarz, < 1e-17 of it).
///   The coefficients are 1-D integrals per row norm (a composite Gauss-Legendre rule graded towards
///   g = 0, where sigma(sqrt(s) g) turns, and fine enough for the oscillations of psi_j), so the cost is
///   one matrix product per distinct norm plus kSeriesTerms multiply-adds per kernel entry.
/// - |rho| > kSeriesCorrelation (nearly parallel rows: every diagonal term of the population loss near
///   convergence), or one norm below 1e-3 of the other (a zero vector: there the series' gradient is a
///   difference of 1/|a| terms): the 2-D integral in Cholesky form, larger variance first,
///     K = E_x[sigma(L11 x) F(L21 x)],  F(m) = E_y[sigma(m + L22 y)],
///   the outer integral by the graded rule (sigma's turn is at x = 0 for every geometry), the inner one
///   by the trapezoidal rule in y, whose error exp(-2 pi d / h) does not depend on where sigma turns
///   (d ~ pi / (2 L22) is the half-width of the strip where sigma(m + L22 y) is analytic); the step h is
///   chosen per call from the largest L22 among these entries.
/// Accuracy (tested against an independent fine 2-D rule and Monte-Carlo for every registered activation
/// without a closed form, norms up to 10): within about 1e-15 of the kernel's scale
/// sqrt(E sigma(z1)^2 E sigma(z2)^2), for norms |a|, |b| up to kMaxNorm (the finest graded panel); the
/// population loss, a combination of such kernels, is then exact to about 1e-14 absolute.
/// Differentiable by autograd to any order (every branch is built of ATen ops, the nodes are constants,
/// the powers rho^j are products, and the sqrt / division arguments are guarded as in
/// gauss_hermite_expectation), on any device and floating dtype (the rules are built in float64).

#include <ATen/ATen.h>

namespace lrlab::models {

class Activation;

/// |rho| up to which the Hermite series is used.
constexpr double kSeriesCorrelation = 0.7;
/// Terms of the Hermite series (0.7^112 < 5e-18).
constexpr int kSeriesTerms = 112;
/// Largest row norm for which the graded rules resolve sigma's turn to the stated accuracy.
constexpr double kMaxNorm = 64.0;

/// K(saa, sbb, sab) for broadcasting tensors of equal dtype and device (shape: their broadcast shape).
at::Tensor series_or_direct_kernel(const Activation& act, const at::Tensor& saa, const at::Tensor& sbb,
                                   const at::Tensor& sab);

/// The Hermite coefficients c_j(s), j < kSeriesTerms, of sigma at variance s: s [S...] -> [S..., J].
at::Tensor hermite_coefficients(const Activation& act, const at::Tensor& s);

}  // namespace lrlab::models
