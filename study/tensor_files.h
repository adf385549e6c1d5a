#pragma once
/// Per-run tensor files: tensors/<run>.safetensors holds, for one run, the trained adapter
/// (adapter.<param>), the base (base.W [k, d], base.lam [k]), the teacher (teacher.W [k, d], the
/// perturbed first layer; teacher.U [d, r]) and the student's effective first layer student.W [k, d],
/// with metadata (run id, seed, status, step, adapter type, the adapter's resolved options as YAML).
/// The state is the run's state at its last record (`step`), whose metrics are runs.csv's final_*
/// values: the budget for a run that trained to the end, the stop step for one stopped early, the last
/// record before its diverged step for a diverged run (trainers/monitor.h). A run that diverged before
/// its first record has no file. A file can be reloaded with `adapter.load: PATH` to continue
/// training or to evaluate.

#include <string>
#include <vector>

#include "study/group_runner.h"

namespace lrlab::study {

/// Writes one file per run of a trained group into `dir` (created if needed).
void save_group_tensors(const std::string& dir, const BuiltGroup& group, const std::vector<RunRecord>& runs);

}  // namespace lrlab::study
