// The CPU kernel of `full`: h = W x + Delta x, dL/dDelta = sum_b g_b x_b^T (models/adapters/dense_kernel.h).

#include "models/adapters/dense_kernel.h"
#include "models/adapters/full.h"

namespace lrlab::models {

std::unique_ptr<AdapterKernelBase> Full::cpu_kernel(at::ScalarType dtype, std::string*) {
  return make_cpu_kernel<DenseKernel>(dtype, delta_, *base_, /*adds_base=*/true);
}

}  // namespace lrlab::models
