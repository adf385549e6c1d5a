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

void fail_conflicting_keys(const Config& cfg, const std::string& key, const std::string& other,
                           const std::string& what) {
  const std::string prefix = cfg.path().empty() ? "" : cfg.path() + ".";
  cfg.fail(key, prefix + key + " and " + prefix + other + " both set " + what + ": give only one (on the command " +
                    "line, ~" + prefix + other + " deletes " + other + ")");
}

int64_t read_step_budget(const Config& cfg, int64_t fallback, int64_t d) {
  // `steps_per_d > 0` sets the budget; `steps` is then neither allowed (an override of it must not be
  // silently ignored) nor read (so the resolved config does not hold both and reloads as it is).
  if (cfg.has("steps_per_d")) {
    const auto steps_per_d = cfg.get<double>("steps_per_d");
    if (!(steps_per_d >= 0) || !std::isfinite(steps_per_d)) cfg.fail("steps_per_d", "must be finite and >= 0");
    if (steps_per_d > 0) {
      if (cfg.has("steps")) fail_conflicting_keys(cfg, "steps", "steps_per_d", "the step budget");
      // The cap applies to the product too: 1e17 x d must not slip past it, nor 1e30 x d wrap around.
      const auto budget = ceil_int64(steps_per_d * static_cast<double>(d));
      if (!budget || *budget > kMaxSteps)
        cfg.fail("steps_per_d", fmt::format("{} x d = {} gives {:.3g} steps, more than the limit of 2^40 "
                                            "(about 1.1e12)",
                                            format_number(steps_per_d), d, steps_per_d * static_cast<double>(d)));
      return *budget;
    }
  }
  const auto steps = cfg.get<int64_t>("steps", fallback);
  cfg.get<double>("steps_per_d", 0.0);  // recorded as 0 ("use steps"), so `lrlab list` shows the key
  if (steps < 0 || steps > kMaxSteps) cfg.fail("steps", "must be in 0..2^40, got " + std::to_string(steps));
  return steps;
}

at::Tensor mean_loss_of_steps(int64_t first, int64_t n, const std::function<at::Tensor(int64_t)>& step) {
  at::Tensor sum;  // step()'s loss may be a buffer the next step reuses: add, never keep it
  for (int64_t s = first; s < first + n; ++s) {
    const at::Tensor loss = step(s);
    if (loss.defined()) sum = sum.defined() ? sum + loss : loss.clone();
  }
  return sum.defined() ? sum / static_cast<double>(n) : sum;
}

at::Tensor DataSource::run_steps(int64_t first, int64_t n, const at::Tensor& lr, const at::Tensor& decay,
                                 bool want_loss) {
  return mean_loss_of_steps(first, n, [&](int64_t s) { return step(s, lr, decay, want_loss); });
}

}  // namespace lrlab::trainers
