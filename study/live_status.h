#pragma once
/// Watching a study while it runs: each writer (a results folder, or one shard's folder) keeps
/// `progress.json`, shows the same on the terminal, and `lrlab status DIR` reads it back.
///
/// progress.json (rewritten atomically at most every ~2 s, and at the end):
///   pid, host, command, started, updated (UTC ISO 8601), updated_unix (seconds since the epoch),
///   state (running | finished | failed | interrupted), runs {total, done}, groups {total, done},
///   eta_seconds (-1: not known yet), running: [{group, runs, step, steps, rate, metrics}].
/// The ETA comes from the plan's cost estimate (the --dry-run arithmetic of each group, scaled by the
/// steps each running group has done), calibrated by the throughput measured in this session:
/// eta = (pending cost - cost done) / (cost done / elapsed). Groups that stop early make it pessimistic.
/// A running group's metrics are the medians over its runs of the latest record.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "framework/progress.h"

namespace lrlab::study {

/// A running group as progress.json shows it.
struct LiveGroup {
  size_t group = 0;                        ///< group number in the plan (1-based)
  size_t runs = 0;                         ///< runs stacked in it
  int64_t step = 0;                        ///< latest recorded step
  int64_t steps = 0;                       ///< the step budget
  double rate = 0;                         ///< steps per second since the group started
  std::map<std::string, double> metrics;   ///< median over the group's runs of the latest record
};

/// What progress.json holds.
struct LiveSnapshot {
  long pid = 0;                    ///< the writer's process id
  std::string host;                ///< the writer's host name
  std::string command;             ///< its command line
  std::string started;             ///< UTC ISO 8601
  std::string updated;             ///< UTC ISO 8601
  double updated_unix = 0;         ///< seconds since the epoch at `updated`
  std::string state = "running";   ///< running | finished | failed | interrupted
  size_t runs_total = 0;           ///< runs of this writer's study (or shard)
  size_t runs_done = 0;            ///< runs with a runs.csv row
  size_t groups_total = 0;         ///< groups of this writer's study (or shard)
  size_t groups_done = 0;          ///< groups whose runs are all finished
  double eta_seconds = -1;         ///< estimated seconds left (-1: not known yet)
  std::vector<LiveGroup> running;  ///< groups in flight
};

/// progress.json text of `s`.
std::string progress_json(const LiveSnapshot& s);
/// Parses progress.json text (errors name `source`).
LiveSnapshot parse_progress_json(const std::string& text, const std::string& source);

/// "runs 4/12, groups 1/4, ETA 3m05s" (ETA "?" while unknown).
std::string study_progress_line(const LiveSnapshot& s);
/// "group 2/4 (3 runs): step 1200/2500 (48%), 480 steps/s, overlap 0.531 test_loss 0.0123".
std::string group_progress_line(const LiveGroup& g, size_t groups_total);

/// The live state of one writer: running groups report their records, finished groups their runs
/// (cheap: no I/O); tick() rewrites progress.json and redraws the terminal (or writes a log line) when
/// due. Thread-safe.
class LiveStatus {
 public:
  /// How it starts and where it writes.
  struct Setup {
    std::string progress_path;        ///< progress.json path (empty: none)
    std::string guard_path;           ///< progress.json is written only while this file exists (empty: always)
    std::string command;              ///< the command line (for progress.json)
    size_t runs_total = 0;            ///< runs of the study (or shard)
    size_t runs_done = 0;             ///< finished before this session
    size_t groups_total = 0;          ///< groups of the study (or shard)
    size_t groups_done = 0;           ///< finished before this session
    double pending_cost = 0;          ///< estimated cost (FLOP) of the groups this session trains
    double json_every = 2;            ///< seconds between progress.json rewrites
    StatusDisplay display{StatusDisplay::Mode::kOff};  ///< the terminal or log output
    SecondsClock clock = steady_seconds;                ///< time (tests inject theirs)
  };
  /// Writes the first progress.json (state running).
  explicit LiveStatus(Setup setup);
  /// Group `group` (0-based plan index) of `runs` runs, `steps` steps and estimated `cost` starts.
  void group_started(size_t group, size_t runs, int64_t steps, double cost);
  /// A record of a running group: its step and the values (metric -> one per run).
  void group_recorded(size_t group, int64_t step, const std::map<std::string, std::vector<double>>& values);
  /// A group ends: `saved` when its runs are saved (they count as done), else it was abandoned.
  void group_ended(size_t group, bool saved);
  /// Rewrites progress.json and redraws when due (call it every fraction of a second).
  void tick();
  /// Ends the session: `state` (finished, failed, interrupted) goes to progress.json; the terminal
  /// block is erased.
  void finish(const std::string& state);
  /// Runs `print` (output to the terminal) with the status block erased, then redraws it.
  void print_above(const std::function<void()>& print);
  /// The current state.
  LiveSnapshot snapshot() const;

 private:
  struct Running {
    LiveGroup shown;
    double started = 0, cost = 0;
  };
  LiveSnapshot snapshot_locked(double now) const;
  void publish_locked(bool force);

  Setup setup_;
  mutable std::mutex mutex_;
  LiveSnapshot base_;                    // pid, host, command, started, totals, done counts
  std::map<size_t, Running> running_;   // by plan group index
  double start_ = 0, last_json_ = -1, cost_done_ = 0;
};

/// What `lrlab status DIR` prints for a results folder: the study's progress from progress.json
/// (marked stale when its writer is dead: the lock file's holder, or progress.json's pid, is not
/// running on this host), or for a sharded study (DIR/shards/I-of-N/) one line per shard and the
/// total. `now_unix` is the current time (seconds since the epoch). Throws lrlab::Error when `dir` is
/// not a results folder.
std::string status_report(const std::string& dir, double now_unix);

}  // namespace lrlab::study
