#include "models/cpu_ops.h"

#include <cstring>

// target_clones: one generic and one AVX2 (x86-64-v3) body per function, chosen at load time.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(LRLAB_NO_CLONES)
#define LRLAB_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define LRLAB_CLONES
#endif
#define LRLAB_INLINE inline __attribute__((always_inline))

// The 32-byte vector helpers are always inlined, so the ABI note about passing them is moot.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace lrlab::models::cpu {

namespace {

// 32-byte vectors: 8 floats or 4 doubles (two SSE registers on the generic target, one AVX register
// on x86-64-v3).
template <class T>
struct Simd {
  typedef T V __attribute__((vector_size(32)));
  static constexpr int kLanes = 32 / sizeof(T);
};

template <class T>
LRLAB_INLINE typename Simd<T>::V load(const T* p) {
  typename Simd<T>::V v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

template <class T>
LRLAB_INLINE void store(T* p, typename Simd<T>::V v) {
  std::memcpy(p, &v, sizeof(v));
}

template <class T>
LRLAB_INLINE T horizontal_sum(typename Simd<T>::V v) {
  T s = 0;
  for (int i = 0; i < Simd<T>::kLanes; ++i) s += v[i];
  return s;
}

// MB samples x NB rows of dot products, vectorised over d: each x chunk is loaded once for NB rows
// and each row chunk once for MB samples.
template <class T, int MB, int NB>
LRLAB_INLINE void dot_block(const T* x, int64_t d, const T* const* rows, T* out, int64_t ldo) {
  using V = typename Simd<T>::V;
  constexpr int L = Simd<T>::kLanes;
  V acc[MB][NB];
  for (int m = 0; m < MB; ++m)
    for (int n = 0; n < NB; ++n) acc[m][n] = V{} ;
  int64_t j = 0;
  for (; j + L <= d; j += L) {
    V xv[MB];
    for (int m = 0; m < MB; ++m) xv[m] = load<T>(x + m * d + j);
    for (int n = 0; n < NB; ++n) {
      const V rv = load<T>(rows[n] + j);
      for (int m = 0; m < MB; ++m) acc[m][n] += xv[m] * rv;
    }
  }
  for (int m = 0; m < MB; ++m) {
    for (int n = 0; n < NB; ++n) {
      T s = horizontal_sum<T>(acc[m][n]);
      for (int64_t jj = j; jj < d; ++jj) s += x[m * d + jj] * rows[n][jj];
      out[m * ldo + n] = s;
    }
  }
}

template <class T, int MB>
LRLAB_INLINE void dot_rows(const T* x, int64_t d, const T* const* rows, int64_t n, T* out) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) dot_block<T, MB, 4>(x, d, rows + i, out + i, n);
  for (; i < n; ++i) dot_block<T, MB, 1>(x, d, rows + i, out + i, n);
}

template <class T>
LRLAB_INLINE void dots_impl(const T* x, int64_t batch, int64_t d, const T* const* rows, int64_t n, T* out) {
  int64_t b = 0;
  for (; b + 2 <= batch; b += 2) dot_rows<T, 2>(x + b * d, d, rows, n, out + b * n);
  for (; b < batch; ++b) dot_rows<T, 1>(x + b * d, d, rows, n, out + b * n);
}

// y_t += sum_b coef[b, t] x_b, four samples per pass over y_t.
template <class Y, class T>
LRLAB_INLINE void add_outer_impl(Y* y, int64_t m, int64_t d, const double* coef, const T* x, int64_t batch) {
  for (int64_t t = 0; t < m; ++t) {
    Y* yt = y + t * d;
    int64_t b = 0;
    for (; b + 4 <= batch; b += 4) {
      const Y c0 = static_cast<Y>(coef[b * m + t]), c1 = static_cast<Y>(coef[(b + 1) * m + t]);
      const Y c2 = static_cast<Y>(coef[(b + 2) * m + t]), c3 = static_cast<Y>(coef[(b + 3) * m + t]);
      const T *x0 = x + b * d, *x1 = x0 + d, *x2 = x1 + d, *x3 = x2 + d;
      for (int64_t j = 0; j < d; ++j) yt[j] += (c0 * x0[j] + c1 * x1[j]) + (c2 * x2[j] + c3 * x3[j]);
    }
    for (; b < batch; ++b) {
      const Y c = static_cast<Y>(coef[b * m + t]);
      const T* xb = x + b * d;
      for (int64_t j = 0; j < d; ++j) yt[j] += c * xb[j];
    }
  }
}

template <class T>
LRLAB_INLINE double dot_impl(const T* a, const T* b, int64_t n) {
  using V = typename Simd<T>::V;
  constexpr int L = Simd<T>::kLanes;
  V a0{}, a1{};
  int64_t j = 0;
  for (; j + 2 * L <= n; j += 2 * L) {
    a0 += load<T>(a + j) * load<T>(b + j);
    a1 += load<T>(a + j + L) * load<T>(b + j + L);
  }
  double s = static_cast<double>(horizontal_sum<T>(a0 + a1));
  for (; j < n; ++j) s += static_cast<double>(a[j]) * b[j];
  return s;
}

}  // namespace

LRLAB_CLONES void dots(const float* x, int64_t batch, int64_t d, const float* const* rows, int64_t n, float* out) {
  dots_impl(x, batch, d, rows, n, out);
}
LRLAB_CLONES void dots(const double* x, int64_t batch, int64_t d, const double* const* rows, int64_t n, double* out) {
  dots_impl(x, batch, d, rows, n, out);
}
LRLAB_CLONES void add_outer(float* y, int64_t m, int64_t d, const double* coef, const float* x, int64_t batch) {
  add_outer_impl(y, m, d, coef, x, batch);
}
LRLAB_CLONES void add_outer(double* y, int64_t m, int64_t d, const double* coef, const double* x, int64_t batch) {
  add_outer_impl(y, m, d, coef, x, batch);
}
LRLAB_CLONES void add_outer(double* y, int64_t m, int64_t d, const double* coef, const float* x, int64_t batch) {
  add_outer_impl(y, m, d, coef, x, batch);
}
LRLAB_CLONES double dot(const float* a, const float* b, int64_t n) { return dot_impl(a, b, n); }
LRLAB_CLONES double dot(const double* a, const double* b, int64_t n) { return dot_impl(a, b, n); }
LRLAB_CLONES void scale(float* v, int64_t n, double alpha) {
  const float a = static_cast<float>(alpha);
  for (int64_t j = 0; j < n; ++j) v[j] *= a;
}
LRLAB_CLONES void scale(double* v, int64_t n, double alpha) {
  for (int64_t j = 0; j < n; ++j) v[j] *= alpha;
}
LRLAB_CLONES double sum_squares(const float* v, int64_t n) { return dot_impl(v, v, n); }
LRLAB_CLONES double sum_squares(const double* v, int64_t n) { return dot_impl(v, v, n); }

}  // namespace lrlab::models::cpu
