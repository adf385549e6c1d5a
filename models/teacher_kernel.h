#pragma once
/// The CPU kernel contract of a teacher, for the fast online-SGD path (trainers/kernel_step.h): the
/// teacher's pre-activations on one replica's batch from the driver's shared pass over x (see
/// models/adapters/adapter_kernel.h for the loop). Labels are y_b = lam . sigma(h*_b) + tau_r eps_b,
/// formed by the driver. Same threading and precision rules as the adapter kernel.

#include <ATen/ATen.h>

#include <memory>

namespace lrlab::models {

/// The dtype-independent handle of a teacher's CPU kernel.
class TeacherKernelBase {
 public:
  virtual ~TeacherKernelBase() = default;
  /// The dtype the kernel works in.
  virtual at::ScalarType dtype() const = 0;
};

/// The per-replica CPU kernel of a teacher, for dtype T (float or double).
template <class T>
class TeacherKernel : public TeacherKernelBase {
 public:
  at::ScalarType dtype() const final { return c10::CppTypeToScalarType<T>::value; }
  /// n_t: rows of d numbers the driver dots with every sample (low_rank: U*'s r columns).
  virtual int64_t rows() const = 0;
  /// Writes replica r's n_t row pointers to `out`.
  virtual void row_pointers(int64_t r, const T** out) const = 0;
  /// Teacher pre-activations h* [B, k] of replica r from wx [B, k] = W x_b and z [B, n_t].
  virtual void preactivations(int64_t r, int64_t batch, const double* wx, const T* z, double* hs) const = 0;
};

}  // namespace lrlab::models
