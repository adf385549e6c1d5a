// The descent loop's multi-step launches (the fused CUDA step's contract, trainers/descent.cpp): a
// source that runs many updates per call is driven up to each record in one call when the rates are
// constant, one update per call otherwise; the calls cover every update once, in order, and end
// exactly at the records. Checked on the CPU with a source that only logs its calls.

#include <catch2/catch.hpp>

#include <ATen/ATen.h>

#include <memory>
#include <utility>
#include <vector>

#include "framework/config.h"
#include "models/metrics.h"
#include "tests/trainers/cuda/fused_test_support.h"
#include "trainers/descent.h"
#include "trainers/monitor.h"
#include "trainers/recorder.h"

namespace {

namespace tr = lrlab::trainers;

// A data source that trains nothing and logs (first, n) of every call; its loss is a constant [R].
class LoggingSource : public tr::DataSource {
 public:
  LoggingSource(int64_t steps, int64_t replicas) : steps_(steps), loss_(at::full({replicas}, 0.5, at::kDouble)) {}
  std::string type() const override { return "logging"; }
  int64_t steps() const override { return steps_; }
  std::string begin(lrlab::models::Model&, tr::UpdateRule&, tr::GradPath, bool) override { return "logging"; }
  at::Tensor step(int64_t step, const at::Tensor&, const at::Tensor&, bool) override {
    calls.emplace_back(step, 1);
    return loss_;
  }
  bool multi_step() const override { return true; }
  at::Tensor run_steps(int64_t first, int64_t n, const at::Tensor&, const at::Tensor&, bool) override {
    calls.emplace_back(first, n);
    return loss_;
  }
  bool loss_is_free() const override { return true; }
  std::vector<std::pair<int64_t, int64_t>> calls;  ///< (first update, updates) per call

 private:
  int64_t steps_;
  at::Tensor loss_;
};

// Trains a 2-replica model for 23 updates with records every 5 and returns the source's calls.
std::vector<std::pair<int64_t, int64_t>> drive(const std::string& schedule) {
  auto model = lrlab::fused_test::build({"{type: rank1}", "{type: tanh}", 2, 1});
  auto source = std::make_shared<LoggingSource>(23, 2);
  tr::DescentOptions options;
  options.lr = lrlab::PerReplica<double>(std::vector<double>{0.1, 0.2});
  options.schedule = tr::make_schedule(lrlab::Config::load_string(schedule), options.lr.values());
  tr::Descent descent("online_sgd", options, source, lrlab::fused_test::make_rule("sgd", model), model);
  lrlab::models::MetricsOptions metrics_options;
  metrics_options.names = {"overlap", "train_loss"};
  metrics_options.every = 5;
  lrlab::models::MetricSet metrics(metrics_options, model);
  lrlab::Recorder recorder({lrlab::RunRecord{"run0", 40}, lrlab::RunRecord{"run1", 41}}, {},
                           [](const std::string&) { return true; });
  tr::Monitor monitor(metrics, recorder, 23, /*early_stop=*/false);
  descent.train(model, monitor);
  return source->calls;
}

}  // namespace

TEST_CASE("descent: a multi-step source runs up to each record in one call at constant rates",
          "[descent][cuda_fused]") {
  const std::vector<std::pair<int64_t, int64_t>> expected = {{1, 5}, {6, 5}, {11, 5}, {16, 5}, {21, 3}};
  CHECK(drive("type: constant") == expected);
}

TEST_CASE("descent: a multi-step source takes one update per call when the schedule changes the rate",
          "[descent][cuda_fused]") {
  const auto calls = drive("type: cosine");
  REQUIRE(calls.size() == 23);
  for (int64_t s = 1; s <= 23; ++s) CHECK(calls[static_cast<size_t>(s - 1)] == std::make_pair(s, int64_t{1}));
}
