#pragma once
/// The CPU kernel contract of an adapter: what the fast online-SGD path (trainers/kernel_step.h) asks
/// of an adapter so that one replica's whole step runs in plain loops over raw arrays, with no
/// LibTorch operation and no allocation per step. The adapter provides it next to its own code
/// (`models/adapters/<name>_kernel.cpp`) through `Adapter::cpu_kernel`; the trainer never lists
/// adapter types.
///
/// One step of replica r with a batch of B samples, x [B, d] row-major (the driver's loop):
///  1. rows: the kernel names n_a rows of d numbers (lora: A's r rows; rank1: u; full: Delta's k rows;
///     may be none). The driver computes their dot products with every sample in the same pass over x
///     as W x_b and the teacher's rows:          z [B, n_a],  wx [B, k] = W x_b.
///  2. forward:  h [B, k] = (W + Delta) x_b, from x, wx and z (in double precision).
///  3. output:   f [B] and dfdh [B, k] = df_b / dh_b. The default is the two-layer output
///     f_b = lam . sigma(h_b), dfdh_b = lam (.) sigma'(h_b); a kernel may override it (linearized).
///     The driver forms g [B, k] = dL/dh_b = ((f_b - y_b) / B) dfdh_b (the batch mean is in g).
///  4. backward: the gradient dL/dtheta of every trained parameter of replica r, from g, written as
///     doubles into one buffer per Parameter, in `Adapter::parameters()` order, numel-per-replica
///     numbers each (every number overwritten).
/// The kernel only computes; the update rule (trainers/update_rule.h) applies the gradient, so every
/// update rule (sgd with the spherical step, adam, sign_sgd, weight decay, schedules, LoRA+ ratios)
/// runs on the fast path.
///
/// Threads: `forward`, `output` and `backward` of different replicas run concurrently on different
/// threads; they may only read shared state and write replica r's slices and their `scratch`.
/// `begin_step` and `after_update` run on one thread, once per step, before and after every replica.
/// Precision: x, z and parameters are in the model's dtype T (float or double); h, g, gradients and
/// scratch are double.

#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <vector>

namespace lrlab::models {

class Activation;
class BaseNetwork;

/// The dtype-independent handle of a CPU kernel (the driver casts it to AdapterKernel<T>).
class AdapterKernelBase {
 public:
  virtual ~AdapterKernelBase() = default;
  /// The dtype the kernel works in (at::kFloat or at::kDouble).
  virtual at::ScalarType dtype() const = 0;
};

/// The per-replica CPU kernel of an adapter, for the model's dtype T (float or double).
template <class T>
class AdapterKernel : public AdapterKernelBase {
 public:
  at::ScalarType dtype() const final { return c10::CppTypeToScalarType<T>::value; }

  /// n_a: how many rows of d numbers the driver dots with every sample (may be 0).
  virtual int64_t rows() const = 0;
  /// Writes replica r's n_a row pointers (each to d contiguous numbers, valid for this step) to `out`.
  virtual void row_pointers(int64_t r, const T** out) const = 0;
  /// Doubles of per-thread scratch `forward`/`backward` need for a batch of `batch` (default none).
  virtual int64_t scratch_size(int64_t batch) const { return 0 * batch; }

  /// Once per step, before any replica: resolve data pointers (parameters are updated in place but a
  /// caller may have replaced a tensor), refresh per-step caches.
  virtual void begin_step() {}
  /// Student pre-activations of replica r: h [B, k] from x [B, d], wx [B, k] = W x_b and
  /// z [B, n_a] = the rows' dot products.
  virtual void forward(int64_t r, int64_t batch, const T* x, const double* wx, const T* z, double* h,
                       double* scratch) const = 0;
  /// Output f [B] and dfdh [B, k] of replica r from its pre-activations h [B, k] (and wx [B, k]);
  /// `lam` [k] is the second layer, `tmp` [B, k] scratch. Default: f_b = lam . sigma(h_b),
  /// dfdh_b = lam (.) sigma'(h_b), through Activation::cpu_values.
  virtual void output(const Activation& act, const double* lam, int64_t batch, int64_t k, const double* wx,
                      const double* h, double* f, double* dfdh, double* tmp) const;
  /// Gradients of replica r's parameters from g [B, k] = dL/dh (batch mean included): grads[j] holds
  /// the numel-per-replica doubles of parameters()[j] (row-major, as the tensor's [r] slice); every
  /// number is overwritten. x, wx, z and h are those of the preceding forward.
  virtual void backward(int64_t r, int64_t batch, const T* x, const double* wx, const T* z, const double* h,
                        const double* g, double* const* grads, double* scratch) const = 0;
  /// Once per step, after every replica's update (e.g. to refresh caches). Default: nothing.
  virtual void after_update() {}
};

/// Builds Kernel<float> or Kernel<double> for `dtype` from `args` (nullptr for other dtypes). An
/// adapter's `cpu_kernel` is usually one line: `return make_cpu_kernel<LoraKernel>(dtype, *this);`.
template <template <class> class Kernel, class... Args>
std::unique_ptr<AdapterKernelBase> make_cpu_kernel(at::ScalarType dtype, Args&&... args) {
  if (dtype == at::kFloat) return std::make_unique<Kernel<float>>(std::forward<Args>(args)...);
  if (dtype == at::kDouble) return std::make_unique<Kernel<double>>(std::forward<Args>(args)...);
  return nullptr;
}

/// Helpers of the kernels (models/adapters/*_kernel.cpp, models/low_rank_kernel.cpp).
namespace kernel {

/// The sizes a kernel loops over: the base network's d, k and R, and the component's rank r.
struct Shape {
  /// Reads d, k and R from `base`; `rank` is the component's r (1 when it has none).
  explicit Shape(const BaseNetwork& base, int64_t rank = 1);
  int64_t d;         ///< input dimension
  int64_t k;         ///< width
  int64_t replicas;  ///< R
  int64_t rank;      ///< r
};

/// The data of a replica-stacked CPU tensor as T*, after checking that it is contiguous, of dtype T and
/// holds `numel` numbers (parameters are updated in place; a caller that replaced one with another
/// layout gets an lrlab::Error naming `what`).
template <class T>
T* data(const at::Tensor& t, int64_t numel, const std::string& what);
/// The numbers of a (small, frozen) tensor as doubles, e.g. LoRA's scale s [R].
std::vector<double> doubles(const at::Tensor& t);
/// A contiguous copy of `t` in dtype T on the CPU (frozen tensors the kernel reads every step).
template <class T>
at::Tensor frozen(const at::Tensor& t);
/// Sets n doubles to zero (gradient buffers are overwritten, then accumulated into).
void zero(double* v, int64_t n);

}  // namespace kernel

}  // namespace lrlab::models
