#pragma once
/// The learning-rate schedule contract and its registry (YAML `schedule: {type: ..., ...}` inside a
/// trainer section; absent = constant). A schedule maps (base rate, update index, budget) to the rate
/// of that update, per replica; its numeric options may differ across the replicas of a group (they
/// are declared stackable at registration), its type may not.
///
/// s = 0, 1, ... counts the updates already taken (the first step uses s = 0), T is the trainer's step
/// budget, lr is the replica's base rate after lr_scaling (whose factor also multiplies options in
/// units of lr, such as min_lr). The schedules are in trainers/schedules/, one file each, registered
/// in trainers/register.cpp; LearningRates (lr_schedule.h) evaluates them once per step.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "framework/registry.h"

namespace lrlab::trainers {

/// A registered learning-rate schedule (one object for all replicas of a group).
class Schedule {
 public:
  virtual ~Schedule() = default;
  /// Registry key.
  virtual std::string type() const = 0;
  /// The rate of update `s` (0-based) for replica `r` with base rate `lr` (after lr_scaling by
  /// `factor`) and step budget `total`.
  virtual double rate(size_t r, double lr, double factor, int64_t s, int64_t total) const = 0;
  /// True when rate() is lr at every step (LearningRates then never rewrites its tensors).
  virtual bool constant() const { return false; }
};

/// Default schedule type.
inline constexpr const char* kDefaultSchedule = "constant";

/// Schedules are built from the `schedule` section with the base learning rates (one per replica,
/// before lr_scaling), against which options such as min_lr are validated.
using ScheduleRegistry = Registry<Schedule, const std::vector<double>&>;
/// The schedule registry (filled on first use, in register.cpp).
ScheduleRegistry& schedule_registry();

/// The schedule of the `schedule` section `cfg` (absent or without `type`: constant) for base rates `lr`.
std::shared_ptr<const Schedule> make_schedule(const Config& cfg, const std::vector<double>& lr);
/// "schedule.<key>" for every stackable option of every registered schedule (relative to a trainer).
std::vector<std::string> schedule_stackable();

}  // namespace lrlab::trainers
