#pragma once
/// The fused CPU step of online SGD for `rank1` and `lora` adapters: sampling, base and teacher
/// forward, the student's forward and hand-derived backward, and the parameter update, for one replica
/// at a time in plain loops over raw arrays (trainers/cpu_kernels.h), with no LibTorch operation and no
/// allocation per step. It computes exactly what the batched ATen path computes (the reference:
/// DataSampler::next_inputs, BaseNetwork/Teacher forward, compute_gradients, gradient_step), to
/// rounding; tests/trainers/fused_step_test.cpp checks every option against it.
///
/// Per replica r and step (B samples x_b [d], W [k, d], teacher U* [d, t], C* [k, t]):
///   p_b   = (W x_b, U*^T x_b, adapter rows . x_b)       one pass over x: [B, k + t + a] dot products
///   h*_b  = W x_b + xi* C* (U*^T x_b);  y_b = lam . sigma(h*_b) + tau eps_b
///   rank1: s_b = <u, x_b>, h_b = W x_b + xi s_b c;   lora: z_b = A x_b [r], h_b = W x_b + s B z_b
///   e_b   = lam . sigma(h_b) - y_b;  g_b = (e_b / B) lam (.) sigma'(h_b)  [k]  (dL/dh of the batch mean)
///   rank1 (MATH.md): dL/du = xi sum_b (c . g_b) x_b; dL/dc = xi sum_b s_b g_b; dL/dxi = sum_b (c . g_b) s_b
///     spherical step without forming dL/du: <dL/du, u> = xi sum_b (c . g_b) s_b, so
///     u' = (1 + eta <dL/du, u>) u - eta xi sum_b (c . g_b) x_b, then u <- u' / |u'|
///   lora: dL/dB = s sum_b g_b z_b^T [k, r]; dL/dA = s sum_b (B^T g_b) x_b^T [r, d] (applied in place)
/// The loss L_r = sum_b e_b^2 / (2 B) is returned when asked for. Parameter::grad is not filled.
///
/// With more than one intra-op thread (at::set_num_threads) and at least 131072 numbers drawn per step,
/// the replicas are split across threads (at::parallel_for, OpenMP: this file is compiled with the
/// OpenMP flag, see trainers/CMakeLists.txt). Each replica draws from its own stream, so the result
/// does not depend on the thread count.

#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <vector>

#include "models/register.h"
#include "trainers/data_sampler.h"

namespace lrlab::trainers {

class ScalarActivation;

/// The fused step for one model (built once per training run).
class FusedStep {
 public:
  /// The fused step for `model`, or nullptr when it does not apply; then `why` says why (not on the
  /// CPU, dtype not float32/float64, adapter not exactly rank1/lora, teacher not exactly low_rank,
  /// an activation without a scalar version, a parameter flag it does not handle).
  static std::unique_ptr<FusedStep> make(models::Model& model, int64_t batch, bool spherical, std::string* why);
  ~FusedStep();

  /// One step for every replica: draws from `sampler` (per-replica CPU streams, in the order of the
  /// reference path: x, then eps when `noisy`), updates the adapter in place with learning rates
  /// lr [R] and, when `decay` [R] = lr * weight_decay is defined, decoupled weight decay on the
  /// parameters off the sphere (as apply_weight_decay before gradient_step, with gradients taken before
  /// either). Returns the per-replica loss [R] when `want_loss` (a buffer reused by the next step),
  /// else an undefined tensor.
  at::Tensor step(DataSampler& sampler, const at::Tensor& lr, const at::Tensor& decay, bool noisy, bool want_loss);

  /// How many threads ran replicas in the last step (1 unless at::get_num_threads() > 1 and the step
  /// has enough work; see kParallelMinWork in fused_step.cpp).
  int threads_used() const;
  /// True when fused_step.cpp was compiled with OpenMP (else at::parallel_for runs on one thread).
  static bool parallel_available();

  struct Impl;  ///< dtype-specific state (fused_step.cpp)

 private:
  FusedStep() = default;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lrlab::trainers
