#include "study/shards.h"

#include "study/results_folder.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <stdexcept>

#include "framework/atomic_file.h"
#include "framework/error.h"

namespace lrlab::study {

std::string ShardSpec::name() const { return fmt::format("{}-of-{}", index, count); }

ShardSpec parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  ShardSpec shard;
  try {
    if (slash == std::string::npos) throw std::invalid_argument("no slash");
    size_t used_i = 0, used_n = 0;
    shard.index = std::stoi(text.substr(0, slash), &used_i);
    shard.count = std::stoi(text.substr(slash + 1), &used_n);
    if (used_i != slash || used_n != text.size() - slash - 1) throw std::invalid_argument("trailing text");
  } catch (const std::exception&) {
    throw Error("--shard " + text + ": expected I/N, e.g. --shard 2/4 (shard 2 of 4)");
  }
  if (shard.count < 1 || shard.index < 1 || shard.index > shard.count)
    throw Error("--shard " + text + ": needs 1 <= I <= N");
  return shard;
}

std::string shard_folder(const std::string& dir, const ShardSpec& shard) { return dir + "/shards/" + shard.name(); }

std::vector<std::vector<size_t>> partition_groups(const std::vector<double>& costs, int shards) {
  if (shards < 1) throw Error(fmt::format("partition_groups: {} shards (needs at least 1)", shards));
  std::vector<size_t> order(costs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return costs[a] > costs[b]; });
  std::vector<std::vector<size_t>> parts(static_cast<size_t>(shards));
  std::vector<double> load(static_cast<size_t>(shards), 0.0);
  for (size_t g : order) {
    // Longest processing time first: the next-largest group goes to the least-loaded part.
    const size_t p = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    parts[p].push_back(g);
    load[p] += costs[g];
  }
  for (auto& part : parts) std::sort(part.begin(), part.end());
  return parts;
}

void prepare_shard_root(const std::string& dir, const std::string& document, bool restart,
                        const std::function<void(const std::string&)>& fail_dir) {
  namespace fs = std::filesystem;
  create_results_folder(dir, restart, fail_dir);  // never a user's folder (study/results_folder.h)
  write_marker(dir);  // first: shards starting at once then see a results folder
  std::error_code ec;
  fs::create_directories(dir + "/shards", ec);
  if (ec) fail_dir("cannot create the results folder '" + dir + "/shards': " + ec.message());
  const std::string study_path = dir + "/study.yaml";
  if (fs::exists(study_path)) {
    if (read_file_text(study_path) == document) return;
    if (!restart)
      throw Error("the results folder " + dir + " holds a study with a different config (see " + study_path +
                  "); use --restart to discard it, or --out to choose another folder");
    for (const char* name : {"runs.csv", "curves.csv", "summary.csv", "summary.md", "fits.csv"})
      fs::remove(dir + "/" + name, ec);
    fs::remove_all(dir + "/tensors", ec);
  } else if (fs::exists(dir + "/runs.csv") && !restart) {
    throw Error("the results folder " + dir + " holds runs.csv but no study.yaml, so it cannot be resumed; " +
                "use --restart to discard it, or --out to choose another folder");
  }
  write_file_atomic(study_path, document);
}

void write_shard_record(const std::string& shard_dir, const ShardRecord& record) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "shard" << YAML::Value << record.shard.index;
  e << YAML::Key << "shards" << YAML::Value << record.shard.count;
  e << YAML::Key << "command" << YAML::Value << record.command;
  e << YAML::Key << "runs" << YAML::Value << YAML::Flow << record.runs;
  e << YAML::EndMap;
  write_file_atomic(shard_dir + "/shard.yaml",
                    std::string("# this shard's runs and the command that runs it (lrlab merge reads it)\n") + e.c_str() +
                        "\n");
}

ShardRecord read_shard_record(const std::string& path) {
  try {
    const YAML::Node node = YAML::Load(read_file_text(path));
    ShardRecord record;
    record.shard.index = node["shard"].as<int>();
    record.shard.count = node["shards"].as<int>();
    record.command = node["command"].as<std::string>();
    record.runs = node["runs"].as<std::vector<std::string>>();
    return record;
  } catch (const YAML::Exception& e) {
    throw Error(path + ": not a shard record (" + e.what() + "); rerun the shard with --restart");
  }
}

}  // namespace lrlab::study
