#include "models/adapters/lora_fa.h"

#include "framework/config.h"
#include "framework/context.h"
#include "models/adapters/lora.h"

namespace lrlab::models {

LoraFaOptions LoraFaOptions::from_config(const Config& cfg, int64_t d, int64_t k) {
  LoraFaOptions o;
  read_factor_options(cfg, d, k, o.rank, o.alpha, o.scaling, o.init_a, /*lr_ratio=*/nullptr);
  return o;
}

LoraFa::LoraFa(const LoraFaOptions& options, const AdapterInputs& in) : Adapter(in.base), options_(options) {
  const int64_t d = base_->d(), k = base_->k(), r = options.rank;
  a_.value = stack_replicas(in.ctx, Stream::kAdapter,
                            [&](at::Generator& gen) { return draw_lora_a(options.init_a, r, d, gen); });
  b_.value = at::zeros({in.ctx.replicas(), k, r}, in.ctx.options());
  scale_ = per_replica(in.ctx, lora_scales(options.alpha, in.ctx.replicas(), r, options.scaling));
}

at::Tensor LoraFa::preactivations(const at::Tensor& x, const at::Tensor& wx) {
  ax_ = at::bmm(x, a_.value.transpose(1, 2));  // A x: [R,B,d] x [R,d,r] -> [R,B,r]
  // s B (A x): [R,B,r] x [R,r,k] -> [R,B,k]
  return wx + scale_.view({-1, 1, 1}) * at::bmm(ax_, b_.value.transpose(1, 2));
}

void LoraFa::backward_preactivations(const at::Tensor&, const at::Tensor&, const at::Tensor& g) {
  b_.grad = scale_.view({-1, 1, 1}) * at::bmm(g.transpose(1, 2), ax_);  // [R,k,B] x [R,B,r] -> [R,k,r]
}

at::Tensor LoraFa::delta() const { return scale_.view({-1, 1, 1}) * at::bmm(b_.value, a_.value); }  // [R,k,d]

}  // namespace lrlab::models
