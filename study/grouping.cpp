#include "study/grouping.h"

#include <algorithm>
#include <map>

#include "framework/interrupt.h"
#include "models/register.h"
#include "trainers/trainer.h"

namespace lrlab::study {

namespace {

/// Erases the stackable options of the component a section's `type:` selects.
template <class RegistryT>
void erase_stackable(Config& cfg, const RegistryT& registry, const std::string& section, const char* default_type) {
  std::string type = cfg.value_text(section + ".type");
  if (type.empty()) type = default_type;
  if (!registry.contains(type)) return;  // reported with its location when the group is built
  const Config probe = Config::load_string("{}", "<grouping>");
  for (const auto& key : registry.find(type, probe).stackable) cfg.erase(section + "." + key);
}

}  // namespace

std::vector<PlannedGroup> group_runs(const Config& root, const StudyPlan& plan, int max_group) {
  std::vector<PlannedGroup> groups;
  std::map<std::string, std::vector<size_t>> open;  // key -> indices of groups with that key
  for (size_t i = 0; i < plan.runs.size(); ++i) {
    throw_if_interrupted();  // grouping a large study builds every run's config: SIGINT must not wait
    Config cfg = config_for_run(root, plan, plan.runs[i]);
    cfg.erase("seed");
    erase_stackable(cfg, models::base_registry(), "base", models::kDefaultBaseType);
    erase_stackable(cfg, models::teacher_registry(), "teacher", models::kDefaultTeacherType);
    erase_stackable(cfg, models::adapter_registry(), "adapter", models::kDefaultAdapterType);
    erase_stackable(cfg, trainers::trainer_registry(), "trainer", trainers::kDefaultTrainerType);
    const std::string key = cfg.document_yaml();
    auto& list = open[key];
    if (list.empty() || groups[list.back()].runs.size() >= static_cast<size_t>(std::max(1, max_group))) {
      list.push_back(groups.size());
      groups.push_back({{}, key});
    }
    groups[list.back()].runs.push_back(static_cast<int>(i));
  }
  return groups;
}

}  // namespace lrlab::study
