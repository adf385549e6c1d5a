#include "trainers/data_sources/offline.h"

#include <fmt/format.h>

#include <cmath>

#include "framework/checked_math.h"
#include "framework/config.h"
#include "framework/error.h"
#include "framework/machine_resources.h"
#include "trainers/data_sampler.h"
#include "trainers/parameter_ops.h"

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
  if (*n < 0) cfg.fail("n", "must be >= 0 (0: use n_per_d), got " + std::to_string(*n));
  // n > 0 sets the size: n_per_d is then neither allowed nor read (as steps / steps_per_d).
  if (*n > 0 && cfg.has("n_per_d")) fail_conflicting_keys(cfg, "n_per_d", "n", "the training set size");
  if (*n == 0) *n_per_d = cfg.get<double>("n_per_d", *n_per_d);
  if (!(*n_per_d > 0) || !std::isfinite(*n_per_d)) cfg.fail("n_per_d", "must be finite and > 0");
  const double size = *n > 0 ? static_cast<double>(*n) : std::ceil(*n_per_d * static_cast<double>(d));
  if (size < 1 || size > 1e8)
    cfg.fail(*n > 0 ? "n" : "n_per_d", "the training set must hold 1..1e8 samples per run, got " +
                                           std::to_string(size));
}

std::shared_ptr<OfflineSource> OfflineSource::from_config(const Config& cfg, const models::Model& model,
                                                          const SourceDefaults& defaults) {
  const int64_t d = model.base->d();
  int64_t n = 0;
  double n_per_d = 10.0;
  read_training_set_options(cfg, d, &n, &n_per_d);
  n = training_set_size(n, n_per_d, d);
  // The training set x [R, n, d] is drawn at the start of the run: it must be able to exist.
  check_tensor_fits(cfg, cfg.has("n") ? "n" : "n_per_d", {model.ctx.replicas(), n, d},
                    static_cast<int64_t>(c10::elementSize(model.ctx.dtype)), "the training set x [R, n, d]");
  const int64_t batch = read_batch_option(cfg, "batch", "full");
  // The budget: `epochs` or `steps` / `steps_per_d`; the one given wins over the other's default, and
  // giving both is an error naming both.
  const int64_t steps = read_step_budget(cfg, defaults.steps, d);
  const auto epochs = cfg.get<int64_t>("epochs", defaults.epochs);
  if (epochs < 0 || epochs > int64_t{1} << 30) cfg.fail("epochs", "must be in 0..2^30 (0: use steps)");
  const bool steps_given = cfg.has("steps") || cfg.has("steps_per_d");
  if (cfg.has("epochs") && epochs > 0 && steps_given && steps > 0)
    fail_conflicting_keys(cfg, "epochs", cfg.has("steps") ? "steps" : "steps_per_d", "the step budget");
  const bool by_epochs = epochs > 0 && (cfg.has("epochs") || steps == 0);
  const int64_t b = batch == 0 ? n : std::min(batch, n);
  if (!by_epochs) return std::make_shared<OfflineSource>(n, batch, steps);
  // epochs x batches per epoch, under the 2^40 cap of every step budget (read_step_budget).
  constexpr int64_t kMaxSteps = int64_t{1} << 40;
  const auto total = checked_mul(epochs, (n + b - 1) / b);
  if (!total || *total > kMaxSteps)
    cfg.fail("epochs", fmt::format("{} epochs x {} batches per epoch is more than the limit of 2^40 steps", epochs,
                                   (n + b - 1) / b));
  return std::make_shared<OfflineSource>(n, batch, *total);
}

std::string OfflineSource::begin(models::Model& model, UpdateRule& rule, GradPath grad, bool spherical) {
  model_ = &model;
  rule_ = &rule;
  grad_ = grad;
  spherical_ = spherical;
  data_ = std::make_unique<TrainingSet>(model, n_, batch_);
  set_requires_grad(*model.adapter, grad == GradPath::kAutograd);
  return grad == GradPath::kAutograd ? "autograd (offline data)" : "batched (offline data)";
}

at::Tensor OfflineSource::step(int64_t step, const at::Tensor& lr, const at::Tensor& decay, bool) {
  const Batch b = data_->next();
  compute_gradients(*model_, b.x, b.wx, b.y, grad_, /*want_loss=*/false);
  apply_updates(*model_->adapter, *rule_, lr, decay, spherical_, step);
  return {};
}

at::Tensor OfflineSource::record_loss(models::Model& model) { return data_->loss(model); }

void OfflineSource::end() { data_.reset(); }

}  // namespace lrlab::trainers
