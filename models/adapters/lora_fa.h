#pragma once
/// `lora_fa` (LoRA-FA): Delta = s B A with A [r, d] frozen at its random init (a buffer, drawn as
/// `lora`'s A) and only B [k, r] trained, zero at init, so the student starts at the base model;
/// s = alpha / r (standard) or alpha / sqrt r (rs). Freezing A removes the d-sized gradient.
///
/// Pre-activations, never forming W + Delta: h = W x + s B (A x).
/// Gradient with g = dl/dh [R, B, k] (summed over the batch):
///   dl/dB = s g (A x)^T     [R, k, r] = s * bmm(g^T [R,k,B], Ax [R,B,r])

#include <string>

#include "framework/per_replica.h"
#include "models/adapters/adapter.h"

namespace lrlab {
class Config;
}

namespace lrlab::models {

/// Options of the `lora_fa` adapter.
struct LoraFaOptions {
  int64_t rank = 1;                  ///< r
  PerReplica<double> alpha = 1.0;    ///< scale numerator, one value per replica
  std::string scaling = "standard";  ///< standard (s = alpha / r) | rs (s = alpha / sqrt r)
  std::string init_a = "gaussian";   ///< frozen A: gaussian N(0, 1/d) | kaiming | orthogonal (as `lora`)

  /// Reads and validates the options (rank <= min(k, d)).
  static LoraFaOptions from_config(const Config& cfg, int64_t d, int64_t k);
};

/// The registered `lora_fa` adapter.
class LoraFa : public Adapter {
 public:
  /// Draws the frozen A from each replica's adapter stream; B = 0.
  LoraFa(const LoraFaOptions& options, const AdapterInputs& in);
  /// "lora_fa".
  std::string type() const override { return "lora_fa"; }
  /// B, the only trained parameter.
  std::vector<Parameter*> parameters() override { return {&b_}; }
  /// The frozen A.
  std::vector<Parameter*> buffers() override { return {&a_}; }
  /// The CPU kernel (lora_fa_kernel.cpp).
  std::unique_ptr<AdapterKernelBase> cpu_kernel(at::ScalarType dtype, std::string* why) override;
  /// h = W x + s B (A x): x [R, B, d], wx [R, B, k] -> [R, B, k]; caches A x.
  at::Tensor preactivations(const at::Tensor& x, const at::Tensor& wx) override;
  /// dl/dB = s g (A x)^T from g = dl/dh [R, B, k].
  void backward_preactivations(const at::Tensor& x, const at::Tensor& wx, const at::Tensor& g) override;
  /// s B A [R, k, d].
  at::Tensor delta() const override;

 private:
  template <class T>
  friend class LoraFaKernel;
  LoraFaOptions options_;
  Parameter a_{"A"};  // frozen [R, r, d]
  Parameter b_{"B"};  // [R, k, r]
  at::Tensor scale_;  // s [R]
  at::Tensor ax_;     // A x [R, B, r] of the last forward
};

}  // namespace lrlab::models
