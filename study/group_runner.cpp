#include "study/group_runner.h"

#include <algorithm>

#include "framework/context.h"

namespace lrlab::study {

OutputOptions read_output_options(const Config& root) {
  OutputOptions o;
  const std::string name = root.get<std::string>("name", "lrlab");
  const Config out = root.child("output");
  o.dir = out.get<std::string>("dir", "runs/" + name);
  o.plots = out.get<bool>("plots", o.plots);
  o.save_tensors = out.get<bool>("save_tensors", o.save_tensors);
  o.flush_seconds = out.get<double>("flush_seconds", o.flush_seconds);
  if (!(o.flush_seconds >= 0)) out.fail("flush_seconds", "must be >= 0 (seconds; 0 appends at every record)");
  out.finish();
  // The default folder is runs/<name>: one path component, so it can never point outside runs/.
  const bool control =
      std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos || control)
    root.fail("name", "must be a single folder name (not empty, '.' or '..', no '/' or control characters)");
  return o;
}

namespace {
void read_reserved_top_level(const Config& root) {
  root.get<int64_t>("replicas", 1);
  read_output_options(root);
  if (root.has("study")) root.child("study");  // expanded by the study runner before groups are built
}
}  // namespace

BuiltGroup build_group(const std::vector<Config>& run_configs) {
  check(!run_configs.empty(), "build_group: a group needs at least one run");
  const Config root = run_configs.size() == 1 ? run_configs[0] : Config::stack(run_configs);
  std::vector<int64_t> seeds = root.get_each<int64_t>("seed", 0);
  read_reserved_top_level(root);
  Context ctx = make_context(root, seeds);
  models::Model model = models::build_model(root, ctx);
  const Config metrics_cfg = root.child("metrics");
  models::MetricsOptions metrics = models::MetricsOptions::from_config(metrics_cfg);
  metrics_cfg.finish_recursive();
  const Config trainer_cfg = root.child("trainer");
  auto trainer = trainers::trainer_registry().make(trainer_cfg, trainers::kDefaultTrainerType, model);
  trainer_cfg.finish_recursive();
  root.finish();
  return BuiltGroup{root, model, trainer, metrics};
}

GroupOutcome run_group(const std::vector<Config>& run_configs, std::vector<RunRecord> records, Progress* progress,
                       const std::atomic<bool>* cancel, trainers::RecordHook on_record) {
  GroupOutcome out{build_group(run_configs), nullptr};
  check(records.size() == run_configs.size(), "run_group: one record per run expected");
  models::MetricSet metrics(out.group.metrics, out.group.model);
  out.recorder = std::make_unique<Recorder>(std::move(records), out.group.metrics.thresholds,
                                            models::metric_higher_is_better);
  trainers::Monitor monitor(metrics, *out.recorder, out.group.trainer->steps(), out.group.trainer->early_stop(),
                            progress);
  monitor.set_cancel_flag(cancel);
  monitor.set_record_hook(std::move(on_record));
  out.group.trainer->train(out.group.model, monitor);
  return out;
}

}  // namespace lrlab::study
