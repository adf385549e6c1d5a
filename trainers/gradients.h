#pragma once
/// Gradients of the batch loss L = (1/B) sum_b (f(x_b) - y_b)^2 / 2 for every replica, by the
/// adapter's hand-derived backward pass or by autograd through the same forward pass.

#include <ATen/ATen.h>

#include <string>

#include "models/register.h"

namespace lrlab::trainers {

/// Which gradient path to use (YAML `grad: analytic | autograd`).
enum class GradPath { kAnalytic, kAutograd };

/// Parses "analytic" / "autograd".
GradPath parse_grad_path(const std::string& word);

/// Fills every adapter Parameter::grad with dL/dtheta for inputs x [R, B, d], base pre-activations
/// wx [R, B, k] and labels y [R, B]. Returns the per-replica loss L [R] when `want_loss`, else an
/// undefined tensor. Replicas are independent: replica r's gradient is that of its own loss.
at::Tensor compute_gradients(models::Model& model, const at::Tensor& x, const at::Tensor& wx, const at::Tensor& y,
                             GradPath path, bool want_loss);

/// Marks every parameter as requiring grad (autograd path) or not (analytic path).
void set_requires_grad(models::Adapter& adapter, bool requires_grad);

}  // namespace lrlab::trainers
