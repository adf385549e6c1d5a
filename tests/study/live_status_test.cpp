// progress.json (contents, ETA from the cost estimate, round trip) and `lrlab status`'s report for a
// running, finished, stale and sharded folder, with injected clocks and hand-made folders.

#include "study/live_status.h"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "framework/atomic_file.h"
#include "framework/error.h"
#include "framework/system_info.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using lrlab::study::LiveSnapshot;
using lrlab::study::LiveStatus;
using lrlab::testing::TempDir;
using Catch::Matchers::Contains;

namespace {

/// A pid that is certainly not running: a child that has exited and been reaped.
long dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return static_cast<long>(pid);
}

/// A progress.json for a writer on this host.
void write_progress(const std::string& dir, const std::string& state, long pid, size_t done, size_t total,
                    double updated_unix) {
  LiveSnapshot s;
  s.pid = pid;
  s.host = lrlab::host_name();
  s.started = s.updated = "2026-11-30T04:00:00Z";
  s.updated_unix = updated_unix;
  s.state = state;
  s.runs_total = total;
  s.runs_done = done;
  s.groups_total = 2;
  s.groups_done = done == total ? 2 : 0;
  s.eta_seconds = state == "running" ? 125 : 0;
  if (state == "running") s.running.push_back({1, 3, 1200, 2500, 480, {{"overlap", 0.531}}});
  fs::create_directories(dir);
  lrlab::write_file_atomic(dir + "/progress.json", lrlab::study::progress_json(s));
}

}  // namespace

TEST_CASE("LiveStatus keeps progress.json: counts, running groups, medians, ETA from the cost", "[live_status]") {
  const TempDir temp;
  double now = 1000;
  LiveStatus::Setup setup;
  setup.progress_path = temp.path + "/progress.json";
  setup.command = "lrlab run x.yaml";
  setup.runs_total = 9;
  setup.runs_done = 3;  // one group finished in an earlier session
  setup.groups_total = 3;
  setup.groups_done = 1;
  setup.pending_cost = 300;  // two groups of cost 100 and 200
  setup.clock = [&now] { return now; };
  LiveStatus live(setup);
  auto read = [&] { return lrlab::study::parse_progress_json(lrlab::read_file_text(setup.progress_path), "p"); };
  LiveSnapshot s = read();
  CHECK(s.state == "running");
  CHECK(s.pid == static_cast<long>(::getpid()));
  CHECK(s.host == lrlab::host_name());
  CHECK(s.command == "lrlab run x.yaml");
  CHECK(s.runs_done == 3);
  CHECK(s.runs_total == 9);
  CHECK(s.groups_done == 1);
  CHECK(s.eta_seconds == -1);  // nothing measured yet
  CHECK(std::abs(s.updated_unix - static_cast<double>(std::time(nullptr))) < 5);

  live.group_started(1, 3, 1000, 100);
  live.group_started(2, 3, 1000, 200);
  now = 1010;
  live.group_recorded(1, 500, {{"overlap", {0.2, 0.9, 0.4}}, {"test_loss", {1.0, NAN, 3.0}}});
  s = live.snapshot();
  REQUIRE(s.running.size() == 2);
  CHECK(s.running[0].group == 2);  // 1-based
  CHECK(s.running[0].step == 500);
  CHECK(s.running[0].rate == Approx(50));  // 500 steps in 10 s
  CHECK(s.running[0].metrics.at("overlap") == Approx(0.4));     // median over the runs
  CHECK(s.running[0].metrics.at("test_loss") == Approx(2.0));   // of the finite values
  // 50 of 300 FLOP done in 10 s: 250 left at 5 per second.
  CHECK(s.eta_seconds == Approx(50));
  CHECK(read().running.empty());  // reports do no I/O; tick does
  live.tick();
  CHECK(read().running.size() == 2);  // due: 10 s since the last rewrite
  now = 1011;  // progress.json is rewritten at most every 2 s
  live.group_ended(1, true);
  live.tick();
  CHECK(read().running.size() == 2);
  CHECK(read().runs_done == 3);
  now = 1012.5;
  live.tick();
  CHECK(read().running.size() == 1);
  CHECK(read().runs_done == 6);
  live.group_ended(2, false);  // abandoned (interrupted): not counted
  s = live.snapshot();
  CHECK(s.runs_done == 6);
  CHECK(s.groups_done == 2);
  CHECK(s.running.empty());
  live.finish("interrupted");
  s = read();
  CHECK(s.state == "interrupted");
  CHECK(s.runs_done == 6);
  CHECK(s.running.empty());
}

TEST_CASE("progress.json round-trips, and a bad one is an error naming the file", "[live_status]") {
  LiveSnapshot s;
  s.pid = 42;
  s.host = "node \"7\"";
  s.started = "a";
  s.updated = "b";
  s.updated_unix = 1.5e9;
  s.state = "running";
  s.runs_total = 4;
  s.runs_done = 1;
  s.groups_total = 2;
  s.groups_done = 0;
  s.eta_seconds = 3.5;
  s.running.push_back({2, 2, 10, 20, 1.5, {{"overlap", 0.25}, {"test_loss", NAN}}});
  const LiveSnapshot t = lrlab::study::parse_progress_json(lrlab::study::progress_json(s), "x");
  CHECK(t.host == s.host);
  CHECK(t.runs_done == 1);
  CHECK(t.eta_seconds == 3.5);
  REQUIRE(t.running.size() == 1);
  CHECK(t.running[0].metrics.at("overlap") == 0.25);
  CHECK(std::isnan(t.running[0].metrics.at("test_loss")));
  CHECK_THROWS_WITH(lrlab::study::parse_progress_json("{\"pid\": 1}", "dir/progress.json"),
                    Contains("dir/progress.json"));
}

TEST_CASE("lrlab status's report: running, finished, stale, no results folder", "[live_status]") {
  const TempDir temp;
  const double now = static_cast<double>(std::time(nullptr));
  const std::string running = temp.path + "/running";
  write_progress(running, "running", static_cast<long>(::getpid()), 3, 6, now - 1);
  const std::string report = lrlab::study::status_report(running, now);
  CHECK_THAT(report, Contains(running + ": running"));
  CHECK_THAT(report, Contains("runs 3/6, groups 0/2, ETA 2m05s"));
  CHECK_THAT(report, Contains("group 1/2 (3 runs): step 1200/2500 (48%), 480 steps/s, overlap 0.531"));

  const std::string finished = temp.path + "/finished";
  write_progress(finished, "finished", dead_pid(), 6, 6, now - 3600);
  CHECK_THAT(lrlab::study::status_report(finished, now), Contains(finished + ": finished"));
  CHECK_THAT(lrlab::study::status_report(finished, now), Contains("runs 6/6, groups 2/2\n"));

  // "running" but its writer died (SIGKILL, node crash): stale.
  const std::string crashed = temp.path + "/crashed";
  const long pid = dead_pid();
  write_progress(crashed, "running", pid, 3, 6, now - 600);
  const std::string stale = lrlab::study::status_report(crashed, now);
  CHECK_THAT(stale, Contains(crashed + ": stale"));
  CHECK_THAT(stale, Contains("pid " + std::to_string(pid)));
  CHECK_THAT(stale, Contains("is not running; last update 10m00s ago"));

  CHECK_THROWS_WITH(lrlab::study::status_report(temp.path, now), Contains("is not a results folder"));
}

TEST_CASE("lrlab status's report for a sharded study: one line per shard and the total", "[live_status]") {
  const TempDir temp;
  const double now = static_cast<double>(std::time(nullptr));
  const std::string dir = temp.path + "/study";
  // Four shards: 1 finished, 2 running, 3 has no folder, 4 was interrupted; 5-of-4 is not a shard.
  write_progress(dir + "/shards/1-of-4", "finished", dead_pid(), 6, 6, now - 100);
  write_progress(dir + "/shards/2-of-4", "running", static_cast<long>(::getpid()), 3, 6, now - 1);
  write_progress(dir + "/shards/4-of-4", "interrupted", dead_pid(), 2, 6, now - 50);
  fs::create_directories(dir + "/shards/notes");
  fs::create_directories(dir + "/shards/5-of-4");
  const std::string report = lrlab::study::status_report(dir, now);
  INFO(report);
  CHECK_THAT(report, Contains(dir + ": sharded study, 4 shards"));
  CHECK_THAT(report, Contains("shard 1/4: finished, runs 6/6"));
  CHECK_THAT(report, Contains("shard 2/4: running, runs 3/6, groups 0/2, ETA 2m05s"));
  CHECK_THAT(report, Contains("shard 3/4: not started\n"));
  CHECK_THAT(report, Contains("shard 4/4: interrupted, runs 2/6"));
  CHECK_THAT(report, Contains("study: runs 11/18 (shards not started not counted); shards: 1 finished, "
                              "1 interrupted, 1 not started, 1 running"));
  CHECK(report.find("shard 5/4") == std::string::npos);
}
