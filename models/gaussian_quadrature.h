#pragma once
/// Gaussian expectations of pairs of activations, E[g(z1, z2)] for (z1, z2) ~ N(0, 2x2 covariance), with
/// an error estimate: the adaptive quadrature behind every kernel without a closed form (MATH.md,
/// "Population loss"), and the squared difference E[(sigma(<a,x>) - sigma(<b,x>))^2] computed from the
/// difference vector, which stays relatively accurate when a and b nearly coincide (the population loss
/// near convergence). `gauss_hermite_expectation` (models/activation.h) is the fixed-node rule.

#include <ATen/ATen.h>

namespace lrlab::models {

class Activation;

/// An adaptive estimate: value and error estimate with the shape of the broadcast inputs, and the finest
/// refinement level any entry needed.
struct GaussianEstimate {
  at::Tensor value;  ///< the estimate [S]
  at::Tensor error;  ///< |estimate at the accepted level - estimate one level coarser| [S] (no grad)
  int max_level = 0;  ///< finest level used (see trapezoid_step); kMaxTrapezoidLevel when some entry did not converge
  bool converged = true;  ///< false when some entry reached kMaxTrapezoidLevel without meeting the tolerance
};

/// Finest refinement level of the adaptive rule (step 0.6 / 1.5^11 = 0.0069, 2895 nodes per axis).
constexpr int kMaxTrapezoidLevel = 11;

/// Step of the trapezoid rule at `level`: h = 0.6 / 1.5^level (nodes k h, |k h| <= 10).
double trapezoid_step(int level);

/// K(a, b) = E[sigma(z1) sigma(z2)], (z1, z2) ~ N(0, [[saa, sab], [sab, sbb]]), by the adaptive product
/// trapezoid rule: each entry is refined until two successive levels agree within
/// max(1e-11, 100 eps(dtype)) * sqrt(E[sigma(z1)^2] E[sigma(z2)^2]) (the error of the accepted, finer level
/// is then far smaller: the rule converges geometrically). Broadcasting like Activation::kernel; autograd
/// flows through the accepted level (the choice of level is not differentiated).
GaussianEstimate adaptive_kernel(const Activation& act, const at::Tensor& saa, const at::Tensor& sbb,
                                 const at::Tensor& sab);

/// The same product rule at one fixed `level` (0..kMaxTrapezoidLevel + 2): a reference for tests.
at::Tensor trapezoid_kernel(const Activation& act, const at::Tensor& saa, const at::Tensor& sbb,
                            const at::Tensor& sab, int level);

/// E[(sigma(<a,x>) - sigma(<b,x>))^2], x ~ N(0, I), for rows a, b [..., d] -> [...], integrated over the
/// joint Gaussian of (<a,x>, <b - a, x>) whose covariance is taken from the vectors themselves
/// (|b - a|^2 directly, not |a|^2 + |b|^2 - 2<a,b>), so the result keeps its relative accuracy as a and b
/// approach each other, down to the rounding of sigma(z1) - sigma(z2) itself (relative error about
/// eps |a| / |b - a|: 1e-8 at |b - a| = 1e-8 |a|); refined until two levels agree within
/// max(1e-11, 100 eps(dtype)) relative, or within that rounding noise. Differentiable in a and b.
GaussianEstimate squared_difference_expectation(const Activation& act, const at::Tensor& a, const at::Tensor& b);

}  // namespace lrlab::models
