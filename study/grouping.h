#pragma once
/// Grouping: which runs of a plan stack into one group (one tensor program with a replica axis).

#include <string>
#include <vector>

#include "framework/config.h"
#include "study/plan.h"

namespace lrlab::study {

/// One group of the plan: runs that share every non-stackable setting.
struct PlannedGroup {
  std::vector<int> runs;   ///< indices into StudyPlan::runs
  std::string key;         ///< the grouping key (the config without seed and stackable options)
};

/// Splits a plan into groups: runs whose configs are equal once `seed` and every stackable option
/// (registry-declared, e.g. trainer.lr, teacher.xi) are removed share a group (in plan order,
/// at most `max_group` runs each).
std::vector<PlannedGroup> group_runs(const Config& root, const StudyPlan& plan, int max_group);

}  // namespace lrlab::study
