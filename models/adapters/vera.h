#pragma once
/// `vera` (vector-based random matrix adaptation): Delta = diag(b_vec) B diag(d_vec) A with frozen
/// random A [r, d] and B [k, r] drawn once from the adapter stream (VeRA shares them across layers;
/// here there is one layer) and trainable scaling vectors d_vec [r], b_vec [k].
/// VeRA's init: d_vec = d_init (default 0.1), b_vec = 0, so the student starts at the base model.
///
/// Pre-activations, never forming W + Delta:
///   a = A x [R, B, r],  z = d_vec (.) a [R, B, r],  u = B z [R, B, k],  h = W x + b_vec (.) u
/// Gradients with g = dl/dh [R, B, k] (summed over the batch b):
///   dl/db_vec_i = sum_b g_bi u_bi                                  [R, k]
///   dl/dd_vec_j = sum_b a_bj (B^T (b_vec (.) g_b))_j               [R, r] = sum_b (bmm(b_vec (.) g, B) (.) a)
/// LoRA+: b_vec (the output-side factor, like LoRA's B) gets lr_ratio times d_vec's learning rate.

#include <string>

#include "models/adapters/adapter.h"

namespace lrlab {
class Config;
}

namespace lrlab::models {

/// Options of the `vera` adapter.
struct VeraOptions {
  int64_t rank = 8;               ///< r: rows of the frozen A (may exceed k; at most d)
  double d_init = 0.1;            ///< initial value of every entry of d_vec
  std::string init = "kaiming";   ///< frozen A, B: kaiming (U(-1/sqrt fan_in, 1/sqrt fan_in), as PEFT) | gaussian (N(0, 1/fan_in))
  double lr_ratio = 1.0;          ///< learning-rate multiplier of b_vec relative to d_vec (LoRA+)

  /// Reads and validates the options (1 <= rank <= d).
  static VeraOptions from_config(const Config& cfg, int64_t d);
};

/// The registered `vera` adapter.
class Vera : public Adapter {
 public:
  /// Draws the frozen A and B from each replica's adapter stream; d_vec = d_init, b_vec = 0.
  Vera(const VeraOptions& options, const AdapterInputs& in);
  std::string type() const override { return "vera"; }
  std::vector<Parameter*> parameters() override { return {&d_vec_, &b_vec_}; }
  std::vector<Parameter*> buffers() override { return {&a_, &b_}; }
  at::Tensor preactivations(const at::Tensor& x, const at::Tensor& wx) override;
  void backward_preactivations(const at::Tensor& x, const at::Tensor& wx, const at::Tensor& g) override;
  at::Tensor delta() const override;
  /// The CPU kernel (vera_kernel.cpp).
  std::unique_ptr<AdapterKernelBase> cpu_kernel(at::ScalarType dtype, std::string* why) override;

 private:
  template <class T>
  friend class VeraKernel;
  VeraOptions options_;
  Parameter d_vec_{"d_vec"};  // [R, r]
  Parameter b_vec_{"b_vec"};  // [R, k]
  Parameter a_{"A"};          // frozen [R, r, d]
  Parameter b_{"B"};          // frozen [R, k, r]
  at::Tensor ax_;             // A x [R, B, r] of the last forward
  at::Tensor u_;              // B (d_vec . A x) [R, B, k] of the last forward
};

}  // namespace lrlab::models
