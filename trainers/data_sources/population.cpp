#include "trainers/data_sources/population.h"

#include "framework/config.h"
#include "trainers/parameter_ops.h"

namespace lrlab::trainers {

std::shared_ptr<PopulationSource> PopulationSource::from_config(const Config& cfg, const models::Model& model,
                                                                const SourceDefaults& defaults) {
  const int64_t steps = read_step_budget(cfg, defaults.steps, model.base->d());
  const std::string why = models::population_loss_unavailable_reason(model);
  if (!why.empty()) cfg.fail("type", "population data needs the population loss: " + why);
  return std::make_shared<PopulationSource>(steps);
}

std::string PopulationSource::begin(models::Model& model, UpdateRule& rule, GradPath grad, bool spherical) {
  model_ = &model;
  rule_ = &rule;
  spherical_ = spherical;
  path_ = grad == GradPath::kAutograd ? models::PopulationGradPath::kAutograd : models::PopulationGradPath::kAnalytic;
  set_requires_grad(*model.adapter, false);
  objective_ = std::make_unique<models::PopulationObjective>(model);  // teacher term / linearized coefficients, once
  return grad == GradPath::kAutograd ? "population (exact gradient, autograd)" : "population (exact gradient)";
}

at::Tensor PopulationSource::step(int64_t step, const at::Tensor& lr, const at::Tensor& decay, bool) {
  const at::Tensor loss = objective_->gradients(*model_, path_);  // [R] float64, grads set
  apply_updates(*model_->adapter, *rule_, lr, decay, spherical_, step);
  return loss;
}

}  // namespace lrlab::trainers
