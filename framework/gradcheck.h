#pragma once
/// Gradient checking in the style of Caffe's GradientChecker and mlpack's checkers: a hand-derived
/// gradient is compared with autograd and with central finite differences of the loss, in float64,
/// one scale-free number per tensor, with the worst element named.
///
/// The checker knows nothing about models. It receives, per tensor, the current value [R, ...]
/// (R replicas with independent losses), the hand-derived and the autograd gradient, and a probe that
/// evaluates the per-replica loss [R] at the current values (and, for activations with kinks such as
/// ReLU, the distance of the nearest kink). Finite differences perturb element j of every replica at
/// once (the replicas' losses are independent), so their cost does not grow with R.
/// apps/gradcheck_command.h binds it to a models::Model (`lrlab gradcheck`).

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lrlab {

/// Options of a gradient check.
struct GradcheckOptions {
  double step = 1e-6;           ///< central-difference step h, scaled per element by max(1, |theta_j|)
  double kink = 0.0;            ///< kink window: skip an element if the probe's kink distance at theta +- h
                                ///< is below this (0: smooth, never skip)
  int64_t max_elements = 2000;  ///< per replica and tensor: every element when it has at most this many,
                                ///< else a random subset of this many
  uint64_t seed = 0;            ///< seed of the random subset
};

/// The loss at the current values of the checked tensors.
struct LossProbe {
  at::Tensor loss;           ///< per-replica loss [R] (float64)
  at::Tensor kink_distance;  ///< per-replica distance to the nearest kink [R]; undefined when smooth
};

/// Evaluates the loss (and kink distance) at the current values; must not change them.
using LossFunction = std::function<LossProbe()>;

/// The outcome of comparing a gradient `a` with a reference `b` (same shape).
struct GradientComparison {
  double max_abs_error = 0.0;        ///< max |a - b| over the compared elements
  double relative_error = 0.0;       ///< ||a - b|| / max(||a|| + ||b||, tiny) (0 when both vanish)
  std::vector<int64_t> worst_index;  ///< index of the element with the largest |a - b| (replica first)
  double worst_a = 0.0;              ///< a at worst_index
  double worst_b = 0.0;              ///< b at worst_index
  int64_t compared = 0;              ///< elements compared
  int64_t skipped = 0;               ///< elements not compared (kink window or not sampled)
};

/// Compares `a` with `b` over the elements where the bool tensor `mask` holds (undefined: all).
/// Non-finite differences count as infinitely wrong.
GradientComparison compare_gradients(const at::Tensor& a, const at::Tensor& b, const at::Tensor& mask = {});

/// A finite-difference gradient and where it was measured.
struct FiniteDifference {
  at::Tensor gradient;  ///< (L(theta + h e_j) - L(theta - h e_j)) / 2h, same shape as the value [R, ...]
  at::Tensor checked;   ///< bool [R, ...]: false where skipped (kink window) or not sampled
};

/// Central finite differences of `loss` with respect to `value` [R, ...] (contiguous, float64),
/// perturbed in place and restored bit for bit.
FiniteDifference finite_difference_gradient(at::Tensor value, const LossFunction& loss,
                                            const GradcheckOptions& options);

/// One tensor to check.
struct GradcheckInput {
  std::string name;    ///< shown in the report
  at::Tensor value;    ///< [R, ...], contiguous float64; perturbed in place and restored
  at::Tensor analytic; ///< the hand-derived gradient, same shape
  at::Tensor autograd; ///< the autograd gradient, same shape
};

/// Both comparisons for one tensor.
struct TensorGradcheck {
  std::string name;                       ///< the tensor
  GradientComparison autograd;            ///< analytic vs autograd (every element)
  GradientComparison finite_difference;   ///< analytic vs central finite differences (checked elements)
};

/// The report of a gradient check.
struct GradcheckReport {
  std::vector<TensorGradcheck> tensors;  ///< one entry per checked tensor, in input order

  /// One line per comparison beyond tolerance (relative error), naming the tensor; empty when all pass.
  std::vector<std::string> failures(double autograd_tolerance, double fd_tolerance) const;
  /// The table: tensor, comparison, max abs error, relative error, worst element (analytic vs other),
  /// compared / skipped elements, and ok / FAIL against the tolerances.
  std::string table(double autograd_tolerance, double fd_tolerance) const;
  /// The largest relative error of one kind ("autograd" or "finite_difference") over every tensor.
  double worst_relative_error(const std::string& comparison) const;
};

/// Compares every input's analytic gradient with its autograd gradient and with central finite
/// differences of `loss`.
GradcheckReport gradient_check(const std::vector<GradcheckInput>& inputs, const LossFunction& loss,
                               const GradcheckOptions& options);

}  // namespace lrlab
