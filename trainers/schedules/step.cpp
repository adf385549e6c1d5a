#include <cmath>

#include "framework/config.h"
#include "trainers/schedules/schedules.h"

namespace lrlab::trainers {

namespace {

/// lr_s = lr gamma^floor(s / every).
class StepSchedule : public Schedule {
 public:
  StepSchedule(PerReplica<int64_t> every, PerReplica<double> gamma) : every_(std::move(every)), gamma_(std::move(gamma)) {}
  std::string type() const override { return "step"; }
  double rate(size_t r, double lr, double, int64_t s, int64_t) const override {
    return lr * std::pow(gamma_[r], static_cast<double>(s / every_[r]));
  }

 private:
  PerReplica<int64_t> every_;
  PerReplica<double> gamma_;
};

}  // namespace

std::shared_ptr<Schedule> make_step_schedule(const Config& cfg, const std::vector<double>&) {
  const auto every = cfg.get_each<int64_t>("every", 1000);
  const auto gamma = cfg.get_each<double>("gamma", 0.1);
  for (int64_t e : every)
    if (e < 1) cfg.fail("every", "must be >= 1, got " + std::to_string(e));
  for (double g : gamma)
    if (!(g > 0) || !std::isfinite(g)) cfg.fail("gamma", "must be finite and > 0");
  return std::make_shared<StepSchedule>(PerReplica<int64_t>(every), PerReplica<double>(gamma));
}

}  // namespace lrlab::trainers
