// The fused CUDA step on a GPU (tag [cuda]; skipped with a warning without CUDA or without the
// LRLAB_CUDA_FUSED build, failed then when LRLAB_REQUIRE_CUDA=1): the kernel equals the batched CUDA
// path to 1e-10 in float64 over several steps with identical injected inputs (issue 15's acceptance
// test), draws exactly the host instantiation's Philox numbers, and a small study on CUDA takes the
// `cuda_fused` path and reaches overlap 0.95.

#include <catch2/catch.hpp>

#include <ATen/ATen.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "study/group_runner.h"
#include "tests/support/group_fixtures.h"
#include "tests/trainers/cuda/fused_test_support.h"
#include "trainers/cuda/fused_step.h"

namespace {

using lrlab::fused_test::Case;
using lrlab::trainers::FusedStep;

bool have_fused_cuda() {
  const char* req = std::getenv("LRLAB_REQUIRE_CUDA");
  const bool required = req && std::string(req) == "1";
  if (!at::hasCUDA()) {
    if (required) FAIL("LRLAB_REQUIRE_CUDA=1 but CUDA is not available");
    WARN("CUDA not available: skipped");
    return false;
  }
  if (!FusedStep::built()) {
    if (required) FAIL("LRLAB_REQUIRE_CUDA=1 but this build has no fused CUDA step (-DLRLAB_CUDA_FUSED=ON)");
    WARN("built without the fused CUDA step: skipped");
    return false;
  }
  return true;
}

}  // namespace

TEST_CASE("fused CUDA step equals the batched CUDA path with injected inputs", "[cuda][cuda_fused]") {
  if (!have_fused_cuda()) return;
  for (const char* activation : {"{type: tanh}", "{type: relu}", "{type: hermite, p: 3}", "{type: gelu}"}) {
    Case c{"{type: rank1, train_xi: true}", activation, 3, 1};
    c.device = "cuda";
    lrlab::fused_test::compare(c, 5, 1, 1e-10);
    c.batch = 3;
    c.weight_decay = 0.1;
    lrlab::fused_test::compare(c, 6, 3, 1e-10);  // two launches of three steps
  }
  Case f32{"{type: rank1}", "{type: erf}", 4, 2};
  f32.device = "cuda";
  f32.dtype = "float32";
  lrlab::fused_test::compare(f32);
}

TEST_CASE("fused CUDA step draws the host instantiation's Philox numbers", "[cuda][cuda_fused]") {
  if (!have_fused_cuda()) return;
  // No injection: the kernel's own draws. 10 steps in one launch on the GPU and on the CPU.
  Case cpu{"{type: rank1}", "{type: tanh}", 3, 2};
  Case gpu = cpu;
  gpu.device = "cuda";
  auto cm = lrlab::fused_test::build(cpu), gm = lrlab::fused_test::build(gpu);
  auto cr = lrlab::fused_test::make_rule("sgd", cm), gr = lrlab::fused_test::make_rule("sgd", gm);
  auto cs = FusedStep::make(cm, 2, true, *cr, nullptr), gs = FusedStep::make(gm, 2, true, *gr, nullptr);
  REQUIRE(cs);
  REQUIRE(gs);
  const at::Tensor lr = at::full({3}, 0.05, at::kDouble);
  const at::Tensor lc = cs->steps(1, 10, lr, at::Tensor(), true).clone();
  const at::Tensor lg = gs->steps(1, 10, lr.cuda(), at::Tensor(), true).cpu();
  CHECK(lrlab::fused_test::rel_err(lg, lc) < 1e-10);
  CHECK(lc.abs().min().item<double>() > 0);
  for (size_t j = 0; j < cm.adapter->parameters().size(); ++j)
    CHECK(lrlab::fused_test::rel_err(gm.adapter->parameters()[j]->value.cpu(), cm.adapter->parameters()[j]->value) <
          1e-10);
}

TEST_CASE("a small study on CUDA takes the fused path and reaches overlap 0.95", "[cuda][cuda_fused]") {
  if (!have_fused_cuda()) return;
  // configs/paper/scaling_d.yaml at d = 64 (rank1, ReLU, k = 8, lr 16 / d, early stop at 0.95).
  const std::string yaml =
      "device: cuda\ndtype: float32\n"
      "base: {type: two_layer, d: 64, k: 8, activation: {type: relu}, init: sphere, second_layer: constant}\n"
      "teacher: {type: low_rank, rank: 1, xi: 1.0, c: random}\nadapter: {type: rank1, c: train}\n"
      "trainer: {type: online_sgd, steps_per_d: 400, batch: 1, lr: 16.0, lr_scaling: inverse_d, early_stop: true}\n"
      "metrics: {names: [overlap, train_loss], every: 64, thresholds: {overlap: [0.95]}}\n";
  auto outcome = lrlab::study::run_group(lrlab::testing::replica_configs(yaml, 4), lrlab::testing::records(4));
  CHECK(outcome.group.trainer->path() == "cuda_fused");
  for (const std::string run : {"run0", "run1", "run2", "run3"}) {
    INFO(run);
    const auto overlap = lrlab::testing::curve(*outcome.recorder, run, "overlap");
    REQUIRE(!overlap.empty());
    CHECK(overlap.back() >= 0.95);
    const auto loss = lrlab::testing::curve(*outcome.recorder, run, "train_loss");
    REQUIRE(loss.size() >= 2);
    CHECK(std::isfinite(loss.back()));
  }
}
