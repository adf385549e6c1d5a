#include "bench/step_config.h"

#include <fmt/format.h>

#include "framework/config.h"

namespace lrlab::bench {

std::string StepConfig::label() const { return fmt::format("{}/d{}/k{}/B{}/R{}", adapter, d, k, batch, replicas); }

double StepConfig::flops() const {
  const double B = static_cast<double>(batch), D = static_cast<double>(d), K = static_cast<double>(k);
  const double rt = 1, ra = static_cast<double>(adapter_rank());
  return 2 * B * D * (K + rt + 2 * ra) + 2 * B * K * (rt + 3 * ra + 3) + 4 * D * ra;
}

int64_t StepConfig::model_bytes(at::ScalarType dtype) const {
  return static_cast<int64_t>(c10::elementSize(dtype)) * d * (k + 1 + 2 * adapter_rank());
}

study::BuiltGroup build_step_group(const StepConfig& c, const std::string& device, const std::string& dtype) {
  const std::string adapter = c.adapter == "lora" ? "{type: lora, rank: 2}" : "{type: rank1, c: train}";
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
