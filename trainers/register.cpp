#include "framework/config.h"
#include "trainers/adam.h"
#include "trainers/offline_gd.h"
#include "trainers/online_sgd.h"
#include "trainers/population_gd.h"
#include "trainers/trainer.h"
#include "trainers/update_rule.h"
#include "trainers/update_rules/sgd.h"

namespace lrlab::trainers {

namespace {

void register_trainers(TrainerRegistry& r) {
  r.add("online_sgd", [](const Config& cfg, const models::Model& m) { return OnlineSgd::from_config(cfg, m); },
        "SGD on fresh Gaussian samples every step; spherical step on the sphere; lr schedules, weight decay",
        OnlineSgd::stackable());
  r.add("population_gd", [](const Config& cfg, const models::Model& m) { return PopulationGd::from_config(cfg, m); },
        "gradient descent on the exact population loss (kernels): the noise-free limit of online SGD",
        PopulationGd::stackable());
  r.add("offline_gd", [](const Config& cfg, const models::Model& m) { return OfflineGd::from_config(cfg, m); },
        "a fixed training set of n samples: full-batch GD or minibatch SGD over shuffled epochs",
        OfflineGd::stackable());
  r.add("adam", [](const Config& cfg, const models::Model& m) { return Adam::from_config(cfg, m, false); },
        "Adam (torch::optim; coupled L2 weight_decay), online or offline data; lr equal across a group");
  r.add("adamw", [](const Config& cfg, const models::Model& m) { return Adam::from_config(cfg, m, true); },
        "AdamW (torch::optim; decoupled weight_decay), online or offline data; lr equal across a group");
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

UpdateRuleRegistry& update_rule_registry() {
  static UpdateRuleRegistry registry = [] {
    UpdateRuleRegistry r("update rule");
    r.add("sgd", [](const Config& cfg, int64_t replicas) { return Sgd::from_config(cfg, replicas); },
          "gradient descent theta <- theta - eta g (spherical step on the sphere, decoupled weight decay)");
    return r;
  }();
  return registry;
}

}  // namespace lrlab::trainers
