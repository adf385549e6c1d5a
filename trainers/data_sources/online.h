#pragma once
/// `online`: fresh Gaussian samples every step (the seed paper's setting), through OnlineStep
/// (trainers/online_step.h), which chooses the kernel, batched or autograd path and applies the update.
/// Keys (trainer section): `steps` / `steps_per_d` (budget), `batch` (samples per step, 1..1e6),
/// `fused` (auto | off: the fused CUDA step where it applies, or never, for comparisons).

#include <memory>
#include <string>

#include "trainers/data_source.h"

namespace lrlab {
class Config;
}

namespace lrlab::trainers {

class OnlineStep;

/// The registered `online` data source.
class OnlineSource : public DataSource {
 public:
  /// `steps`: budget; `batch`: samples per step; `fused`: allow the fused CUDA step.
  OnlineSource(int64_t steps, int64_t batch, bool fused = true);
  ~OnlineSource() override;
  /// Reads `steps`, `steps_per_d`, `batch` and `fused` from the trainer section.
  static std::shared_ptr<OnlineSource> from_config(const Config& cfg, const models::Model& model,
                                                   const SourceDefaults& defaults);
  std::string type() const override { return "online"; }
  int64_t steps() const override { return steps_; }
  std::string begin(models::Model& model, UpdateRule& rule, GradPath grad, bool spherical) override;
  at::Tensor step(int64_t step, const at::Tensor& lr, const at::Tensor& decay, bool want_loss) override;
  bool multi_step() const override;
  at::Tensor run_steps(int64_t first, int64_t n, const at::Tensor& lr, const at::Tensor& decay, bool want_loss) override;
  bool loss_is_free() const override;
  void end() override;
  /// Samples per step B.
  int64_t batch() const { return batch_; }

 private:
  int64_t steps_, batch_;
  bool fused_;
  std::unique_ptr<OnlineStep> stepper_;
};

}  // namespace lrlab::trainers
