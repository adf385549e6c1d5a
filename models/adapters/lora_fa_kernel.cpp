// The CPU kernel of `lora_fa` (models/adapters/adapter_kernel.h):
//   rows: the frozen A's r rows;  z_b = A x_b [r];  h_b = W x_b + s B z_b [k]
//   with g_b = dL/dh_b [k]:  dL/dB = s sum_b g_b z_b^T [k, r]  (nothing of length d: A is frozen)

#include "models/adapters/lora_fa.h"

namespace lrlab::models {

/// The lora_fa kernel for dtype T.
template <class T>
class LoraFaKernel : public AdapterKernel<T> {
 public:
  /// Reads B (trained, by reference) and copies the frozen A and the scale s [R].
  explicit LoraFaKernel(LoraFa& a)
      : b_(a.b_),
        n_(a.base(), a.options_.rank),
        scale_(kernel::doubles(a.scale_)),
        frozen_a_(kernel::frozen<T>(a.a_.value)) {}
  int64_t rows() const override { return n_.rank; }
  void row_pointers(int64_t r, const T** out) const override {
    for (int64_t t = 0; t < n_.rank; ++t) out[t] = frozen_a_.template data_ptr<T>() + (r * n_.rank + t) * n_.d;
  }
  void begin_step() override { b_ptr_ = kernel::data<T>(b_.value, n_.replicas * n_.k * n_.rank, "B"); }
  void forward(int64_t r, int64_t batch, const T*, const double* wx, const T* z, double* h,
               double*) const override {
    const T* bm = b_ptr_ + r * n_.k * n_.rank;
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t i = 0; i < n_.k; ++i) {
        double bz = 0.0;  // (B z_b)_i
        for (int64_t t = 0; t < n_.rank; ++t) bz += static_cast<double>(bm[i * n_.rank + t]) * z[b * n_.rank + t];
        h[b * n_.k + i] = wx[b * n_.k + i] + scale_[r] * bz;
      }
    }
  }
  void backward(int64_t r, int64_t batch, const T*, const double*, const T* z, const double*, const double* g,
                double* const* grads, double*) const override {
    for (int64_t i = 0; i < n_.k; ++i) {
      for (int64_t t = 0; t < n_.rank; ++t) {
        double acc = 0.0;  // sum_b g_bi z_bt
        for (int64_t b = 0; b < batch; ++b) acc += g[b * n_.k + i] * static_cast<double>(z[b * n_.rank + t]);
        grads[0][i * n_.rank + t] = scale_[r] * acc;
      }
    }
  }

 private:
  const Parameter& b_;
  kernel::Shape n_;
  std::vector<double> scale_;  // s [R]
  at::Tensor frozen_a_;        // A [R, r, d] in dtype T
  T* b_ptr_ = nullptr;
};

std::unique_ptr<AdapterKernelBase> LoraFa::cpu_kernel(at::ScalarType dtype, std::string*) {
  return make_cpu_kernel<LoraFaKernel>(dtype, *this);
}

}  // namespace lrlab::models
