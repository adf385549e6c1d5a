#include "trainers/population_gd.h"

#include <cmath>

#include "framework/config.h"
#include "trainers/online_sgd.h"

namespace lrlab::trainers {

PopulationGdOptions PopulationGdOptions::from_config(const Config& cfg) {
  PopulationGdOptions o;
  read_step_budget(cfg, o.steps, o.steps_per_d);
  const std::vector<double> lr =
      read_descent_options(cfg, o.lr, o.lr_scaling, o.grad, o.spherical, o.early_stop, o.weight_decay);
  o.schedule = LrScheduleOptions::from_config(cfg.child("schedule"), lr)[0];
  return o;
}

std::shared_ptr<PopulationGd> PopulationGd::from_config(const Config& cfg, const models::Model& model) {
  auto o = PopulationGdOptions::from_config(cfg);
  const std::string why = models::population_loss_unavailable_reason(model);
  if (!why.empty()) cfg.fail("type", "population_gd needs the population loss: " + why);
  const auto lr = cfg.get_each<double>("lr", o.lr);
  return std::make_shared<PopulationGd>(o, lr, model, LrScheduleOptions::from_config(cfg.child("schedule"), lr),
                                        read_weight_decay(cfg));
}

std::vector<std::string> PopulationGd::stackable() { return OnlineSgd::stackable(); }

PopulationGd::PopulationGd(const PopulationGdOptions& options, const std::vector<double>& lr,
                           const models::Model& model, std::vector<LrScheduleOptions> schedules,
                           std::vector<double> weight_decay)
    : options_(options),
      steps_(step_budget(options.steps, options.steps_per_d, model.base->d())),
      rates_(scaled_learning_rates(model.ctx, lr, std::move(schedules), options.schedule,
                                   lr_scaling_factor(options.lr_scaling, model.base->d()), steps_,
                                   weight_decay.empty() ? std::vector<double>{options.weight_decay}
                                                        : std::move(weight_decay))) {}

void PopulationGd::train(models::Model& model, Monitor& monitor) {
  const auto path = options_.grad == "autograd" ? models::PopulationGradPath::kAutograd
                                                : models::PopulationGradPath::kAnalytic;
  set_requires_grad(*model.adapter, false);
  const models::PopulationObjective objective(model);  // teacher term / linearized coefficients, once
  if (monitor.start(model)) return;
  int64_t step = 1;
  for (; step <= steps_; ++step) {
    const at::Tensor loss = objective.gradients(model, path);  // [R] float64, grads set
    rates_.set_step(step - 1);
    if (rates_.has_decay()) apply_weight_decay(*model.adapter, rates_.decay());
    gradient_step(*model.adapter, rates_.lr(), options_.spherical);
    if (monitor.end_step(step, model, loss)) break;
  }
  monitor.finish(std::min(step, steps_));
}

}  // namespace lrlab::trainers
