#include "trainers/data_sources/online.h"

#include "framework/config.h"
#include "framework/machine_resources.h"
#include "trainers/online_step.h"

namespace lrlab::trainers {

OnlineSource::OnlineSource(int64_t steps, int64_t batch, bool fused) : steps_(steps), batch_(batch), fused_(fused) {}

OnlineSource::~OnlineSource() = default;

std::shared_ptr<OnlineSource> OnlineSource::from_config(const Config& cfg, const models::Model& model,
                                                        const SourceDefaults& defaults) {
  const int64_t steps = read_step_budget(cfg, defaults.steps, model.base->d());
  const auto batch = cfg.get<int64_t>("batch", 1);
  if (batch < 1 || batch > 1'000'000) cfg.fail("batch", "must be in 1..1e6 for online data, got " + std::to_string(batch));
  // The step's inputs x [R, batch, d] must exist at all (checked_math: no product wraps).
  check_tensor_fits(cfg, "batch", {model.ctx.replicas(), batch, model.base->d()},
                    static_cast<int64_t>(c10::elementSize(model.ctx.dtype)), "the inputs x [R, batch, d] of a step");
  const bool fused = cfg.get_choice("fused", "auto", {"auto", "off"}) == "auto";
  return std::make_shared<OnlineSource>(steps, batch, fused);
}

std::string OnlineSource::begin(models::Model& model, UpdateRule& rule, GradPath grad, bool spherical) {
  // The kernel (CPU) or fused (CUDA) path where it applies.
  stepper_ = std::make_unique<OnlineStep>(model, batch_, grad, spherical, rule, /*allow_kernel=*/true, fused_);
  return stepper_->path();
}

at::Tensor OnlineSource::step(int64_t step, const at::Tensor& lr, const at::Tensor& decay, bool want_loss) {
  // Samples, labels, gradients, weight decay, update (trainers/online_step.h).
  return stepper_->step(step, lr, decay, want_loss || stepper_->kernel());
}

bool OnlineSource::multi_step() const { return stepper_ && stepper_->multi_step(); }

at::Tensor OnlineSource::run_steps(int64_t first, int64_t n, const at::Tensor& lr, const at::Tensor& decay,
                                  bool want_loss) {
  return stepper_->steps(first, n, lr, decay, want_loss || stepper_->multi_step());
}

bool OnlineSource::loss_is_free() const { return stepper_ && (stepper_->kernel() || stepper_->multi_step()); }

void OnlineSource::end() { stepper_.reset(); }

}  // namespace lrlab::trainers
