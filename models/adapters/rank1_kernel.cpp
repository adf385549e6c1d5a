// The CPU kernel of `rank1` (models/adapters/adapter_kernel.h): Delta = xi c u^T, one row (u).
//   z_b = <u, x_b>                      h_b = W x_b + xi z_b c                              [k]
//   with g_b = dL/dh_b [k] and (c . g_b) = sum_i c_i g_bi:
//   dL/du  = xi sum_b (c . g_b) x_b     [d]  (one rank-B update of the gradient buffer)
//   dL/dc  = xi sum_b z_b g_b           [k]
//   dL/dxi = sum_b (c . g_b) z_b
// Only the parameters in Rank1::parameters() get a gradient (c and xi may be frozen).

#include "models/adapters/rank1.h"
#include "models/cpu_ops.h"

namespace lrlab::models {

/// The rank1 kernel for dtype T.
template <class T>
class Rank1Kernel : public AdapterKernel<T> {
 public:
  /// Reads the adapter's parameters (kept by reference; the adapter outlives the kernel).
  explicit Rank1Kernel(Rank1& a)
      : a_(a), n_(a.base()) {
    const auto params = a.parameters();
    for (size_t j = 0; j < params.size(); ++j) {
      if (params[j] == &a.c_) c_index_ = static_cast<int>(j);
      if (params[j] == &a.xi_) xi_index_ = static_cast<int>(j);
    }
  }
  int64_t rows() const override { return 1; }
  void row_pointers(int64_t r, const T** out) const override { out[0] = u_ + r * n_.d; }
  int64_t scratch_size(int64_t batch) const override { return batch; }  // (c . g_b) [B]
  void begin_step() override {
    u_ = kernel::data<T>(a_.u_.value, n_.replicas * n_.d, "u");
    c_ = kernel::data<T>(a_.c_.value, n_.replicas * n_.k, "c");
    xi_ = kernel::data<T>(a_.xi_.value, n_.replicas, "xi");
  }
  void forward(int64_t r, int64_t batch, const T*, const double* wx, const T* z, double* h,
               double*) const override {
    const T* c = c_ + r * n_.k;
    const double xi = xi_[r];
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t i = 0; i < n_.k; ++i) h[b * n_.k + i] = wx[b * n_.k + i] + xi * z[b] * c[i];
  }
  void backward(int64_t r, int64_t batch, const T* x, const double*, const T* z, const double*, const double* g,
                double* const* grads, double* scratch) const override {
    const T* c = c_ + r * n_.k;
    const double xi = xi_[r];
    double* cg = scratch;  // (c . g_b), then xi (c . g_b)
    double gxi = 0.0;
    for (int64_t b = 0; b < batch; ++b) {
      double acc = 0.0;
      for (int64_t i = 0; i < n_.k; ++i) acc += static_cast<double>(c[i]) * g[b * n_.k + i];
      cg[b] = acc;
      gxi += acc * z[b];
    }
    if (xi_index_ >= 0) grads[xi_index_][0] = gxi;
    if (c_index_ >= 0) {
      for (int64_t i = 0; i < n_.k; ++i) {
        double acc = 0.0;
        for (int64_t b = 0; b < batch; ++b) acc += static_cast<double>(z[b]) * g[b * n_.k + i];
        grads[c_index_][i] = xi * acc;
      }
    }
    for (int64_t b = 0; b < batch; ++b) cg[b] *= xi;
    kernel::zero(grads[0], n_.d);  // u is parameters()[0]
    cpu::add_outer(grads[0], 1, n_.d, cg, x, batch);
  }

 private:
  Rank1& a_;
  kernel::Shape n_;
  int c_index_ = -1, xi_index_ = -1;  // positions in parameters() (-1: not trained)
  T *u_ = nullptr, *c_ = nullptr, *xi_ = nullptr;
};

std::unique_ptr<AdapterKernelBase> Rank1::cpu_kernel(at::ScalarType dtype, std::string*) {
  return make_cpu_kernel<Rank1Kernel>(dtype, *this);
}

// The fused CUDA step (trainers/cuda/fused_math.h) runs the same maths as the kernel above.
std::optional<fused::AdapterDesc> Rank1::cuda_descriptor(std::string*) {
  fused::AdapterDesc desc;
  desc.kind = fused::AdapterKind::kRank1;
  desc.train_c = options_.c == "train";
  desc.train_xi = options_.train_xi;
  return desc;
}

}  // namespace lrlab::models
