#pragma once
// Shared fixtures of the tests that train small groups: per-replica configs, run records and curves.

#include <string>
#include <vector>

#include "framework/config.h"
#include "trainers/recorder.h"

namespace lrlab::testing {

/// One root config per replica, parsed from `yaml`, with seeds first_seed, first_seed + 1, ...
inline std::vector<Config> replica_configs(const std::string& yaml, int replicas, int first_seed = 1) {
  const Config root = Config::load_string(yaml, "<test>");
  std::vector<Config> out;
  for (int r = 0; r < replicas; ++r) {
    Config c = root.clone();
    c.set("seed", std::to_string(first_seed + r));
    out.push_back(c);
  }
  return out;
}

/// Run records "run0", "run1", ... with seeds first_seed, first_seed + 1, ...
inline std::vector<RunRecord> records(int replicas, int first_seed = 1) {
  std::vector<RunRecord> out;
  for (int r = 0; r < replicas; ++r) out.push_back(RunRecord{"run" + std::to_string(r), first_seed + r});
  return out;
}

/// The recorded values of `metric` for `run`, in step order.
inline std::vector<double> curve(const Recorder& rec, const std::string& run, const std::string& metric) {
  std::vector<double> out;
  for (const auto& row : rec.curves())
    if (row.run == run && row.metric == metric) out.push_back(row.value);
  return out;
}

}  // namespace lrlab::testing
