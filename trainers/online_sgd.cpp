#include "trainers/online_sgd.h"

#include <cmath>

#include "framework/config.h"
#include "trainers/online_step.h"
#include "trainers/update_rules/sgd.h"

namespace lrlab::trainers {

int64_t step_budget(int64_t steps, double steps_per_d, int64_t d) {
  return steps_per_d > 0 ? static_cast<int64_t>(std::ceil(steps_per_d * static_cast<double>(d))) : steps;
}

OnlineSgdOptions OnlineSgdOptions::from_config(const Config& cfg) {
  OnlineSgdOptions o;
  read_step_budget(cfg, o.steps, o.steps_per_d);
  o.batch = cfg.get<int64_t>("batch", o.batch);
  const std::vector<double> lr =
      read_descent_options(cfg, o.lr, o.lr_scaling, o.grad, o.spherical, o.early_stop, o.weight_decay);
  if (o.batch < 1 || o.batch > 1'000'000) cfg.fail("batch", "must be in 1..1e6, got " + std::to_string(o.batch));
  o.schedule = LrScheduleOptions::from_config(cfg.child("schedule"), lr)[0];
  return o;
}

std::shared_ptr<OnlineSgd> OnlineSgd::from_config(const Config& cfg, const models::Model& model) {
  auto o = OnlineSgdOptions::from_config(cfg);
  const auto lr = cfg.get_each<double>("lr", o.lr);
  return std::make_shared<OnlineSgd>(o, lr, model, LrScheduleOptions::from_config(cfg.child("schedule"), lr),
                                     read_weight_decay(cfg));
}

std::vector<std::string> OnlineSgd::stackable() {
  std::vector<std::string> keys{"lr", "weight_decay"};
  for (const auto& k : LrScheduleOptions::stackable()) keys.push_back(k);
  return keys;
}

OnlineSgd::OnlineSgd(const OnlineSgdOptions& options, const std::vector<double>& lr, const models::Model& model,
                     std::vector<LrScheduleOptions> schedules, std::vector<double> weight_decay)
    : options_(options),
      steps_(step_budget(options.steps, options.steps_per_d, model.base->d())),
      rates_(scaled_learning_rates(model.ctx, lr, std::move(schedules), options.schedule,
                                   lr_scaling_factor(options.lr_scaling, model.base->d()), steps_,
                                   weight_decay.empty() ? std::vector<double>{options.weight_decay}
                                                        : std::move(weight_decay))) {}

void OnlineSgd::train(models::Model& model, Monitor& monitor) {
  const GradPath path = parse_grad_path(options_.grad);
  set_requires_grad(*model.adapter, path == GradPath::kAutograd);
  Sgd rule;
  OnlineStep stepper(model, options_.batch, path, options_.spherical, rule);  // kernel path where it applies
  const bool want_loss = monitor.wants_train_loss();
  const bool watch_loss = want_loss || stepper.kernel();
  if (monitor.start(model)) {
    set_requires_grad(*model.adapter, false);
    return;
  }
  int64_t step = 1;
  for (; step <= steps_; ++step) {
    rates_.set_step(step - 1);  // in place, and only when a value changes
    // Samples, labels, gradients, weight decay, update (trainers/online_step.h).
    // The monitor watches the loss for divergence every step where it is computed anyway (the fused
    // step always has it; the batched one costs ~6 us more per step for it), else at records (monitor.h).
    at::Tensor loss = stepper.step(step, rates_.lr(), rates_.has_decay() ? rates_.decay() : at::Tensor(), watch_loss);
    monitor.watch_step(step, loss);
    if (monitor.end_step(step, model, loss)) break;
  }
  set_requires_grad(*model.adapter, false);
  monitor.finish(std::min(step, steps_));
}

}  // namespace lrlab::trainers
