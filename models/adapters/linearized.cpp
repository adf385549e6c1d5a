#include "models/adapters/linearized.h"

#include "framework/error.h"

namespace lrlab::models {

Linearized::Linearized(std::shared_ptr<Adapter> inner, const AdapterInputs& in)
    : Adapter(in.base), inner_(std::move(inner)) {
  check(inner_ != nullptr && &inner_->base() == base_.get(), "linearized: the inner adapter must share the base network");
}

at::Tensor Linearized::preactivations(const at::Tensor& x, const at::Tensor& wx) {
  return inner_->preactivations(x, wx);
}

void Linearized::backward_preactivations(const at::Tensor& x, const at::Tensor& wx, const at::Tensor& g) {
  inner_->backward_preactivations(x, wx, g);
}

at::Tensor Linearized::forward(const at::Tensor& x, const at::Tensor& wx) {
  const at::Tensor h = inner_->preactivations(x, wx);  // (W + Delta) x [R, B, k]
  slope_ = base_->activation().derivative(wx);         // sigma'(W x) [R, B, k]
  // f_W(x) + sum_i lam_i sigma'(w_i x) (Delta x)_i: [R,B,k] x [R,k,1] -> [R,B]
  return base_->output(wx) + at::bmm((h - wx) * slope_, base_->lam().unsqueeze(2)).squeeze(2);
}

void Linearized::backward(const at::Tensor& x, const at::Tensor& wx, const at::Tensor& df) {
  // dl/dh_inner = df lam (.) sigma'(W x): [R,B,1] * [R,1,k] * [R,B,k] -> [R,B,k]
  inner_->backward_preactivations(x, wx, df.unsqueeze(2) * base_->lam().unsqueeze(1) * slope_);
}

}  // namespace lrlab::models
