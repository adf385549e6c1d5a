#pragma once
/// `adamw`: AdamW (Loshchilov & Hutter) with torch::optim::AdamW's semantics: Adam's moments and step
/// (adam.h) without the coupled L2 term; weight decay is the decoupled step shared by every rule
/// (trainers/parameter_ops.h), theta <- theta (1 - lr_s weight_decay lr_scale), before the Adam step,
/// with the trainer's `weight_decay` (per replica; the `adamw` trainer preset defaults it to 0.01).
///
/// YAML: `update: {type: adamw, betas: [0.9, 0.999], eps: 1e-8, amsgrad: false}`.

#include <memory>

#include "trainers/update_rules/adam.h"

namespace lrlab::trainers {

/// The registered `adamw` update rule.
class AdamW : public Adam {
 public:
  /// Adam with decoupled decay.
  AdamW(AdamOptions options, int64_t replicas) : Adam(std::move(options), replicas, /*decoupled=*/true) {}
  /// Reads the `update` section and rejects unknown keys.
  static std::shared_ptr<AdamW> from_config(const Config& cfg, int64_t replicas);
};

}  // namespace lrlab::trainers
