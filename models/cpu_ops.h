#pragma once
/// Small dense kernels on raw row-major arrays for the components' CPU kernels (models/adapters/adapter_kernel.h,
/// models/teacher_kernel.h) and the kernel driver (trainers/kernel_step.h).
///
/// Written with GCC/Clang vector extensions (8 floats or 4 doubles per operation) and, with GCC on
/// x86-64, compiled twice (generic x86-64 and x86-64-v3 = AVX2) with the faster one picked at load
/// time (target_clones), so the build stays portable. The sizes here are tiny (d up to ~1e4, a few
/// dozen rows): one call costs tens of nanoseconds, against ~1-3 us per LibTorch operation.

#include <cstdint>

namespace lrlab::models::cpu {

/// out[b n + i] = <x_b, rows[i]>: x [B, d] row-major, rows = n pointers to d numbers each,
/// out [B, n] row-major.
void dots(const float* x, int64_t batch, int64_t d, const float* const* rows, int64_t n, float* out);
/// As above in double precision.
void dots(const double* x, int64_t batch, int64_t d, const double* const* rows, int64_t n, double* out);

/// y[t d + j] += sum_b coef[b m + t] x[b d + j]: y [m, d], coef [B, m], x [B, d] (a rank-B update
/// of y; the gradient of a low-rank factor is one such update).
void add_outer(float* y, int64_t m, int64_t d, const double* coef, const float* x, int64_t batch);
/// As above in double precision.
void add_outer(double* y, int64_t m, int64_t d, const double* coef, const double* x, int64_t batch);
/// As above into a double accumulator from float rows x (gradients are accumulated in double).
void add_outer(double* y, int64_t m, int64_t d, const double* coef, const float* x, int64_t batch);

/// <a, b> of two n-vectors (vectorised in the arrays' precision, summed in double at the end, as `dots`).
double dot(const float* a, const float* b, int64_t n);
/// As above in double precision.
double dot(const double* a, const double* b, int64_t n);

/// v *= alpha (n numbers).
void scale(float* v, int64_t n, double alpha);
/// As above in double precision.
void scale(double* v, int64_t n, double alpha);

/// sum_j v_j^2, accumulated in double.
double sum_squares(const float* v, int64_t n);
/// As above in double precision.
double sum_squares(const double* v, int64_t n);

}  // namespace lrlab::models::cpu
