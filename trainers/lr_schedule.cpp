#include "trainers/lr_schedule.h"

#include <cmath>
#include <cstring>

#include "framework/config.h"
#include "framework/error.h"
#include "models/adapters/adapter.h"

namespace lrlab::trainers {

std::vector<LrScheduleOptions> LrScheduleOptions::from_config(const Config& cfg, const std::vector<double>& lr) {
  const LrScheduleOptions d;
  const std::string type = cfg.get_choice("type", d.type, {"constant", "step", "cosine", "inverse_time"});
  const size_t R = static_cast<size_t>(cfg.replicas());
  std::vector<LrScheduleOptions> out(R);
  for (auto& o : out) o.type = type;
  // Only the keys of the chosen type are read, so a key of another type is reported as unknown.
  if (type == "step") {
    auto every = cfg.get_each<int64_t>("every", d.every);
    auto gamma = cfg.get_each<double>("gamma", d.gamma);
    for (size_t r = 0; r < R; ++r) {
      if (every[r] < 1) cfg.fail("every", "must be >= 1, got " + std::to_string(every[r]));
      if (!(gamma[r] > 0) || !std::isfinite(gamma[r])) cfg.fail("gamma", "must be finite and > 0");
      out[r].every = every[r];
      out[r].gamma = gamma[r];
    }
  } else if (type == "cosine") {
    auto min_lr = cfg.get_each<double>("min_lr", d.min_lr);
    auto warmup = cfg.get_each<int64_t>("warmup", d.warmup);
    for (size_t r = 0; r < R; ++r) {
      const double base = lr.size() == R ? lr[r] : lr.at(0);
      if (!(min_lr[r] >= 0) || !(min_lr[r] <= base))
        cfg.fail("min_lr", "must be in [0, lr] (lr = " + std::to_string(base) + "), got " + std::to_string(min_lr[r]));
      if (warmup[r] < 0) cfg.fail("warmup", "must be >= 0, got " + std::to_string(warmup[r]));
      out[r].min_lr = min_lr[r];
      out[r].warmup = warmup[r];
    }
  } else if (type == "inverse_time") {
    auto t0 = cfg.get_each<double>("t0", d.t0);
    for (size_t r = 0; r < R; ++r) {
      if (!(t0[r] > 0) || !std::isfinite(t0[r])) cfg.fail("t0", "must be finite and > 0");
      out[r].t0 = t0[r];
    }
  }
  return out;
}

std::vector<std::string> LrScheduleOptions::stackable() {
  return {"schedule.every", "schedule.gamma", "schedule.min_lr", "schedule.warmup", "schedule.t0"};
}

double scheduled_lr(const LrScheduleOptions& o, double lr, int64_t s, int64_t total) {
  if (o.type == "step") return lr * std::pow(o.gamma, static_cast<double>(s / o.every));
  if (o.type == "inverse_time") return lr / (1.0 + static_cast<double>(s) / o.t0);
  if (o.type == "cosine") {
    if (s < o.warmup) return lr * static_cast<double>(s + 1) / static_cast<double>(o.warmup);
    const double span = static_cast<double>(total - o.warmup);
    const double u = span > 0 ? std::min(1.0, static_cast<double>(s - o.warmup) / span) : 1.0;
    return o.min_lr + (lr - o.min_lr) * 0.5 * (1.0 + std::cos(M_PI * u));
  }
  return lr;
}

LearningRates::LearningRates(const Context& ctx, std::vector<double> lr, std::vector<LrScheduleOptions> schedules,
                             int64_t total, std::vector<double> weight_decay)
    : base_(std::move(lr)), schedules_(std::move(schedules)), total_(total), weight_decay_(std::move(weight_decay)) {
  const size_t R = static_cast<size_t>(ctx.replicas());
  check(base_.size() == R, "LearningRates: one learning rate per replica expected");
  if (schedules_.empty()) schedules_.emplace_back();
  if (schedules_.size() == 1 && R > 1) schedules_.assign(R, schedules_[0]);
  check(schedules_.size() == R, "LearningRates: one schedule per replica expected");
  if (weight_decay_.size() == 1 && R > 1) weight_decay_.assign(R, weight_decay_[0]);
  check(weight_decay_.empty() || weight_decay_.size() == R, "LearningRates: one weight_decay per replica expected");
  for (const auto& sch : schedules_) constant_ = constant_ && sch.type == "constant";
  bool decays = false;
  for (double wd : weight_decay_) decays = decays || wd != 0.0;
  if (!decays) weight_decay_.clear();

  lr_ = at::empty({static_cast<int64_t>(R)}, ctx.options());
  if (!ctx.device.is_cpu()) staging_ = at::empty({static_cast<int64_t>(R)}, at::TensorOptions().dtype(at::kDouble));
  current_.resize(R);
  scratch_.resize(R);
  for (size_t r = 0; r < R; ++r) current_[r] = scheduled_lr(schedules_[r], base_[r], 0, total_);
  write(lr_, current_);
  if (!weight_decay_.empty()) {
    decay_ = at::empty({static_cast<int64_t>(R)}, ctx.options());
    decay_values_.resize(R);
    for (size_t r = 0; r < R; ++r) decay_values_[r] = current_[r] * weight_decay_[r];
    write(decay_, decay_values_);
  }
}

void LearningRates::set_step(int64_t s) {
  if (constant_) return;
  for (size_t r = 0; r < current_.size(); ++r) scratch_[r] = scheduled_lr(schedules_[r], base_[r], s, total_);
  if (scratch_ == current_) return;  // constant, or between two decays of `step`: nothing to write
  current_.swap(scratch_);
  write(lr_, current_);
  if (!weight_decay_.empty()) {
    for (size_t r = 0; r < current_.size(); ++r) decay_values_[r] = current_[r] * weight_decay_[r];
    write(decay_, decay_values_);
  }
}

void LearningRates::write(at::Tensor& target, const std::vector<double>& values) {
  const size_t n = values.size();
  if (target.device().is_cpu() && target.is_contiguous()) {
    if (target.scalar_type() == at::kDouble) {
      std::memcpy(target.data_ptr<double>(), values.data(), n * sizeof(double));
      return;
    }
    if (target.scalar_type() == at::kFloat) {
      float* out = target.data_ptr<float>();
      for (size_t r = 0; r < n; ++r) out[r] = static_cast<float>(values[r]);
      return;
    }
  }
  if (!staging_.defined()) staging_ = at::empty({static_cast<int64_t>(n)}, at::TensorOptions().dtype(at::kDouble));
  std::memcpy(staging_.data_ptr<double>(), values.data(), n * sizeof(double));
  target.copy_(staging_);
}

double lr_scaling_factor(const std::string& lr_scaling, int64_t d) {
  return lr_scaling == "inverse_d" ? 1.0 / static_cast<double>(d) : 1.0;
}

LearningRates scaled_learning_rates(const Context& ctx, const std::vector<double>& lr,
                                    std::vector<LrScheduleOptions> schedules, const LrScheduleOptions& fallback,
                                    double factor, int64_t total, std::vector<double> weight_decay) {
  std::vector<double> base;
  for (double v : lr) base.push_back(v * factor);
  if (schedules.empty()) schedules.push_back(fallback);
  for (auto& s : schedules) s.min_lr *= factor;
  return LearningRates(ctx, std::move(base), std::move(schedules), total, std::move(weight_decay));
}

std::vector<double> read_weight_decay(const Config& cfg) {
  auto wd = cfg.get_each<double>("weight_decay", 0.0);
  for (double v : wd)
    if (!(v >= 0) || !std::isfinite(v)) cfg.fail("weight_decay", "must be finite and >= 0, got " + std::to_string(v));
  return wd;
}

std::vector<double> read_descent_options(const Config& cfg, double& lr, std::string& lr_scaling, std::string& grad,
                                         bool& spherical, bool& early_stop, double& weight_decay) {
  const std::vector<double> rates = cfg.get_each<double>("lr", lr);
  lr = rates[0];
  lr_scaling = cfg.get_choice("lr_scaling", lr_scaling, {"none", "inverse_d"});
  grad = cfg.get_choice("grad", grad, {"analytic", "autograd"});
  spherical = cfg.get<bool>("spherical", spherical);
  early_stop = cfg.get<bool>("early_stop", early_stop);
  weight_decay = read_weight_decay(cfg)[0];
  for (double v : rates)
    if (!(v > 0) || !std::isfinite(v)) cfg.fail("lr", "must be finite and > 0, got " + std::to_string(v));
  return rates;
}

void read_step_budget(const Config& cfg, int64_t& steps, double& steps_per_d) {
  steps = cfg.get<int64_t>("steps", steps);
  steps_per_d = cfg.get<double>("steps_per_d", steps_per_d);
  if (steps < 0 || steps > int64_t{1} << 40) cfg.fail("steps", "must be in 0..2^40, got " + std::to_string(steps));
  if (!(steps_per_d >= 0) || !std::isfinite(steps_per_d)) cfg.fail("steps_per_d", "must be finite and >= 0");
}

}  // namespace lrlab::trainers
