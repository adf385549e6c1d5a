#include "models/adapters/adapter.h"

namespace lrlab::models {

at::Tensor Adapter::forward(const at::Tensor& x, const at::Tensor& wx) {
  h_ = preactivations(x, wx);
  return base_->output(h_);
}

void Adapter::backward(const at::Tensor& x, const at::Tensor& wx, const at::Tensor& df) {
  backward_preactivations(x, wx, output_to_preactivation_grad(*base_, h_, df));
}

at::Tensor output_to_preactivation_grad(const BaseNetwork& base, const at::Tensor& h, const at::Tensor& df) {
  // l = e^2 / 2 with f = sum_i lam_i sigma(h_i): dl/dh_i = (dl/df) lam_i sigma'(h_i).
  return df.unsqueeze(2) * base.lam().unsqueeze(1) * base.activation().derivative(h);
}

at::Tensor Adapter::row_space(int64_t r) const {
  // Right singular vectors of Delta [R, k, d]: Vh [R, min(k,d), d]; the top r rows span its row space.
  at::Tensor vh = std::get<2>(at::linalg_svd(delta(), /*full_matrices=*/false));
  return vh.narrow(1, 0, std::min<int64_t>(r, vh.size(1))).transpose(1, 2);
}

}  // namespace lrlab::models

namespace lrlab::models {

std::unique_ptr<AdapterKernelBase> Adapter::cpu_kernel(at::ScalarType, std::string* why) {
  if (why) *why = "adapter '" + type() + "' provides no CPU kernel";
  return nullptr;
}

std::optional<fused::AdapterDesc> Adapter::cuda_descriptor(std::string* why) {
  if (why) *why = "adapter '" + type() + "' has no fused CUDA step";
  return std::nullopt;
}

}  // namespace lrlab::models
