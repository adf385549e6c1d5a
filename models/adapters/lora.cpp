#include "models/adapters/lora.h"

#include <cmath>

#include "framework/config.h"
#include "framework/context.h"
#include "models/two_layer.h"

namespace lrlab::models {

LoraOptions LoraOptions::from_config(const Config& cfg, int64_t d, int64_t k) {
  LoraOptions o;
  o.rank = cfg.get<int64_t>("rank", o.rank);
  o.alpha = cfg.get_each<double>("alpha", o.alpha)[0];
  o.scaling = cfg.get_choice("scaling", o.scaling, {"standard", "rs"});
  o.init_a = cfg.get_choice("init_a", o.init_a, {"gaussian", "kaiming", "orthogonal"});
  o.lr_ratio = cfg.get<double>("lr_ratio", o.lr_ratio);
  if (o.rank < 1 || o.rank > std::min(d, k))
    cfg.fail("rank", "must be in 1..min(k, d) = " + std::to_string(std::min(d, k)) + ", got " +
                         std::to_string(o.rank));
  for (double a : cfg.get_each<double>("alpha", o.alpha))
    if (!std::isfinite(a) || a == 0) cfg.fail("alpha", "must be finite and non-zero");
  if (!(o.lr_ratio > 0) || !std::isfinite(o.lr_ratio)) cfg.fail("lr_ratio", "must be finite and > 0");
  return o;
}

at::Tensor draw_lora_a(const std::string& init, int64_t r, int64_t d, at::Generator& gen) {
  if (init == "kaiming") {
    // PEFT: kaiming_uniform_(a = sqrt 5) gives U(-1/sqrt(d), 1/sqrt(d)).
    const double bound = 1.0 / std::sqrt(static_cast<double>(d));
    return at::rand({r, d}, gen, at::kDouble) * (2 * bound) - bound;
  }
  if (init == "orthogonal") return draw_rows("orthonormal", r, d, gen);
  return draw_rows("gaussian", r, d, gen);
}

Lora::Lora(const LoraOptions& options, const std::vector<double>& alpha, const AdapterInputs& in)
    : Adapter(in.base), options_(options) {
  const int64_t d = base_->d(), k = base_->k(), r = options.rank;
  a_.value = stack_replicas(in.ctx, Stream::kAdapter,
                            [&](at::Generator& gen) { return draw_lora_a(options.init_a, r, d, gen); });
  b_.value = at::zeros({in.ctx.replicas(), k, r}, in.ctx.options());
  b_.lr_scale = options.lr_ratio;
  const double denom = options.scaling == "rs" ? std::sqrt(static_cast<double>(r)) : static_cast<double>(r);
  std::vector<double> s;
  for (double a : alpha) s.push_back(a / denom);
  scale_ = per_replica(in.ctx, s);
}

at::Tensor Lora::preactivations(const at::Tensor& x, const at::Tensor& wx) {
  ax_ = at::bmm(x, a_.value.transpose(1, 2));  // A x: [R,B,d] x [R,d,r] -> [R,B,r]
  return wx + scale_.view({-1, 1, 1}) * at::bmm(ax_, b_.value.transpose(1, 2));  // [R,B,r] x [R,r,k]
}

void Lora::backward_preactivations(const at::Tensor& x, const at::Tensor&, const at::Tensor& g) {
  at::Tensor s = scale_.view({-1, 1, 1});
  b_.grad = s * at::bmm(g.transpose(1, 2), ax_);                        // [R,k,B] x [R,B,r] -> [R,k,r]
  a_.grad = s * at::bmm(at::bmm(g, b_.value).transpose(1, 2), x);       // [R,r,B] x [R,B,d] -> [R,r,d]
}

at::Tensor Lora::delta() const { return scale_.view({-1, 1, 1}) * at::bmm(b_.value, a_.value); }

}  // namespace lrlab::models
