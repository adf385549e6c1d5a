#pragma once
/// `scratch`: the student ignores W and learns its own first layer Theta [k, d] from a random start
/// ("learning the teacher from scratch"); Delta = Theta - W for the metrics.
///
/// h = Theta x; with g = dl/dh [R, B, k]: dl/dTheta = g x^T = bmm(g^T [R,k,B], x [R,B,d]).

#include <string>

#include "models/adapters/adapter.h"

namespace lrlab {
class Config;
}

namespace lrlab::models {

/// Options of the `scratch` adapter.
struct ScratchOptions {
  std::string init = "sphere";  ///< rows of Theta: sphere | gaussian | orthonormal (as the base network)
  double row_scale = 1.0;       ///< multiplies every row after init

  /// Reads and validates the options.
  static ScratchOptions from_config(const Config& cfg, int64_t d, int64_t k);
};

/// The registered `scratch` adapter.
class Scratch : public Adapter {
 public:
  /// Draws Theta from each replica's adapter stream.
  Scratch(const ScratchOptions& options, const AdapterInputs& in);
  std::string type() const override { return "scratch"; }
  std::vector<Parameter*> parameters() override { return {&theta_}; }
  at::Tensor preactivations(const at::Tensor& x, const at::Tensor& wx) override;
  void backward_preactivations(const at::Tensor& x, const at::Tensor& wx, const at::Tensor& g) override;
  at::Tensor delta() const override { return theta_.value - base_->weight(); }
  at::Tensor effective_weight() const override { return theta_.value; }
  /// The CPU kernel (scratch_kernel.cpp).
  std::unique_ptr<AdapterKernelBase> cpu_kernel(at::ScalarType dtype, std::string* why) override;

 private:
  Parameter theta_{"Theta"};  // [R, k, d]
};

}  // namespace lrlab::models
