#pragma once
/// `rank1`: Delta = xi c u^T with u on the unit sphere (the seed paper's student).
///
/// Pre-activations: h = W x + xi c <u, x>.
/// Gradients of l with g = dl/dh [R, B, k] (MATH.md, summed over the batch):
///   dl/du  = xi (c . g) x          [R, d]   = xi * bmm((c.g)^T [R,1,B], x [R,B,d])
///   dl/dc  = xi <u, x> g           [R, k]   = xi * bmm(<u,x>^T [R,1,B], g [R,B,k])
///   dl/dxi = (c . g) <u, x>        [R]

#include <string>

#include "framework/per_replica.h"
#include "models/adapters/adapter.h"

namespace lrlab {
class Config;
}

namespace lrlab::models {

/// Options of the `rank1` adapter.
struct Rank1Options {
  std::string c = "train";        ///< train | fixed_random | teacher (the "known c" case: c = c*)
  std::string c_init = "random";  ///< when c = train: random (unit norm) | zero
  PerReplica<double> xi = 1.0;    ///< initial xi, one value per replica; ignored when xi_from_teacher
  bool xi_from_teacher = true;    ///< start xi at the teacher's xi* (needs a low_rank teacher)
  bool train_xi = false;          ///< train xi too

  /// Reads and validates the options.
  static Rank1Options from_config(const Config& cfg);
};

/// The registered `rank1` adapter.
class Rank1 : public Adapter {
 public:
  /// Draws u uniformly on the sphere (and c when random) from each replica's adapter stream.
  Rank1(const Rank1Options& options, const AdapterInputs& in);
  std::string type() const override { return "rank1"; }
  std::vector<Parameter*> parameters() override;
  at::Tensor preactivations(const at::Tensor& x, const at::Tensor& wx) override;
  void backward_preactivations(const at::Tensor& x, const at::Tensor& wx, const at::Tensor& g) override;
  at::Tensor delta() const override;
  at::Tensor row_space(int64_t r) const override;
  /// The CPU kernel (rank1_kernel.cpp).
  std::unique_ptr<AdapterKernelBase> cpu_kernel(at::ScalarType dtype, std::string* why) override;
  /// The fused CUDA step's descriptor (rank1_kernel.cpp): c and xi trained or frozen as configured.
  std::optional<fused::AdapterDesc> cuda_descriptor(std::string* why) override;
  /// u [R, d] (unit rows), trained or not.
  const Parameter& u() const { return u_; }
  /// c [R, k], trained or not.
  const Parameter& c() const { return c_; }
  /// xi [R], trained or not.
  const Parameter& xi() const { return xi_; }

 private:
  template <class T>
  friend class Rank1Kernel;
  Rank1Options options_;
  Parameter u_{"u"};    // [R, d], unit norm
  Parameter c_{"c"};    // [R, k]
  Parameter xi_{"xi"};  // [R]
  at::Tensor ux_;       // <u, x> [R, B, 1] of the last forward
};

}  // namespace lrlab::models
