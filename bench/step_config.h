#pragma once
/// One benchmark configuration of the online-SGD step and what it costs in principle.
///
/// The model: two_layer base (d, k, ReLU, rows on the sphere, lam = 1/k), low_rank teacher of rank 1
/// (xi* = 1, no label noise), any registered adapter (`rank1` with c trained, `lora` with rank 2, the
/// others with their defaults), R replicas with seeds 0..R-1, B samples per step.

#include <ATen/ATen.h>

#include <string>

#include "study/group_runner.h"

namespace lrlab::bench {

/// Shapes of one configuration.
struct StepConfig {
  std::string adapter;  ///< a registered adapter key
  int64_t d = 100;      ///< input dimension
  int64_t k = 4;        ///< width
  int64_t batch = 1;    ///< B
  int64_t replicas = 1; ///< R
  int64_t adapter_rows = 1;  ///< rows of d numbers the adapter dots with every sample (set by describe)
  int64_t trained = 0;       ///< trained numbers per replica (set by describe)

  /// "rank1/d100/k4/B1/R1" (what --filter matches).
  std::string label() const;
  /// Reads adapter_rows (the adapter's CPU kernel's rows(), else its trained rows of length d) and
  /// trained from a built model of this configuration.
  void describe(models::Model& model);
  /// Arithmetic of one replica-step in FLOPs (a multiply-add counts 2): the dot products of every
  /// sample with W's k rows, U*'s row and the adapter's rows, the gradient of every trained number
  /// (B multiply-adds each) and its update, and the O(B k) work on pre-activations (what any
  /// implementation of the step must do).
  double flops() const;
  /// Gaussian numbers drawn per replica-step (B d).
  int64_t samples() const { return batch * d; }
  /// Bytes one replica-step must read at least: W, U*, the adapter's rows and its trained numbers
  /// (read and written).
  int64_t model_bytes(at::ScalarType dtype) const;
};

/// Builds the group (R runs, seeds 0..R-1) on `device` in `dtype` ("float32" | "float64").
study::BuiltGroup build_step_group(const StepConfig& c, const std::string& device, const std::string& dtype);

}  // namespace lrlab::bench
