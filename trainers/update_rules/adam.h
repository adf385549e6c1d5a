#pragma once
/// `adam`: Adam (Kingma & Ba) with torch::optim::Adam's exact semantics, per replica, in the rule's
/// two versions (tensor ops over [R, ...], raw loops over one replica's slice) sharing one state.
///
/// Update t (counted from 1) of parameter theta with gradient g (the tangent gradient on the sphere),
/// step size eta = lr_s * lr_scale of the replica:
///   g   <- g + weight_decay theta                 (coupled L2, adam only; not on the sphere)
///   m   <- beta1 m + (1 - beta1) g                 v <- beta2 v + (1 - beta2) g^2
///   v^  <- max(v^, v) with amsgrad, else v^ = v
///   theta <- theta - (eta / (1 - beta1^t)) m / (sqrt(v^) / sqrt(1 - beta2^t) + eps)
/// State m, v (and v^ with amsgrad) is [R, ...] per parameter, in the parameter's dtype and device;
/// the raw version reads replica r's slice through data_ptr (CPU). Moments live in ambient
/// coordinates (they are not transported along the sphere). `adamw` (adamw.h) is the same rule with
/// decoupled decay through the shared step instead of the coupled L2 term.
///
/// YAML: `update: {type: adam, betas: [0.9, 0.999], eps: 1e-8, amsgrad: false, weight_decay: 0}`
/// (`weight_decay` may differ across the replicas of a group; the `adam` trainer preset reads these
/// keys from the trainer section itself).

#include <memory>
#include <string>
#include <vector>

#include "framework/per_replica.h"
#include "trainers/update_rule.h"

namespace lrlab {
class Config;
}

namespace lrlab::trainers {

/// Options of `adam` / `adamw`.
struct AdamOptions {
  double beta1 = 0.9;                  ///< first-moment decay, in [0, 1)
  double beta2 = 0.999;                ///< second-moment decay, in [0, 1)
  double eps = 1e-8;                   ///< denominator epsilon (> 0)
  bool amsgrad = false;                ///< AMSGrad: normalise by the running maximum of v
  PerReplica<double> weight_decay{0};  ///< adam: coupled L2 coefficient per replica (>= 0); adamw: unused

  /// Reads `betas`, `eps`, `amsgrad` and, when `coupled_decay`, `weight_decay` (per replica) from
  /// `cfg` without rejecting other keys (the presets read them from the trainer section).
  static AdamOptions read(const Config& cfg, bool coupled_decay);
};

/// The registered `adam` update rule (base of `adamw`).
class Adam : public UpdateRule {
 public:
  /// `decoupled`: adamw (decay through the shared step) instead of adam's coupled L2.
  Adam(AdamOptions options, int64_t replicas, bool decoupled = false);
  /// Reads the `update` section and rejects unknown keys.
  static std::shared_ptr<Adam> from_config(const Config& cfg, int64_t replicas);
  /// Option keys that may differ across the replicas of a group (relative to the `update` section).
  static std::vector<std::string> stackable() { return {"weight_decay"}; }
  std::string type() const override { return decoupled_ ? "adamw" : "adam"; }
  void init(const std::vector<models::Parameter*>& params) override;
  bool decoupled_decay() const override { return decoupled_; }
  void apply(size_t j, models::Parameter& p, const at::Tensor& grad, const at::Tensor& eta, int64_t step) override;
  void apply_replica(size_t j, int64_t r, float* value, const double* grad, int64_t n, double eta,
                     int64_t step) override;
  void apply_replica(size_t j, int64_t r, double* value, const double* grad, int64_t n, double eta,
                     int64_t step) override;
  /// The options.
  const AdamOptions& options() const { return options_; }

 private:
  template <class T>
  void step_replica(size_t j, int64_t r, T* value, const double* grad, int64_t n, double eta, int64_t step);
  AdamOptions options_;
  int64_t replicas_;
  bool decoupled_;
  bool coupled_ = false;              // adam with some replica's weight_decay > 0
  std::vector<at::Tensor> m_, v_, vmax_;  // per parameter, [R, ...]
  std::vector<bool> on_sphere_;       // per parameter
  at::Tensor decay_;                  // [R] coupled weight_decay, parameter dtype
};

}  // namespace lrlab::trainers
