#include "models/adapters/vera.h"

#include <cmath>

#include "framework/config.h"
#include "framework/context.h"

namespace lrlab::models {

VeraOptions VeraOptions::from_config(const Config& cfg, int64_t d) {
  VeraOptions o;
  o.rank = cfg.get<int64_t>("rank", o.rank);
  o.d_init = cfg.get<double>("d_init", o.d_init);
  o.init = cfg.get_choice("init", o.init, {"kaiming", "gaussian"});
  o.lr_ratio = cfg.get<double>("lr_ratio", o.lr_ratio);
  if (o.rank < 1 || o.rank > d)
    cfg.fail("rank", "must be in 1..d = " + std::to_string(d) + ", got " + std::to_string(o.rank));
  if (!std::isfinite(o.d_init)) cfg.fail("d_init", "must be finite");
  if (!(o.lr_ratio > 0) || !std::isfinite(o.lr_ratio)) cfg.fail("lr_ratio", "must be finite and > 0");
  return o;
}

namespace {

/// A frozen random matrix [rows, fan_in] by `init` in float64 on the CPU.
at::Tensor draw_frozen(const std::string& init, int64_t rows, int64_t fan_in, at::Generator& gen) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(fan_in));
  if (init == "gaussian") return cpu_normal({rows, fan_in}, gen) * scale;
  return at::rand({rows, fan_in}, gen, at::kDouble) * (2 * scale) - scale;
}

}  // namespace

Vera::Vera(const VeraOptions& options, const AdapterInputs& in) : Adapter(in.base), options_(options) {
  const int64_t d = base_->d(), k = base_->k(), r = options.rank;
  auto drawn = stack_replicas_multi(in.ctx, Stream::kAdapter, [&](at::Generator& gen, int64_t) {
    at::Tensor a = draw_frozen(options.init, r, d, gen);  // [r, d]
    at::Tensor b = draw_frozen(options.init, k, r, gen);  // [k, r]
    return std::vector<at::Tensor>{a, b};
  });
  a_.value = drawn[0];
  b_.value = drawn[1];
  d_vec_.value = at::full({in.ctx.replicas(), r}, options.d_init, in.ctx.options());
  b_vec_.value = at::zeros({in.ctx.replicas(), k}, in.ctx.options());
  b_vec_.lr_scale = options.lr_ratio;
}

at::Tensor Vera::preactivations(const at::Tensor& x, const at::Tensor& wx) {
  ax_ = at::bmm(x, a_.value.transpose(1, 2));                               // A x: [R,B,d] x [R,d,r] -> [R,B,r]
  u_ = at::bmm(ax_ * d_vec_.value.unsqueeze(1), b_.value.transpose(1, 2));  // [R,B,r] x [R,r,k] -> [R,B,k]
  return wx + b_vec_.value.unsqueeze(1) * u_;
}

void Vera::backward_preactivations(const at::Tensor&, const at::Tensor&, const at::Tensor& g) {
  b_vec_.grad = (g * u_).sum(1);                                       // [R, k]
  const at::Tensor t = at::bmm(g * b_vec_.value.unsqueeze(1), b_.value);  // B^T (b_vec . g): [R,B,k] x [R,k,r]
  d_vec_.grad = (t * ax_).sum(1);                                      // [R, r]
}

at::Tensor Vera::delta() const {
  // diag(b_vec) B diag(d_vec) A: [R,k,r] x [R,r,d] -> [R,k,d]
  return at::bmm(b_vec_.value.unsqueeze(2) * b_.value * d_vec_.value.unsqueeze(1), a_.value);
}

}  // namespace lrlab::models
