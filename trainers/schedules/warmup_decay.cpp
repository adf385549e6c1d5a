#include <algorithm>

#include "framework/config.h"
#include "framework/per_replica.h"
#include "trainers/schedules/schedules.h"

namespace lrlab::trainers {

namespace {

/// Linear warm-up, then `shape` from lr to min_lr (schedules.h).
class WarmupDecaySchedule : public Schedule {
 public:
  WarmupDecaySchedule(std::string type, DecayShape shape, PerReplica<double> min_lr, PerReplica<int64_t> warmup)
      : type_(std::move(type)), shape_(shape), min_lr_(std::move(min_lr)), warmup_(std::move(warmup)) {}
  std::string type() const override { return type_; }
  double rate(size_t r, double lr, double factor, int64_t s, int64_t total) const override {
    const int64_t w = warmup_[r];
    if (s < w) return lr * static_cast<double>(s + 1) / static_cast<double>(w);
    const double span = static_cast<double>(total - w);
    const double u = span > 0 ? std::min(1.0, static_cast<double>(s - w) / span) : 1.0;
    return shape_(lr, min_lr_[r] * factor, u);
  }

 private:
  std::string type_;
  DecayShape shape_;
  PerReplica<double> min_lr_;
  PerReplica<int64_t> warmup_;
};

}  // namespace

std::shared_ptr<Schedule> make_warmup_decay_schedule(const std::string& type, DecayShape shape, const Config& cfg,
                                                     const std::vector<double>& lr) {
  const auto min_lr = cfg.get_each<double>("min_lr", 0.0);
  const auto warmup = cfg.get_each<int64_t>("warmup", 0);
  for (size_t r = 0; r < min_lr.size(); ++r) {
    const double base = lr.size() == min_lr.size() ? lr[r] : lr.at(0);
    if (!(min_lr[r] >= 0) || !(min_lr[r] <= base))
      cfg.fail("min_lr", "must be in [0, lr] (lr = " + std::to_string(base) + "), got " + std::to_string(min_lr[r]));
    if (warmup[r] < 0) cfg.fail("warmup", "must be >= 0, got " + std::to_string(warmup[r]));
  }
  return std::make_shared<WarmupDecaySchedule>(type, shape, PerReplica<double>(min_lr), PerReplica<int64_t>(warmup));
}

}  // namespace lrlab::trainers
