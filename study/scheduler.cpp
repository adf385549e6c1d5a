#include "study/scheduler.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "framework/interrupt.h"
#include "framework/progress.h"
#include "study/results_folder.h"
#include "study/runs_table.h"

namespace lrlab::study {

GroupScheduler::GroupScheduler(SchedulerContext context, std::vector<PendingGroup> todo, size_t done_before)
    : c_(std::move(context)), todo_(std::move(todo)), runs_done_(done_before) {}

void GroupScheduler::run(int jobs) {
  jobs_ = jobs;
  show_progress_ = !c_.options.quiet && Progress::stderr_is_terminal();
  if (jobs == 1) {
    worker();
    return;
  }
  std::vector<std::thread> pool;
  for (int j = 0; j < jobs; ++j) pool.emplace_back([this] { worker(); });
  for (auto& t : pool) t.join();
  if (show_progress_) std::fprintf(stderr, "\r\033[K");
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

/// Trains the pending group `index` (a progress bar when one job runs on a terminal).
GroupOutcome GroupScheduler::train(size_t index) {
  const PendingGroup& pending = todo_[index];
  std::vector<Config> configs;
  std::vector<RunRecord> records;
  for (int r : pending.runs) {
    configs.push_back(config_for_run(c_.root, c_.plan, c_.plan.runs[r]));
    records.push_back(RunRecord{c_.plan.runs[r].id, c_.plan.runs[r].seed});
  }
  Progress progress(fmt::format("[group {}/{}, runs done {}/{}]", index + 1, todo_.size(), runs_done_.load(),
                                c_.plan.runs.size()),
                    1, show_progress_ && jobs_ == 1);
  return run_group(configs, records, &progress, &cancel_);
}

/// Trains one pending group, saves it, and reports its computation path (log and meta.yaml).
void GroupScheduler::train_and_save(size_t index) {
  const PendingGroup& pending = todo_[index];
  GroupOutcome out = train(index);
  GroupRows rows{curve_rows(*out.recorder), c_.runs_header, {}};
  for (size_t i = 0; i < pending.runs.size(); ++i)
    rows.runs.push_back(run_row(out.recorder->runs()[i], c_.plan.runs[pending.runs[i]], c_.plan, out.group.metrics));
  // A signal arriving from here on does not stop this group's writes: it is finished.
  std::lock_guard<std::mutex> lock(write_mutex_);
  save_group(c_.dir, c_.save_tensors, out, rows);
  runs_done_ += pending.runs.size();
  report_path(pending, out.group.trainer->path());
  if (show_progress_ && jobs_ > 1)
    std::fprintf(stderr, "\r\033[K[runs done %zu/%zu]", runs_done_.load(), c_.plan.runs.size());
}

/// Logs (unless --quiet) and records in meta.yaml which computation path a finished group ran.
void GroupScheduler::report_path(const PendingGroup& pending, const std::string& path) {
  const std::string shown = path.empty() ? "unreported" : path;
  if (!c_.options.quiet)
    c_.log(fmt::format("group {}/{} ({} runs, d={}): path {}", pending.group + 1, c_.groups, pending.runs.size(),
                       pending.d, shown));
  GroupMeta entry{static_cast<int>(pending.group) + 1, {}, shown};
  for (int r : pending.runs) entry.runs.push_back(c_.plan.runs[r].id);
  c_.meta.add_group(std::move(entry));
}

}  // namespace lrlab::study
