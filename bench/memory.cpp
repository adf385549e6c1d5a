#include "bench/memory.h"

#include <fstream>
#include <string>

namespace lrlab::bench {

namespace {

// The value of a "Key:   123 kB" line of /proc/self/status, in bytes (0 when absent).
int64_t status_kb(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) == 0 && line.size() > key.size() && line[key.size()] == ':')
      return std::stoll(line.substr(key.size() + 1)) * 1024;
  }
  return 0;
}

}  // namespace

int64_t rss_bytes() { return status_kb("VmRSS"); }

int64_t peak_rss_bytes() { return status_kb("VmHWM"); }

bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  if (!out) return false;
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

}  // namespace lrlab::bench
