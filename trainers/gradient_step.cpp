#include "trainers/trainer.h"

namespace lrlab::trainers {

void gradient_step(models::Adapter& adapter, const at::Tensor& lr, bool spherical) {
  at::NoGradGuard no_grad;
  for (auto* p : adapter.parameters()) {
    if (!p->grad.defined()) continue;
    std::vector<int64_t> shape(p->value.dim(), 1);
    shape[0] = -1;
    const at::Tensor step = lr.view(shape);  // [R, 1, ...] broadcasts over the parameter
    if (p->on_sphere) {
      at::Tensor& u = p->value;  // [R, d], unit rows
      at::Tensor g = spherical ? p->grad - (p->grad * u).sum(-1, true) * u : p->grad;  // tangent part
      u.addcmul_(g, step, -p->lr_scale);
      u.div_(u.norm(2, {-1}, true));  // retraction back to the sphere
    } else {
      p->value.addcmul_(p->grad, step, -p->lr_scale);
    }
  }
  adapter.after_update();
}

}  // namespace lrlab::trainers
