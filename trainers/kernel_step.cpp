#include "trainers/kernel_step.h"

namespace lrlab::trainers {

// Placeholder until the kernel driver lands: the kernel path never applies.
std::unique_ptr<KernelStep> KernelStep::make(models::Model&, int64_t, bool, UpdateRule&, std::string* why) {
  if (why) *why = "kernel driver not built yet";
  return nullptr;
}

bool KernelStep::parallel_available() { return false; }

}  // namespace lrlab::trainers
