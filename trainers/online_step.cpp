#include "trainers/online_step.h"

#include "trainers/kernel_step.h"
#include "trainers/parameter_ops.h"
#include "trainers/update_rule.h"

namespace lrlab::trainers {

OnlineStep::OnlineStep(models::Model& model, int64_t batch, GradPath path, bool spherical, UpdateRule& rule,
                       bool allow_kernel)
    : model_(model),
      grad_path_(path),
      spherical_(spherical),
      rule_(rule),
      noisy_(model.teacher->tau().abs().max().item<double>() > 0),
      sampler_(model.ctx, batch, model.base->d()) {
  set_requires_grad(*model.adapter, path == GradPath::kAutograd);
  std::string why = "kernel path disabled";
  if (path == GradPath::kAnalytic && allow_kernel) kernel_ = KernelStep::make(model, batch, spherical, rule, &why);
  if (kernel_) {
    path_ = "kernel";
  } else if (path == GradPath::kAutograd) {
    path_ = "autograd";
  } else {
    path_ = "batched (" + why + ")";
  }
}

OnlineStep::~OnlineStep() = default;

at::Tensor OnlineStep::step(int64_t step, const at::Tensor& lr, const at::Tensor& decay, bool want_loss) {
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
