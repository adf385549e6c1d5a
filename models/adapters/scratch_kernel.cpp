// The CPU kernel of `scratch`: h = Theta x (W ignored), dL/dTheta = sum_b g_b x_b^T
// (models/adapters/dense_kernel.h).

#include "models/adapters/dense_kernel.h"
#include "models/adapters/scratch.h"

namespace lrlab::models {

std::unique_ptr<AdapterKernelBase> Scratch::cpu_kernel(at::ScalarType dtype, std::string*) {
  return make_cpu_kernel<DenseKernel>(dtype, theta_, *base_, /*adds_base=*/false);
}

}  // namespace lrlab::models
