#include "models/adapters/scratch.h"

#include "framework/config.h"
#include "framework/context.h"
#include "models/two_layer.h"

namespace lrlab::models {

ScratchOptions ScratchOptions::from_config(const Config& cfg, int64_t d, int64_t k) {
  ScratchOptions o;
  o.init = cfg.get_choice("init", o.init, {"sphere", "gaussian", "orthonormal"});
  o.row_scale = cfg.get<double>("row_scale", o.row_scale);
  if (o.init == "orthonormal" && k > d) cfg.fail("init", "orthonormal rows need k <= d");
  if (!std::isfinite(o.row_scale)) cfg.fail("row_scale", "must be finite");
  return o;
}

Scratch::Scratch(const ScratchOptions& options, const AdapterInputs& in) : Adapter(in.base) {
  const int64_t d = base_->d(), k = base_->k();
  theta_.value = stack_replicas(in.ctx, Stream::kAdapter, [&](at::Generator& gen) {
    return draw_rows(options.init, k, d, gen) * options.row_scale;
  });
}

at::Tensor Scratch::preactivations(const at::Tensor& x, const at::Tensor&) {
  return at::bmm(x, theta_.value.transpose(1, 2));
}

void Scratch::backward_preactivations(const at::Tensor& x, const at::Tensor&, const at::Tensor& g) {
  theta_.grad = at::bmm(g.transpose(1, 2), x);
}

}  // namespace lrlab::models
