#include "trainers/descent.h"

#include <algorithm>
#include <cmath>

#include "framework/config.h"
#include "trainers/gradients.h"

namespace lrlab::trainers {

double lr_scaling_factor(const std::string& lr_scaling, int64_t d) {
  return lr_scaling == "inverse_d" ? 1.0 / static_cast<double>(d) : 1.0;
}

namespace {

/// Reads a per-replica option that must be finite and > 0 (`positive`) or >= 0.
PerReplica<double> read_rates(const Config& cfg, const std::string& key, double fallback, bool positive) {
  const auto values = cfg.get_each<double>(key, fallback);
  for (double v : values)
    if (!std::isfinite(v) || !(positive ? v > 0 : v >= 0))
      cfg.fail(key, std::string("must be finite and ") + (positive ? "> 0" : ">= 0") + ", got " + std::to_string(v));
  return PerReplica<double>(values);
}

/// The rule of `preset`: built by the preset from the trainer section, or from the `update:` section.
std::shared_ptr<UpdateRule> read_rule(const Config& cfg, const DescentPreset& preset) {
  if (!preset.rule) return update_rule_registry().make(cfg.child("update"), kDefaultUpdateRule, cfg.replicas());
  if (cfg.has("update"))
    cfg.fail("update", "trainer.type '" + preset.type + "' already sets the update rule: give only one of " + cfg.path() +
                           ".type: " + preset.type + " and " + cfg.path() + ".update (e.g. type: online_sgd or " +
                           "offline_gd with update: {type: " + preset.type + ", ...})");
  return preset.rule(cfg, cfg.replicas());
}

}  // namespace

std::shared_ptr<Descent> Descent::from_config(const Config& cfg, const models::Model& model,
                                              const DescentPreset& preset) {
  const std::string data =
      preset.data.empty() ? cfg.get_choice("data", "online", data_source_registry().keys()) : preset.data;
  auto source = data_source_registry().find(data, cfg, "data").make(cfg, model, preset.budget);
  auto rule = read_rule(cfg, preset);
  DescentOptions o;
  o.lr = read_rates(cfg, "lr", preset.lr, /*positive=*/true);
  o.lr_scaling = cfg.get_choice("lr_scaling", o.lr_scaling, {"none", "inverse_d"});
  o.grad = cfg.get_choice("grad", o.grad, {"analytic", "autograd"});
  o.spherical = cfg.get<bool>("spherical", o.spherical);
  o.early_stop = cfg.get<bool>("early_stop", o.early_stop);
  if (rule->decoupled_decay()) {
    o.weight_decay = read_rates(cfg, "weight_decay", preset.weight_decay, /*positive=*/false);
  } else if (!preset.rule_reads_weight_decay && cfg.has("weight_decay")) {
    cfg.fail("weight_decay", "the '" + rule->type() + "' rule applies no decoupled weight decay: give its own (" +
                                 cfg.path() + ".update.weight_decay) instead of " + cfg.path() + ".weight_decay");
  }
  o.schedule = make_schedule(cfg.child("schedule"), o.lr.values());
  return std::make_shared<Descent>(preset.type, std::move(o), std::move(source), std::move(rule), model);
}

std::vector<std::string> Descent::stackable() {
  std::vector<std::string> keys{"lr", "weight_decay"};
  for (const auto& k : schedule_stackable()) keys.push_back(k);
  for (const auto* e : update_rule_registry().entries())
    for (const auto& k : e->stackable)
      if (std::find(keys.begin(), keys.end(), "update." + k) == keys.end()) keys.push_back("update." + k);
  return keys;
}

Descent::Descent(std::string type, DescentOptions options, std::shared_ptr<DataSource> source,
                 std::shared_ptr<UpdateRule> rule, const models::Model& model)
    : type_(std::move(type)),
      options_(std::move(options)),
      source_(std::move(source)),
      rule_(std::move(rule)),
      rates_(model.ctx, options_.lr.values(), options_.schedule, lr_scaling_factor(options_.lr_scaling, model.base->d()),
             source_->steps(), rule_->decoupled_decay() ? options_.weight_decay.values() : std::vector<double>{}) {}

void Descent::train(models::Model& model, Monitor& monitor) {
  rule_->init(model.adapter->parameters());  // fresh state (moments) for this run
  path_ = source_->begin(model, *rule_, parse_grad_path(options_.grad), options_.spherical);
  auto cleanup = [&] {
    source_->end();
    set_requires_grad(*model.adapter, false);
  };
  const bool want_loss = monitor.wants_train_loss();
  const bool at_records = source_->loss_at_records();
  // Step 0: the metrics at initialisation (with the whole-set training loss for offline data).
  if (monitor.start(model, want_loss && at_records ? source_->record_loss(model) : at::Tensor())) {
    cleanup();
    return;
  }
  // The monitor watches the loss for divergence every step where it is computed anyway (the kernel
  // path and the population always have it; the batched online step costs ~6 us more for it), else at
  // records (monitor.h).
  const bool step_loss = (want_loss && !at_records) || source_->loss_is_free();
  const int64_t total = source_->steps();
  // A multi-step source (the fused CUDA step) runs every update up to the next record in one call when
  // the rates are constant; its loss is then the mean over those updates, which is what the monitor's
  // running mean would have made of them.
  const bool multi = source_->multi_step() && rates_.constant();
  int64_t step = 1;
  while (step <= total) {
    rates_.set_step(step - 1);  // in place, and only when a value changes
    const at::Tensor decay = rates_.has_decay() ? rates_.decay() : at::Tensor();
    const int64_t last = multi ? monitor.next_due(step) : step;
    const at::Tensor loss = last == step ? source_->step(step, rates_.lr(), decay, step_loss)
                                         : source_->run_steps(step, last - step + 1, rates_.lr(), decay, step_loss);
    monitor.watch_step(last, loss);
    const at::Tensor recorded =
        at_records ? (want_loss && monitor.due(last) ? source_->record_loss(model) : at::Tensor()) : loss;
    step = last;
    if (monitor.end_step(step, model, recorded)) break;
    ++step;
  }
  cleanup();
  monitor.finish(std::min(step, total), model);
}

}  // namespace lrlab::trainers
