#pragma once
/// Per-replica learning rates along a schedule (trainers/schedule.h), and the decoupled weight-decay
/// factors lr_s * weight_decay that go with them.
///
/// Cost: LearningRates keeps the [R] learning-rate tensor and rewrites it in place only when a value
/// changes (never for `constant`, every `every` steps for `step`); on the CPU it writes the R numbers
/// straight into the tensor's memory (no ATen op, no allocation), elsewhere it is one copy from a
/// reused CPU buffer.

#include <ATen/ATen.h>

#include <memory>
#include <vector>

#include "framework/context.h"
#include "trainers/schedule.h"

namespace lrlab::trainers {

/// Per-replica learning rates lr_s [R] (and lr_s * weight_decay [R]) along a schedule.
class LearningRates {
 public:
  /// `lr`: base rates per replica before lr_scaling, multiplied by `factor`; `schedule`: the group's
  /// schedule (nullptr: constant); `total`: the step budget; `weight_decay`: per replica (empty, or
  /// all zero: no decay; one value: every replica).
  LearningRates(const Context& ctx, const std::vector<double>& lr, std::shared_ptr<const Schedule> schedule,
                double factor, int64_t total, std::vector<double> weight_decay = {});
  /// Moves to update s (0-based): rewrites lr() and decay() in place when their values change.
  void set_step(int64_t s);
  /// The current learning rates [R] (context dtype and device; the same tensor for the whole run).
  const at::Tensor& lr() const { return lr_; }
  /// lr_s * weight_decay [R] (undefined when there is no decay).
  const at::Tensor& decay() const { return decay_; }
  /// True when the rates never change along the run (no schedule, or a constant one): then several
  /// updates may run with one lr() (multi-step launches of the fused CUDA step).
  bool constant() const { return !schedule_ || schedule_->constant(); }
  /// True when some replica has weight_decay > 0.
  bool has_decay() const { return decay_.defined(); }
  /// The current learning rates, one per replica.
  const std::vector<double>& values() const { return current_; }

 private:
  void compute(int64_t s, std::vector<double>& out) const;
  void write(at::Tensor& target, const std::vector<double>& values);
  std::vector<double> base_;  // lr * factor per replica
  std::shared_ptr<const Schedule> schedule_;
  double factor_;
  int64_t total_;
  std::vector<double> weight_decay_;
  std::vector<double> current_, scratch_, decay_values_;
  at::Tensor lr_, decay_, staging_;
};

}  // namespace lrlab::trainers
