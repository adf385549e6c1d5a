#pragma once
/// Activation functions sigma: value, derivative and population kernel K(a, b) (MATH.md).

#include <ATen/ATen.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/fused_descriptor.h"

namespace lrlab {
class Config;
}

namespace lrlab::models {

/// An elementwise activation with its derivative and its Gaussian kernel
/// K(a, b) = E_{x ~ N(0, I)}[sigma(<a, x>) sigma(<b, x>)], which depends only on |a|^2, |b|^2, <a, b>.
/// All methods are differentiable by autograd (they are built from ATen ops), work on any device and
/// dtype, and broadcast.
class Activation {
 public:
  virtual ~Activation() = default;
  /// Registry key ("relu", "hermite", ...).
  virtual std::string type() const = 0;
  /// sigma(z), elementwise, same shape as z.
  virtual at::Tensor value(const at::Tensor& z) const = 0;
  /// sigma'(z), elementwise (for ReLU: 1[z > 0]).
  virtual at::Tensor derivative(const at::Tensor& z) const = 0;
  /// K from saa = |a|^2, sbb = |b|^2, sab = <a, b> (broadcasting tensors of equal dtype/device).
  /// The default is series_or_direct_kernel (models/gaussian_kernel.h): the Hermite series where
  /// |rho| <= 0.7, an adaptive 2-D rule elsewhere, within about 1e-15 of the kernel's scale for norms
  /// up to 64; activations with a closed form (relu, erf, hermite) override it. Never NaN for zero
  /// vectors.
  virtual at::Tensor kernel(const at::Tensor& saa, const at::Tensor& sbb, const at::Tensor& sab) const;
  /// True when this activation provides the scalar CPU kernel `cpu_values` (used by the fast
  /// online-SGD path; every built-in one does). Default: false.
  virtual bool has_cpu_values() const { return false; }
  /// Scalar CPU kernel: v[i] = sigma(z[i]) and, when dv is not null, dv[i] = sigma'(z[i]) for i < n,
  /// in double precision, the same expressions as `value`/`derivative` (tests check them against each
  /// other). v may alias z. The default throws (check has_cpu_values first).
  virtual void cpu_values(const double* z, double* v, double* dv, int64_t n) const;
  /// The descriptor of this activation for the fused CUDA step (models/fused_descriptor.h), or none
  /// with `why` (if given) saying why. Default: none. A subclass that changes `value` must override it.
  virtual std::optional<fused::ActivationDesc> cuda_descriptor(std::string* why) const;
  /// True when `kernel` is a closed form (exact); false when it is quadrature.
  virtual bool kernel_is_exact() const { return false; }
  /// The `quadrature_nodes` option: nodes per dimension of gauss_hermite_expectation when a caller asks
  /// for it. The kernel no longer uses it (issue 12: its rules are chosen for accuracy, not by the
  /// user); it is still accepted so that existing configs load.
  int quadrature_nodes() const { return quadrature_nodes_; }
  /// Sets the quadrature node count (>= 2).
  void set_quadrature_nodes(int n) { quadrature_nodes_ = n; }

 protected:
  int quadrature_nodes_ = 40;
};

/// Builds the activation described by `cfg` (a mapping with `type:` and options, e.g.
/// `{type: hermite, p: 3}`), through the models registry. Throws ConfigError for unknown types/options.
std::shared_ptr<Activation> make_activation(const Config& cfg);

/// The 2-D Gauss-Hermite quadrature estimate of E[f(z1) g(z2)] for (z1, z2) ~ N(0, [[saa, sab],
/// [sab, sbb]]), with `n` nodes per dimension (probabilists' Hermite weights), via the Cholesky
/// factor of the covariance. Exact for polynomials of degree < 2n. Broadcasting like `kernel`.
at::Tensor gauss_hermite_expectation(const Activation& act, const at::Tensor& saa, const at::Tensor& sbb,
                                     const at::Tensor& sab, int n);

}  // namespace lrlab::models
