#pragma once
/// The fused step's maths, written once for the host and the device: plain C++17 over raw pointers
/// (no LibTorch), LRLAB_HD functions that nvcc compiles into the CUDA kernel (fused_step.cu) and the
/// C++ compiler into `host_steps` below, which the CPU tests compare with the batched path
/// (tests/trainers/cuda/fused_math_test.cpp). docs/kernels.md, "Fused CUDA step", has the design.
///
/// One update of replica r (the online-SGD step of trainers/kernel_step.h, specialised to the
/// components with a descriptor, models/fused_descriptor.h): with x_b ~ N(0, I_d), b < B,
///   dots      p_b = [W x_b (k), U*^T x_b (r_t), <u, x_b> (1)]        one pass over x, reduced over d
///   teacher   h*_b = W x_b + xi* C* (U*^T x_b)       y_b = lam . sigma(h*_b) + tau eps_b
///   student   z_b = <u, x_b>   h_b = W x_b + xi z_b c    f_b = lam . sigma(h_b)
///   loss      sum_b (f_b - y_b)^2 / (2 B)            g_b = ((f_b - y_b) / B) lam (.) sigma'(h_b)  [k]
///   gradients (rank1, models/adapters/rank1_kernel.cpp):
///             dL/du = sum_b a_b x_b with a_b = xi (c . g_b)                          [d]
///             dL/dc = xi sum_b z_b g_b  [k]        dL/dxi = sum_b (c . g_b) z_b
///   update    (sgd, trainers/update_rule.h) c, xi: decoupled decay then theta -= eta g;
///             u: tangent part g - <g, u> u (spherical), u -= eta g, u /= |u|.
/// <g, u> = sum_b a_b z_b needs no second pass over d (z_b = <u, x_b> is a dot of the first pass).
/// Numbers of length d (x, u, W rows) are in the model's dtype T; everything else is double.

#include <cmath>
#include <cstdint>

#include "models/fused_descriptor.h"
#include "trainers/cuda/philox.h"

namespace lrlab::fused {

/// Most samples per step B the fused step takes.
inline constexpr int kMaxBatch = 16;
/// Most students' widths k.
inline constexpr int kMaxWidth = 64;
/// Most dot products per replica and step, (k + r_t + 1) B (the per-thread partial sums).
inline constexpr int kMaxDots = 64;

/// One group's problem: shapes, descriptors and raw pointers (host or device memory alike).
template <class T>
struct Problem {
  int64_t replicas = 0, d = 0, k = 0, batch = 1;  ///< R, d, k, B
  int32_t teacher_rank = 1;                       ///< r_t
  ActivationDesc act;                             ///< sigma
  AdapterDesc adapter;                            ///< rank1 options
  const T* w = nullptr;        ///< W [R, k, d]
  const T* lam = nullptr;      ///< lam [R, k]
  const T* ustar_t = nullptr;  ///< U*^T [R, r_t, d] (rows contiguous)
  const T* cstar = nullptr;    ///< C* [R, k, r_t]
  const T* xistar = nullptr;   ///< xi* [R]
  const T* tau = nullptr;      ///< label noise tau [R] (read when `noisy`)
  T* u = nullptr;              ///< u [R, d], unit rows
  T* c = nullptr;              ///< c [R, k]
  T* xi = nullptr;             ///< xi [R]
  const uint64_t* seeds = nullptr;  ///< run seed per replica [R] (the Philox key)
  const double* lr = nullptr;       ///< lr_s [R] for every step of the launch (before lr_scale)
  const double* decay = nullptr;    ///< lr_s * weight_decay [R] or null (no decay)
  double lr_scale_u = 1.0, lr_scale_c = 1.0, lr_scale_xi = 1.0;  ///< Parameter::lr_scale
  bool spherical = true;  ///< tangent projection of u's gradient
  bool noisy = false;     ///< labels carry tau eps (eps drawn every step)
  /// Injected inputs [n, R, B, d] for the launch's n steps instead of Philox draws (tests), or null.
  const T* x_injected = nullptr;
  /// Injected label noise [n, R, B] (with x_injected), or null.
  const T* eps_injected = nullptr;
  T* x_scratch = nullptr;  ///< [R, B, d] work space: the step's inputs (when not injected)
  T* loss = nullptr;       ///< [R] mean loss over the launch's steps (each at its batch), or null
};

/// Dot products per sample: k (W) + r_t (U*) + 1 (u).
template <class T>
LRLAB_HD inline int dots_per_sample(const Problem<T>& p) {
  return static_cast<int>(p.k) + p.teacher_rank + 1;
}

/// sigma(z) and sigma'(z) of `a`, the expressions of each activation's cpu_values (models/activations/).
LRLAB_HD inline void activation(const ActivationDesc& a, double z, double* v, double* dv) {
  switch (a.kind) {
    case ActivationKind::kRelu:
      *dv = z > 0 ? 1.0 : 0.0;
      *v = z <= 0 ? 0.0 : z;
      return;
    case ActivationKind::kTanh:
      *v = std::tanh(z);
      *dv = 1.0 - *v * *v;
      return;
    case ActivationKind::kSigmoid:
      *v = 1.0 / (1.0 + std::exp(-z));
      *dv = *v * (1.0 - *v);
      return;
    case ActivationKind::kGelu: {
      const double cdf2 = 1.0 + std::erf(z * 0.70710678118654752440);  // 2 Phi(z)
      *v = 0.5 * z * cdf2;
      *dv = 0.5 * cdf2 + z * std::exp(-0.5 * z * z) * 0.39894228040143267794;  // 1 / sqrt(2 pi)
      return;
    }
    case ActivationKind::kSoftplus: {
      const double bz = a.beta * z;
      *v = ((bz > 0 ? bz : 0.0) + std::log1p(std::exp(-std::fabs(bz)))) / a.beta;
      *dv = 1.0 / (1.0 + std::exp(-bz));
      return;
    }
    case ActivationKind::kErf:
      *v = std::erf(z * 0.70710678118654752440);
      *dv = 0.79788456080286535588 * std::exp(-0.5 * z * z);  // sqrt(2 / pi)
      return;
    case ActivationKind::kHermite: {
      // sum_p coef_p He_p(z) with He_0 = 1, He_1 = z, He_{p+1} = z He_p - p He_{p-1}.
      double sums[2] = {0.0, 0.0};
      const double* coefs[2] = {a.value_coef, a.slope_coef};
      const int32_t terms[2] = {a.value_terms, a.slope_terms};
      for (int s = 0; s < 2; ++s) {
        double prev = 1.0, cur = z, out = terms[s] > 0 ? coefs[s][0] : 0.0;
        for (int32_t q = 1; q < terms[s]; ++q) {
          out += coefs[s][q] * cur;
          const double next = z * cur - static_cast<double>(q) * prev;
          prev = cur;
          cur = next;
        }
        sums[s] = out;
      }
      *v = sums[0];
      *dv = sums[1];
      return;
    }
  }
}

/// Element j of sample block [B, d] of replica r at update `step` (from 1), launch step `s` (from 0):
/// the injected input when given, else normal j of the replica's Philox input stream.
template <class T>
LRLAB_HD inline T input(const Problem<T>& p, int64_t r, int64_t step, int64_t s, int64_t j) {
  if (p.x_injected) return p.x_injected[(s * p.replicas + r) * p.batch * p.d + j];
  return static_cast<T>(normal(p.seeds[r], static_cast<uint64_t>(step), kDrawInputs, static_cast<uint32_t>(j)));
}

/// Label noise eps_b of replica r at update `step`, launch step `s` (as `input`).
template <class T>
LRLAB_HD inline double noise(const Problem<T>& p, int64_t r, int64_t step, int64_t s, int64_t b) {
  if (p.eps_injected) return static_cast<double>(p.eps_injected[(s * p.replicas + r) * p.batch + b]);
  return static_cast<double>(static_cast<T>(normal(p.seeds[r], static_cast<uint64_t>(step), kDrawNoise,
                                                   static_cast<uint32_t>(b))));
}

/// Adds x_b[i] times element i of each of the n rows (W's k, U*^T's r_t, u) to dots[b n + q].
template <class T>
LRLAB_HD inline void accumulate_dots(const Problem<T>& p, int64_t r, int64_t b, int64_t i, T x, double* dots) {
  const int n = dots_per_sample(p);
  const double xv = static_cast<double>(x);
  double* out = dots + b * n;
  const T* w = p.w + r * p.k * p.d + i;
  for (int64_t q = 0; q < p.k; ++q) out[q] += xv * static_cast<double>(w[q * p.d]);
  const T* ut = p.ustar_t + r * p.teacher_rank * p.d + i;
  for (int32_t q = 0; q < p.teacher_rank; ++q) out[p.k + q] += xv * static_cast<double>(ut[q * p.d]);
  out[n - 1] += xv * static_cast<double>(p.u[r * p.d + i]);
}

/// What one replica's step needs besides its inputs, from its dot products: O(B k) numbers.
struct Scalars {
  double a[kMaxBatch];      ///< dL/du = sum_b a_b x_b, a_b = xi (c . g_b)
  double gu;                ///< <dL/du, u> = sum_b a_b z_b (0 when not spherical: no projection)
  double grad_c[kMaxWidth];  ///< dL/dc [k]
  double grad_xi;           ///< dL/dxi
  double loss;              ///< sum_b (f_b - y_b)^2 / (2 B)
};

/// Replica r's labels, loss and small gradients from dots [B, n] and the label noise eps [B].
template <class T>
LRLAB_HD inline void replica_scalars(const Problem<T>& p, int64_t r, const double* dots, const double* eps,
                                     Scalars* s) {
  const int64_t k = p.k, n = dots_per_sample(p);
  const T* lam = p.lam + r * k;
  const T* cs = p.cstar + r * k * p.teacher_rank;
  const T* c = p.c + r * k;
  const double xs = static_cast<double>(p.xistar[r]), xi = static_cast<double>(p.xi[r]);
  const double inv_b = 1.0 / static_cast<double>(p.batch);
  for (int64_t i = 0; i < k; ++i) s->grad_c[i] = 0.0;
  s->grad_xi = 0.0;
  s->gu = 0.0;
  s->loss = 0.0;
  for (int64_t b = 0; b < p.batch; ++b) {
    const double* pb = dots + b * n;
    const double z = pb[n - 1];
    double y = p.noisy ? static_cast<double>(p.tau[r]) * eps[b] : 0.0, f = 0.0;
    double g[kMaxWidth];  // lam (.) sigma'(h_b), then g_b
    for (int64_t i = 0; i < k; ++i) {
      double pert = 0.0;
      for (int32_t t = 0; t < p.teacher_rank; ++t) pert += static_cast<double>(cs[i * p.teacher_rank + t]) * pb[k + t];
      double v, dv;
      activation(p.act, pb[i] + xs * pert, &v, &dv);
      y += static_cast<double>(lam[i]) * v;
      activation(p.act, pb[i] + xi * z * static_cast<double>(c[i]), &v, &dv);
      f += static_cast<double>(lam[i]) * v;
      g[i] = static_cast<double>(lam[i]) * dv;
    }
    const double e = f - y;
    s->loss += e * e;
    double cg = 0.0;  // c . g_b
    for (int64_t i = 0; i < k; ++i) {
      g[i] *= e * inv_b;
      cg += static_cast<double>(c[i]) * g[i];
      s->grad_c[i] += z * g[i];
    }
    s->grad_xi += cg * z;
    s->a[b] = xi * cg;
    if (p.spherical) s->gu += xi * cg * z;
  }
  for (int64_t i = 0; i < k; ++i) s->grad_c[i] *= xi;
  s->loss *= 0.5 * inv_b;
}

/// The sgd update of replica r's c and xi (when trained): decoupled decay, then theta -= eta g.
template <class T>
LRLAB_HD inline void update_small(const Problem<T>& p, int64_t r, const Scalars& s) {
  const double lr = p.lr[r], decay = p.decay ? p.decay[r] : 0.0;
  if (p.adapter.train_c) {
    T* c = p.c + r * p.k;
    for (int64_t i = 0; i < p.k; ++i) {
      if (p.decay) c[i] = static_cast<T>(c[i] * (1.0 - decay * p.lr_scale_c));
      c[i] = static_cast<T>(c[i] - lr * p.lr_scale_c * s.grad_c[i]);
    }
  }
  if (p.adapter.train_xi) {
    T* xi = p.xi + r;
    if (p.decay) *xi = static_cast<T>(*xi * (1.0 - decay * p.lr_scale_xi));
    *xi = static_cast<T>(*xi - lr * p.lr_scale_xi * s.grad_xi);
  }
}

/// u_i - eta (g_i - <g, u> u_i) for element i of replica r's u, before the retraction; `x` is the
/// step's [B, d] block of the replica.
template <class T>
LRLAB_HD inline T u_stepped(const Problem<T>& p, int64_t r, const Scalars& s, const T* x, int64_t i) {
  const double u = static_cast<double>(p.u[r * p.d + i]);
  double g = 0.0;
  for (int64_t b = 0; b < p.batch; ++b) g += s.a[b] * static_cast<double>(x[b * p.d + i]);
  return static_cast<T>(u - p.lr[r] * p.lr_scale_u * (g - s.gu * u));
}

/// The problem's first unsupported shape, or null when every limit holds.
template <class T>
inline const char* shape_problem(const Problem<T>& p) {
  if (p.batch > kMaxBatch) return "batch above the fused step's limit (16)";
  if (p.k > kMaxWidth) return "width k above the fused step's limit (64)";
  if (dots_per_sample(p) * p.batch > kMaxDots) return "(k + r_t + 1) B above the fused step's limit (64)";
  return nullptr;
}

/// The host instantiation: `n` updates (numbered first, first + 1, ...) of every replica with the
/// functions above and plain loops for the reductions over d. The device kernel (fused_step.cu)
/// runs the same functions with block reductions; tests compare this with the batched path.
template <class T>
void host_steps(const Problem<T>& p, int64_t first, int64_t n) {
  const int64_t bd = p.batch * p.d;
  for (int64_t r = 0; r < p.replicas && p.loss; ++r) p.loss[r] = T(0);
  for (int64_t s = 0; s < n; ++s) {
    const int64_t step = first + s;
    for (int64_t r = 0; r < p.replicas; ++r) {
      T* x = p.x_scratch + r * bd;
      double dots[kMaxDots] = {};
      double eps[kMaxBatch] = {};
      for (int64_t j = 0; j < bd; ++j) {
        x[j] = input(p, r, step, s, j);
        accumulate_dots(p, r, j / p.d, j % p.d, x[j], dots);
      }
      if (p.noisy)
        for (int64_t b = 0; b < p.batch; ++b) eps[b] = noise(p, r, step, s, b);
      Scalars sc;
      replica_scalars(p, r, dots, eps, &sc);
      if (p.loss) p.loss[r] = static_cast<T>(p.loss[r] + sc.loss / static_cast<double>(n));
      T* u = p.u + r * p.d;
      double ss = 0.0;
      for (int64_t i = 0; i < p.d; ++i) {
        const T v = u_stepped(p, r, sc, x, i);
        ss += static_cast<double>(v) * static_cast<double>(v);
        u[i] = v;  // element i is read only by u_stepped(i)
      }
      const double inv = 1.0 / std::sqrt(ss);
      for (int64_t i = 0; i < p.d; ++i) u[i] = static_cast<T>(u[i] * inv);
      update_small(p, r, sc);
    }
  }
}

}  // namespace lrlab::fused
