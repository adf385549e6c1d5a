#include "framework/machine_resources.h"

#include <sys/statvfs.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "framework/bounded_read.h"
#include "framework/checked_math.h"
#include "framework/config.h"

namespace lrlab {

namespace {

/// The value of `field` ("MemAvailable:") in /proc/meminfo, in bytes; 0 when absent.
uint64_t meminfo_bytes(const std::string& field) {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, field.size(), field) != 0) continue;
    std::istringstream s(line.substr(field.size()));
    uint64_t kb = 0;
    s >> kb;
    return kb * 1024;
  }
  return 0;
}

}  // namespace

uint64_t available_memory_bytes() { return meminfo_bytes("MemAvailable:"); }

uint64_t allocatable_memory_bytes() {
  const uint64_t available = available_memory_bytes();
  return available == 0 ? 0 : available + meminfo_bytes("SwapFree:");
}

uint64_t free_disk_bytes(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p = fs::absolute(path.empty() ? "." : path, ec);
  if (ec) return 0;
  while (!fs::exists(p, ec) && p.has_parent_path() && p.parent_path() != p) p = p.parent_path();
  struct statvfs st {};
  if (::statvfs(p.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

void check_tensor_fits(const Config& cfg, const std::string& key, std::initializer_list<int64_t> shape,
                       int64_t element_bytes, const std::string& what) {
  std::optional<int64_t> bytes = element_bytes;
  for (int64_t n : shape)
    if (bytes) bytes = checked_mul(*bytes, n);
  if (!bytes) cfg.fail(key, fmt::format("{} would need more than 2^63 bytes", what));
  const uint64_t limit = allocatable_memory_bytes();
  if (limit > 0 && static_cast<uint64_t>(*bytes) > limit)
    cfg.fail(key, fmt::format("{} would need {}, more than this machine can allocate ({} of memory and swap free)",
                              what, format_bytes(static_cast<uint64_t>(*bytes)), format_bytes(limit)));
}

}  // namespace lrlab
