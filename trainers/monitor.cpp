#include "trainers/monitor.h"

#include <fmt/format.h>

#include <algorithm>

#include "framework/interrupt.h"

namespace lrlab::trainers {

Monitor::Monitor(models::MetricSet& metrics, Recorder& recorder, int64_t total_steps, bool early_stop,
                 Progress* progress)
    : metrics_(metrics), recorder_(recorder), total_(total_steps), early_stop_(early_stop), progress_(progress) {
  const auto& o = metrics.options();
  every_ = o.every > 0 ? o.every : std::max<int64_t>(1, total_steps / 100);
  if (progress_) progress_->set_total(total_steps);
  wants_train_loss_ = std::find(o.names.begin(), o.names.end(), "train_loss") != o.names.end();
}

std::vector<double> to_vector(const at::Tensor& values) {
  at::Tensor v = values.detach().to(at::kCPU, at::kDouble).contiguous();
  return std::vector<double>(v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
}

bool Monitor::record(int64_t step, models::Model& model, const at::Tensor& train_loss) {
  throw_if_interrupted();  // a stopped study abandons the group in flight; finished groups are on disk
  std::string extra;
  for (const auto& [name, values] : metrics_.evaluate(model)) {
    auto v = to_vector(values);
    recorder_.record(step, name, v);
    if (!v.empty()) extra += fmt::format(" {} {:.3g}", name, v[0]);
  }
  if (wants_train_loss_ && train_loss.defined()) recorder_.record(step, "train_loss", to_vector(train_loss));
  if (progress_) progress_->update(step, extra);
  return recorder_.all_diverged() || (early_stop_ && recorder_.all_reached());
}

void Monitor::finish(int64_t steps) {
  recorder_.finish(steps);
  if (progress_) progress_->finish();
}

}  // namespace lrlab::trainers
