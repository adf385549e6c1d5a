#include "trainers/online_step.h"

#include "trainers/lr_schedule.h"
#include "trainers/trainer.h"

namespace lrlab::trainers {

OnlineStep::OnlineStep(models::Model& model, int64_t batch, GradPath path, bool spherical, bool allow_fused)
    : model_(model),
      path_(path),
      spherical_(spherical),
      noisy_(model.teacher->tau().abs().max().item<double>() > 0),
      sampler_(model.ctx, batch, model.base->d()) {
  set_requires_grad(*model.adapter, path == GradPath::kAutograd);
  std::string why = "fused step disabled";
  if (path != GradPath::kAnalytic) why = "autograd path";
  if (allow_fused && path == GradPath::kAnalytic) fused_ = FusedStep::make(model, batch, spherical, &why);
  implementation_ = fused_ ? "fused" : "batched (" + why + ")";
}

at::Tensor OnlineStep::step(const at::Tensor& lr, const at::Tensor& decay, bool want_loss) {
  if (fused_) return fused_->step(sampler_, lr, decay, noisy_, want_loss);
  const at::Tensor& x = sampler_.next_inputs();  // [R, B, d]
  at::Tensor wx, y;
  {
    at::NoGradGuard no_grad;
    wx = model_.base->preactivations(x);  // [R, B, k], shared by teacher and student
    y = noisy_ ? model_.teacher->labels(x, wx, sampler_.next_noise()) : model_.teacher->clean_labels(x, wx);
  }
  at::Tensor loss = compute_gradients(model_, x, wx, y, path_, want_loss);
  if (decay.defined()) apply_weight_decay(*model_.adapter, decay);
  gradient_step(*model_.adapter, lr, spherical_);
  return loss;
}

}  // namespace lrlab::trainers
