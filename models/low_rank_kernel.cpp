// The CPU kernel of the `low_rank` teacher (models/teacher_kernel.h):
//   rows: U*^T's r rows (U*'s columns);  z_b = U*^T x_b [r];  h*_b = W x_b + xi* C* z_b [k].

#include "models/low_rank.h"

#include "models/adapters/adapter_kernel.h"

namespace lrlab::models {

/// The low_rank teacher's kernel for dtype T (copies of the frozen U*^T, C* and xi*).
template <class T>
class LowRankKernel : public TeacherKernel<T> {
 public:
  /// Copies the teacher's frozen tensors.
  explicit LowRankKernel(const LowRank& t)
      : n_(t.base(), t.rank()),
        ustar_t_(kernel::frozen<T>(t.subspace().transpose(1, 2))),
        cstar_(kernel::frozen<T>(t.c())),
        xi_(kernel::doubles(t.xi())) {}
  int64_t rows() const override { return n_.rank; }
  void row_pointers(int64_t r, const T** out) const override {
    for (int64_t t = 0; t < n_.rank; ++t) out[t] = ustar_t_.template data_ptr<T>() + (r * n_.rank + t) * n_.d;
  }
  void preactivations(int64_t r, int64_t batch, const double* wx, const T* z, double* hs) const override {
    const T* c = cstar_.template data_ptr<T>() + r * n_.k * n_.rank;
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t i = 0; i < n_.k; ++i) {
        double pert = 0.0;
        for (int64_t t = 0; t < n_.rank; ++t) pert += static_cast<double>(c[i * n_.rank + t]) * z[b * n_.rank + t];
        hs[b * n_.k + i] = wx[b * n_.k + i] + xi_[r] * pert;
      }
    }
  }

 private:
  kernel::Shape n_;
  at::Tensor ustar_t_, cstar_;  // U*^T [R, r, d], C* [R, k, r] in dtype T
  std::vector<double> xi_;      // xi* [R]
};

std::unique_ptr<TeacherKernelBase> LowRank::cpu_kernel(at::ScalarType dtype, std::string* why) const {
  if (dtype == at::kFloat) return std::make_unique<LowRankKernel<float>>(*this);
  if (dtype == at::kDouble) return std::make_unique<LowRankKernel<double>>(*this);
  if (why) *why = "teacher 'low_rank' has no CPU kernel for dtype " + std::string(c10::toString(dtype));
  return nullptr;
}

// The fused CUDA step (trainers/cuda/fused_math.h) runs the same maths as the kernel above.
std::optional<fused::TeacherDesc> LowRank::cuda_descriptor(std::string*) const {
  fused::TeacherDesc desc;
  desc.rank = static_cast<int32_t>(options_.rank);
  return desc;
}

}  // namespace lrlab::models
