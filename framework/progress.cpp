#include "framework/progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace lrlab {

Progress::Progress(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled),
      start_(std::chrono::steady_clock::now()), last_(start_) {}

Progress::~Progress() { finish(); }

bool Progress::stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

void Progress::update(int64_t done, const std::string& extra) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (shown_ && now - last_ < std::chrono::milliseconds(200) && done < total_) return;
  last_ = now;
  shown_ = true;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? done / elapsed : 0.0;
  const double eta = rate > 0 ? (total_ - done) / rate : 0.0;
  std::string line = fmt::format("{} {}/{} ({:.0f}%) {:.0f} steps/s ETA {} {}", label_, done, total_,
                                 total_ ? 100.0 * done / total_ : 100.0, rate, format_duration(eta), extra);
  if (line.size() > 150) line.resize(150);
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

void Progress::finish() {
  if (enabled_ && shown_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
  shown_ = false;
}

std::string format_duration(double seconds) {
  if (seconds >= 3600) return fmt::format("{}h{:02d}m", int(seconds / 3600), int(seconds / 60) % 60);
  if (seconds >= 60) return fmt::format("{}m{:02d}s", int(seconds / 60), int(seconds) % 60);
  return fmt::format("{:.1f}s", seconds);
}

}  // namespace lrlab
