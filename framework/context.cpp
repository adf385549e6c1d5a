#include "framework/context.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <torch/version.h>

#include "framework/config.h"
#include "framework/error.h"

namespace lrlab {

namespace {
// splitmix64: a well-mixed 64-bit hash so that (seed, stream) pairs give unrelated generator seeds.
uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}
}  // namespace

Context make_context(const Config& root, std::vector<int64_t> seeds) {
  Context ctx;
  ctx.seeds = std::move(seeds);
  const std::string device = root.get_choice("device", "cpu", {"cpu", "cuda", "auto"});
  const bool cuda = at::hasCUDA();
  if (device == "cuda") {
    if (!cuda) root.fail("device", "CUDA was requested but this LibTorch build or machine has no CUDA device "
                                   "(use device: cpu, or device: auto to fall back)");
    ctx.device = c10::Device(c10::kCUDA, 0);
  } else if (device == "auto") {
    ctx.device = cuda ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
    ctx.device_note = cuda ? "auto: using cuda:0" : "auto: CUDA not available, using cpu";
  }
  const std::string dtype = root.get_choice("dtype", "float32", {"float32", "float64"});
  ctx.dtype = dtype == "float64" ? at::kDouble : at::kFloat;
  return ctx;
}

at::Generator stream_generator(int64_t seed, Stream stream) {
  const uint64_t mixed = splitmix64(splitmix64(static_cast<uint64_t>(seed)) ^ static_cast<uint64_t>(stream));
  return at::make_generator<at::CPUGeneratorImpl>(mixed);
}

at::Tensor stack_replicas(const Context& ctx, Stream stream,
                          const std::function<at::Tensor(at::Generator&)>& draw) {
  return stack_replicas_multi(ctx, stream, [&](at::Generator& gen, int64_t) {
           return std::vector<at::Tensor>{draw(gen)};
         })[0];
}

std::vector<at::Tensor> stack_replicas_multi(
    const Context& ctx, Stream stream,
    const std::function<std::vector<at::Tensor>(at::Generator&, int64_t replica)>& draw) {
  check(ctx.replicas() > 0, "a group needs at least one replica");
  std::vector<std::vector<at::Tensor>> per_position;
  for (int64_t r = 0; r < ctx.replicas(); ++r) {
    at::Generator gen = stream_generator(ctx.seeds[r], stream);
    std::vector<at::Tensor> drawn = draw(gen, r);
    if (per_position.empty()) per_position.resize(drawn.size());
    check(drawn.size() == per_position.size(), "stack_replicas: replicas drew different tensor counts");
    for (size_t i = 0; i < drawn.size(); ++i) per_position[i].push_back(drawn[i].to(at::kDouble));
  }
  std::vector<at::Tensor> out;
  for (auto& tensors : per_position) out.push_back(at::stack(tensors).to(ctx.options()));
  return out;
}

at::Tensor per_replica(const Context& ctx, const std::vector<double>& values) {
  return at::tensor(values, at::TensorOptions().dtype(at::kDouble)).to(ctx.options());
}

at::Tensor cpu_normal(at::IntArrayRef sizes, at::Generator& gen) {
  return at::normal(0.0, 1.0, sizes, gen, at::TensorOptions().dtype(at::kDouble));
}

std::string torch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

}  // namespace lrlab
