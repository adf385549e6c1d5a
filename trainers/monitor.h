#pragma once
/// What a trainer reports to while it runs: it records the metrics on schedule, tracks hitting times
/// and divergence (through the Recorder), shows progress, and decides early stopping.

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>

#include "framework/progress.h"
#include "framework/recorder.h"
#include "models/metrics.h"

namespace lrlab::trainers {

/// Metric schedule and bookkeeping shared by every trainer.
class Monitor {
 public:
  /// `total_steps`: the trainer's budget; `early_stop`: stop once every run reached every threshold.
  Monitor(models::MetricSet& metrics, Recorder& recorder, int64_t total_steps, bool early_stop,
          Progress* progress = nullptr);
  /// Steps between records.
  int64_t every() const { return every_; }
  /// True when metrics are due at `step` (every `every` steps, and at the last step).
  bool due(int64_t step) const { return step % every_ == 0 || step == total_; }
  /// Records every metric at `step`; `train_loss` [R] is the mean training loss since the last
  /// record (undefined tensor: none). Returns true when training should stop (early stop reached, or
  /// every run diverged).
  bool record(int64_t step, models::Model& model, const at::Tensor& train_loss);
  /// Ends the run after `steps` steps.
  void finish(int64_t steps);
  /// Whether `train_loss` is recorded.
  bool wants_train_loss() const { return wants_train_loss_; }

 private:
  models::MetricSet& metrics_;
  Recorder& recorder_;
  int64_t total_;
  int64_t every_;
  bool early_stop_;
  bool wants_train_loss_;
  Progress* progress_;
};

/// A [R] tensor as one double per replica.
std::vector<double> to_vector(const at::Tensor& values);

}  // namespace lrlab::trainers
