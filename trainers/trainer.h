#pragma once
/// The trainer interface: a strategy that updates an adapter's parameters.

#include <memory>
#include <string>

#include "framework/registry.h"
#include "models/register.h"
#include "trainers/monitor.h"

namespace lrlab::trainers {

/// A registered training strategy (online SGD, ...). It owns its loop and reports to a Monitor.
class Trainer {
 public:
  virtual ~Trainer() = default;
  /// Registry key.
  virtual std::string type() const = 0;
  /// Step budget.
  virtual int64_t steps() const = 0;
  /// Whether to stop once every threshold is reached.
  virtual bool early_stop() const = 0;
  /// Trains `model` in place, recording through `monitor` (which it calls at step 0 too).
  virtual void train(models::Model& model, Monitor& monitor) = 0;
  /// Which computation path the last `train` ran and why, e.g. "kernel", "batched (adapter 'x' provides
  /// no CPU kernel)", "autograd", "population" (empty before train). Printed once in the run log and
  /// written to meta.yaml per group.
  virtual std::string path() const { return path_; }

 protected:
  std::string path_;  ///< set by train()
};

/// Default `trainer.type`.
inline constexpr const char* kDefaultTrainerType = "online_sgd";

/// Trainers are built from the `trainer` section and the model (for d-dependent options).
using TrainerRegistry = Registry<Trainer, const models::Model&>;
/// The trainer registry (filled on first use, in register.cpp).
TrainerRegistry& trainer_registry();

/// One plain SGD update of every parameter (the `sgd` rule through apply_updates, without weight
/// decay): the spherical step for parameters on the sphere when `spherical`. `lr` [R] per replica;
/// each parameter's lr_scale multiplies it.
void gradient_step(models::Adapter& adapter, const at::Tensor& lr, bool spherical);


}  // namespace lrlab::trainers
