#include "bench/step_config.h"

#include <fmt/format.h>

#include <algorithm>

#include "framework/config.h"

namespace lrlab::bench {

std::string StepConfig::label() const { return fmt::format("{}/d{}/k{}/B{}/R{}", adapter, d, k, batch, replicas); }

void StepConfig::describe(models::Model& model) {
  trained = 0;
  for (auto* p : model.adapter->parameters()) trained += p->value.numel() / model.base->replicas();
  const auto kernel = model.adapter->cpu_kernel(model.ctx.dtype, nullptr);
  if (kernel && kernel->dtype() == at::kFloat) {
    adapter_rows = static_cast<models::AdapterKernel<float>&>(*kernel).rows();
  } else if (kernel && kernel->dtype() == at::kDouble) {
    adapter_rows = static_cast<models::AdapterKernel<double>&>(*kernel).rows();
  } else {
    adapter_rows = std::max<int64_t>(1, trained / d);
  }
}

double StepConfig::flops() const {
  const double B = static_cast<double>(batch), D = static_cast<double>(d), K = static_cast<double>(k);
  const double rt = 1, ra = static_cast<double>(adapter_rows), P = static_cast<double>(trained);
  return 2 * B * D * (K + rt + ra) + 2 * (B + 1) * P + 2 * B * K * (rt + ra + 3);
}

int64_t StepConfig::model_bytes(at::ScalarType dtype) const {
  return static_cast<int64_t>(c10::elementSize(dtype)) * (d * (k + 1 + adapter_rows) + 2 * trained);
}

study::BuiltGroup build_step_group(const StepConfig& c, const std::string& device, const std::string& dtype) {
  std::string adapter = "{type: " + c.adapter + "}";
  if (c.adapter == "lora") adapter = "{type: lora, rank: 2}";
  if (c.adapter == "rank1") adapter = "{type: rank1, c: train}";
  std::vector<Config> runs;
  for (int64_t seed = 0; seed < c.replicas; ++seed) {
    runs.push_back(Config::load_string(
        fmt::format("seed: {}\ndevice: {}\ndtype: {}\n"
                    "base: {{d: {}, k: {}, activation: {{type: relu}}, init: sphere, second_layer: constant}}\n"
                    "teacher: {{rank: 1, xi: 1.0}}\nadapter: {}\ntrainer: {{steps: 1, batch: {}}}\n",
                    seed, device, dtype, c.d, c.k, adapter, c.batch),
        "bench.yaml"));
  }
  return study::build_group(runs);
}

}  // namespace lrlab::bench
