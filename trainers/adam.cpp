#include "trainers/adam.h"

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>

#include <cmath>
#include <tuple>

#include "framework/config.h"
#include "framework/error.h"
#include "trainers/data_sampler.h"
#include "trainers/offline_gd.h"
#include "trainers/online_sgd.h"

namespace lrlab::trainers {

AdamOptions AdamOptions::from_config(const Config& cfg, bool decoupled, int64_t d) {
  AdamOptions o;
  o.steps = cfg.get<int64_t>("steps", o.steps);
  o.steps_per_d = cfg.get<double>("steps_per_d", o.steps_per_d);
  o.lr = cfg.get<double>("lr", o.lr);
  o.betas = cfg.get<std::vector<double>>("betas", o.betas);
  o.eps = cfg.get<double>("eps", o.eps);
  o.weight_decay = cfg.get<double>("weight_decay", decoupled ? 0.01 : 0.0);
  o.amsgrad = cfg.get<bool>("amsgrad", o.amsgrad);
  o.data = cfg.get_choice("data", o.data, {"online", "offline"});
  if (o.data == "online") {
    o.batch = cfg.get<int64_t>("batch", o.batch);
    if (o.batch < 1 || o.batch > 1'000'000) cfg.fail("batch", "must be in 1..1e6 for online data");
  } else {
    read_training_set_options(cfg, d, &o.n, &o.n_per_d);
    o.batch = read_batch_option(cfg, "batch", "full");
    o.epochs = cfg.get<int64_t>("epochs", o.epochs);
    if (o.epochs < 0 || o.epochs > int64_t{1} << 30) cfg.fail("epochs", "must be in 0..2^30 (0: use steps)");
  }
  o.grad = cfg.get_choice("grad", o.grad, {"analytic", "autograd"});
  o.spherical = cfg.get<bool>("spherical", o.spherical);
  o.early_stop = cfg.get<bool>("early_stop", o.early_stop);
  if (o.steps < 0 || o.steps > int64_t{1} << 40) cfg.fail("steps", "must be in 0..2^40, got " + std::to_string(o.steps));
  if (!(o.steps_per_d >= 0) || !std::isfinite(o.steps_per_d)) cfg.fail("steps_per_d", "must be finite and >= 0");
  if (!(o.lr > 0) || !std::isfinite(o.lr)) cfg.fail("lr", "must be finite and > 0");
  if (o.betas.size() != 2 || !(o.betas[0] >= 0 && o.betas[0] < 1) || !(o.betas[1] >= 0 && o.betas[1] < 1))
    cfg.fail("betas", "must be two numbers in [0, 1), e.g. [0.9, 0.999]");
  if (!(o.eps > 0) || !std::isfinite(o.eps)) cfg.fail("eps", "must be finite and > 0");
  if (!(o.weight_decay >= 0) || !std::isfinite(o.weight_decay)) cfg.fail("weight_decay", "must be finite and >= 0");
  o.schedule = LrScheduleOptions::from_config(cfg.child("schedule"), {o.lr})[0];
  return o;
}

Adam::Adam(const AdamOptions& options, bool decoupled, const models::Model& model)
    : options_(options), decoupled_(decoupled) {
  const int64_t d = model.base->d();
  if (options.data == "offline") {
    n_ = training_set_size(options.n, options.n_per_d, d);
    const int64_t batch = options.batch == 0 ? n_ : std::min(options.batch, n_);
    if (options.epochs > 0) {
      steps_ = options.epochs * ((n_ + batch - 1) / batch);
      return;
    }
  }
  steps_ = step_budget(options.steps, options.steps_per_d, d);
}

std::shared_ptr<Adam> Adam::from_config(const Config& cfg, const models::Model& model, bool decoupled) {
  return std::make_shared<Adam>(AdamOptions::from_config(cfg, decoupled, model.base->d()), decoupled, model);
}

namespace {

/// One torch::optim parameter group per adapter Parameter (lr * lr_scale; no decay on the sphere).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const AdamOptions& o, bool decoupled,
                                                        const std::vector<models::Parameter*>& params) {
  const auto betas = std::make_tuple(o.betas[0], o.betas[1]);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  for (auto* p : params) {
    const double wd = p->on_sphere ? 0.0 : o.weight_decay;
    const double lr = o.lr * p->lr_scale;
    if (decoupled) {
      groups.emplace_back(std::vector<at::Tensor>{p->value},
                          std::make_unique<torch::optim::AdamWOptions>(
                              torch::optim::AdamWOptions(lr).betas(betas).eps(o.eps).weight_decay(wd).amsgrad(o.amsgrad)));
    } else {
      groups.emplace_back(std::vector<at::Tensor>{p->value},
                          std::make_unique<torch::optim::AdamOptions>(
                              torch::optim::AdamOptions(lr).betas(betas).eps(o.eps).weight_decay(wd).amsgrad(o.amsgrad)));
    }
  }
  if (decoupled) return std::make_unique<torch::optim::AdamW>(std::move(groups), torch::optim::AdamWOptions(o.lr));
  return std::make_unique<torch::optim::Adam>(std::move(groups), torch::optim::AdamOptions(o.lr));
}

/// Sets every group's learning rate to lr_s * lr_scale.
void set_group_lrs(torch::optim::Optimizer& opt, bool decoupled, double lr, const std::vector<double>& scales) {
  auto& groups = opt.param_groups();
  for (size_t i = 0; i < groups.size(); ++i) {
    if (decoupled)
      static_cast<torch::optim::AdamWOptions&>(groups[i].options()).lr(lr * scales[i]);
    else
      static_cast<torch::optim::AdamOptions&>(groups[i].options()).lr(lr * scales[i]);
  }
}

}  // namespace

void Adam::train(models::Model& model, Monitor& monitor) {
  const GradPath path = parse_grad_path(options_.grad);
  auto params = model.adapter->parameters();
  std::vector<double> scales;
  for (auto* p : params) scales.push_back(p->lr_scale);
  // Parameters require grad for the optimiser's .grad() slots; the analytic path runs under NoGradGuard.
  set_requires_grad(*model.adapter, true);
  auto optimizer = make_optimizer(options_, decoupled_, params);

  std::unique_ptr<DataSampler> online;
  std::unique_ptr<TrainingSet> offline;
  if (options_.data == "online")
    online = std::make_unique<DataSampler>(model.ctx, options_.batch, model.base->d());
  else
    offline = std::make_unique<TrainingSet>(model, n_, options_.batch);
  const bool noisy = model.teacher->tau().abs().max().item<double>() > 0;
  const bool want_loss = monitor.wants_train_loss();
  at::Tensor loss_sum = at::zeros({model.ctx.replicas()}, model.ctx.options());
  int64_t loss_count = 0;
  auto cleanup = [&] {
    for (auto* p : params) p->value.mutable_grad() = at::Tensor();
    set_requires_grad(*model.adapter, false);
  };
  {
    at::NoGradGuard no_grad;
    if (monitor.record(0, model, offline && want_loss ? offline->loss(model) : at::Tensor())) {
      cleanup();
      monitor.finish(0);
      return;
    }
  }
  double current_lr = options_.lr;
  int64_t step = 1;
  for (; step <= steps_; ++step) {
    Batch b;
    if (online) {
      at::NoGradGuard no_grad;
      b.x = online->next_inputs();
      b.wx = model.base->preactivations(b.x);
      b.y = noisy ? model.teacher->labels(b.x, b.wx, online->next_noise()) : model.teacher->clean_labels(b.x, b.wx);
    } else {
      b = offline->next();
    }
    at::Tensor loss = compute_gradients(model, b.x, b.wx, b.y, path, want_loss && online);
    {
      at::NoGradGuard no_grad;
      for (auto* p : params) {
        at::Tensor g = p->grad;
        if (p->on_sphere && options_.spherical) g = g - (g * p->value).sum(-1, true) * p->value;  // tangent part
        p->value.mutable_grad() = g;
      }
    }
    const double lr = scheduled_lr(options_.schedule, options_.lr, step - 1, steps_);
    if (lr != current_lr) {
      set_group_lrs(*optimizer, decoupled_, lr, scales);
      current_lr = lr;
    }
    optimizer->step();
    {
      at::NoGradGuard no_grad;
      for (auto* p : params)
        if (p->on_sphere) p->value.div_(p->value.norm(2, {-1}, true));  // retraction to the unit sphere
    }
    model.adapter->after_update();
    if (online && want_loss) {
      loss_sum.add_(loss);
      ++loss_count;
    }
    if (monitor.due(step)) {
      at::NoGradGuard no_grad;
      at::Tensor train_loss;
      if (offline && want_loss) train_loss = offline->loss(model);
      if (online && loss_count) train_loss = loss_sum / static_cast<double>(loss_count);
      const bool stop = monitor.record(step, model, train_loss);
      loss_sum.zero_();
      loss_count = 0;
      if (stop) break;
    }
  }
  cleanup();
  monitor.finish(std::min(step, steps_));
}

}  // namespace lrlab::trainers
