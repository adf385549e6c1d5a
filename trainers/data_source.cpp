#include "trainers/data_source.h"

#include <fmt/format.h>

#include <cmath>

#include "framework/checked_math.h"
#include "framework/config.h"
#include "framework/strings.h"

namespace lrlab::trainers {

namespace {
/// Most steps one run may take; steps_per_d x d is held to it too (offline.cpp: epochs x batches).
constexpr int64_t kMaxSteps = int64_t{1} << 40;
}  // namespace

int64_t step_budget(int64_t steps, double steps_per_d, int64_t d) {
  return steps_per_d > 0 ? static_cast<int64_t>(std::ceil(steps_per_d * static_cast<double>(d))) : steps;
}

int64_t read_step_budget(const Config& cfg, int64_t fallback, int64_t d) {
  const auto steps = cfg.get<int64_t>("steps", fallback);
  const auto steps_per_d = cfg.get<double>("steps_per_d", 0.0);
  if (steps < 0 || steps > kMaxSteps) cfg.fail("steps", "must be in 0..2^40, got " + std::to_string(steps));
  if (!(steps_per_d >= 0) || !std::isfinite(steps_per_d)) cfg.fail("steps_per_d", "must be finite and >= 0");
  if (steps_per_d > 0) {
    // The cap applies to the product too: 1e17 x d must not slip past it, nor 1e30 x d wrap around.
    const auto budget = ceil_int64(steps_per_d * static_cast<double>(d));
    if (!budget || *budget > kMaxSteps)
      cfg.fail("steps_per_d", fmt::format("{} x d = {} gives {:.3g} steps, more than the limit of 2^40 "
                                          "(about 1.1e12)",
                                          format_number(steps_per_d), d, steps_per_d * static_cast<double>(d)));
  }
  return step_budget(steps, steps_per_d, d);
}

}  // namespace lrlab::trainers
