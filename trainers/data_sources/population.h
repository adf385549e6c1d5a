#pragma once
/// `population`: the exact population gradient (models/population.h), the deterministic (noise-free)
/// limit of online SGD: online SGD with learning rate eta takes steps whose mean is -eta grad L, so
/// gradient descent on L with the same eta, lr_scaling and schedule follows the curve that online SGD
/// fluctuates around, at matched times t = steps * eta. The step's loss is the population loss before
/// the update (always computed, so it is watched every step).
/// Keys (trainer section): `steps` / `steps_per_d`. A model without a population loss (a linearized
/// adapter on degenerate base rows) is a ConfigError at `trainer.type`.

#include <memory>
#include <string>

#include "models/population.h"
#include "trainers/data_source.h"

namespace lrlab {
class Config;
}

namespace lrlab::trainers {

/// The registered `population` data source.
class PopulationSource : public DataSource {
 public:
  /// `steps`: budget.
  explicit PopulationSource(int64_t steps) : steps_(steps) {}
  /// Reads `steps` and `steps_per_d`; fails at `type` when the model has no population loss.
  static std::shared_ptr<PopulationSource> from_config(const Config& cfg, const models::Model& model,
                                                       const SourceDefaults& defaults);
  std::string type() const override { return "population"; }
  int64_t steps() const override { return steps_; }
  std::string begin(models::Model& model, UpdateRule& rule, GradPath grad, bool spherical) override;
  at::Tensor step(int64_t step, const at::Tensor& lr, const at::Tensor& decay, bool want_loss) override;
  bool loss_is_free() const override { return true; }
  void end() override { objective_.reset(); }

 private:
  int64_t steps_;
  models::Model* model_ = nullptr;
  UpdateRule* rule_ = nullptr;
  models::PopulationGradPath path_ = models::PopulationGradPath::kAnalytic;
  bool spherical_ = true;
  std::unique_ptr<models::PopulationObjective> objective_;
};

}  // namespace lrlab::trainers
