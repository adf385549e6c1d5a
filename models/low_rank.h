#pragma once
/// `low_rank` teacher: W* = W + xi* C* U*^T with U* [d, r] orthonormal columns and C* [k, r] unit-norm
/// columns, so ||Delta*||_F = xi* sqrt(r) (MATH.md). Labels y = f_{W*}(x) + tau eps.

#include <memory>
#include <string>

#include "framework/per_replica.h"
#include "models/teacher.h"

namespace lrlab {
class Config;
struct Context;
}  // namespace lrlab

namespace lrlab::models {

/// Options of the `low_rank` teacher (YAML section `teacher`).
struct LowRankOptions {
  int64_t rank = 1;            ///< r
  PerReplica<double> xi = 1.0;   ///< perturbation scale xi*, one value per replica
  std::string c = "random";    ///< columns of C*: random (uniform on the sphere) | uniform (1/sqrt k) | basis (e_1..e_r)
  PerReplica<double> tau = 0.0;  ///< label noise standard deviation, one value per replica

  /// Reads and validates the options for every replica (xi and tau are read per replica).
  static LowRankOptions from_config(const Config& cfg, int64_t d, int64_t k);
};

/// The registered `low_rank` teacher.
class LowRank : public Teacher {
 public:
  /// Draws U* and C* for every replica from its teacher stream; xi [R] and tau [R] per replica.
  LowRank(const LowRankOptions& options, std::shared_ptr<const BaseNetwork> base, const Context& ctx);
  std::string type() const override { return "low_rank"; }
  at::Tensor preactivations(const at::Tensor& x, const at::Tensor& wx) const override;
  at::Tensor delta() const override;
  const at::Tensor& subspace() const override { return u_; }
  int64_t rank() const override { return options_.rank; }
  const at::Tensor& tau() const override { return tau_; }
  const BaseNetwork& base() const override { return *base_; }
  /// The CPU kernel (low_rank_kernel.cpp).
  std::unique_ptr<TeacherKernelBase> cpu_kernel(at::ScalarType dtype, std::string* why) const override;
  /// The fused CUDA step's descriptor (low_rank_kernel.cpp): the rank r.
  std::optional<fused::TeacherDesc> cuda_descriptor(std::string* why) const override;
  /// C* [R, k, r].
  const at::Tensor& c() const { return c_; }
  /// xi* [R].
  const at::Tensor& xi() const { return xi_; }

 private:
  LowRankOptions options_;
  std::shared_ptr<const BaseNetwork> base_;
  at::Tensor u_;    // U* [R, d, r]
  at::Tensor c_;    // C* [R, k, r]
  at::Tensor xi_;   // [R]
  at::Tensor tau_;  // [R]
};

}  // namespace lrlab::models
