#include <algorithm>

#include "framework/config.h"
#include "trainers/data_source.h"
#include "trainers/data_sources/offline.h"
#include "trainers/data_sources/online.h"
#include "trainers/data_sources/population.h"
#include "trainers/descent.h"
#include "trainers/option_help.h"
#include "trainers/schedule.h"
#include "trainers/schedules/schedules.h"
#include "trainers/trainer.h"
#include "trainers/update_rule.h"
#include "trainers/update_rules/adam.h"
#include "trainers/update_rules/adamw.h"
#include "trainers/update_rules/sgd.h"
#include "trainers/update_rules/sign_sgd.h"

namespace lrlab::trainers {

namespace {

/// The trainer presets over the one descent loop (descent.h).
DescentPreset preset(const std::string& type, const std::string& data) {
  DescentPreset p;
  p.type = type;
  p.data = data;
  return p;
}

/// `adam` / `adamw`: the rule's keys live in the trainer section; lr 1e-3; online or offline data.
DescentPreset adam_preset(bool decoupled) {
  DescentPreset p;
  p.type = decoupled ? "adamw" : "adam";
  p.lr = 1e-3;
  p.weight_decay = decoupled ? 0.01 : 0.0;
  p.rule_reads_weight_decay = !decoupled;
  p.rule = decoupled ? +[](const Config& cfg, int64_t R) -> std::shared_ptr<UpdateRule> {
    return std::make_shared<AdamW>(AdamOptions::read(cfg, false), R);
  }
                     : +[](const Config& cfg, int64_t R) -> std::shared_ptr<UpdateRule> {
                         return std::make_shared<Adam>(AdamOptions::read(cfg, true), R);
                       };
  return p;
}

/// A registry factory for the descent trainer `p`.
TrainerRegistry::Factory descent(DescentPreset p) {
  return [p](const Config& cfg, const models::Model& m) { return Descent::from_config(cfg, m, p); };
}

void register_trainers(TrainerRegistry& r) {
  DescentPreset offline = preset("offline_gd", "offline");
  offline.budget = {/*steps=*/0, /*epochs=*/100};
  r.add("online_sgd", descent(preset("online_sgd", "online")),
        "descent on fresh Gaussian samples every step (`update:` rule, default sgd with the spherical step)",
        Descent::stackable());
  r.add("population_gd", descent(preset("population_gd", "population")),
        "descent on the exact population loss (kernels): the noise-free limit of online SGD", Descent::stackable());
  r.add("offline_gd", descent(offline),
        "a fixed training set of n samples: full-batch GD or minibatch SGD over shuffled epochs", Descent::stackable());
  r.add("descent", descent(preset("descent", "")),
        "the descent loop with `data: online | offline | population`, `update:` and `schedule:` sections",
        Descent::stackable());
  r.add("adam", descent(adam_preset(false)),
        "Adam (coupled L2 weight_decay; betas, eps, amsgrad), data: online | offline", Descent::stackable());
  r.add("adamw", descent(adam_preset(true)),
        "AdamW (decoupled weight_decay, default 0.01), data: online | offline", Descent::stackable());
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
    r.add("sign_sgd", [](const Config& cfg, int64_t replicas) { return SignSgd::from_config(cfg, replicas); },
          "sign descent theta <- theta - eta sign(g), sign(0) = 0");
    r.add("adam", [](const Config& cfg, int64_t replicas) { return Adam::from_config(cfg, replicas); },
          "Adam as torch::optim::Adam (betas, eps, amsgrad, coupled L2 weight_decay)", Adam::stackable());
    r.add("adamw", [](const Config& cfg, int64_t replicas) { return AdamW::from_config(cfg, replicas); },
          "AdamW as torch::optim::AdamW (betas, eps, amsgrad; the trainer's decoupled weight_decay)");
    return r;
  }();
  return registry;
}

ScheduleRegistry& schedule_registry() {
  static ScheduleRegistry registry = [] {
    ScheduleRegistry r("schedule");
    r.add("constant", make_constant_schedule, "lr_s = lr");
    r.add("step", make_step_schedule, "lr_s = lr gamma^floor(s / every)", {"every", "gamma"});
    r.add("cosine", make_cosine_schedule, "linear warm-up, then cosine decay to min_lr", {"min_lr", "warmup"});
    r.add("linear", make_linear_schedule, "linear warm-up, then linear decay to min_lr", {"min_lr", "warmup"});
    r.add("inverse_time", make_inverse_time_schedule, "lr_s = lr / (1 + s / t0)", {"t0"});
    return r;
  }();
  return registry;
}

DataSourceRegistry& data_source_registry() {
  static DataSourceRegistry registry = [] {
    DataSourceRegistry r("data source");
    r.add("online", [](const Config& c, const models::Model& m, const SourceDefaults& d) { return OnlineSource::from_config(c, m, d); },
          "fresh Gaussian samples every step (kernel, batched or autograd path)");
    r.add("offline", [](const Config& c, const models::Model& m, const SourceDefaults& d) { return OfflineSource::from_config(c, m, d); },
          "a fixed training set of n samples, full batch or shuffled minibatch epochs");
    r.add("population", [](const Config& c, const models::Model& m, const SourceDefaults& d) { return PopulationSource::from_config(c, m, d); },
          "the exact population gradient (the noise-free limit)");
    return r;
  }();
  return registry;
}

std::shared_ptr<const Schedule> make_schedule(const Config& cfg, const std::vector<double>& lr) {
  return schedule_registry().make(cfg, kDefaultSchedule, lr);
}

std::vector<std::string> schedule_stackable() {
  std::vector<std::string> keys;
  for (const auto* e : schedule_registry().entries())
    for (const auto& k : e->stackable)
      if (std::find(keys.begin(), keys.end(), "schedule." + k) == keys.end()) keys.push_back("schedule." + k);
  return keys;
}

}  // namespace lrlab::trainers

namespace lrlab::trainers {

void add_trainer_option_help(OptionHelpTable& t) {
  t.add("trainer", "",
        {{"type", "the trainer: a preset of the one descent loop (registered type)"},
         {"data", "the data source (type: descent): online | offline | population"},
         {"lr", "base learning rate (may differ across replicas)"},
         {"lr_scaling", "none | inverse_d (the step is lr / d; a schedule's min_lr scales alike)"},
         {"grad", "analytic (hand-derived gradients) | autograd"},
         {"spherical", "Riemannian step for parameters on the sphere (rank1's u)"},
         {"early_stop", "stop a group once every run crossed every metrics threshold (its hitting times are known)"},
         {"weight_decay", "decoupled weight decay (may differ across replicas; never on the sphere)"},
         {"update", "the update rule (a section with its own type, see `lrlab list update_rule`; default sgd)"},
         {"schedule", "the learning-rate schedule (a section with its own type, see `lrlab list schedule`)"}});
  // The adam / adamw presets read the rule's keys in the trainer section (adam_preset above).
  const OptionHelpTable::Options adam_keys = {
      {"betas", "[beta1, beta2]: decays of the first and second moments, each in [0, 1)"},
      {"eps", "denominator epsilon (> 0)"},
      {"amsgrad", "normalise by the running maximum of the second moment (AMSGrad)"}};
  const OptionHelpTable::Options coupled_decay = {
      {"weight_decay", "coupled L2 coefficient added to the gradient (may differ across replicas)"}};
  for (const char* adam : {"adam", "adamw"}) t.add("trainer", adam, adam_keys);
  t.add("trainer", "adam", coupled_decay);
  t.add("data source", "",
        {{"steps", "step budget (0..2^40); give steps or steps_per_d"},
         {"steps_per_d", "step budget per input dimension: ceil(steps_per_d * d) steps (0: use steps)"},
         {"batch", "samples per step: B (online); full (the whole set) or a minibatch size (offline)"}});
  t.add("data source", "online",
        {{"fused", "auto (the fused CUDA step where it applies, docs/kernels.md) | off (the batched path, for comparisons)"}});
  t.add("data source", "offline",
        {{"n", "training set size (0: use n_per_d); give n or n_per_d"},
         {"n_per_d", "training set size per input dimension: ceil(n_per_d * d) samples"},
         {"epochs", "passes over the training set (0: use steps); give epochs or steps"}});
  t.add("update rule", "", {{"type", "the update rule (registered type)"}});
  for (const char* adam : {"adam", "adamw"}) t.add("update rule", adam, adam_keys);
  t.add("update rule", "adam", coupled_decay);
  t.add("schedule", "", {{"type", "the learning-rate schedule lr_s over updates s = 0 .. T-1 (registered type)"}});
  t.add("schedule", "step", {{"every", "updates between two decays"}, {"gamma", "decay factor per `every` updates"}});
  for (const char* decay : {"cosine", "linear"})
    t.add("schedule", decay,
          {{"min_lr", "learning rate at the end of the decay (scaled by lr_scaling like lr)"},
           {"warmup", "updates of linear warm-up from 0 before the decay"}});
  t.add("schedule", "inverse_time", {{"t0", "time scale: lr_s = lr / (1 + s / t0)"}});
}

}  // namespace lrlab::trainers
