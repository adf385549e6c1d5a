#pragma once
/// What every update rule shares (trainers/update_rule.h, steps 2, 3 and 5), written once, each in a
/// tensor version (stacked [R, ...] parameters, any device) and a raw version (one replica's slice on
/// the CPU, for the fast path); tests/trainers/parameter_ops_test.cpp checks the two against each other.
///
///   tangent projection (sphere):  g <- g - <g, u> u                      u, g [R, d] / [d]
///   retraction (sphere):          u <- u / |u|
///   decoupled weight decay:       theta <- theta (1 - decay * lr_scale)   decay [R] = lr_s * weight_decay

#include <ATen/ATen.h>

#include <cstdint>

#include "models/adapters/adapter.h"

namespace lrlab::trainers {

/// The tangent part of g at u: g - <g, u> u, row-wise over the last axis (u, g [R, ..., d]).
at::Tensor project_tangent(const at::Tensor& u, const at::Tensor& g);
/// u <- u / |u| in place, row-wise over the last axis.
void retract(at::Tensor& u);
/// Decoupled weight decay on every adapter parameter not on the sphere: theta *= 1 - decay * lr_scale,
/// decay [R] (= lr_s * weight_decay per replica).
void apply_weight_decay(models::Adapter& adapter, const at::Tensor& decay);

class UpdateRule;

/// Steps 2-5 of trainers/update_rule.h on every parameter with a filled Parameter::grad (tensor ops over
/// the stacked group): decoupled weight decay with `decay` [R] = lr_s * weight_decay (undefined: none;
/// skipped when the rule does not want it), the tangent projection on the sphere when `spherical`, the
/// rule with eta = lr [R] * lr_scale, the retraction; then Adapter::after_update. `step` counts from 1.
void apply_updates(models::Adapter& adapter, UpdateRule& rule, const at::Tensor& lr, const at::Tensor& decay,
                   bool spherical, int64_t step);

/// Raw: g <- g - <g, u> u for one replica (n numbers; <g, u> accumulated in double).
template <class T>
void project_tangent(const T* u, double* g, int64_t n);
/// Raw: u <- u / |u| for one replica.
template <class T>
void retract(T* u, int64_t n);
/// Raw: v *= factor (decoupled weight decay with factor = 1 - decay * lr_scale).
template <class T>
void scale_values(T* v, int64_t n, double factor);

}  // namespace lrlab::trainers
