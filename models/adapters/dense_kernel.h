#pragma once
/// The CPU kernel of an adapter whose trained parameter is a dense first-layer matrix M [R, k, d]
/// (models/adapters/adapter_kernel.h), shared by `full` (M = Delta, h = W x + Delta x) and `scratch`
/// (M = Theta, h = Theta x, W ignored):
///   rows: M's k rows;  z_b = M x_b [k];  h_b = (W x_b if adds_base) + z_b
///   with g_b = dL/dh_b [k]:  dL/dM = sum_b g_b x_b^T [k, d]  (one rank-B update of the gradient buffer)

#include "models/adapters/adapter.h"
#include "models/cpu_ops.h"

namespace lrlab::models {

/// The dense-matrix kernel for dtype T.
template <class T>
class DenseKernel : public AdapterKernel<T> {
 public:
  /// `m`: the adapter's only parameter [R, k, d]; `adds_base`: h = W x + M x (else h = M x).
  DenseKernel(const Parameter& m, const BaseNetwork& base, bool adds_base)
      : m_(m), n_(base), adds_base_(adds_base) {}
  int64_t rows() const override { return n_.k; }
  void row_pointers(int64_t r, const T** out) const override {
    for (int64_t i = 0; i < n_.k; ++i) out[i] = ptr_ + (r * n_.k + i) * n_.d;
  }
  void begin_step() override { ptr_ = kernel::data<T>(m_.value, n_.replicas * n_.k * n_.d, m_.name); }
  void forward(int64_t, int64_t batch, const T*, const double* wx, const T* z, double* h, double*) const override {
    for (int64_t j = 0; j < batch * n_.k; ++j) h[j] = (adds_base_ ? wx[j] : 0.0) + static_cast<double>(z[j]);
  }
  void backward(int64_t, int64_t batch, const T* x, const double*, const T*, const double*, const double* g,
                double* const* grads, double*) const override {
    kernel::zero(grads[0], n_.k * n_.d);
    cpu::add_outer(grads[0], n_.k, n_.d, g, x, batch);  // coef [B, k] = g
  }

 private:
  const Parameter& m_;
  kernel::Shape n_;
  bool adds_base_;
  T* ptr_ = nullptr;
};

}  // namespace lrlab::models
