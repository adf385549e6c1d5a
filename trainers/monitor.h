#pragma once
/// What a trainer reports to while it runs: it records the metrics on schedule, tracks hitting times
/// and divergence (through the Recorder), shows progress, and decides early stopping.
///
/// Divergence. A run's diverged step is the first step whose training loss is non-finite (the loss of
/// step s is computed from the parameters left by step s - 1, on step s's batch). It is found at two
/// granularities:
///  - every step, for trainers that call `watch_step` with the step's loss [R]: on the CPU a loop over
///    the R values notes each replica's first non-finite loss (measured: well under 0.1 us per step;
///    three ATen calls cost 4 us, 40% of a fused online-SGD step at d = 64, R = 4); on other devices
///    three small kernels count, without host synchronisation, the steps of the record window before
///    the first non-finite loss. Either is read at the next record and locates the step exactly;
///  - at every record, for every trainer: a run whose parameters or perturbation Delta (after step r)
///    or metrics (at step r)
///    are non-finite although its watched losses were finite is diverged at r + 1 (NaN or Inf in the
///    parameters shows in the loss of step r + 1). Where the numbers are merely huge, a metric can be
///    non-finite at a record while every training loss stays finite (e.g. rank1's retraction of an
///    overflowing u gives u = 0 for one step, and the overlap is 0/0): such a run is diverged too, at
///    the first record that sees it, so then the step depends on metrics.every.
/// A diverged run records nothing more (its curve keeps every record before its diverged step). A run
/// whose state after the last step (the budget) is non-finite is diverged at that last step, so
/// diverged_step never exceeds the budget.
///
/// Saved state = reported state. A run leaves its group (diverged, or stopped early) but its replica
/// stays in the group's tensors (stacked runs cannot leave without re-stacking every tensor) and keeps
/// being stepped. So at each record the monitor copies the parameters of every run that recorded there
/// (a per-replica snapshot), and at every later record and at the end it puts each run that has left
/// back to its snapshot: the state of its last record, whose metrics are its final values in runs.csv
/// (the stop step for a run stopped early; the last record before its diverged step for a diverged
/// run). This keeps NaN and Inf of diverged runs out of batched operations that would fail for the
/// whole group (a batched SVD in a metric) and makes the trained model, and so the saved tensors, hold
/// every run at the step its runs.csv row reports. A diverged run with no finite record at all gets an
/// active replica's parameters instead (it has no state worth keeping; its tensors are not saved).
/// Every operation is per replica, so the other runs are bitwise unaffected. A group stops as soon as
/// none of its runs is still active.

#include <ATen/ATen.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "framework/progress.h"
#include "models/metrics.h"
#include "trainers/recorder.h"

namespace lrlab::trainers {

/// What a record hook sees after each record (on the training thread).
struct RecordEvent {
  int64_t step;                                             ///< the recorded step
  int64_t steps;                                            ///< the trainer's budget
  const std::map<std::string, std::vector<double>>& values;  ///< metric -> one value per run
  const Recorder& recorder;                                 ///< everything recorded so far
};

/// Called after each record (live curves and progress of a running study, study/scheduler.h).
using RecordHook = std::function<void(const RecordEvent&)>;

/// Metric schedule and bookkeeping shared by every trainer.
class Monitor {
 public:
  /// `total_steps`: the trainer's budget; `early_stop`: a run stops once it reached every threshold
  /// (and the group once every run has stopped or diverged).
  Monitor(models::MetricSet& metrics, Recorder& recorder, int64_t total_steps, bool early_stop,
          Progress* progress = nullptr);
  /// Steps between records.
  int64_t every() const { return every_; }
  /// True when metrics are due at `step` (every `every` steps, and at the last step).
  bool due(int64_t step) const { return step % every_ == 0 || step == total_; }
  /// The first step >= `step` at which metrics are due (multi-step launches end there).
  int64_t next_due(int64_t step) const { return std::min((step + every_ - 1) / every_ * every_, total_); }
  /// Per-step divergence watch: `loss` [R] is the training loss of `step` (>= 0 when finite). Steps
  /// must be watched in order, without gaps, between records. Cheap: no host synchronisation.
  void watch_step(int64_t step, const at::Tensor& loss);
  /// Records every metric at `step`; `train_loss` [R] is the mean training loss since the last
  /// record (undefined tensor: none). Also checks the parameters for non-finite values. Returns true
  /// when training should stop (no run is still active). Throws Interrupted on SIGINT/SIGTERM and
  /// Cancelled when the cancel flag is set.
  bool record(int64_t step, models::Model& model, const at::Tensor& train_loss);
  /// Records the metrics at step 0 (without autograd), with `train_loss` [R] when defined; when that
  /// already stops training (every threshold reached at init), also finishes the run. Returns true when
  /// training should not start.
  bool start(models::Model& model, const at::Tensor& train_loss = at::Tensor());
  /// Ends step `step` of a trainer that measures its training loss each step: adds `loss` [R] (may be
  /// undefined) to the running mean when train_loss is recorded, and records every metric when due,
  /// with that mean as train_loss. Returns true when training should stop.
  bool end_step(int64_t step, models::Model& model, const at::Tensor& loss);
  /// Ends the run after `steps` steps and puts every run that left early back to the state of its last
  /// record (see above), so that `model` holds each run at the step its record reports.
  void finish(int64_t steps, models::Model& model);
  /// Whether `train_loss` is recorded.
  bool wants_train_loss() const { return wants_train_loss_; }
  /// A flag that, once true, makes the next record throw Cancelled (another group of the study failed).
  void set_cancel_flag(const std::atomic<bool>* cancel) { cancel_ = cancel; }
  /// A hook called after each record (empty: none).
  void set_record_hook(RecordHook hook) { hook_ = std::move(hook); }

 private:
  at::Tensor loss_sum_;      // running sum of the training loss since the last record [R]
  int64_t loss_count_ = 0;  // steps in loss_sum_
  /// The diverged step of a state left non-finite by `step`: step + 1, whose loss is the first
  /// non-finite one, or the last step when `step` is the budget (there is no step after it).
  int64_t after(int64_t step) const { return std::min(step + 1, total_); }
  /// Marks runs whose watched losses or whose parameters are non-finite as diverged.
  void check_divergence(int64_t step, models::Model& model);
  /// Copies the parameters of every run that recorded at this record (`recorded` [R]) into the snapshot.
  void capture_state(models::Model& model, const std::vector<bool>& recorded);
  /// Puts every run that is no longer active back to its snapshot (one without a snapshot, diverged
  /// before its first record, gets an active replica's parameters); active runs are untouched.
  void restore_inactive(models::Model& model);

  models::MetricSet& metrics_;
  Recorder& recorder_;
  int64_t total_;
  int64_t every_;
  bool early_stop_;
  bool wants_train_loss_;
  Progress* progress_;
  const std::atomic<bool>* cancel_ = nullptr;
  std::vector<at::Tensor> state_;  // per adapter parameter [R, ...]: each run's parameters at its last record
  RecordHook hook_;
  std::vector<int64_t> first_bad_;  // CPU: per replica, the first non-finite loss's step in this window (-1: none)
  at::Tensor finite_steps_;  // other devices: [R] int64, steps before the first non-finite loss in this window
  at::Tensor finite_mask_;   // [R] bool: scratch
  at::Tensor alive_;         // [R] bool: no non-finite loss yet in this window
  int64_t window_first_ = -1;  // first watched step since the last record (-1: none)
  int64_t window_steps_ = 0;   // watched steps since the last record
};

/// A [R] tensor as one double per replica.
std::vector<double> to_vector(const at::Tensor& values);

}  // namespace lrlab::trainers
