#include "trainers/online_step.h"

#include "trainers/cuda/fused_step.h"
#include "trainers/data_source.h"
#include "trainers/kernel_step.h"
#include "trainers/parameter_ops.h"
#include "trainers/update_rule.h"

namespace lrlab::trainers {

OnlineStep::OnlineStep(models::Model& model, int64_t batch, GradPath path, bool spherical, UpdateRule& rule,
                       bool allow_kernel, bool allow_fused)
    : model_(model),
      grad_path_(path),
      spherical_(spherical),
      rule_(rule),
      noisy_(model.teacher->tau().abs().max().item<double>() > 0),
      sampler_(model.ctx, batch, model.base->d()) {
  set_requires_grad(*model.adapter, path == GradPath::kAutograd);
  path_ = choose(batch, allow_kernel, allow_fused);
}

std::string OnlineStep::choose(int64_t batch, bool allow_kernel, bool allow_fused) {
  if (grad_path_ == GradPath::kAutograd) return "autograd";
  std::string why;
  if (model_.ctx.device.is_cuda()) {
    if (allow_fused && FusedStep::built()) fused_ = FusedStep::make(model_, batch, spherical_, rule_, &why);
    return fused_path_name(allow_fused, FusedStep::built(), fused_ != nullptr, why);
  }
  if (!allow_kernel) return "batched (kernel path disabled)";
  kernel_ = KernelStep::make(model_, batch, spherical_, rule_, &why);
  return kernel_ ? "kernel" : "batched (" + why + ")";
}

OnlineStep::~OnlineStep() = default;

at::Tensor OnlineStep::steps(int64_t first, int64_t n, const at::Tensor& lr, const at::Tensor& decay,
                              bool want_loss) {
  if (fused_) return fused_->steps(first, n, lr, decay, want_loss);
  return mean_loss_of_steps(first, n, [&](int64_t s) { return step(s, lr, decay, want_loss); });
}

at::Tensor OnlineStep::step(int64_t step, const at::Tensor& lr, const at::Tensor& decay, bool want_loss) {
  if (fused_) return fused_->steps(step, 1, lr, decay, want_loss);
  if (kernel_) return kernel_->step(sampler_, step, lr, decay, noisy_, want_loss);
  const at::Tensor& x = sampler_.next_inputs();  // [R, B, d]
  at::Tensor wx, y;
  {
    at::NoGradGuard no_grad;
    wx = model_.base->preactivations(x);  // [R, B, k], shared by teacher and student
    y = noisy_ ? model_.teacher->labels(x, wx, sampler_.next_noise()) : model_.teacher->clean_labels(x, wx);
  }
  at::Tensor loss = compute_gradients(model_, x, wx, y, grad_path_, want_loss);
  apply_updates(*model_.adapter, rule_, lr, decay, spherical_, step);
  return loss;
}

}  // namespace lrlab::trainers
