// The CPU kernel of `linearized` (models/adapters/adapter_kernel.h): the inner adapter's kernel for
// rows, forward and backward (h = the inner pre-activations (W + Delta) x), with its own output:
//   f_b    = sum_i lam_i sigma(wx_bi) + lam_i sigma'(wx_bi) (h_bi - wx_bi)
//   dfdh_b = lam (.) sigma'(wx_b)                      (f is linear in h with fixed weights)
// so the inner backward receives g = ((f - y) / B) lam (.) sigma'(W x), as Linearized::backward.

#include "models/activation.h"
#include "models/adapters/linearized.h"

namespace lrlab::models {

/// The linearized kernel for dtype T: wraps the inner adapter's kernel.
template <class T>
class LinearizedKernel : public AdapterKernel<T> {
 public:
  /// Takes the inner adapter's kernel (of dtype T).
  explicit LinearizedKernel(std::unique_ptr<AdapterKernelBase> inner)
      : inner_(static_cast<AdapterKernel<T>*>(inner.release())) {}
  int64_t rows() const override { return inner_->rows(); }
  void row_pointers(int64_t r, const T** out) const override { inner_->row_pointers(r, out); }
  int64_t scratch_size(int64_t batch) const override { return inner_->scratch_size(batch); }
  void begin_step() override { inner_->begin_step(); }
  void forward(int64_t r, int64_t batch, const T* x, const double* wx, const T* z, double* h,
               double* scratch) const override {
    inner_->forward(r, batch, x, wx, z, h, scratch);
  }
  void output(const Activation& act, const double* lam, int64_t batch, int64_t k, const double* wx, const double* h,
              double* f, double* dfdh, double* tmp) const override {
    act.cpu_values(wx, tmp, dfdh, batch * k);  // sigma(W x), sigma'(W x)
    for (int64_t b = 0; b < batch; ++b) {
      double base = 0.0, linear = 0.0;
      for (int64_t i = 0; i < k; ++i) {
        const int64_t j = b * k + i;
        base += lam[i] * tmp[j];
        linear += (h[j] - wx[j]) * dfdh[j] * lam[i];
        dfdh[j] *= lam[i];
      }
      f[b] = base + linear;
    }
  }
  void backward(int64_t r, int64_t batch, const T* x, const double* wx, const T* z, const double* h, const double* g,
                double* const* grads, double* scratch) const override {
    inner_->backward(r, batch, x, wx, z, h, g, grads, scratch);
  }
  void after_update() override { inner_->after_update(); }

 private:
  std::unique_ptr<AdapterKernel<T>> inner_;
};

std::unique_ptr<AdapterKernelBase> Linearized::cpu_kernel(at::ScalarType dtype, std::string* why) {
  std::unique_ptr<AdapterKernelBase> inner = inner_->cpu_kernel(dtype, why);
  if (!inner) {
    if (why) *why = "linearized: inner " + *why;
    return nullptr;
  }
  return make_cpu_kernel<LinearizedKernel>(dtype, std::move(inner));
}

}  // namespace lrlab::models
