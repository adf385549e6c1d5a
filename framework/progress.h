#pragma once
/// Terminal progress (step, steps/s, ETA, current metrics): shown only when stderr is a terminal,
/// rate-limited, so non-interactive runs (CI, pipes, logs) stay quiet.

#include <chrono>
#include <cstdint>
#include <string>

namespace lrlab {

/// A single-line progress indicator on stderr.
class Progress {
 public:
  /// `enabled` defaults to "stderr is a terminal"; `total` is the number of steps.
  Progress(std::string label, int64_t total, bool enabled = stderr_is_terminal());
  ~Progress();
  /// Reports `done` steps out of total, with `extra` text (e.g. current metrics); at most 5 times/s.
  void update(int64_t done, const std::string& extra = "");
  /// Changes the total number of steps.
  void set_total(int64_t total) { total_ = total; }
  /// Changes the label (e.g. "group 3/12").
  void set_label(std::string label) { label_ = std::move(label); }
  /// Clears the line.
  void finish();
  /// True when stderr is a terminal.
  static bool stderr_is_terminal();

 private:
  std::string label_;
  int64_t total_;
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

/// Formats seconds as "1h02m", "3m05s" or "12.3s".
std::string format_duration(double seconds);

}  // namespace lrlab
