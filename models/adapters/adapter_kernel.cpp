#include "models/adapters/adapter_kernel.h"

#include <algorithm>

#include "framework/error.h"
#include "models/activation.h"
#include "models/base_network.h"

namespace lrlab::models {

template <class T>
void AdapterKernel<T>::output(const Activation& act, const double* lam, int64_t batch, int64_t k, const double*,
                              const double* h, double* f, double* dfdh, double* tmp) const {
  // f_b = lam . sigma(h_b), dfdh_b = lam (.) sigma'(h_b): one activation call for the whole [B, k].
  act.cpu_values(h, tmp, dfdh, batch * k);
  for (int64_t b = 0; b < batch; ++b) {
    double fb = 0.0;
    for (int64_t i = 0; i < k; ++i) {
      fb += lam[i] * tmp[b * k + i];
      dfdh[b * k + i] *= lam[i];
    }
    f[b] = fb;
  }
}

template class AdapterKernel<float>;
template class AdapterKernel<double>;

namespace kernel {

Shape::Shape(const BaseNetwork& base, int64_t rank)
    : d(base.d()), k(base.k()), replicas(base.replicas()), rank(rank) {}

template <class T>
T* data(const at::Tensor& t, int64_t numel, const std::string& what) {
  check(t.defined() && t.device().is_cpu() && t.is_contiguous() &&
            t.scalar_type() == c10::CppTypeToScalarType<T>::value && t.numel() == numel,
        "CPU kernel: '" + what + "' changed device, layout, dtype or size since the kernel was built");
  return t.data_ptr<T>();
}

std::vector<double> doubles(const at::Tensor& t) {
  const at::Tensor c = t.detach().to(at::kCPU, at::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

template <class T>
at::Tensor frozen(const at::Tensor& t) {
  return t.detach().to(at::kCPU, c10::CppTypeToScalarType<T>::value).contiguous();
}

void zero(double* v, int64_t n) { std::fill(v, v + n, 0.0); }

template float* data<float>(const at::Tensor&, int64_t, const std::string&);
template double* data<double>(const at::Tensor&, int64_t, const std::string&);
template at::Tensor frozen<float>(const at::Tensor&);
template at::Tensor frozen<double>(const at::Tensor&);

}  // namespace kernel

}  // namespace lrlab::models
