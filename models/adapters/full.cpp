#include "models/adapters/full.h"

#include "framework/context.h"

namespace lrlab::models {

Full::Full(const AdapterInputs& in) : Adapter(in.base) { delta_.value = at::zeros_like(base_->weight()); }

at::Tensor Full::preactivations(const at::Tensor& x, const at::Tensor& wx) {
  return wx + at::bmm(x, delta_.value.transpose(1, 2));
}

void Full::backward_preactivations(const at::Tensor& x, const at::Tensor&, const at::Tensor& g) {
  delta_.grad = at::bmm(g.transpose(1, 2), x);
}

}  // namespace lrlab::models
