#pragma once
/// The exact population loss of a student-teacher pair (MATH.md, "Population loss") and its gradient.
///
/// With student rows q_i (of the adapter's effective first layer Q [R, k, d]), teacher rows p_j (of
/// W* [R, k, d]), the shared frozen second layer lam [R, k] and K(a, b) = E_x[sigma(<a,x>) sigma(<b,x>)],
///   L = 1/2 [ sum_ij lam_i lam_j K(q_i,q_j) - 2 sum_ij lam_i lam_j K(q_i,p_j) + sum_ij lam_i lam_j K(p_i,p_j) ]
///       + tau^2 / 2                                                                             [R]
/// (the teacher carries the label noise tau, so L is the expected training loss of a fresh sample).
/// Cost: the Gram matrices Q Q^T, Q P^T, P P^T are bmm's of O(k^2 d), then O(k^2) kernel evaluations on
/// [R, k, k] tensors (closed forms, or series_or_direct_kernel of models/gaussian_kernel.h for the others).
///
/// Precision: every quantity here is evaluated in float64 whatever the model dtype (the terms are O(1)
/// and cancel to O(||Delta - Delta*||^2) near the teacher); gradients are cast back to the model dtype.
/// Accuracy guarantee (issue 12, tested for every registered activation at xi* up to 10 and near
/// convergence): L is within 1e-8 relative or 1e-14 absolute of the exact value for row norms up to 64;
/// the excess L - tau^2/2, a squared error, is clamped at 0 (rounding leaves ~-1e-18 at the teacher).
///
/// Students: every adapter whose student is lam^T sigma(Q x) with Q = Adapter::effective_weight()
/// (rank1, lora, full, scratch, dora, vera, ...) goes through the formula above. The `linearized`
/// adapter's student f_lin(x) = f_W(x) + sum_i lam_i sigma'(<w_i,x>) <D_i,x> (D = Q - W) has a dedicated
/// exact path (LinearizedPopulation below).

#include <ATen/ATen.h>

#include <memory>
#include <string>

#include "models/activation.h"
#include "models/metrics.h"
#include "models/register.h"

namespace lrlab::models {

/// The kernel matrix K(a_i, b_j): a [R, k, d], b [R, m, d] -> [R, k, m] (same dtype as a, b).
at::Tensor kernel_matrix(const Activation& act, const at::Tensor& a, const at::Tensor& b);

/// L [R] for student rows q [R, k, d], teacher rows p [R, k, d], lam [R, k], tau [R], in the dtype of
/// the inputs (differentiable by autograd through the kernels in q).
at::Tensor population_loss(const Activation& act, const at::Tensor& lam, const at::Tensor& q, const at::Tensor& p,
                           const at::Tensor& tau);

/// L [R] and its hand-assembled gradient with respect to the student rows.
struct RowGradient {
  at::Tensor loss;  ///< L [R] (float64)
  at::Tensor grad;  ///< dL/dQ [R, k, d] (float64)
};

/// L and dL/dQ for q [R, k, d], p [R, k, d], lam [R, k], tau [R], computed in float64. The chain rule
/// from the Gram entries to the rows is hand-derived (see population.cpp); the partial derivatives of
/// the scalar kernel K(saa, sbb, sab) come from autograd on the [R, k, k] kernel evaluations.
RowGradient population_loss_row_gradient(const Activation& act, const at::Tensor& lam, const at::Tensor& q,
                                         const at::Tensor& p, const at::Tensor& tau);

/// The exact population loss of the linearized student, a quadratic form in D = Q - W [R, k, d] whose
/// coefficients (kernel values and first and second partial derivatives at the frozen base rows w_i and
/// teacher rows p_j) are computed once, in float64. Derivation in population.cpp (Gaussian integration
/// by parts: every term is a derivative of K along D, except the i = j second-order term, which is a
/// 1-D expectation taken by Gauss-Hermite quadrature; exact for ReLU with its even node count).
/// Needs non-zero, pairwise non-parallel base rows (else the constructor throws lrlab::Error).
class LinearizedPopulation {
 public:
  /// w = W [R, k, d], p = W* [R, k, d], lam [R, k], tau [R] (any floating dtype; stored in float64).
  LinearizedPopulation(const Activation& act, const at::Tensor& lam, const at::Tensor& w, const at::Tensor& p,
                       const at::Tensor& tau);
  /// L [R] (float64) for D [R, k, d]; differentiable by autograd in D (a polynomial of degree 2).
  at::Tensor loss(const at::Tensor& delta) const;

 private:
  at::Tensor w_, p_, ll_, lam2_, const_;          // W, W*, lam_i lam_j, lam_i^2, D-independent part of L
  at::Tensor ka_, kb_, kc_;                       // first partials of K(w_i, w_j) [R,k,k]
  at::Tensor kab_, kac_, kbc_, kcc_;              // second partials, zero on the diagonal
  at::Tensor kco_;                                // K_c with a zero diagonal
  at::Tensor pa_, pc_;                            // first partials of K(w_i, p_j) in saa and sab
  at::Tensor s_, q0_, q2_;                        // |w_i|^2, E[sigma'(z)^2], E[sigma'(z)^2 z^2 / s] [R,k]
  at::Tensor tau_;                                // tau [R] (float64)
};

/// Why the population loss of `model` is unavailable ("" when it is available): only a linearized
/// adapter on zero or parallel base rows has none.
std::string population_loss_unavailable_reason(const Model& model);
/// True when population_loss_unavailable_reason is empty.
bool has_population_loss(const Model& model);

/// Which path population gradients take.
enum class PopulationGradPath {
  kAnalytic,  ///< hand-derived dL/dQ, then the adapter's chain rule (see PopulationObjective::gradients)
  kAutograd,  ///< autograd through the kernels and the adapter's effective_weight()
};

/// The population loss of one model, with what does not depend on the adapter precomputed (the
/// teacher-teacher kernel matrix K(p_i, p_j); the linearized student's coefficients). Valid while the
/// base network and the teacher are unchanged (they are frozen).
class PopulationObjective {
 public:
  /// Precomputes for `model`; throws lrlab::Error when !has_population_loss(model).
  explicit PopulationObjective(const Model& model);
  /// L [R] (float64, on the model's device); differentiable in the adapter's parameters when they
  /// require grad.
  at::Tensor loss(const Model& model) const;
  /// Fills Parameter::grad (model dtype) of every adapter parameter with dL/dtheta and returns L [R]
  /// (float64). kAnalytic: dL/dQ by population_loss_row_gradient; for `full` dL/dDelta = dL/dQ and for
  /// `scratch` dL/dTheta = dL/dQ (hand-derived throughout, but for the kernel's scalar partials);
  /// for every other adapter (dQ/dtheta)^T dL/dQ is one autograd vector-Jacobian product through
  /// effective_weight() (a cheap map, no kernel). kAutograd: one autograd pass through everything.
  /// The linearized student takes autograd through its quadratic form on both paths.
  at::Tensor gradients(Model& model, PopulationGradPath path) const;

 private:
  bool linearized_;
  at::Tensor p_, lam_, tau_, kpp_;  // W*, lam, tau, K(p_i, p_j) [R,k,k] (float64)
  std::shared_ptr<LinearizedPopulation> linear_;
};

/// The population loss of `model` [R] (float64; builds a PopulationObjective).
at::Tensor population_loss(const Model& model);
/// PopulationObjective(model).gradients(model, path).
at::Tensor population_gradients(Model& model, PopulationGradPath path);

/// The `population_loss` metric: L per replica (float64, CPU). Returns nullptr (and prints why on
/// stderr) when the model has no population loss, so a metric set simply skips it.
std::shared_ptr<Metric> make_population_loss_metric(const Model& model, const MetricsOptions& options);

}  // namespace lrlab::models
