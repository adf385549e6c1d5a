#pragma once
/// Terminal progress (step, steps/s, ETA, current metrics): shown only when stderr is a terminal,
/// rate-limited, so non-interactive runs (CI, pipes, logs) stay quiet. StatusDisplay shows a block of
/// status lines: redrawn in place on a terminal, one line at most every 30 s in a log (cluster jobs).

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

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

/// Seconds on a monotonic clock; injectable so that tests control time.
using SecondsClock = std::function<double()>;

/// The process's steady clock in seconds.
double steady_seconds();

/// A block of status lines. On a terminal the block is redrawn in place (at most every
/// `redraw_every` s; lines cut to the terminal's width so the cursor arithmetic holds); in a log the
/// block is joined into one line, written at most every `line_every` s and never before `line_every`
/// s have passed (short runs add nothing to a log). Not thread-safe: callers serialise.
class StatusDisplay {
 public:
  /// Where the status goes: nowhere (--quiet), a terminal, or a log.
  enum class Mode { kOff, kTerminal, kLog };
  /// `write` receives raw text (stderr by default), `clock` the time.
  explicit StatusDisplay(Mode mode, std::function<void(const std::string&)> write = {},
                         SecondsClock clock = steady_seconds, double line_every = 30, double redraw_every = 0.2);
  /// Shows `lines` when due (`force`: now, on a terminal only).
  void show(const std::vector<std::string>& lines, bool force = false);
  /// Erases the block from a terminal (before other output; the next show draws it again).
  void clear();
  /// The mode.
  Mode mode() const { return mode_; }
  /// kTerminal when stderr is a terminal, else kLog; kOff when `quiet`.
  static Mode for_stderr(bool quiet);

 private:
  Mode mode_;
  std::function<void(const std::string&)> write_;
  SecondsClock clock_;
  double line_every_, redraw_every_;
  double start_, last_ = -1;
  size_t drawn_ = 0;  // lines of the block now on the terminal
};

/// Formats seconds as "1h02m", "3m05s" or "12.3s".
std::string format_duration(double seconds);

}  // namespace lrlab
