#include "trainers/monitor.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "framework/interrupt.h"

namespace lrlab::trainers {

Monitor::Monitor(models::MetricSet& metrics, Recorder& recorder, int64_t total_steps, bool early_stop,
                 Progress* progress)
    : metrics_(metrics), recorder_(recorder), total_(total_steps), early_stop_(early_stop), progress_(progress) {
  const auto& o = metrics.options();
  every_ = o.every > 0 ? o.every : std::max<int64_t>(1, total_steps / 100);
  if (progress_) progress_->set_total(total_steps);
  wants_train_loss_ = std::find(o.names.begin(), o.names.end(), "train_loss") != o.names.end();
  recorder_.set_early_stop(early_stop);
  recorder_.set_success(o.success);
}

std::vector<double> to_vector(const at::Tensor& values) {
  at::Tensor v = values.detach().to(at::kCPU, at::kDouble).contiguous();
  return std::vector<double>(v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
}

void Monitor::watch_step(int64_t step, const at::Tensor& loss) {
  if (!loss.defined()) return;
  const int64_t R = loss.size(0);
  if (window_steps_ == 0) window_first_ = step;
  ++window_steps_;
  if (loss.is_cpu() && loss.is_contiguous() && (loss.scalar_type() == at::kFloat || loss.scalar_type() == at::kDouble)) {
    // CPU: a loop over R numbers (nanoseconds; three ATen calls would cost about 4 us per step).
    if (static_cast<int64_t>(first_bad_.size()) != R) first_bad_.assign(static_cast<size_t>(R), -1);
    const bool is_float = loss.scalar_type() == at::kFloat;
    const float* f = is_float ? loss.data_ptr<float>() : nullptr;
    const double* d = is_float ? nullptr : loss.data_ptr<double>();
    for (int64_t r = 0; r < R; ++r) {
      const double v = is_float ? static_cast<double>(f[r]) : d[r];
      // loss >= 0 when finite, so `v < inf` is false exactly for NaN and +Inf.
      if (!(v < std::numeric_limits<double>::infinity()) && first_bad_[static_cast<size_t>(r)] < 0)
        first_bad_[static_cast<size_t>(r)] = step;
    }
    return;
  }
  // Other devices: three small kernels, no host synchronisation. `alive` stays false from the first
  // non-finite loss on (the state need not stay non-finite: a retraction onto the sphere can turn Inf
  // back into finite numbers), so the count of alive steps is the offset of the first non-finite loss.
  if (!finite_steps_.defined() || finite_steps_.size(0) != R) {
    finite_steps_ = at::zeros({R}, loss.options().dtype(at::kLong));
    finite_mask_ = at::empty({R}, loss.options().dtype(at::kBool));
    alive_ = at::ones({R}, loss.options().dtype(at::kBool));
  }
  at::lt_out(finite_mask_, loss.detach(), std::numeric_limits<double>::infinity());
  alive_.logical_and_(finite_mask_);
  finite_steps_.add_(alive_);
}

void Monitor::check_divergence(int64_t step, models::Model& model) {
  const size_t runs = recorder_.runs().size();
  if (window_steps_ > 0) {
    for (size_t i = 0; i < runs && i < first_bad_.size(); ++i)
      if (first_bad_[i] >= 0) recorder_.mark_diverged(i, first_bad_[i]);
    std::fill(first_bad_.begin(), first_bad_.end(), -1);
    if (finite_steps_.defined()) {
      const std::vector<double> finite = to_vector(finite_steps_);
      for (size_t i = 0; i < runs && i < finite.size(); ++i)
        if (finite[i] < static_cast<double>(window_steps_))
          recorder_.mark_diverged(i, window_first_ + static_cast<int64_t>(finite[i]));
      finite_steps_.zero_();
      alive_.fill_(true);
    }
    window_steps_ = 0;
    window_first_ = -1;
  }
  at::NoGradGuard no_grad;
  // [R] bool: every parameter finite, and the perturbation they make (finite factors can overflow
  // in their product, s B A, and then break the metrics' batched SVD for the whole group).
  auto finite_rows = [](const at::Tensor& v) { return at::isfinite(v.detach()).reshape({v.size(0), -1}).all(1); };
  at::Tensor ok = finite_rows(model.adapter->delta());  // Delta [R, k, d]
  for (auto* p : model.adapter->parameters()) ok = ok.logical_and(finite_rows(p->value));  // [R, ...]
  const std::vector<double> flags = to_vector(ok);
  for (size_t i = 0; i < runs && i < flags.size(); ++i)
    if (flags[i] == 0) recorder_.mark_diverged(i, after(step));  // the loss of step + 1 is the first non-finite one
}

void Monitor::capture_state(models::Model& model, const std::vector<bool>& recorded) {
  at::NoGradGuard no_grad;
  const auto params = model.adapter->parameters();
  const bool all = std::all_of(recorded.begin(), recorded.end(), [](bool b) { return b; });
  if (state_.size() != params.size()) {
    state_.clear();
    for (auto* p : params) state_.push_back(p->value.detach().clone());
    return;  // the first record: every run records or is diverged (and then never restored from it)
  }
  for (size_t j = 0; j < params.size(); ++j) {
    if (all) {
      state_[j].copy_(params[j]->value);
      continue;
    }
    for (size_t i = 0; i < recorded.size(); ++i) {
      const int64_t r = static_cast<int64_t>(i);
      if (recorded[i]) state_[j].select(0, r).copy_(params[j]->value.select(0, r));
    }
  }
}

void Monitor::restore_inactive(models::Model& model) {
  std::vector<int64_t> saved, lost;  // runs that left with a snapshot / without one
  int64_t donor = -1;
  for (size_t i = 0; i < recorder_.runs().size(); ++i) {
    if (recorder_.active(i)) {
      if (donor < 0) donor = static_cast<int64_t>(i);
    } else if (recorder_.runs()[i].recorded_step >= 0 && !state_.empty()) {
      saved.push_back(static_cast<int64_t>(i));
    } else {
      lost.push_back(static_cast<int64_t>(i));
    }
  }
  if (saved.empty() && (lost.empty() || donor < 0)) return;
  at::NoGradGuard no_grad;
  const auto params = model.adapter->parameters();
  for (size_t j = 0; j < params.size(); ++j) {
    at::Tensor v = params[j]->value;
    for (int64_t i : saved) v.select(0, i).copy_(state_[j].select(0, i));
    if (donor >= 0)
      for (int64_t i : lost) v.select(0, i).copy_(v.select(0, donor));
  }
  model.adapter->after_update();
}

bool Monitor::record(int64_t step, models::Model& model, const at::Tensor& train_loss) {
  throw_if_interrupted();  // a stopped study abandons the group in flight; finished groups are on disk
  if (cancel_ && cancel_->load()) throw Cancelled();
  check_divergence(step, model);
  if (recorder_.none_active()) return true;  // nothing left to record (and metrics may fail on NaN)
  restore_inactive(model);
  std::map<std::string, std::vector<double>> values;
  try {
    for (const auto& [name, v] : metrics_.evaluate(model)) values[name] = to_vector(v);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    // LibTorch (e.g. a batched SVD meeting Inf): say where, without the C++ backtrace.
    const std::string what = e.what();
    throw Error(fmt::format("computing the metrics at step {} failed: {}", step,
                            what.substr(0, what.find("\nException raised from"))));
  }
  if (wants_train_loss_ && train_loss.defined()) values["train_loss"] = to_vector(train_loss);
  // A non-finite metric at step (parameters left by step) shows in the loss of step + 1 (see monitor.h).
  for (size_t i = 0; i < recorder_.runs().size(); ++i)
    for (const auto& [name, v] : values)
      if (i < v.size() && !std::isfinite(v[i])) recorder_.mark_diverged(i, name == "train_loss" ? step : after(step));
  std::vector<bool> recorded(recorder_.runs().size());
  for (size_t i = 0; i < recorded.size(); ++i) recorded[i] = recorder_.active(i);
  recorder_.record_all(step, values);
  for (size_t i = 0; i < recorded.size(); ++i) recorded[i] = recorded[i] && recorder_.runs()[i].recorded_step == step;
  capture_state(model, recorded);
  if (progress_) {
    std::string extra;
    for (const auto& [name, v] : values)
      if (!v.empty()) extra += fmt::format(" {} {:.3g}", name, v[0]);
    progress_->update(step, extra);
  }
  if (hook_) hook_(RecordEvent{step, total_, values, recorder_});
  return recorder_.none_active();
}

bool Monitor::start(models::Model& model, const at::Tensor& train_loss) {
  at::NoGradGuard no_grad;
  if (!record(0, model, train_loss)) return false;
  finish(0, model);
  return true;
}

bool Monitor::end_step(int64_t step, models::Model& model, const at::Tensor& loss) {
  if (wants_train_loss_ && loss.defined()) {
    if (loss_sum_.defined()) {
      loss_sum_.add_(loss);
    } else {
      loss_sum_ = loss.detach().clone();
    }
    ++loss_count_;
  }
  if (!due(step)) return false;
  at::NoGradGuard no_grad;
  const at::Tensor mean = loss_count_ ? loss_sum_ / static_cast<double>(loss_count_) : at::Tensor();
  const bool stop = record(step, model, mean);
  if (loss_sum_.defined()) loss_sum_.zero_();
  loss_count_ = 0;
  return stop;
}

void Monitor::finish(int64_t steps, models::Model& model) {
  recorder_.finish(steps);
  restore_inactive(model);
  if (progress_) progress_->finish();
}

}  // namespace lrlab::trainers
