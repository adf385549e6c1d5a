#include "framework/config.h"
#include "trainers/online_sgd.h"
#include "trainers/trainer.h"

namespace lrlab::trainers {

namespace {

void register_trainers(TrainerRegistry& r) {
  r.add("online_sgd",
        [](const Config& cfg, const models::Model& model) {
          auto o = OnlineSgdOptions::from_config(cfg);
          return std::make_shared<OnlineSgd>(o, cfg.get_each<double>("lr", o.lr), model);
        },
        "SGD on fresh Gaussian samples every step; spherical step for parameters on the sphere", {"lr"});
}

}  // namespace

TrainerRegistry& trainer_registry() {
  static TrainerRegistry registry = [] {
    TrainerRegistry r("trainer");
    register_trainers(r);
    return r;
  }();
  return registry;
}

}  // namespace lrlab::trainers
