#pragma once
/// `offline`: a fixed training set of n samples per run, drawn once from the run's data stream, and
/// full-batch gradient descent (`batch: full`) or minibatch SGD over shuffled epochs (`batch: B`).
/// Records `train_loss` on the whole training set (at the current parameters), so sample complexity
/// (online vs reused samples) can be studied.
///
/// Keys (trainer section): `n` or `n_per_d` (set size), `batch` (`full` or B), and the budget: `epochs`
/// (passes over the set) or `steps` / `steps_per_d` (updates); giving both is an error naming both.

#include <memory>
#include <string>
#include <vector>

#include "trainers/data_source.h"
#include "trainers/normal_generator.h"

namespace lrlab {
class Config;
}

namespace lrlab::trainers {

/// One minibatch: views into the (shuffled) training set.
struct Batch {
  at::Tensor x;   ///< inputs [R, b, d]
  at::Tensor wx;  ///< base pre-activations W x [R, b, k]
  at::Tensor y;   ///< labels [R, b]
};

/// A fixed training set of n samples per replica with per-replica shuffled minibatches.
///
/// Inputs and label noise come from each replica's data stream (Stream::kData, as online training;
/// on CUDA, DataSampler's one device generator). The shuffle of replica r uses a generator of its own
/// (stream_generator(seed_r, kShuffleStream)), so replica r's epochs do not depend on its group.
class TrainingSet {
 public:
  /// Stream id of the per-replica shuffling generators (outside the named Stream values).
  static constexpr Stream kShuffleStream = static_cast<Stream>(101);
  /// Draws n samples per replica and labels them with `model`'s teacher; `batch` 0 = full batch.
  TrainingSet(const models::Model& model, int64_t n, int64_t batch);
  /// Samples per replica n.
  int64_t size() const { return x_.size(1); }
  /// Minibatch size (n for full batch).
  int64_t batch() const { return batch_; }
  /// Minibatches per epoch, ceil(n / batch) (the last one may be smaller).
  int64_t batches_per_epoch() const { return (size() + batch_ - 1) / batch_; }
  /// The next minibatch; a new epoch starts with a fresh per-replica permutation (none for full batch).
  Batch next();
  /// Mean training loss (1/n) sum (f - y)^2 / 2 over the whole set at the current parameters [R].
  at::Tensor loss(models::Model& model) const;
  /// The whole set: x [R, n, d], wx [R, n, k], y [R, n].
  Batch all() const { return {x_, wx_, y_}; }

 private:
  void shuffle();
  int64_t batch_;
  int64_t position_ = 0;
  at::Tensor x_, wx_, y_;     // the set, in draw order
  at::Tensor xs_, wxs_, ys_;  // the current epoch's permutation of it
  std::vector<at::Generator> shufflers_;
};

/// Reads a `batch` option that is `full`, 0 (full batch) or a positive integer; returns 0 for full.
int64_t read_batch_option(const Config& cfg, const std::string& key, const std::string& fallback);
/// The training-set size: `n` when > 0, else ceil(n_per_d * d).
int64_t training_set_size(int64_t n, double n_per_d, int64_t d);
/// Reads and validates `n` and `n_per_d` (the set must hold 1..1e8 samples per replica) into *n, *n_per_d.
void read_training_set_options(const Config& cfg, int64_t d, int64_t* n, double* n_per_d);

/// The registered `offline` data source.
class OfflineSource : public DataSource {
 public:
  /// `n`: samples per run; `batch`: 0 for full batch; `steps`: budget.
  OfflineSource(int64_t n, int64_t batch, int64_t steps) : n_(n), batch_(batch), steps_(steps) {}
  /// Reads the set size, the batch and the budget from the trainer section.
  static std::shared_ptr<OfflineSource> from_config(const Config& cfg, const models::Model& model,
                                                    const SourceDefaults& defaults);
  std::string type() const override { return "offline"; }
  int64_t steps() const override { return steps_; }
  std::string begin(models::Model& model, UpdateRule& rule, GradPath grad, bool spherical) override;
  at::Tensor step(int64_t step, const at::Tensor& lr, const at::Tensor& decay, bool want_loss) override;
  bool loss_at_records() const override { return true; }
  at::Tensor record_loss(models::Model& model) override;
  void end() override;
  /// Samples per run n.
  int64_t samples() const { return n_; }

 private:
  int64_t n_, batch_, steps_;
  models::Model* model_ = nullptr;
  UpdateRule* rule_ = nullptr;
  GradPath grad_ = GradPath::kAnalytic;
  bool spherical_ = true;
  std::unique_ptr<TrainingSet> data_;
};

}  // namespace lrlab::trainers
