// The CPU kernel of `lora` (models/adapters/adapter_kernel.h), for every init (default, pissa,
// spectral) and scaling (s [R] per replica); LoRA+ is B's Parameter::lr_scale, applied by the driver.
//   rows: A's r rows (pissa: then A0's r rows);  z_b = (A x_b, A0 x_b)       [n_a = r or 2r]
//   h_b = W x_b + s (B (A x_b) - B0 (A0 x_b))                                 [k]
//   with g_b = dL/dh_b [k]:
//   dL/dB = s sum_b g_b (A x_b)^T               [k, r]
//   dL/dA = s sum_b (B^T g_b) x_b^T             [r, d]  (one rank-B update of the gradient buffer)

#include "models/adapters/lora.h"
#include "models/cpu_ops.h"

namespace lrlab::models {

/// The lora kernel for dtype T.
template <class T>
class LoraKernel : public AdapterKernel<T> {
 public:
  /// Reads the adapter's parameters and frozen buffers (kept by reference).
  explicit LoraKernel(Lora& a)
      : a_(a),
        n_(a.base(), a.options().rank),
        pissa_(a.a0_.value.defined()),
        scale_(kernel::doubles(a.scale())) {
    if (pissa_) {
      a0_ = kernel::frozen<T>(a.a0_.value);
      b0_ = kernel::frozen<T>(a.b0_.value);
    }
  }
  int64_t rows() const override { return pissa_ ? 2 * n_.rank : n_.rank; }
  void row_pointers(int64_t r, const T** out) const override {
    for (int64_t t = 0; t < n_.rank; ++t) out[t] = a_ptr_ + (r * n_.rank + t) * n_.d;
    if (pissa_)
      for (int64_t t = 0; t < n_.rank; ++t) out[n_.rank + t] = a0_.template data_ptr<T>() + (r * n_.rank + t) * n_.d;
  }
  int64_t scratch_size(int64_t batch) const override { return batch * n_.rank; }  // s B^T g_b [B, r]
  void begin_step() override {
    a_ptr_ = kernel::data<T>(a_.a_.value, n_.replicas * n_.rank * n_.d, "A");
    b_ptr_ = kernel::data<T>(a_.b_.value, n_.replicas * n_.k * n_.rank, "B");
  }
  void forward(int64_t r, int64_t batch, const T*, const double* wx, const T* z, double* h,
               double*) const override {
    const int64_t na = rows();
    const T* bm = b_ptr_ + r * n_.k * n_.rank;
    const T* b0 = pissa_ ? b0_.template data_ptr<T>() + r * n_.k * n_.rank : nullptr;
    for (int64_t b = 0; b < batch; ++b) {
      const T* zb = z + b * na;
      for (int64_t i = 0; i < n_.k; ++i) {
        double low = 0.0;
        for (int64_t t = 0; t < n_.rank; ++t) low += static_cast<double>(bm[i * n_.rank + t]) * zb[t];
        if (pissa_) {
          double frozen = 0.0;
          for (int64_t t = 0; t < n_.rank; ++t) frozen += static_cast<double>(b0[i * n_.rank + t]) * zb[n_.rank + t];
          low -= frozen;
        }
        h[b * n_.k + i] = wx[b * n_.k + i] + scale_[r] * low;
      }
    }
  }
  void backward(int64_t r, int64_t batch, const T* x, const double*, const T* z, const double*, const double* g,
                double* const* grads, double* scratch) const override {
    const int64_t na = rows();
    const T* bm = b_ptr_ + r * n_.k * n_.rank;
    const double s = scale_[r];
    double* ga = grads[0];  // dL/dA [r, d]
    double* gb = grads[1];  // dL/dB [k, r]
    for (int64_t i = 0; i < n_.k; ++i) {
      for (int64_t t = 0; t < n_.rank; ++t) {
        double acc = 0.0;
        for (int64_t b = 0; b < batch; ++b) acc += g[b * n_.k + i] * static_cast<double>(z[b * na + t]);
        gb[i * n_.rank + t] = s * acc;
      }
    }
    double* coef = scratch;  // s (B^T g_b)_t [B, r]
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t t = 0; t < n_.rank; ++t) {
        double acc = 0.0;
        for (int64_t i = 0; i < n_.k; ++i) acc += g[b * n_.k + i] * static_cast<double>(bm[i * n_.rank + t]);
        coef[b * n_.rank + t] = s * acc;
      }
    }
    kernel::zero(ga, n_.rank * n_.d);
    cpu::add_outer(ga, n_.rank, n_.d, coef, x, batch);
  }

 private:
  Lora& a_;
  kernel::Shape n_;
  bool pissa_;
  std::vector<double> scale_;  // s [R]
  at::Tensor a0_, b0_;         // pissa: frozen A0 [R, r, d], B0 [R, k, r] in dtype T
  T *a_ptr_ = nullptr, *b_ptr_ = nullptr;
};

std::unique_ptr<AdapterKernelBase> Lora::cpu_kernel(at::ScalarType dtype, std::string*) {
  return make_cpu_kernel<LoraKernel>(dtype, *this);
}

}  // namespace lrlab::models
