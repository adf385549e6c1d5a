#include "study/meta.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>

#include "framework/atomic_file.h"
#include "framework/system_info.h"

namespace lrlab::study {

namespace {

constexpr const char* kDeterminism =
    "runs.csv and curves.csv depend on the config (file + overrides), the seeds, this build (compiler, "
    "LibTorch, BLAS), the device and the intra-op thread count (--threads), and on nothing else: not on "
    "--jobs, not on the order in which groups finish, not on interruptions and resumes. On the CPU each "
    "run draws from generators derived from its own seed and every operation is per replica, so a run gives "
    "the same numbers alone or stacked in any group (also the smaller groups a resumed study forms); a run "
    "that diverges or stops early (trainer.early_stop) leaves its group's record at that step without "
    "changing the others; at the end both files are rewritten in plan order (run id, then recording order). "
    "On CUDA one generator fills a whole group's samples, so runs are reproducible for the same grouping "
    "only (a resumed study may regroup), and some CUDA kernels are not bitwise deterministic.";

/// The `groups:` list as block YAML ("" when there are none).
std::string groups_yaml(const std::vector<GroupMeta>& groups) {
  if (groups.empty()) return "";
  YAML::Emitter e;
  e << YAML::BeginMap << YAML::Key << "groups" << YAML::Value << YAML::BeginSeq;
  for (const GroupMeta& g : groups) {
    e << YAML::BeginMap;
    e << YAML::Key << "group" << YAML::Value << g.group;
    e << YAML::Key << "runs" << YAML::Value << YAML::Flow << g.runs;
    e << YAML::Key << "path" << YAML::Value << g.path;
    e << YAML::EndMap;
  }
  e << YAML::EndSeq << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace

std::string meta_header(const Config& root, const std::string& command_line, const StudyPlan& plan,
                        const Context& ctx, int jobs, int threads) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "lrlab_version" << YAML::Value << lrlab_version();
  e << YAML::Key << "libtorch_version" << YAML::Value << torch_version();
  e << YAML::Key << "blas" << YAML::Value << loaded_blas();
  e << YAML::Key << "device" << YAML::Value << ctx.device.str();
  if (!ctx.device_note.empty()) e << YAML::Key << "device_note" << YAML::Value << ctx.device_note;
  e << YAML::Key << "dtype" << YAML::Value << (ctx.dtype == at::kDouble ? "float64" : "float32");
  e << YAML::Key << "command_line" << YAML::Value << command_line;
  e << YAML::Key << "overrides" << YAML::Value << YAML::Flow << root.overrides();
  e << YAML::Key << "host" << YAML::Value << host_name();
  e << YAML::Key << "started" << YAML::Value << utc_now();
  e << YAML::Key << "runs" << YAML::Value << plan.runs.size();
  e << YAML::Key << "seeds" << YAML::Value << fmt::format("{}..{}", plan.base_seed, plan.base_seed + plan.seeds - 1);
  e << YAML::Key << "jobs" << YAML::Value << jobs;
  e << YAML::Key << "intra_op_threads" << YAML::Value << threads;
  e << YAML::Key << "determinism" << YAML::Value << kDeterminism;
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

MetaFile::MetaFile(std::string path, std::string header, std::vector<GroupMeta> earlier)
    : path_(std::move(path)), header_(std::move(header)), groups_(std::move(earlier)) {
  write();
}

void MetaFile::add_group(GroupMeta group) {
  std::lock_guard<std::mutex> lock(mutex_);
  groups_.push_back(std::move(group));
  std::stable_sort(groups_.begin(), groups_.end(),
                   [](const GroupMeta& a, const GroupMeta& b) { return a.group < b.group; });
  write();
}

std::vector<GroupMeta> MetaFile::groups() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return groups_;
}

void MetaFile::write() const { write_file_atomic(path_, header_ + groups_yaml(groups_)); }

std::vector<GroupMeta> MetaFile::read_groups(const std::string& path, const std::set<std::string>& finished) {
  std::vector<GroupMeta> out;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return out;
  try {
    const YAML::Node meta = YAML::LoadFile(path);
    const YAML::Node groups = meta["groups"];
    if (!groups.IsSequence()) return out;
    for (const YAML::Node& g : groups) {
      GroupMeta entry{g["group"].as<int>(), g["runs"].as<std::vector<std::string>>(), g["path"].as<std::string>()};
      const bool saved = std::all_of(entry.runs.begin(), entry.runs.end(),
                                     [&](const std::string& run) { return finished.count(run) > 0; });
      if (saved) out.push_back(std::move(entry));
    }
  } catch (const std::exception&) {
    return {};  // a damaged meta.yaml loses only its group entries; results never depend on it
  }
  return out;
}

}  // namespace lrlab::study
