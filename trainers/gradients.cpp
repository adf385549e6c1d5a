#include "trainers/gradients.h"

#include <torch/csrc/autograd/autograd.h>

#include "framework/error.h"

namespace lrlab::trainers {

GradPath parse_grad_path(const std::string& word) {
  if (word == "analytic") return GradPath::kAnalytic;
  if (word == "autograd") return GradPath::kAutograd;
  throw Error("unknown gradient path '" + word + "' (analytic | autograd)");
}

void set_requires_grad(models::Adapter& adapter, bool requires_grad) {
  for (auto* p : adapter.parameters()) p->value.requires_grad_(requires_grad);
}

at::Tensor compute_gradients(models::Model& model, const at::Tensor& x, const at::Tensor& wx, const at::Tensor& y,
                             GradPath path, bool want_loss) {
  auto& adapter = *model.adapter;
  const double batch = static_cast<double>(x.size(1));
  if (path == GradPath::kAnalytic) {
    at::NoGradGuard no_grad;
    at::Tensor e = adapter.forward(x, wx) - y;  // [R, B]
    adapter.backward(x, wx, e / batch);         // dl/df of the batch mean
    return want_loss ? e.pow(2).mean(1) * 0.5 : at::Tensor();
  }
  auto params = adapter.parameters();
  std::vector<at::Tensor> values;
  for (auto* p : params) {
    if (!p->value.requires_grad()) p->value.requires_grad_(true);
    values.push_back(p->value);
  }
  at::Tensor e = adapter.forward(x, wx) - y;
  at::Tensor loss = e.pow(2).mean(1) * 0.5;  // [R]; the sum's gradient is each replica's own gradient
  auto grads = torch::autograd::grad({loss.sum()}, values, /*grad_outputs=*/{}, /*retain_graph=*/false,
                                     /*create_graph=*/false, /*allow_unused=*/true);
  for (size_t i = 0; i < params.size(); ++i)
    params[i]->grad = grads[i].defined() ? grads[i] : at::zeros_like(params[i]->value);
  return want_loss ? loss.detach() : at::Tensor();
}

}  // namespace lrlab::trainers
