#include "models/adapters/adapter_kernel.h"

#include "models/activation.h"

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

}  // namespace lrlab::models
