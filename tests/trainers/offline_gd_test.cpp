// offline_gd: with n << d the student interpolates its training set but does not recover the teacher;
// with n = 20 d it does (full batch and minibatch); the training set is drawn once per replica.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "framework/config.h"
#include "framework/error.h"
#include "study/group_runner.h"
#include "tests/support/group_fixtures.h"
#include "trainers/data_sources/offline.h"
#include "trainers/descent.h"

using namespace lrlab;
using namespace lrlab::study;
using namespace lrlab::testing;

namespace {

const char* kProblem = R"(
dtype: float64
base: {d: 32, k: 4, activation: {type: relu}, second_layer: signs}
teacher: {rank: 1, xi: 1.0}
adapter: {type: full}
metrics: {names: [train_loss, population_loss, delta_error]}
)";

}  // namespace

TEST_CASE("offline_gd: n << d overfits (train loss -> 0, population loss stays high); n = 20 d recovers",
          "[offline_gd]") {
  const int R = 2;
  GroupOutcome small = run_group(
      replica_configs(std::string(kProblem) + "trainer: {type: offline_gd, n: 8, epochs: 4000, lr: 0.5}\n", R),
      records(R));
  GroupOutcome large = run_group(
      replica_configs(std::string(kProblem) + "trainer: {type: offline_gd, n_per_d: 20, epochs: 1000, lr: 2.0}\n", R),
      records(R));
  for (const std::string run : {"run0", "run1"}) {
    const auto train_s = curve(*small.recorder, run, "train_loss"), pop_s = curve(*small.recorder, run, "population_loss");
    const auto train_l = curve(*large.recorder, run, "train_loss"), pop_l = curve(*large.recorder, run, "population_loss");
    const auto err_l = curve(*large.recorder, run, "delta_error");
    INFO(run << ": n = 8: train " << train_s.front() << " -> " << train_s.back() << ", population " << pop_s.front()
             << " -> " << pop_s.back() << "; n = 640: train " << train_l.front() << " -> " << train_l.back()
             << ", population " << pop_l.front() << " -> " << pop_l.back() << ", delta_error " << err_l.back());
    CHECK(train_s.back() < 1e-4 * train_s.front());  // interpolates its 8 samples
    CHECK(pop_s.back() > 0.5 * pop_s.front());       // and has not learned the teacher
    CHECK(pop_l.back() < 1e-4 * pop_l.front());      // 20 d samples: recovers it
    CHECK(err_l.back() < 0.02);
  }
}

TEST_CASE("offline_gd: minibatch SGD over shuffled epochs learns from n = 20 d samples", "[offline_gd]") {
  GroupOutcome out = run_group(
      replica_configs(std::string(kProblem) + "trainer: {type: offline_gd, n_per_d: 20, batch: 32, epochs: 60, lr: 2.0}\n", 2),
      records(2));
  auto* trainer = dynamic_cast<trainers::Descent*>(out.group.trainer.get());
  REQUIRE(trainer != nullptr);
  auto* source = dynamic_cast<trainers::OfflineSource*>(&trainer->source());
  REQUIRE(source != nullptr);
  CHECK(source->samples() == 640);
  CHECK(trainer->steps() == 60 * 20);
  for (const std::string run : {"run0", "run1"}) {
    const auto pop = curve(*out.recorder, run, "population_loss");
    INFO(run << ": population " << pop.front() << " -> " << pop.back());
    CHECK(pop.back() < 0.01 * pop.front());
  }
}

TEST_CASE("offline_gd: each replica's training set is its own seed's, whatever the group", "[offline_gd]") {
  const std::string yaml = std::string(kProblem) + "trainer: {type: offline_gd, n: 16, batch: 5}\n";
  BuiltGroup pair = build_group(replica_configs(yaml, 2, 7));
  BuiltGroup alone = build_group(replica_configs(yaml, 1, 8));
  trainers::TrainingSet a(pair.model, 16, 5), b(alone.model, 16, 5);
  CHECK(at::equal(a.all().x[1], b.all().x[0]));
  CHECK(at::equal(a.all().y[1], b.all().y[0]));
  CHECK(a.batches_per_epoch() == 4);
  // An epoch visits every sample once (a permutation per replica), the last batch is the remainder.
  std::vector<int64_t> sizes;
  at::Tensor seen = at::zeros({2, 16}, at::kDouble);
  for (int i = 0; i < 4; ++i) {
    const trainers::Batch batch = a.next();
    sizes.push_back(batch.x.size(1));
    CHECK(at::allclose(batch.y, pair.model.teacher->clean_labels(batch.x, batch.wx)));  // rows stay paired
    for (int r = 0; r < 2; ++r)
      for (int64_t j = 0; j < batch.y.size(1); ++j)
        seen[r] += (a.all().x[r].select(1, 0) == batch.x[r][j][0]).to(at::kDouble);  // ReLU labels can tie at 0
  }
  CHECK(sizes == std::vector<int64_t>{5, 5, 5, 1});
  CHECK(at::equal(seen, at::ones({2, 16}, at::kDouble)));
}

TEST_CASE("offline_gd: options are validated", "[offline_gd]") {
  const std::string head = "base: {d: 8, k: 2}\n";
  auto fails = [&](const std::string& trainer, const std::string& key) {
    try {
      build_group(replica_configs(head + "trainer: " + trainer + "\n", 1));
      FAIL("no error for " << trainer);
    } catch (const ConfigError& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find(key) != std::string::npos);
    }
  };
  fails("{type: offline_gd, batch: half}", "trainer.batch");
  fails("{type: offline_gd, n: -3}", "trainer.n");
  fails("{type: offline_gd, n_per_d: 0}", "trainer.n_per_d");
  fails("{type: offline_gd, lr: 0}", "trainer.lr");
  CHECK_NOTHROW(build_group(replica_configs(head + "trainer: {type: offline_gd, batch: 0}\n", 1)));
}
