// The CPU kernel of `vera` (models/adapters/adapter_kernel.h): Delta = diag(b_vec) B diag(d_vec) A with
// frozen A [r, d], B [k, r] (buffers) and trained d_vec [r], b_vec [k].
//   rows: A's r rows;  a_b = A x_b [r];  u_b = B (d_vec (.) a_b) [k];  h_b = W x_b + b_vec (.) u_b
//   with g_b = dL/dh_b [k]:
//   dL/db_vec_i = sum_b g_bi u_bi                                   [k]
//   dL/dd_vec_t = sum_b a_bt sum_i B_it b_vec_i g_bi                [r]
// Nothing of length d in the backward: the frozen A is never updated.

#include "models/adapters/vera.h"

namespace lrlab::models {

/// The vera kernel for dtype T.
template <class T>
class VeraKernel : public AdapterKernel<T> {
 public:
  /// Reads the adapter's parameters and copies its frozen A and B.
  explicit VeraKernel(Vera& a)
      : a_(a),
        n_(a.base(), a.options_.rank),
        frozen_a_(kernel::frozen<T>(a.a_.value)),
        frozen_b_(kernel::frozen<T>(a.b_.value)) {}
  int64_t rows() const override { return n_.rank; }
  void row_pointers(int64_t r, const T** out) const override {
    for (int64_t t = 0; t < n_.rank; ++t) out[t] = frozen_a_.template data_ptr<T>() + (r * n_.rank + t) * n_.d;
  }
  int64_t scratch_size(int64_t batch) const override { return batch * n_.k; }  // u [B, k]
  void begin_step() override {
    d_vec_ = kernel::data<T>(a_.d_vec_.value, n_.replicas * n_.rank, "d_vec");
    b_vec_ = kernel::data<T>(a_.b_vec_.value, n_.replicas * n_.k, "b_vec");
  }
  void forward(int64_t r, int64_t batch, const T*, const double* wx, const T* z, double* h,
               double* scratch) const override {
    const int64_t k = n_.k, nr = n_.rank;
    const T* bm = frozen_b_.template data_ptr<T>() + r * k * nr;
    const T* dv = d_vec_ + r * nr;
    const T* bv = b_vec_ + r * k;
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t i = 0; i < k; ++i) {
        double u = 0.0;
        for (int64_t t = 0; t < nr; ++t)
          u += static_cast<double>(z[b * nr + t]) * static_cast<double>(dv[t]) * static_cast<double>(bm[i * nr + t]);
        scratch[b * k + i] = u;
        h[b * k + i] = wx[b * k + i] + static_cast<double>(bv[i]) * u;
      }
    }
  }
  void backward(int64_t r, int64_t batch, const T*, const double*, const T* z, const double*, const double* g,
                double* const* grads, double* scratch) const override {
    const int64_t k = n_.k, nr = n_.rank;
    const T* bm = frozen_b_.template data_ptr<T>() + r * k * nr;
    const T* bv = b_vec_ + r * k;
    double *gd = grads[0], *gbv = grads[1];
    for (int64_t i = 0; i < k; ++i) {
      double acc = 0.0;
      for (int64_t b = 0; b < batch; ++b) acc += g[b * k + i] * scratch[b * k + i];
      gbv[i] = acc;
    }
    for (int64_t t = 0; t < nr; ++t) {
      double acc = 0.0;
      for (int64_t b = 0; b < batch; ++b) {
        double back = 0.0;  // (B^T (b_vec (.) g_b))_t
        for (int64_t i = 0; i < k; ++i) back += g[b * k + i] * static_cast<double>(bv[i]) * static_cast<double>(bm[i * nr + t]);
        acc += back * static_cast<double>(z[b * nr + t]);
      }
      gd[t] = acc;
    }
  }

 private:
  Vera& a_;
  kernel::Shape n_;
  at::Tensor frozen_a_, frozen_b_;  // A [R, r, d], B [R, k, r] in dtype T
  T *d_vec_ = nullptr, *b_vec_ = nullptr;
};

std::unique_ptr<AdapterKernelBase> Vera::cpu_kernel(at::ScalarType dtype, std::string*) {
  return make_cpu_kernel<VeraKernel>(dtype, *this);
}

}  // namespace lrlab::models
