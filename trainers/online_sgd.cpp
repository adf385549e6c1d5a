#include "trainers/online_sgd.h"

#include <cmath>

#include "framework/config.h"
#include "trainers/data_sampler.h"

namespace lrlab::trainers {

OnlineSgdOptions OnlineSgdOptions::from_config(const Config& cfg) {
  OnlineSgdOptions o;
  o.steps = cfg.get<int64_t>("steps", o.steps);
  o.steps_per_d = cfg.get<double>("steps_per_d", o.steps_per_d);
  o.batch = cfg.get<int64_t>("batch", o.batch);
  o.lr = cfg.get_each<double>("lr", o.lr)[0];
  o.lr_scaling = cfg.get_choice("lr_scaling", o.lr_scaling, {"none", "inverse_d"});
  o.grad = cfg.get_choice("grad", o.grad, {"analytic", "autograd"});
  o.spherical = cfg.get<bool>("spherical", o.spherical);
  o.early_stop = cfg.get<bool>("early_stop", o.early_stop);
  if (o.steps < 0 || o.steps > int64_t{1} << 40) cfg.fail("steps", "must be in 0..2^40, got " + std::to_string(o.steps));
  if (!(o.steps_per_d >= 0) || !std::isfinite(o.steps_per_d)) cfg.fail("steps_per_d", "must be finite and >= 0");
  if (o.batch < 1 || o.batch > 1'000'000) cfg.fail("batch", "must be in 1..1e6, got " + std::to_string(o.batch));
  for (double lr : cfg.get_each<double>("lr", o.lr))
    if (!(lr > 0) || !std::isfinite(lr)) cfg.fail("lr", "must be finite and > 0, got " + std::to_string(lr));
  return o;
}

OnlineSgd::OnlineSgd(const OnlineSgdOptions& options, const std::vector<double>& lr, const models::Model& model)
    : options_(options) {
  const double d = static_cast<double>(model.base->d());
  steps_ = options.steps_per_d > 0 ? static_cast<int64_t>(std::ceil(options.steps_per_d * d)) : options.steps;
  std::vector<double> scaled;
  for (double v : lr) scaled.push_back(options.lr_scaling == "inverse_d" ? v / d : v);
  lr_ = per_replica(model.ctx, scaled);
}

void OnlineSgd::train(models::Model& model, Monitor& monitor) {
  const GradPath path = parse_grad_path(options_.grad);
  set_requires_grad(*model.adapter, path == GradPath::kAutograd);
  DataSampler sampler(model.ctx, options_.batch, model.base->d());
  const bool noisy = model.teacher->tau().abs().max().item<double>() > 0;
  const bool want_loss = monitor.wants_train_loss();
  at::Tensor loss_sum = at::zeros({model.ctx.replicas()}, model.ctx.options());
  int64_t loss_count = 0;
  {
    at::NoGradGuard no_grad;
    if (monitor.record(0, model, at::Tensor())) {
      monitor.finish(0);
      return;
    }
  }
  int64_t step = 1;
  for (; step <= steps_; ++step) {
    const at::Tensor& x = sampler.next_inputs();  // [R, B, d]
    at::Tensor wx, y;
    {
      at::NoGradGuard no_grad;
      wx = model.base->preactivations(x);  // [R, B, k], shared by teacher and student
      y = noisy ? model.teacher->labels(x, wx, sampler.next_noise()) : model.teacher->clean_labels(x, wx);
    }
    at::Tensor loss = compute_gradients(model, x, wx, y, path, want_loss);
    gradient_step(*model.adapter, lr_, options_.spherical);
    if (want_loss) {
      loss_sum.add_(loss);
      ++loss_count;
    }
    if (monitor.due(step)) {
      at::NoGradGuard no_grad;
      at::Tensor mean_loss = loss_count ? loss_sum / static_cast<double>(loss_count) : at::Tensor();
      const bool stop = monitor.record(step, model, mean_loss);
      loss_sum.zero_();
      loss_count = 0;
      if (stop) break;
    }
  }
  set_requires_grad(*model.adapter, false);
  monitor.finish(std::min(step, steps_));
}

}  // namespace lrlab::trainers
