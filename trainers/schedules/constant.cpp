#include "framework/config.h"
#include "trainers/schedules/schedules.h"

namespace lrlab::trainers {

namespace {

/// lr_s = lr.
class ConstantSchedule : public Schedule {
 public:
  std::string type() const override { return "constant"; }
  double rate(size_t, double lr, double, int64_t, int64_t) const override { return lr; }
  bool constant() const override { return true; }
};

}  // namespace

std::shared_ptr<Schedule> make_constant_schedule(const Config&, const std::vector<double>&) {
  return std::make_shared<ConstantSchedule>();
}

}  // namespace lrlab::trainers
