#include "trainers/parameter_ops.h"
#include "trainers/trainer.h"
#include "trainers/update_rules/sgd.h"

namespace lrlab::trainers {

void gradient_step(models::Adapter& adapter, const at::Tensor& lr, bool spherical) {
  Sgd sgd;
  apply_updates(adapter, sgd, lr, at::Tensor(), spherical, 1);
}

}  // namespace lrlab::trainers
