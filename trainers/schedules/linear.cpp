#include "trainers/schedules/schedules.h"

namespace lrlab::trainers {

namespace {

/// lr + (min_lr - lr) u: a straight line from lr to min_lr.
double linear_shape(double lr, double min_lr, double u) { return lr + (min_lr - lr) * u; }

}  // namespace

std::shared_ptr<Schedule> make_linear_schedule(const Config& cfg, const std::vector<double>& lr) {
  return make_warmup_decay_schedule("linear", linear_shape, cfg, lr);
}

}  // namespace lrlab::trainers
