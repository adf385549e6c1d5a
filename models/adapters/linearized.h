#pragma once
/// `linearized`: the first-order Taylor model of the student around the base network (the lazy /
/// kernel baseline of MATH.md), for any inner adapter (`adapter.inner: {type: lora, ...}`):
///   f_lin(x) = f_W(x) + sum_i lam_i sigma'(<w_i, x>) (Delta x)_i,   Delta x = h_inner - W x,
/// where h_inner = (W + Delta) x are the inner adapter's pre-activations. f_lin is linear in Delta
/// (not in the inner adapter's parameters: s B A stays bilinear).
///
/// Gradient with df = dl/df [R, B]: the output is linear in Delta x with fixed weights, so
///   dl/d(Delta x) = dl/dh_inner = df lam (.) sigma'(W x)      [R, B, k]
/// and the inner adapter's backward_preactivations carries it to its parameters.

#include <memory>

#include "models/adapters/adapter.h"

namespace lrlab::models {

/// The registered `linearized` adapter (its only option is the inner adapter's section `inner`).
class Linearized : public Adapter {
 public:
  /// Wraps `inner`, built from the same inputs `in` (same base network).
  Linearized(std::shared_ptr<Adapter> inner, const AdapterInputs& in);
  std::string type() const override { return "linearized"; }
  /// The inner adapter's parameters.
  std::vector<Parameter*> parameters() override { return inner_->parameters(); }
  /// The inner adapter's buffers.
  std::vector<Parameter*> buffers() override { return inner_->buffers(); }
  /// The inner adapter's pre-activations (W + Delta) x [R, B, k] (used by kink probes; the
  /// linearized output does not apply sigma to them).
  at::Tensor preactivations(const at::Tensor& x, const at::Tensor& wx) override;
  /// The inner adapter's backward from g = dl/dh_inner [R, B, k].
  void backward_preactivations(const at::Tensor& x, const at::Tensor& wx, const at::Tensor& g) override;
  /// f_lin(x) [R, B] from x [R, B, d], wx = W x [R, B, k].
  at::Tensor forward(const at::Tensor& x, const at::Tensor& wx) override;
  /// Gradients from df = dl/df [R, B]: g = df lam (.) sigma'(W x), then the inner backward.
  void backward(const at::Tensor& x, const at::Tensor& wx, const at::Tensor& df) override;
  at::Tensor delta() const override { return inner_->delta(); }
  at::Tensor effective_weight() const override { return inner_->effective_weight(); }
  at::Tensor row_space(int64_t r) const override { return inner_->row_space(r); }
  void after_update() override { inner_->after_update(); }
  /// The inner adapter's CPU kernel with the linearised output (linearized_kernel.cpp).
  std::unique_ptr<AdapterKernelBase> cpu_kernel(at::ScalarType dtype, std::string* why) override;
  /// The wrapped adapter.
  Adapter& inner() { return *inner_; }

 private:
  std::shared_ptr<Adapter> inner_;
  at::Tensor slope_;  // sigma'(W x) [R, B, k] of the last forward
};

}  // namespace lrlab::models
