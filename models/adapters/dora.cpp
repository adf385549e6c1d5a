#include "models/adapters/dora.h"

#include <cmath>

#include "framework/config.h"
#include "framework/context.h"
#include "framework/error.h"
#include "models/adapters/lora.h"

namespace lrlab::models {

DoraOptions DoraOptions::from_config(const Config& cfg, int64_t d, int64_t k) {
  DoraOptions o;
  read_factor_options(cfg, d, k, o.rank, o.alpha, o.scaling, o.init_a, &o.lr_ratio);
  return o;
}

Dora::Dora(const DoraOptions& options, const AdapterInputs& in)
    : Adapter(in.base), options_(options) {
  const int64_t d = base_->d(), k = base_->k(), r = options.rank;
  w2_ = base_->weight().pow(2).sum(2);  // [R, k]
  if (w2_.min().item<double>() <= 0)
    throw Error("dora: the base network has a zero row, whose direction is undefined "
                "(dora needs a non-zero base; zero_base: true is not supported)");
  // m = ||W_i||, computed exactly as the forward pass computes n at B = 0, so that W' = W at init.
  m_.value = at::sqrt(w2_);
  a_.value = stack_replicas(in.ctx, Stream::kAdapter,
                            [&](at::Generator& gen) { return draw_lora_a(options.init_a, r, d, gen); });
  b_.value = at::zeros({in.ctx.replicas(), k, r}, in.ctx.options());
  b_.lr_scale = options.lr_ratio;
  scale_ = per_replica(in.ctx, lora_scales(options.alpha, in.ctx.replicas(), r, options.scaling));
}

at::Tensor Dora::preactivations(const at::Tensor& x, const at::Tensor& wx) {
  const at::Tensor s = scale_.view({-1, 1, 1});
  const at::Tensor& a = a_.value;
  const at::Tensor& b = b_.value;
  ax_ = at::bmm(x, a.transpose(1, 2));                   // A x: [R,B,d] x [R,d,r] -> [R,B,r]
  p_ = wx + s * at::bmm(ax_, b.transpose(1, 2));         // V x: [R,B,r] x [R,r,k] -> [R,B,k]
  wa_ = at::bmm(base_->weight(), a.transpose(1, 2));     // W A^T: [R,k,d] x [R,d,r] -> [R,k,r]
  aa_ = at::bmm(a, a.transpose(1, 2));                   // A A^T: [R,r,r]
  const at::Tensor s2 = scale_.view({-1, 1});
  const at::Tensor cross = (b * wa_).sum(2);             // <W_i, (B A)_i> [R, k]
  const at::Tensor ba2 = (at::bmm(b, aa_) * b).sum(2);   // ||(B A)_i||^2 [R, k]
  const at::Tensor n2 = w2_ + 2 * s2 * cross + s2 * s2 * ba2;
  n_ = at::sqrt(n2.clamp_min(1e-30));  // ||V_i|| [R, k] (clamped: rounding may cancel n2 to <= 0)
  return (m_.value / n_).unsqueeze(1) * p_;
}

void Dora::backward_preactivations(const at::Tensor& x, const at::Tensor&, const at::Tensor& g) {
  const at::Tensor s = scale_.view({-1, 1, 1});
  const at::Tensor& a = a_.value;
  const at::Tensor& b = b_.value;
  const at::Tensor gp = (g * p_).sum(1);                  // sum_b g_bi p_bi [R, k]
  m_.grad = gp / n_;                                      // [R, k]
  const at::Tensor gs = g * (m_.value / n_).unsqueeze(1);  // G~ [R, B, k]
  const at::Tensor c = m_.value * gp / n_.pow(3);          // [R, k]
  // dl/dB = s [G~^T (A x) - diag(c) (W A^T + s B A A^T)]: [R,k,B] x [R,B,r] -> [R,k,r]
  b_.grad = s * (at::bmm(gs.transpose(1, 2), ax_) - c.unsqueeze(2) * (wa_ + s * at::bmm(b, aa_)));
  // dl/dA = s [(G~ B)^T x - (c.B)^T W - s ((c.B)^T B) A]: [R,r,B] x [R,B,d], [R,r,k] x [R,k,d] -> [R,r,d]
  const at::Tensor cb_t = (c.unsqueeze(2) * b).transpose(1, 2);  // (c . B)^T [R, r, k]
  a_.grad = s * (at::bmm(at::bmm(gs, b).transpose(1, 2), x) - at::bmm(cb_t, base_->weight()) -
                 s * at::bmm(at::bmm(cb_t, b), a));
}

at::Tensor Dora::effective_weight() const {
  const at::Tensor v = base_->weight() + scale_.view({-1, 1, 1}) * at::bmm(b_.value, a_.value);  // [R, k, d]
  return (m_.value / v.norm(2, {2})).unsqueeze(2) * v;
}

at::Tensor Dora::delta() const { return effective_weight() - base_->weight(); }

}  // namespace lrlab::models
