#pragma once
/// Runs bench/reference/python_eager_step.py (the same step in PyTorch eager, as a researcher writes
/// it) and reads its one JSON line.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace lrlab::bench {

/// The outcome of one Python run.
struct PythonResult {
  bool ok = false;            ///< the script ran and printed its JSON line
  double us_per_step = 0;     ///< its microseconds per step
  nlohmann::json line;        ///< the whole JSON line
  std::string error;          ///< the last output lines when it failed
};

/// Runs `python script --d d --k k --batch B --dtype dtype --threads threads --steps steps`.
PythonResult run_python_reference(const std::string& python, const std::string& script, int64_t d, int64_t k,
                                  int64_t batch, const std::string& dtype, int threads, int64_t steps);

}  // namespace lrlab::bench
