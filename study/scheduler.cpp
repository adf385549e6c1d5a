#include "study/scheduler.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <thread>

#include "framework/atomic_file.h"
#include "framework/interrupt.h"
#include "framework/progress.h"
#include "study/results_folder.h"
#include "study/runs_table.h"

namespace lrlab::study {

GroupScheduler::GroupScheduler(SchedulerContext context, std::vector<PendingGroup> todo, size_t done_before)
    : c_(std::move(context)), todo_(std::move(todo)), runs_done_(done_before) {}

double group_flops(int64_t steps, size_t runs, int64_t k, int64_t d) {
  return static_cast<double>(steps) * static_cast<double>(runs) * 6.0 * static_cast<double>(k) * static_cast<double>(d);
}

void GroupScheduler::run(int jobs) {
  jobs_ = jobs;
  live_ = make_live_status();
  // The ticker keeps progress.json fresh (for `lrlab status`) and the display moving between records.
  std::mutex tick_mutex;
  std::condition_variable tick_cv;
  bool stop = false;
  std::thread ticker([&] {
    std::unique_lock<std::mutex> lock(tick_mutex);
    while (!tick_cv.wait_for(lock, std::chrono::milliseconds(250), [&] { return stop; })) live_->tick();
  });
  if (jobs == 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (int j = 0; j < jobs; ++j) pool.emplace_back([this] { worker(); });
    for (auto& t : pool) t.join();
  }
  {
    std::lock_guard<std::mutex> lock(tick_mutex);
    stop = true;
  }
  tick_cv.notify_all();
  ticker.join();
  live_->finish(end_state());
}

/// The state progress.json ends with: finished, interrupted (SIGINT/SIGTERM) or failed.
std::string GroupScheduler::end_state() const {
  if (!failure_) return "finished";
  try {
    std::rethrow_exception(failure_);
  } catch (const Interrupted&) {
    return "interrupted";
  } catch (...) {
    return "failed";
  }
}

/// progress.json in the results folder; the terminal block (or log lines) unless --quiet.
std::unique_ptr<LiveStatus> GroupScheduler::make_live_status() const {
  LiveStatus::Setup setup;
  setup.progress_path = c_.dir + "/progress.json";
  setup.guard_path = c_.dir + "/study.yaml";  // never write into a folder that vanished (or is being deleted)
  setup.command = c_.options.command_line;
  setup.runs_total = c_.plan.runs.size();
  setup.runs_done = runs_done_.load();
  setup.groups_total = c_.groups;
  setup.groups_done = c_.groups - todo_.size();  // a group with no pending run is finished
  for (const PendingGroup& p : todo_) setup.pending_cost += p.cost;
  setup.display = StatusDisplay(StatusDisplay::for_stderr(c_.options.quiet));
  return std::make_unique<LiveStatus>(std::move(setup));
}

void GroupScheduler::rethrow_failure() const {
  if (!failure_) return;
  const size_t saved = runs_done_.load();
  const std::string kept =
      fmt::format("{} of {} runs are finished and saved in {}", saved, c_.plan.runs.size(), c_.dir);
  try {
    std::rethrow_exception(failure_);
  } catch (const Interrupted&) {
    throw Interrupted("interrupted; " + kept);
  } catch (const Error& e) {
    if (std::filesystem::exists(c_.dir + "/study.yaml") && saved > 0)
      throw Error(std::string(e.what()) + "\n(" + kept + "; run the same command again to resume)");
    throw;
  }
}

/// Takes pending groups until none is left, the study is cancelled, or this worker fails.
void GroupScheduler::worker() {
  at::set_num_threads(c_.options.threads);
  while (true) {
    const size_t index = next_.fetch_add(1);
    if (index >= todo_.size() || cancel_.load()) return;
    try {
      throw_if_interrupted();
      train_and_save(index);
    } catch (const Cancelled&) {
      return;
    } catch (...) {
      std::lock_guard<std::mutex> lock(write_mutex_);
      if (!failure_) failure_ = std::current_exception();
      cancel_ = true;
      return;
    }
  }
}

/// Trains the pending group `index`; its new curve rows are appended at most every flush_seconds
/// (`appended` counts the recorder's rows already in curves.csv).
GroupOutcome GroupScheduler::train(size_t index, size_t& appended) {
  const PendingGroup& pending = todo_[index];
  std::vector<Config> configs;
  std::vector<RunRecord> records;
  for (int r : pending.runs) {
    configs.push_back(config_for_run(c_.root, c_.plan, c_.plan.runs[r]));
    records.push_back(RunRecord{c_.plan.runs[r].id, c_.plan.runs[r].seed});
  }
  double last_flush = steady_seconds();
  auto on_record = [&](const trainers::RecordEvent& event) {
    live_->group_recorded(pending.group, event.step, event.values);
    const double now = steady_seconds();
    if (now - last_flush < c_.flush_seconds) return;
    last_flush = now;
    std::lock_guard<std::mutex> lock(write_mutex_);
    append_curves_locked(event.recorder, appended);
  };
  return run_group(configs, records, nullptr, &cancel_, on_record);
}

/// Appends the recorder's curve rows from `appended` on to curves.csv (write_mutex_ held). A folder
/// that vanished is left to save_group, which reports it (and never recreates it).
void GroupScheduler::append_curves_locked(const Recorder& recorder, size_t& appended) {
  const std::string study_path = c_.dir + "/study.yaml";
  if (!std::filesystem::exists(study_path)) return;
  try {
    append_csv_rows(c_.dir + "/curves.csv", curves_header(), curve_rows(recorder, appended));
  } catch (const Error&) {
    if (!std::filesystem::exists(study_path)) return;
    throw;
  }
  appended = recorder.curves().size();
}

/// Trains one pending group, saves it, and reports its computation path (log and meta.yaml).
void GroupScheduler::train_and_save(size_t index) {
  const PendingGroup& pending = todo_[index];
  // Whatever happens, the group leaves the live display (counted as done only once saved).
  struct Ended {
    LiveStatus& live;
    size_t group;
    bool saved = false;
    ~Ended() { live.group_ended(group, saved); }
  } ended{*live_, pending.group};
  live_->group_started(pending.group, pending.runs.size(), pending.steps, pending.cost);
  size_t appended = 0;
  GroupOutcome out = train(index, appended);
  GroupRows rows{{}, c_.runs_header, {}};
  for (size_t i = 0; i < pending.runs.size(); ++i)
    rows.runs.push_back(run_row(out.recorder->runs()[i], c_.plan.runs[pending.runs[i]], c_.plan, out.group.metrics));
  // A signal arriving from here on does not stop this group's writes: it is finished.
  std::lock_guard<std::mutex> lock(write_mutex_);
  append_curves_locked(*out.recorder, appended);  // the rows not appended live; save_group adds runs.csv
  save_group(c_.dir, c_.save_tensors, out, rows);
  runs_done_ += pending.runs.size();
  ended.saved = true;
  report_path(pending, out.group.trainer->path());
}

/// Logs (unless --quiet) and records in meta.yaml which computation path a finished group ran.
void GroupScheduler::report_path(const PendingGroup& pending, const std::string& path) {
  const std::string shown = path.empty() ? "unreported" : path;
  if (!c_.options.quiet)
    live_->print_above([&] {
      c_.log(fmt::format("group {}/{} ({} runs, d={}): path {}", pending.group + 1, c_.groups, pending.runs.size(),
                         pending.d, shown));
    });
  GroupMeta entry{static_cast<int>(pending.group) + 1, {}, shown};
  for (int r : pending.runs) entry.runs.push_back(c_.plan.runs[r].id);
  c_.meta.add_group(std::move(entry));
}

}  // namespace lrlab::study
