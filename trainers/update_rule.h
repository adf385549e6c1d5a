#pragma once
/// The update-rule contract: how a parameter moves given its gradient (sgd, adam, adamw, sign_sgd, ...).
///
/// The descent loop (and the fast CPU path, trainers/kernel_step.h) does what every rule shares, once
/// (trainers/parameter_ops.h), so a rule is only its own arithmetic:
///   1. the gradient g of every parameter is computed (kernel, batched tensor ops or autograd);
///   2. decoupled weight decay, theta <- theta - lr_s * weight_decay * lr_scale * theta, for every
///      parameter not on the sphere (when some replica has weight_decay > 0);
///   3. for a parameter on the sphere with `spherical`: g <- g - <g, u> u (the tangent part);
///   4. the rule:  theta <- rule(theta, g, eta) with eta = lr_s * lr_scale of the replica;
///   5. for a parameter on the sphere: u <- u / |u| (the retraction).
///
/// A rule implements two versions of the same arithmetic, and tests/trainers/update_rules_test.cpp
/// checks them against each other for every registered rule:
///  - `apply`: tensor ops over the stacked [R, ...] parameter (any device; the batched path);
///  - `apply_replica`: one replica's slice on raw CPU arrays (the fast path), for float and double.
/// State (moments, ...) belongs to the rule, indexed by the parameter's position j in
/// `Adapter::parameters()` and by replica; both versions must read and write the same state.

#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <vector>

#include "framework/registry.h"
#include "models/adapters/adapter.h"

namespace lrlab::trainers {

/// A registered update rule (YAML `update: {type: sgd | adam | adamw | sign_sgd, ...}`).
class UpdateRule {
 public:
  virtual ~UpdateRule() = default;
  /// Registry key.
  virtual std::string type() const = 0;
  /// Sizes the state for `params` (each value [R, ...]); called once before the first step.
  virtual void init(const std::vector<models::Parameter*>& params) { (void)params; }
  /// Whether the rule wants the decoupled weight decay of step 2 applied before it (sgd, adamw,
  /// sign_sgd: yes; adam applies its coupled L2 term itself).
  virtual bool decoupled_decay() const { return true; }
  /// True when the rule is theta <- theta - eta g with no state (sgd): the fused CUDA step
  /// (trainers/cuda/fused_math.h) runs it; other rules fall back to the batched path. Default: false.
  virtual bool plain_descent() const { return false; }
  /// Batched: updates parameter j (all replicas) from `grad` (same shape as p.value) with
  /// `eta` [R] = lr_s * lr_scale per replica; `step` counts updates from 1.
  virtual void apply(size_t j, models::Parameter& p, const at::Tensor& grad, const at::Tensor& eta, int64_t step) = 0;
  /// Fast path: updates replica r's slice of parameter j, `value` (n numbers) from `grad` (n doubles)
  /// with step size `eta` = lr_s * lr_scale; `step` counts updates from 1.
  virtual void apply_replica(size_t j, int64_t r, float* value, const double* grad, int64_t n, double eta,
                             int64_t step) = 0;
  /// As above in double precision.
  virtual void apply_replica(size_t j, int64_t r, double* value, const double* grad, int64_t n, double eta,
                             int64_t step) = 0;
};

/// Default update rule of the descent trainers.
inline constexpr const char* kDefaultUpdateRule = "sgd";

/// Update rules are built from the `update` section with the number of replicas R.
using UpdateRuleRegistry = Registry<UpdateRule, int64_t>;
/// The update-rule registry (filled on first use, in register.cpp).
UpdateRuleRegistry& update_rule_registry();

}  // namespace lrlab::trainers
