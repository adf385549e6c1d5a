#include "trainers/lr_schedule.h"

#include <cstring>

#include "framework/error.h"

namespace lrlab::trainers {

LearningRates::LearningRates(const Context& ctx, const std::vector<double>& lr,
                             std::shared_ptr<const Schedule> schedule, double factor, int64_t total,
                             std::vector<double> weight_decay)
    : schedule_(std::move(schedule)), factor_(factor), total_(total), weight_decay_(std::move(weight_decay)) {
  const size_t R = static_cast<size_t>(ctx.replicas());
  check(lr.size() == R || lr.size() == 1, "LearningRates: one learning rate per replica expected");
  for (size_t r = 0; r < R; ++r) base_.push_back(lr[lr.size() == 1 ? 0 : r] * factor);
  if (weight_decay_.size() == 1 && R > 1) weight_decay_.assign(R, weight_decay_[0]);
  check(weight_decay_.empty() || weight_decay_.size() == R, "LearningRates: one weight_decay per replica expected");
  bool decays = false;
  for (double wd : weight_decay_) decays = decays || wd != 0.0;
  if (!decays) weight_decay_.clear();

  lr_ = at::empty({static_cast<int64_t>(R)}, ctx.options());
  if (!ctx.device.is_cpu()) staging_ = at::empty({static_cast<int64_t>(R)}, at::TensorOptions().dtype(at::kDouble));
  current_.resize(R);
  scratch_.resize(R);
  compute(0, current_);
  write(lr_, current_);
  if (!weight_decay_.empty()) {
    decay_ = at::empty({static_cast<int64_t>(R)}, ctx.options());
    decay_values_.resize(R);
    for (size_t r = 0; r < R; ++r) decay_values_[r] = current_[r] * weight_decay_[r];
    write(decay_, decay_values_);
  }
}

void LearningRates::compute(int64_t s, std::vector<double>& out) const {
  for (size_t r = 0; r < out.size(); ++r) out[r] = schedule_ ? schedule_->rate(r, base_[r], factor_, s, total_) : base_[r];
}

void LearningRates::set_step(int64_t s) {
  if (!schedule_ || schedule_->constant()) return;
  compute(s, scratch_);
  if (scratch_ == current_) return;  // between two decays of `step`: nothing to write
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

}  // namespace lrlab::trainers
