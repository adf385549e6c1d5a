#pragma once
/// `offline_gd`: a fixed training set of n samples per run, drawn once from the run's data stream, and
/// full-batch gradient descent (`batch: full`) or minibatch SGD over shuffled epochs (`batch: B`).
/// Records `train_loss` on the whole training set (at the current parameters) next to the test and
/// population losses, so sample complexity (online vs reused samples) can be studied.
///
/// Update s (0-based) as online_sgd (schedule, decoupled weight decay, spherical step), with the
/// gradient of the mean loss over the current minibatch (the whole set for full batch).

#include <memory>
#include <string>
#include <vector>

#include "trainers/gradients.h"
#include "trainers/lr_schedule.h"
#include "trainers/trainer.h"

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

/// Options of `offline_gd` (YAML section `trainer`).
struct OfflineGdOptions {
  int64_t n = 0;                    ///< training samples per run (0: use n_per_d)
  double n_per_d = 10.0;            ///< when n = 0: n = ceil(n_per_d * d)
  int64_t epochs = 100;             ///< passes over the set (ignored when steps > 0)
  int64_t steps = 0;                ///< if > 0: the update budget instead of epochs
  int64_t batch = 0;                ///< YAML `batch: full` (0) for full-batch GD, or B for minibatch SGD
  double lr = 0.5;                  ///< learning rate (may differ across replicas of a group)
  std::string lr_scaling = "none";  ///< none | inverse_d
  std::string grad = "analytic";    ///< analytic | autograd
  bool spherical = true;            ///< Riemannian step for parameters on the sphere
  bool early_stop = false;          ///< stop when every run reached every threshold
  LrScheduleOptions schedule;       ///< learning-rate schedule (replica 0's)
  double weight_decay = 0.0;        ///< decoupled L2 on non-sphere parameters (may differ across replicas)

  /// Reads and validates the options; `d` resolves n_per_d.
  static OfflineGdOptions from_config(const Config& cfg, int64_t d);
};

/// The registered `offline_gd` trainer.
class OfflineGd : public Trainer {
 public:
  /// `lr`: per replica before lr_scaling; `schedules`, `weight_decay`: per replica (empty: options').
  OfflineGd(const OfflineGdOptions& options, const std::vector<double>& lr, const models::Model& model,
            std::vector<LrScheduleOptions> schedules = {}, std::vector<double> weight_decay = {});
  /// Builds from the `trainer` section.
  static std::shared_ptr<OfflineGd> from_config(const Config& cfg, const models::Model& model);
  /// The options that may differ across the replicas of a group.
  static std::vector<std::string> stackable();
  std::string type() const override { return "offline_gd"; }
  int64_t steps() const override { return steps_; }
  bool early_stop() const override { return options_.early_stop; }
  void train(models::Model& model, Monitor& monitor) override;
  /// Samples per run.
  int64_t samples() const { return n_; }

 private:
  OfflineGdOptions options_;
  int64_t n_;
  int64_t steps_;
  LearningRates rates_;
};

}  // namespace lrlab::trainers
