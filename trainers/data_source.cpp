#include "trainers/data_source.h"

#include <cmath>

#include "framework/config.h"

namespace lrlab::trainers {

int64_t step_budget(int64_t steps, double steps_per_d, int64_t d) {
  return steps_per_d > 0 ? static_cast<int64_t>(std::ceil(steps_per_d * static_cast<double>(d))) : steps;
}

int64_t read_step_budget(const Config& cfg, int64_t fallback, int64_t d) {
  const auto steps = cfg.get<int64_t>("steps", fallback);
  const auto steps_per_d = cfg.get<double>("steps_per_d", 0.0);
  if (steps < 0 || steps > int64_t{1} << 40) cfg.fail("steps", "must be in 0..2^40, got " + std::to_string(steps));
  if (!(steps_per_d >= 0) || !std::isfinite(steps_per_d)) cfg.fail("steps_per_d", "must be finite and >= 0");
  return step_budget(steps, steps_per_d, d);
}

}  // namespace lrlab::trainers
