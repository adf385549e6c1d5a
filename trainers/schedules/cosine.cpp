#include <cmath>

#include "trainers/schedules/schedules.h"

namespace lrlab::trainers {

namespace {

/// min_lr + (lr - min_lr) (1 + cos(pi u)) / 2.
double cosine_shape(double lr, double min_lr, double u) { return min_lr + (lr - min_lr) * 0.5 * (1.0 + std::cos(M_PI * u)); }

}  // namespace

std::shared_ptr<Schedule> make_cosine_schedule(const Config& cfg, const std::vector<double>& lr) {
  return make_warmup_decay_schedule("cosine", cosine_shape, cfg, lr);
}

}  // namespace lrlab::trainers
