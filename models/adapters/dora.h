#pragma once
/// `dora` (weight-decomposed low-rank adaptation, MATH.md): the student's first layer is
///   W' = diag(m) rownormalise(V),  V = W + s B A,
/// with a trainable magnitude vector m [k] (init: the row norms of W, so W' = W at init) and a LoRA
/// direction update s B A (A [r, d] as `lora`, B [k, r] = 0, s = alpha / r or alpha / sqrt r).
///
/// Hot path, never forming the k x d matrix V:
///   p = V x = W x + s B (A x)                                           [R, B, k]
///   n_i^2 = ||V_i||^2 = ||W_i||^2 + 2 s <W_i, (B A)_i> + s^2 ||(B A)_i||^2
///         = ||W_i||^2 + 2 s sum_j B_ij (W A^T)_ij + s^2 (B (A A^T) B^T)_ii  [R, k]
///   (W A^T [R, k, r] and A A^T [R, r, r] cost O(k d r) per step, independent of the batch)
///   h_i = (m_i / n_i) p_i                                               [R, B, k]
///
/// Gradients with g = dl/dh [R, B, k] (summed over the batch b):
///   dl/dm_i = sum_b g_bi p_bi / n_i = g_i <vhat_i, x>                              [R, k]
///   dl/dV_i = (m_i / n_i) sum_b g_bi (x_b - vhat_i <vhat_i, x_b>)
///           = (G~^T x)_i - c_i V_i,   G~ = (m / n) (.) g [R, B, k],  c_i = m_i (sum_b g_bi p_bi) / n_i^3
///   dl/dB = s (dl/dV) A^T = s [ G~^T (A x) - diag(c) (W A^T + s B (A A^T)) ]       [R, k, r]
///   dl/dA = s B^T (dl/dV) = s [ (G~ B)^T x - (c (.) B)^T W - s ((c (.) B)^T B) A ]  [R, r, d]
/// LoRA+: B's learning rate is lr_ratio times A's (and m's).

#include <string>
#include <vector>

#include "framework/per_replica.h"
#include "models/adapters/adapter.h"

namespace lrlab {
class Config;
}

namespace lrlab::models {

/// Options of the `dora` adapter.
struct DoraOptions {
  int64_t rank = 1;                  ///< r
  PerReplica<double> alpha = 1.0;    ///< scale numerator, one value per replica
  std::string scaling = "standard";  ///< standard (s = alpha / r) | rs (s = alpha / sqrt r)
  std::string init_a = "gaussian";   ///< gaussian N(0, 1/d) | kaiming | orthogonal (as `lora`)
  double lr_ratio = 1.0;             ///< learning-rate multiplier of B relative to A and m (LoRA+)

  /// Reads and validates the options (rank <= min(k, d)).
  static DoraOptions from_config(const Config& cfg, int64_t d, int64_t k);
};

/// The registered `dora` adapter.
class Dora : public Adapter {
 public:
  /// m = row norms of W, A from each replica's adapter stream, B = 0. A base with a zero row
  /// (e.g. zero_base: true) is an lrlab::Error: its direction is undefined.
  Dora(const DoraOptions& options, const AdapterInputs& in);
  std::string type() const override { return "dora"; }
  std::vector<Parameter*> parameters() override { return {&m_, &a_, &b_}; }
  at::Tensor preactivations(const at::Tensor& x, const at::Tensor& wx) override;
  void backward_preactivations(const at::Tensor& x, const at::Tensor& wx, const at::Tensor& g) override;
  /// W' - W [R, k, d].
  at::Tensor delta() const override;
  /// The re-normalised first layer W' = diag(m) rownormalise(W + s B A) [R, k, d].
  at::Tensor effective_weight() const override;
  /// The CPU kernel (dora_kernel.cpp).
  std::unique_ptr<AdapterKernelBase> cpu_kernel(at::ScalarType dtype, std::string* why) override;

 private:
  template <class T>
  friend class DoraKernel;
  DoraOptions options_;
  Parameter m_{"m"};  // [R, k]
  Parameter a_{"A"};  // [R, r, d]
  Parameter b_{"B"};  // [R, k, r]
  at::Tensor scale_;  // s [R]
  at::Tensor w2_;     // ||W_i||^2 [R, k] (frozen)
  // Caches of the last forward:
  at::Tensor ax_;     // A x [R, B, r]
  at::Tensor p_;      // V x [R, B, k]
  at::Tensor wa_;     // W A^T [R, k, r]
  at::Tensor aa_;     // A A^T [R, r, r]
  at::Tensor n_;      // ||V_i|| [R, k]
};

}  // namespace lrlab::models
