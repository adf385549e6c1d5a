#pragma once
/// `adam` / `adamw`: Adam (coupled L2 `weight_decay`) and AdamW (decoupled `weight_decay`) through
/// torch::optim, on any adapter, with online data (fresh samples every step) or offline data (a fixed
/// training set of n samples, full batch or shuffled minibatches; see offline_gd.h).
///
/// - Parameter groups: one torch::optim group per adapter Parameter, with lr * Parameter::lr_scale
///   (e.g. LoRA+'s ratio on B) and the options below.
/// - Replicas: the optimiser runs on the stacked [R, ...] tensors. Adam's moments and update are
///   elementwise and its bias correction depends only on the step count, so replica r evolves exactly as
///   it would alone. A per-replica learning rate would need one group per replica and parameter (R
///   slices that torch::optim cannot share), so `lr` and every other option must be equal across a
///   group: none is declared stackable, and a sweep over lr runs one group per value.
/// - Parameters on the sphere (rank1's u): when `spherical`, the gradient is first projected on the
///   tangent space (g - <g, u> u); after each step u is renormalised to unit norm (a retraction). Their
///   group has weight_decay 0 (a unit vector has no scale to decay). Adam's moments live in ambient
///   coordinates (they are not transported along the sphere).
/// - `schedule` (lr_schedule.h) sets every group's lr at each step (lr_s * lr_scale).

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

/// Options of `adam` and `adamw` (YAML section `trainer`).
struct AdamOptions {
  int64_t steps = 1000;             ///< update budget (ignored when steps_per_d > 0 or, offline, epochs > 0)
  double steps_per_d = 0;           ///< if > 0: budget = ceil(steps_per_d * d)
  double lr = 1e-3;                 ///< learning rate (equal across a group; see above)
  std::vector<double> betas = {0.9, 0.999};  ///< (beta1, beta2), each in [0, 1)
  double eps = 1e-8;                ///< denominator epsilon (> 0)
  double weight_decay = -1;         ///< adam: coupled L2 (default 0); adamw: decoupled (default 0.01)
  bool amsgrad = false;             ///< AMSGrad variant
  std::string data = "online";      ///< online (fresh samples each step) | offline (fixed set of n samples)
  int64_t batch = 1;                ///< online: samples per step; offline: `full` (0) or minibatch size
  int64_t n = 0;                    ///< offline: training samples per run (0: use n_per_d)
  double n_per_d = 10.0;            ///< offline: n = ceil(n_per_d * d) when n = 0
  int64_t epochs = 0;               ///< offline: if > 0, budget = epochs * batches per epoch
  std::string grad = "analytic";    ///< analytic | autograd
  bool spherical = true;            ///< project sphere parameters' gradients on the tangent space
  bool early_stop = false;          ///< stop when every run reached every threshold
  LrScheduleOptions schedule;       ///< learning-rate schedule

  /// Reads and validates the options; `decoupled` selects adamw's weight_decay default (0.01); `d`
  /// resolves n_per_d (offline data).
  static AdamOptions from_config(const Config& cfg, bool decoupled, int64_t d);
};

/// The registered `adam` (decoupled = false) and `adamw` (decoupled = true) trainers.
class Adam : public Trainer {
 public:
  /// Builds for `model` (resolves steps_per_d and n_per_d with its d).
  Adam(const AdamOptions& options, bool decoupled, const models::Model& model);
  /// Builds `adam` (decoupled = false) or `adamw` (true) from the `trainer` section.
  static std::shared_ptr<Adam> from_config(const Config& cfg, const models::Model& model, bool decoupled);
  std::string type() const override { return decoupled_ ? "adamw" : "adam"; }
  int64_t steps() const override { return steps_; }
  bool early_stop() const override { return options_.early_stop; }
  void train(models::Model& model, Monitor& monitor) override;

 private:
  AdamOptions options_;
  bool decoupled_;
  int64_t n_ = 0;  // offline training-set size
  int64_t steps_;
};

}  // namespace lrlab::trainers
