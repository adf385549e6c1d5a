#pragma once
/// End-to-end helper of the adapter tests: trains an example config for several seeds, stacked as one
/// group in float64, and returns each run's final delta_error.

#include "tests/support/paths.h"
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "framework/config.h"
#include "study/group_runner.h"

namespace lrlab::test {

/// Trains configs/examples/<name>.yaml (dtype forced to float64) for seeds 0 .. seeds-1, stacked as
/// one group through run_group, and returns the final delta_error of every run.
inline std::vector<double> example_final_delta_errors(const std::string& name, int seeds) {
  const Config file = Config::load_file(std::string(LRLAB_SOURCE_DIR) + "/configs/examples/" + name + ".yaml");
  std::vector<Config> runs;
  std::vector<RunRecord> records;
  for (int s = 0; s < seeds; ++s) {
    Config run = file.clone();
    run.erase("replicas");
    run.erase("study");
    run.set("dtype", "float64");
    run.set("seed", std::to_string(s));
    runs.push_back(run);
    records.push_back(RunRecord{"s" + std::to_string(s), s});
  }
  study::GroupOutcome out = study::run_group(runs, records);
  std::vector<double> errors;
  for (const auto& run : out.recorder->runs()) {
    INFO("run " << run.id << " status " << run.status);
    REQUIRE(run.final_values.count("delta_error") == 1);
    errors.push_back(run.final_values.at("delta_error"));
  }
  return errors;
}

}  // namespace lrlab::test
