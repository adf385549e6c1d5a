#include "study/resource_estimate.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "framework/bounded_read.h"
#include "framework/error.h"
#include "framework/machine_resources.h"

namespace lrlab::study {

namespace {

// Bytes per curve row: on disk (`p003_s07,1200,overlap,0.93412...`) and held in memory while the
// study writes it (measured: about 14 MB and 120 MB RSS per 320k rows).
constexpr double kCurveRowDisk = 45;
constexpr double kCurveRowMemory = 400;

/// A number from the group's config text (`fallback` when absent or not a number).
double config_number(const Config& config, const std::string& key, double fallback) {
  const std::string text = config.value_text(key);
  char* end = nullptr;
  const double v = text.empty() ? fallback : std::strtod(text.c_str(), &end);
  return text.empty() || *end != '\0' || !std::isfinite(v) ? fallback : v;
}

/// Samples per replica a step holds: the offline training set, else trainer.batch (default 1).
double samples_per_replica(const Config& config, double d) {
  const std::string type = config.value_text("trainer.type");
  const bool offline = config.value_text("trainer.data") == "offline" || type.find("offline") != std::string::npos;
  if (!offline) return config_number(config, "trainer.batch", 1);
  const double n = config_number(config, "trainer.n", 0);
  return n > 0 ? n : std::ceil(config_number(config, "trainer.n_per_d", 10) * d);
}

}  // namespace

GroupEstimate estimate_group(const BuiltGroup& group, bool save_tensors) {
  const models::Model& m = group.model;
  const double R = static_cast<double>(m.ctx.replicas());
  const double d = static_cast<double>(m.base->d()), k = static_cast<double>(m.base->k());
  const double E = static_cast<double>(c10::elementSize(m.ctx.dtype));
  double P = 0;  // adapter numbers per run
  auto params = m.adapter->parameters();
  for (auto* p : m.adapter->buffers()) params.push_back(p);
  for (auto* p : params) P += static_cast<double>(p->value.numel()) / R;
  const double S = samples_per_replica(group.config, d);
  const double T = static_cast<double>(group.metrics.test_samples);
  const double steps = static_cast<double>(group.trainer->steps());
  const double every = static_cast<double>(group.metrics.every);
  const double records = (every > 0 ? std::floor(steps / every) : std::min(steps, 100.0)) + 2;
  const double rows = R * records * static_cast<double>(group.metrics.names.size());

  const std::vector<std::pair<std::string, double>> terms = {
      {"base and teacher weights (R x k x d)", 2 * R * k * d * E},
      {"adapter parameters, gradients and optimiser state", 4 * R * P * E},
      {"training samples (R x trainer.batch or training set x d)", 2 * R * S * (d + k + 1) * E},
      {"test set (metrics.test_samples x d)", 8 * T * (d + 2 * R * (k + 1))},
      {"curves in memory (runs x records x metrics; metrics.every)", kCurveRowMemory * rows},
  };
  GroupEstimate out;
  double total = 0, largest = -1;
  for (const auto& [name, bytes] : terms) {
    total += bytes;
    if (bytes > largest) largest = bytes, out.largest = name;
  }
  const double disk = 2 * kCurveRowDisk * rows + (save_tensors ? 8 * P * R : 0);
  // Doubles first: the products of user numbers may exceed any integer type.
  const auto clamp = [](double v) { return v >= 1.8e19 ? UINT64_MAX : static_cast<uint64_t>(v); };
  out.memory_bytes = clamp(total);
  out.curve_rows = clamp(rows);
  out.disk_bytes = clamp(disk);
  return out;
}

GroupEstimate remaining_part(const GroupEstimate& group, size_t remaining, size_t runs) {
  if (remaining >= runs || runs == 0) return group;
  GroupEstimate out = group;
  const double part = static_cast<double>(remaining) / static_cast<double>(runs);
  out.curve_rows = static_cast<uint64_t>(std::ceil(static_cast<double>(group.curve_rows) * part));
  out.disk_bytes = static_cast<uint64_t>(std::ceil(static_cast<double>(group.disk_bytes) * part));
  if (remaining == 0) out.memory_bytes = 0;
  return out;
}

StudyEstimate estimate_study(const std::vector<GroupEstimate>& groups, int jobs, const std::string& dir,
                             uint64_t existing_curves_bytes) {
  StudyEstimate out;
  out.disk_bytes = existing_curves_bytes;
  std::vector<uint64_t> memory;
  for (const auto& g : groups) {
    memory.push_back(g.memory_bytes);
    out.disk_bytes = out.disk_bytes > UINT64_MAX - g.disk_bytes ? UINT64_MAX : out.disk_bytes + g.disk_bytes;
  }
  std::sort(memory.begin(), memory.end(), std::greater<uint64_t>());
  for (size_t i = 0; i < memory.size() && i < static_cast<size_t>(std::max(1, jobs)); ++i)
    out.peak_memory_bytes = out.peak_memory_bytes > UINT64_MAX - memory[i] ? UINT64_MAX : out.peak_memory_bytes + memory[i];
  out.available_memory = available_memory_bytes();
  out.free_disk = free_disk_bytes(dir);
  return out;
}

std::string estimate_text(const StudyEstimate& study, const std::string& dir) {
  const auto known = [](uint64_t v) { return v == 0 ? std::string("unknown") : format_bytes(v); };
  return fmt::format("estimated peak memory {} ({} available), results on disk {} ({} free at {})",
                     format_bytes(study.peak_memory_bytes), known(study.available_memory),
                     format_bytes(study.disk_bytes), known(study.free_disk), dir);
}

void check_estimate(const StudyEstimate& study, const std::vector<GroupEstimate>& groups, const std::string& dir,
                    bool force) {
  if (force || groups.empty()) return;
  const auto biggest = std::max_element(groups.begin(), groups.end(), [](const auto& a, const auto& b) {
    return a.memory_bytes < b.memory_bytes;
  });
  if (study.available_memory > 0 && study.peak_memory_bytes > study.available_memory)
    throw Error(fmt::format("{}; that is more memory than is available. The largest group ({}) needs {}, "
                            "mostly {}. Lower that, run fewer jobs (--jobs) or smaller groups (--max-group), "
                            "or pass --force to run anyway",
                            estimate_text(study, dir), biggest - groups.begin(),
                            format_bytes(biggest->memory_bytes), biggest->largest));
  if (study.free_disk > 0 && study.disk_bytes > study.free_disk)
    throw Error(fmt::format("{}; that is more than the free disk space. Record less often (metrics.every), "
                            "turn off output.save_tensors, choose another --out, or pass --force to run anyway",
                            estimate_text(study, dir)));
}

}  // namespace lrlab::study
