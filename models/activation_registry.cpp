#include "models/activation_registry.h"

namespace lrlab::models {

ActivationRegistry& activation_registry() {
  static ActivationRegistry registry = [] {
    ActivationRegistry r("activation");
    register_activations(r);
    return r;
  }();
  return registry;
}

}  // namespace lrlab::models
