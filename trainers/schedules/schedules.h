#pragma once
/// The registered learning-rate schedules (trainers/schedule.h), one .cpp each:
///   constant                               lr_s = lr
///   step          every: 1000, gamma: 0.1  lr_s = lr gamma^floor(s / every)
///   cosine        min_lr: 0, warmup: 0     lr_s = lr (s + 1) / warmup                  for s < warmup,
///                                          lr_s = min_lr + (lr - min_lr) (1 + cos(pi u)) / 2 otherwise
///   linear        min_lr: 0, warmup: 0     lr_s = lr (s + 1) / warmup                  for s < warmup,
///                                          lr_s = lr + (min_lr - lr) u                      otherwise
///   inverse_time  t0: 1000                 lr_s = lr / (1 + s / t0)
/// with u = min(1, (s - warmup) / (T - warmup)) (1 when T <= warmup). min_lr is in units of lr
/// (0 <= min_lr <= lr), multiplied by the lr_scaling factor with it.

#include <memory>
#include <string>
#include <vector>

#include "framework/per_replica.h"
#include "trainers/schedule.h"

namespace lrlab {
class Config;
}

namespace lrlab::trainers {

/// `constant` (no options).
std::shared_ptr<Schedule> make_constant_schedule(const Config& cfg, const std::vector<double>& lr);
/// `step` (every, gamma).
std::shared_ptr<Schedule> make_step_schedule(const Config& cfg, const std::vector<double>& lr);
/// `cosine` (min_lr, warmup).
std::shared_ptr<Schedule> make_cosine_schedule(const Config& cfg, const std::vector<double>& lr);
/// `linear` (min_lr, warmup).
std::shared_ptr<Schedule> make_linear_schedule(const Config& cfg, const std::vector<double>& lr);
/// `inverse_time` (t0).
std::shared_ptr<Schedule> make_inverse_time_schedule(const Config& cfg, const std::vector<double>& lr);

/// The shape of a warm-up-then-decay schedule after its warm-up: the rate at progress u in [0, 1]
/// from base rate lr to min_lr (both after lr_scaling).
using DecayShape = double (*)(double lr, double min_lr, double u);

/// A warm-up-then-decay schedule (cosine, linear) named `type` with decay `shape`: reads and validates
/// `min_lr` (units of lr, 0 <= min_lr <= lr) and `warmup` (>= 0) per replica against the base rates `lr`;
/// lr_s = lr (s + 1) / warmup for s < warmup, else shape(lr, min_lr, min(1, (s - warmup) / (T - warmup)))
/// (u = 1 when T <= warmup).
std::shared_ptr<Schedule> make_warmup_decay_schedule(const std::string& type, DecayShape shape, const Config& cfg,
                                                     const std::vector<double>& lr);

}  // namespace lrlab::trainers
