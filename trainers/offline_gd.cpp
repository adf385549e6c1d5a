#include "trainers/offline_gd.h"

#include <cmath>

#include "framework/config.h"
#include "framework/error.h"
#include "trainers/data_sampler.h"
#include "trainers/online_sgd.h"

namespace lrlab::trainers {

TrainingSet::TrainingSet(const models::Model& model, int64_t n, int64_t batch) {
  check(n >= 1, "TrainingSet: n must be >= 1");
  check(batch >= 0, "TrainingSet: batch must be >= 0");
  batch_ = batch == 0 ? n : std::min(batch, n);
  at::NoGradGuard no_grad;
  DataSampler sampler(model.ctx, n, model.base->d());  // one draw of n samples per replica
  x_ = sampler.next_inputs();                           // [R, n, d] (the sampler's buffer, kept alive here)
  wx_ = model.base->preactivations(x_);                 // [R, n, k]
  const bool noisy = model.teacher->tau().abs().max().item<double>() > 0;
  y_ = noisy ? model.teacher->labels(x_, wx_, sampler.next_noise()) : model.teacher->clean_labels(x_, wx_);  // [R, n]
  if (batch_ < n)
    for (int64_t seed : model.ctx.seeds) shufflers_.push_back(stream_generator(seed, kShuffleStream));
  xs_ = x_;
  wxs_ = wx_;
  ys_ = y_;
}

void TrainingSet::shuffle() {
  // One permutation per replica [R, n] (drawn on the CPU with the replica's own generator), applied
  // by gather along the sample axis: one copy of the set per epoch, then minibatches are views.
  const int64_t n = size();
  std::vector<at::Tensor> perms;
  for (auto& gen : shufflers_) perms.push_back(at::randperm(n, gen, at::TensorOptions().dtype(at::kLong)));
  const at::Tensor perm = at::stack(perms).to(x_.device());  // [R, n]
  xs_ = at::gather(x_, 1, perm.unsqueeze(2).expand({-1, -1, x_.size(2)}));
  wxs_ = at::gather(wx_, 1, perm.unsqueeze(2).expand({-1, -1, wx_.size(2)}));
  ys_ = at::gather(y_, 1, perm);
}

Batch TrainingSet::next() {
  if (batch_ == size()) return {x_, wx_, y_};
  if (position_ == 0) shuffle();
  const int64_t b = std::min(batch_, size() - position_);
  Batch out{xs_.narrow(1, position_, b), wxs_.narrow(1, position_, b), ys_.narrow(1, position_, b)};
  position_ += b;
  if (position_ >= size()) position_ = 0;
  return out;
}

at::Tensor TrainingSet::loss(models::Model& model) const {
  at::NoGradGuard no_grad;
  const at::Tensor e = model.adapter->forward(x_, wx_) - y_;  // [R, n]
  return e.pow(2).mean(1) * 0.5;
}

int64_t read_batch_option(const Config& cfg, const std::string& key, const std::string& fallback) {
  const std::string text = cfg.get<std::string>(key, fallback);
  if (text == "full") return 0;
  try {
    size_t used = 0;
    const long long v = std::stoll(text, &used);
    if (used == text.size() && v >= 0 && v <= 100'000'000) return static_cast<int64_t>(v);
  } catch (const std::exception&) {
  }
  cfg.fail(key, "must be 'full', 0 (full batch) or a positive integer up to 1e8, got '" + text + "'");
}

int64_t training_set_size(int64_t n, double n_per_d, int64_t d) {
  return n > 0 ? n : static_cast<int64_t>(std::ceil(n_per_d * static_cast<double>(d)));
}

void read_training_set_options(const Config& cfg, int64_t d, int64_t* n, double* n_per_d) {
  *n = cfg.get<int64_t>("n", *n);
  *n_per_d = cfg.get<double>("n_per_d", *n_per_d);
  if (*n < 0) cfg.fail("n", "must be >= 0 (0: use n_per_d), got " + std::to_string(*n));
  if (!(*n_per_d > 0) || !std::isfinite(*n_per_d)) cfg.fail("n_per_d", "must be finite and > 0");
  const double size = *n > 0 ? static_cast<double>(*n) : std::ceil(*n_per_d * static_cast<double>(d));
  if (size < 1 || size > 1e8)
    cfg.fail(*n > 0 ? "n" : "n_per_d", "the training set must hold 1..1e8 samples per run, got " +
                                           std::to_string(size));
}

OfflineGdOptions OfflineGdOptions::from_config(const Config& cfg, int64_t d) {
  OfflineGdOptions o;
  read_training_set_options(cfg, d, &o.n, &o.n_per_d);
  o.epochs = cfg.get<int64_t>("epochs", o.epochs);
  o.steps = cfg.get<int64_t>("steps", o.steps);
  o.batch = read_batch_option(cfg, "batch", "full");
  const std::vector<double> lr =
      read_descent_options(cfg, o.lr, o.lr_scaling, o.grad, o.spherical, o.early_stop, o.weight_decay);
  if (o.epochs < 0 || o.epochs > int64_t{1} << 30) cfg.fail("epochs", "must be in 0..2^30");
  if (o.steps < 0 || o.steps > int64_t{1} << 40) cfg.fail("steps", "must be in 0..2^40 (0: use epochs)");
  o.schedule = LrScheduleOptions::from_config(cfg.child("schedule"), lr)[0];
  return o;
}

std::shared_ptr<OfflineGd> OfflineGd::from_config(const Config& cfg, const models::Model& model) {
  auto o = OfflineGdOptions::from_config(cfg, model.base->d());
  const auto lr = cfg.get_each<double>("lr", o.lr);
  return std::make_shared<OfflineGd>(o, lr, model, LrScheduleOptions::from_config(cfg.child("schedule"), lr),
                                     read_weight_decay(cfg));
}

std::vector<std::string> OfflineGd::stackable() { return OnlineSgd::stackable(); }

namespace {

int64_t offline_budget(const OfflineGdOptions& o, int64_t n) {
  if (o.steps > 0) return o.steps;
  const int64_t batch = o.batch == 0 ? n : std::min(o.batch, n);
  return o.epochs * ((n + batch - 1) / batch);
}

}  // namespace

OfflineGd::OfflineGd(const OfflineGdOptions& options, const std::vector<double>& lr, const models::Model& model,
                     std::vector<LrScheduleOptions> schedules, std::vector<double> weight_decay)
    : options_(options),
      n_(training_set_size(options.n, options.n_per_d, model.base->d())),
      steps_(offline_budget(options, n_)),
      rates_(scaled_learning_rates(model.ctx, lr, std::move(schedules), options.schedule,
                                   lr_scaling_factor(options.lr_scaling, model.base->d()), steps_,
                                   weight_decay.empty() ? std::vector<double>{options.weight_decay}
                                                        : std::move(weight_decay))) {}

void OfflineGd::train(models::Model& model, Monitor& monitor) {
  const GradPath path = parse_grad_path(options_.grad);
  TrainingSet data(model, n_, options_.batch);
  set_requires_grad(*model.adapter, path == GradPath::kAutograd);
  const bool want_loss = monitor.wants_train_loss();
  {
    at::NoGradGuard no_grad;
    if (monitor.record(0, model, want_loss ? data.loss(model) : at::Tensor())) {
      set_requires_grad(*model.adapter, false);
      monitor.finish(0);
      return;
    }
  }
  int64_t step = 1;
  for (; step <= steps_; ++step) {
    const Batch b = data.next();
    compute_gradients(model, b.x, b.wx, b.y, path, /*want_loss=*/false);
    rates_.set_step(step - 1);
    if (rates_.has_decay()) apply_weight_decay(*model.adapter, rates_.decay());
    gradient_step(*model.adapter, rates_.lr(), options_.spherical);
    if (monitor.due(step)) {
      at::NoGradGuard no_grad;
      if (monitor.record(step, model, want_loss ? data.loss(model) : at::Tensor())) break;
    }
  }
  set_requires_grad(*model.adapter, false);
  monitor.finish(std::min(step, steps_));
}

}  // namespace lrlab::trainers
