#pragma once
/// `lora`: Delta = s B A with A [r, d], B [k, r], s = alpha / r (standard) or alpha / sqrt(r) (rsLoRA).
/// B starts at zero, so the student starts exactly at the base model.
///
/// Pre-activations, never forming W + Delta: h = W x + s B (A x).
/// Gradients with g = dl/dh [R, B, k] (MATH.md, summed over the batch):
///   dl/dB = s g (A x)^T     [R, k, r] = s * bmm(g^T [R,k,B], Ax [R,B,r])
///   dl/dA = s (B^T g) x^T   [R, r, d] = s * bmm((g B)^T [R,r,B], x [R,B,d])

#include <string>

#include "models/adapters/adapter.h"

namespace lrlab {
class Config;
}

namespace lrlab::models {

/// Options of the `lora` adapter.
struct LoraOptions {
  int64_t rank = 1;                  ///< r
  double alpha = 1.0;                ///< scale numerator (may differ across replicas)
  std::string scaling = "standard";  ///< standard (s = alpha / r) | rs (s = alpha / sqrt r)
  std::string init_a = "gaussian";   ///< gaussian N(0, 1/d) | kaiming (PEFT's U(-1/sqrt d, 1/sqrt d)) | orthogonal
  double lr_ratio = 1.0;             ///< learning-rate multiplier of B relative to A (LoRA+)

  /// Reads and validates the options (rank <= min(k, d)).
  static LoraOptions from_config(const Config& cfg, int64_t d, int64_t k);
};

/// The registered `lora` adapter.
class Lora : public Adapter {
 public:
  /// Draws A from each replica's adapter stream; B = 0.
  Lora(const LoraOptions& options, const std::vector<double>& alpha, const AdapterInputs& in);
  std::string type() const override { return "lora"; }
  std::vector<Parameter*> parameters() override { return {&a_, &b_}; }
  at::Tensor preactivations(const at::Tensor& x, const at::Tensor& wx) override;
  void backward_preactivations(const at::Tensor& x, const at::Tensor& wx, const at::Tensor& g) override;
  at::Tensor delta() const override;
  /// The scale s [R].
  const at::Tensor& scale() const { return scale_; }

 protected:
  LoraOptions options_;
  Parameter a_{"A"};  // [R, r, d]
  Parameter b_{"B"};  // [R, k, r]
  at::Tensor scale_;  // s [R]
  at::Tensor ax_;     // A x [R, B, r] of the last forward
};

/// Draws A [r, d] by `init` (gaussian | kaiming | orthogonal) in float64 on the CPU.
at::Tensor draw_lora_a(const std::string& init, int64_t r, int64_t d, at::Generator& gen);

}  // namespace lrlab::models
