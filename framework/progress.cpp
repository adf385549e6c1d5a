#include "framework/progress.h"

#include <sys/ioctl.h>
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

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

namespace {
size_t terminal_width() {
  winsize w{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col > 0) return w.ws_col;
  return 120;
}
}  // namespace

StatusDisplay::StatusDisplay(Mode mode, std::function<void(const std::string&)> write, SecondsClock clock,
                             double line_every, double redraw_every)
    : mode_(mode), write_(std::move(write)), clock_(std::move(clock)), line_every_(line_every),
      redraw_every_(redraw_every), start_(clock_()) {
  if (!write_) write_ = [](const std::string& text) {
    std::fputs(text.c_str(), stderr);
    std::fflush(stderr);
  };
}

StatusDisplay::Mode StatusDisplay::for_stderr(bool quiet) {
  if (quiet) return Mode::kOff;
  return Progress::stderr_is_terminal() ? Mode::kTerminal : Mode::kLog;
}

void StatusDisplay::show(const std::vector<std::string>& lines, bool force) {
  const double now = clock_();
  if (mode_ == Mode::kLog) {
    // The first line only after a full period, then at most one per period.
    if (now - (last_ < 0 ? start_ : last_) < line_every_) return;
    last_ = now;
    std::string joined;
    for (const auto& l : lines) joined += (joined.empty() ? "" : " | ") + l;
    write_(joined + "\n");
    return;
  }
  if (mode_ != Mode::kTerminal) return;
  if (!force && last_ >= 0 && now - last_ < redraw_every_) return;
  last_ = now;
  const size_t width = terminal_width();
  std::string text = drawn_ ? fmt::format("\033[{}A\r\033[J", drawn_) : std::string("\r\033[J");
  for (std::string line : lines) {
    if (line.size() >= width) line.resize(width - 1);  // a wrapped line would break the cursor arithmetic
    text += line + "\n";
  }
  drawn_ = lines.size();
  write_(text);
}

void StatusDisplay::clear() {
  if (mode_ != Mode::kTerminal || drawn_ == 0) return;
  write_(fmt::format("\033[{}A\r\033[J", drawn_));
  drawn_ = 0;
}

std::string format_duration(double seconds) {
  if (seconds >= 3600) return fmt::format("{}h{:02d}m", int(seconds / 3600), int(seconds / 60) % 60);
  if (seconds >= 60) return fmt::format("{}m{:02d}s", int(seconds / 60), int(seconds) % 60);
  return fmt::format("{:.1f}s", seconds);
}

}  // namespace lrlab
