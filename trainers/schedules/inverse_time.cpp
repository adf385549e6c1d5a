#include <cmath>

#include "framework/config.h"
#include "trainers/schedules/schedules.h"

namespace lrlab::trainers {

namespace {

/// lr_s = lr / (1 + s / t0).
class InverseTimeSchedule : public Schedule {
 public:
  explicit InverseTimeSchedule(PerReplica<double> t0) : t0_(std::move(t0)) {}
  std::string type() const override { return "inverse_time"; }
  double rate(size_t r, double lr, double, int64_t s, int64_t) const override {
    return lr / (1.0 + static_cast<double>(s) / t0_[r]);
  }

 private:
  PerReplica<double> t0_;
};

}  // namespace

std::shared_ptr<Schedule> make_inverse_time_schedule(const Config& cfg, const std::vector<double>&) {
  const auto t0 = cfg.get_each<double>("t0", 1000.0);
  for (double v : t0)
    if (!(v > 0) || !std::isfinite(v)) cfg.fail("t0", "must be finite and > 0");
  return std::make_shared<InverseTimeSchedule>(PerReplica<double>(t0));
}

}  // namespace lrlab::trainers
