#include "study/tensor_files.h"

#include <filesystem>

#include "framework/safetensors.h"
#include "framework/system_info.h"
#include "models/adapter_io.h"

namespace lrlab::study {

void save_group_tensors(const std::string& dir, const BuiltGroup& group, const std::vector<RunRecord>& runs) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error("cannot create " + dir + ": " + ec.message());
  at::NoGradGuard no_grad;
  const auto& m = group.model;
  const at::Tensor student = m.adapter->effective_weight().cpu();
  const at::Tensor teacher = m.teacher->weight().cpu();
  for (size_t r = 0; r < runs.size(); ++r) {
    if (runs[r].recorded_step < 0) continue;  // diverged before its first record: no state to report
    const int64_t i = static_cast<int64_t>(r);
    TensorFile file = models::adapter_tensor_file(*m.adapter, i, group.config.replica(static_cast<int>(r)));
    file.tensors.emplace_back("base.W", m.base->weight()[i].cpu());
    file.tensors.emplace_back("base.lam", m.base->lam()[i].cpu());
    file.tensors.emplace_back("teacher.W", teacher[i]);
    file.tensors.emplace_back("teacher.U", m.teacher->subspace()[i].cpu());
    file.tensors.emplace_back("student.W", student[i]);
    file.metadata["run"] = runs[r].id;
    file.metadata["seed"] = std::to_string(runs[r].seed);
    file.metadata["status"] = runs[r].status;
    file.metadata["step"] = std::to_string(runs[r].recorded_step);
    file.metadata["lrlab_version"] = lrlab_version();
    write_safetensors(dir + "/" + runs[r].id + ".safetensors", file);
  }
}

}  // namespace lrlab::study
