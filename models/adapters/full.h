#pragma once
/// `full`: a dense Delta [k, d], zero at init (full fine-tuning of the first layer).
///
/// h = W x + Delta x; with g = dl/dh [R, B, k]: dl/dDelta = g x^T = bmm(g^T [R,k,B], x [R,B,d]).

#include "models/adapters/adapter.h"

namespace lrlab {
class Config;
}

namespace lrlab::models {

/// The registered `full` adapter (no options).
class Full : public Adapter {
 public:
  /// Delta = 0 for every replica.
  explicit Full(const AdapterInputs& in);
  std::string type() const override { return "full"; }
  std::vector<Parameter*> parameters() override { return {&delta_}; }
  at::Tensor preactivations(const at::Tensor& x, const at::Tensor& wx) override;
  void backward_preactivations(const at::Tensor& x, const at::Tensor& wx, const at::Tensor& g) override;
  at::Tensor delta() const override { return delta_.value; }
  /// The CPU kernel (full_kernel.cpp).
  std::unique_ptr<AdapterKernelBase> cpu_kernel(at::ScalarType dtype, std::string* why) override;

 private:
  Parameter delta_{"Delta"};  // [R, k, d]
};

}  // namespace lrlab::models
