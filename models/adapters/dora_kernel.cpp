// The CPU kernel of `dora` (models/adapters/adapter_kernel.h; derivation in dora.h), never forming
// V = W + s B A. Per replica and step, in the forward (per-thread scratch, reused by the backward):
//   W A^T [k, r] and A A^T [r, r] (O(k d r), refreshed every step because A moves),
//   n_i^2 = ||W_i||^2 + 2 s sum_t B_it (W A^T)_it + s^2 sum_t (B A A^T)_it B_it          [k]
//   p_b = W x_b + s B (A x_b),  h_b = (m / n) (.) p_b                                      [k]
// Backward with g_b = dL/dh_b, gp_i = sum_b g_bi p_bi, G~_bi = (m_i / n_i) g_bi, c_i = m_i gp_i / n_i^3:
//   dL/dm_i = gp_i / n_i                                                                   [k]
//   dL/dB   = s [ sum_b G~_b (A x_b)^T - diag(c) (W A^T + s B A A^T) ]                    [k, r]
//   dL/dA   = s [ sum_b (B^T G~_b) x_b^T - sum_i c_i B_i^T W_i - s (B^T diag(c) B) A ]     [r, d]
// (the three terms of dL/dA are rank-B, rank-k and rank-r updates of the gradient buffer).

#include <algorithm>
#include <cmath>

#include "models/adapters/dora.h"
#include "models/cpu_ops.h"

namespace lrlab::models {

/// The dora kernel for dtype T.
template <class T>
class DoraKernel : public AdapterKernel<T> {
 public:
  /// Reads the adapter's parameters and the frozen W and ||W_i||^2.
  explicit DoraKernel(Dora& a)
      : a_(a),
        n_(a.base(), a.options_.rank),
        scale_(kernel::doubles(a.scale_)),
        w2_(kernel::doubles(a.w2_)),
        w_(kernel::frozen<T>(a.base().weight())) {}
  int64_t rows() const override { return n_.rank; }
  void row_pointers(int64_t r, const T** out) const override {
    for (int64_t t = 0; t < n_.rank; ++t) out[t] = a_ptr_ + (r * n_.rank + t) * n_.d;
  }
  int64_t scratch_size(int64_t batch) const override {
    const int64_t k = n_.k, nr = n_.rank;  // see slices
    return 2 * k * nr + nr * nr + 2 * k + batch * k + std::max({batch, k, nr}) * nr;
  }
  void begin_step() override {
    m_ptr_ = kernel::data<T>(a_.m_.value, n_.replicas * n_.k, "m");
    a_ptr_ = kernel::data<T>(a_.a_.value, n_.replicas * n_.rank * n_.d, "A");
    b_ptr_ = kernel::data<T>(a_.b_.value, n_.replicas * n_.k * n_.rank, "B");
  }
  void forward(int64_t r, int64_t batch, const T*, const double* wx, const T* z, double* h,
               double* scratch) const override {
    const int64_t d = n_.d, k = n_.k, nr = n_.rank;
    const Slices s = slices(scratch, batch);
    const T* w = w_.template data_ptr<T>() + r * k * d;
    const T* am = a_ptr_ + r * nr * d;
    const T* bm = b_ptr_ + r * k * nr;
    const T* m = m_ptr_ + r * k;
    const double sc = scale_[r];
    for (int64_t i = 0; i < k; ++i)
      for (int64_t t = 0; t < nr; ++t) s.wa[i * nr + t] = cpu::dot(w + i * d, am + t * d, d);
    for (int64_t t = 0; t < nr; ++t)
      for (int64_t u = 0; u < nr; ++u) s.aa[t * nr + u] = cpu::dot(am + t * d, am + u * d, d);
    for (int64_t i = 0; i < k; ++i) {
      double cross = 0.0, ba2 = 0.0;
      for (int64_t t = 0; t < nr; ++t) {
        double baa = 0.0;  // (B A A^T)_it
        for (int64_t u = 0; u < nr; ++u) baa += static_cast<double>(bm[i * nr + u]) * s.aa[u * nr + t];
        s.baa[i * nr + t] = baa;
        cross += static_cast<double>(bm[i * nr + t]) * s.wa[i * nr + t];
        ba2 += baa * static_cast<double>(bm[i * nr + t]);
      }
      const double n2 = w2_[r * k + i] + 2 * sc * cross + sc * sc * ba2;
      s.n[i] = std::sqrt(std::max(n2, 1e-30));  // as the batched clamp: rounding may cancel n2 to <= 0
    }
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t i = 0; i < k; ++i) {
        double bz = 0.0;
        for (int64_t t = 0; t < nr; ++t) bz += static_cast<double>(bm[i * nr + t]) * z[b * nr + t];
        const double p = wx[b * k + i] + sc * bz;
        s.p[b * k + i] = p;
        h[b * k + i] = (static_cast<double>(m[i]) / s.n[i]) * p;
      }
    }
  }
  void backward(int64_t r, int64_t batch, const T* x, const double*, const T* z, const double*, const double* g,
                double* const* grads, double* scratch) const override {
    const int64_t d = n_.d, k = n_.k, nr = n_.rank;
    const Slices s = slices(scratch, batch);
    const T* am = a_ptr_ + r * nr * d;
    const T* bm = b_ptr_ + r * k * nr;
    const T* m = m_ptr_ + r * k;
    const double sc = scale_[r];
    double *gm = grads[0], *ga = grads[1], *gb = grads[2];
    for (int64_t i = 0; i < k; ++i) {
      double gp = 0.0;
      for (int64_t b = 0; b < batch; ++b) gp += g[b * k + i] * s.p[b * k + i];
      gm[i] = gp / s.n[i];
      s.c[i] = static_cast<double>(m[i]) * gp / (s.n[i] * s.n[i] * s.n[i]);
    }
    // dL/dB = s [sum_b G~_b (A x_b)^T - diag(c) (W A^T + s B A A^T)].
    for (int64_t i = 0; i < k; ++i) {
      const double ratio = static_cast<double>(m[i]) / s.n[i];
      for (int64_t t = 0; t < nr; ++t) {
        double acc = 0.0;
        for (int64_t b = 0; b < batch; ++b) acc += g[b * k + i] * static_cast<double>(z[b * nr + t]);
        gb[i * nr + t] = sc * (ratio * acc - s.c[i] * (s.wa[i * nr + t] + sc * s.baa[i * nr + t]));
      }
    }
    kernel::zero(ga, nr * d);
    // + s sum_b (B^T G~_b) x_b^T: coef [B, r].
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t t = 0; t < nr; ++t) {
        double acc = 0.0;
        for (int64_t i = 0; i < k; ++i)
          acc += g[b * k + i] * (static_cast<double>(m[i]) / s.n[i]) * static_cast<double>(bm[i * nr + t]);
        s.coef[b * nr + t] = sc * acc;
      }
    }
    cpu::add_outer(ga, nr, d, s.coef, x, batch);
    // - s sum_i c_i B_i^T W_i: coef [k, r].
    for (int64_t i = 0; i < k; ++i)
      for (int64_t t = 0; t < nr; ++t) s.coef[i * nr + t] = -sc * s.c[i] * static_cast<double>(bm[i * nr + t]);
    cpu::add_outer(ga, nr, d, s.coef, w_.template data_ptr<T>() + r * k * d, k);
    // - s^2 (B^T diag(c) B) A: coef [r (u), r (t)] = -s^2 sum_i c_i B_it B_iu.
    for (int64_t u = 0; u < nr; ++u) {
      for (int64_t t = 0; t < nr; ++t) {
        double acc = 0.0;
        for (int64_t i = 0; i < k; ++i)
          acc += s.c[i] * static_cast<double>(bm[i * nr + t]) * static_cast<double>(bm[i * nr + u]);
        s.coef[u * nr + t] = -sc * sc * acc;
      }
    }
    cpu::add_outer(ga, nr, d, s.coef, am, nr);
  }

 private:
  // The per-thread scratch of one replica's step, shared by forward and backward.
  struct Slices {
    double *wa, *aa, *baa, *n, *c, *p, *coef;
  };
  Slices slices(double* scratch, int64_t batch) const {
    const int64_t k = n_.k, nr = n_.rank;
    Slices s{};
    s.wa = scratch;            // W A^T [k, r]
    s.aa = s.wa + k * nr;      // A A^T [r, r]
    s.baa = s.aa + nr * nr;    // B A A^T [k, r]
    s.n = s.baa + k * nr;      // ||V_i|| [k]
    s.c = s.n + k;             // c_i [k] (backward)
    s.p = s.c + k;             // V x_b [B, k]
    s.coef = s.p + batch * k;  // [max(B, k, r), r]
    return s;
  }

  Dora& a_;
  kernel::Shape n_;
  std::vector<double> scale_, w2_;  // s [R], ||W_i||^2 [R, k]
  at::Tensor w_;                    // W [R, k, d] in dtype T
  T *m_ptr_ = nullptr, *a_ptr_ = nullptr, *b_ptr_ = nullptr;
};

std::unique_ptr<AdapterKernelBase> Dora::cpu_kernel(at::ScalarType dtype, std::string*) {
  return make_cpu_kernel<DoraKernel>(dtype, *this);
}

}  // namespace lrlab::models
