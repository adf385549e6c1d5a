#pragma once
/// `lora`: Delta = s B A with A [r, d], B [k, r], s = alpha / r (standard) or alpha / sqrt(r) (rsLoRA).
///
/// Initialisations (`init`):
///  - default: A drawn by `init_a`, B = 0, so the student starts exactly at the base model;
///  - pissa (PiSSA): s B0 A0 = the top-r part U_r S_r V_r^T of W's SVD, A0 = sqrt(S_r / |s|) V_r^T,
///    B0 = sign(s) U_r sqrt(S_r / |s|); the frozen residual W - s B0 A0 is the base, so
///    h = W x - s B0 (A0 x) + s B (A x) with B = B0, A = A0 at init (Delta = s (B A - B0 A0) = 0);
///  - spectral (LoRA-One): G = dL/dDelta at Delta = 0 [k, d] is estimated on `init_samples` inputs
///    drawn from Stream::kInitData with the teacher's labels; with the top-r SVD -G ~ U_r S_r V_r^T,
///    A = sqrt(eta / |s|) S_r^{1/2} V_r^T and B = sign(s) sqrt(eta / |s|) U_r S_r^{1/2}, eta = init_scale,
///    so s B A = eta (-G)_r: one full fine-tuning gradient step of size eta, projected to rank r and
///    split evenly between B and A (the "balanced" choice of LoRA-One). A's rows span the top-r right
///    singular vectors of -G.
///
/// Pre-activations, never forming W + Delta: h = W x + s B (A x)  (- s B0 (A0 x) for pissa).
/// Gradients with g = dl/dh [R, B, k] (MATH.md, summed over the batch; the frozen term has none):
///   dl/dB = s g (A x)^T     [R, k, r] = s * bmm(g^T [R,k,B], Ax [R,B,r])
///   dl/dA = s (B^T g) x^T   [R, r, d] = s * bmm((g B)^T [R,r,B], x [R,B,d])
/// LoRA+: B's learning rate is lr_ratio times A's (Parameter::lr_scale of B).

#include <string>
#include <vector>

#include "framework/per_replica.h"
#include "models/adapters/adapter.h"

namespace lrlab {
class Config;
}

namespace lrlab::models {

/// Options of the `lora` adapter.
struct LoraOptions {
  int64_t rank = 1;                  ///< r
  PerReplica<double> alpha = 1.0;    ///< scale numerator, one value per replica
  std::string scaling = "standard";  ///< standard (s = alpha / r) | rs (s = alpha / sqrt r)
  std::string init = "default";      ///< default (A by init_a, B = 0) | pissa | spectral (LoRA-One)
  std::string init_a = "gaussian";   ///< gaussian N(0, 1/d) | kaiming (PEFT's U(-1/sqrt d, 1/sqrt d)) | orthogonal
  int64_t init_samples = 1000;       ///< spectral: samples used to estimate the full gradient
  double init_scale = 1.0;           ///< spectral: step size eta of the one full-gradient step s B A = eta (-G)_r
  double lr_ratio = 1.0;             ///< learning-rate multiplier of B relative to A (LoRA+)

  /// Reads and validates the options (rank <= min(k, d)).
  static LoraOptions from_config(const Config& cfg, int64_t d, int64_t k);
};

/// The registered `lora` adapter.
class Lora : public Adapter {
 public:
  /// Initialises A and B by `options.init` (A from each replica's adapter stream for `default`).
  Lora(const LoraOptions& options, const AdapterInputs& in);
  std::string type() const override { return "lora"; }
  std::vector<Parameter*> parameters() override { return {&a_, &b_}; }
  std::vector<Parameter*> buffers() override;
  at::Tensor preactivations(const at::Tensor& x, const at::Tensor& wx) override;
  void backward_preactivations(const at::Tensor& x, const at::Tensor& wx, const at::Tensor& g) override;
  at::Tensor delta() const override;
  /// The CPU kernel (lora_kernel.cpp).
  std::unique_ptr<AdapterKernelBase> cpu_kernel(at::ScalarType dtype, std::string* why) override;
  /// The scale s [R].
  const at::Tensor& scale() const { return scale_; }
  /// The options it was built with.
  const LoraOptions& options() const { return options_; }

 protected:
  template <class T>
  friend class LoraKernel;
  LoraOptions options_;
  Parameter a_{"A"};    // [R, r, d]
  Parameter b_{"B"};    // [R, k, r]
  Parameter a0_{"A0"};  // pissa: frozen A0 [R, r, d]
  Parameter b0_{"B0"};  // pissa: frozen B0 [R, k, r]
  at::Tensor scale_;    // s [R]
  at::Tensor ax_;       // A x [R, B, r] of the last forward
};

/// Reads the options `lora`, `dora` and `lora_fa` share (rank in 1..min(k, d), alpha per replica and
/// non-zero, scaling, init_a, and lr_ratio > 0 unless `lr_ratio` is null) into the given fields, whose
/// current values are the defaults.
void read_factor_options(const Config& cfg, int64_t d, int64_t k, int64_t& rank, PerReplica<double>& alpha,
                         std::string& scaling, std::string& init_a, double* lr_ratio);

/// Draws A [r, d] by `init` (gaussian | kaiming | orthogonal) in float64 on the CPU.
at::Tensor draw_lora_a(const std::string& init, int64_t r, int64_t d, at::Generator& gen);

/// The LoRA scale s per replica (`replicas` values): alpha / r (scaling = standard) or alpha / sqrt(r) (rs).
std::vector<double> lora_scales(const PerReplica<double>& alpha, int64_t replicas, int64_t r,
                                const std::string& scaling);

/// The full fine-tuning gradient G = dL/dDelta at Delta = 0 [R, k, d], L = (1/n) sum (f_W(x) - y)^2 / 2,
/// estimated on n = `samples` inputs x ~ N(0, I) (and label noise) drawn from each replica's
/// Stream::kInitData, with the teacher's labels: G = (1/n) sum_b g_b x_b^T, g = e lam (.) sigma'(W x).
at::Tensor sampled_full_gradient(const AdapterInputs& in, int64_t samples);

}  // namespace lrlab::models
