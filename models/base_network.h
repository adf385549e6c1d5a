#pragma once
/// The frozen base network f_W(x) = lam^T sigma(W x) (MATH.md), stacked over R replicas.

#include <ATen/ATen.h>

#include <memory>
#include <string>

#include "models/activation.h"

namespace lrlab::models {

/// A two-layer network with frozen weights. Subclasses (registered types) only choose how W and lam
/// are initialised; the forward pass is shared.
class BaseNetwork {
 public:
  virtual ~BaseNetwork() = default;
  /// Registry key of the concrete type.
  virtual std::string type() const = 0;

  /// First layer W [R, k, d] (rows w_i).
  const at::Tensor& weight() const { return weight_; }
  /// Second layer lam [R, k].
  const at::Tensor& lam() const { return lam_; }
  /// The activation sigma.
  const Activation& activation() const { return *activation_; }
  /// Shared pointer to the activation (for components that keep it).
  std::shared_ptr<Activation> activation_ptr() const { return activation_; }
  /// Input dimension d.
  int64_t d() const { return weight_.size(2); }
  /// Width k.
  int64_t k() const { return weight_.size(1); }
  /// Replicas R.
  int64_t replicas() const { return weight_.size(0); }

  /// Pre-activations W x: x [R, B, d] -> [R, B, k].
  at::Tensor preactivations(const at::Tensor& x) const { return at::bmm(x, weight_.transpose(1, 2)); }
  /// Output lam^T sigma(h): h [R, B, k] -> [R, B].
  at::Tensor output(const at::Tensor& h) const {
    return at::bmm(activation_->value(h), lam_.unsqueeze(2)).squeeze(2);
  }

 protected:
  at::Tensor weight_;                       // [R, k, d]
  at::Tensor lam_;                          // [R, k]
  std::shared_ptr<Activation> activation_;  // sigma
};

}  // namespace lrlab::models
