// DataSampler: replica i of a stacked group draws exactly what the same seed draws alone on the CPU,
// through the batched buffer and through the fused path's per-replica draws alike; on CUDA one private
// generator fills the group.

#include <catch2/catch.hpp>

#include <ATen/ATen.h>
#include <ATen/Context.h>

#include <cstdlib>

#include "framework/context.h"
#include "trainers/data_sampler.h"

namespace {

using lrlab::trainers::DataSampler;

lrlab::Context cpu_context(std::vector<int64_t> seeds, at::ScalarType dtype) {
  lrlab::Context ctx;
  ctx.seeds = std::move(seeds);
  ctx.dtype = dtype;
  return ctx;
}

}  // namespace

TEST_CASE("sampler: replica i of a stacked group draws what its seed draws alone", "[sampler]") {
  const std::vector<int64_t> seeds{10, 11, 12, 13};
  const int64_t batch = 3, d = 7;
  for (auto dtype : {at::kDouble, at::kFloat}) {
    INFO("dtype " << c10::toString(dtype));
    DataSampler group(cpu_context(seeds, dtype), batch, d);
    std::vector<DataSampler> alone;
    for (int64_t s : seeds) alone.emplace_back(cpu_context({s}, dtype), batch, d);
    for (int step = 0; step < 4; ++step) {
      const at::Tensor x = group.next_inputs().clone();  // [R, B, d]
      REQUIRE(x.sizes() == at::IntArrayRef({4, batch, d}));
      // Label noise only on some steps: the order x, eps within a replica is what matters.
      const bool noisy = step % 2 == 1;
      const at::Tensor eps = noisy ? group.next_noise().clone() : at::Tensor();
      for (size_t r = 0; r < seeds.size(); ++r) {
        INFO("step " << step << " replica " << r);
        CHECK(x[r].equal(alone[r].next_inputs()[0]));
        if (noisy) CHECK(eps[r].equal(alone[r].next_noise()[0]));
      }
      // Different replicas draw different numbers.
      CHECK_FALSE(x[0].equal(x[1]));
    }
  }
}

TEST_CASE("sampler: the fused path's per-replica draws equal the batched buffer", "[sampler]") {
  const std::vector<int64_t> seeds{3, 4, 5};
  const int64_t batch = 2, d = 33;
  DataSampler batched(cpu_context(seeds, at::kFloat), batch, d);
  DataSampler fused(cpu_context(seeds, at::kFloat), batch, d);
  REQUIRE(fused.per_replica());
  std::vector<float> x(batch * d), eps(batch);
  for (int step = 0; step < 3; ++step) {
    const at::Tensor xb = batched.next_inputs().clone();
    const at::Tensor eb = batched.next_noise().clone();
    for (int64_t r = 0; r < 3; ++r) {  // fused order: replica by replica, x then eps
      fused.draw_inputs(r, x.data());
      fused.draw_noise(r, eps.data());
      CHECK(at::from_blob(x.data(), {batch, d}, at::kFloat).equal(xb[r]));
      CHECK(at::from_blob(eps.data(), {batch}, at::kFloat).equal(eb[r]));
    }
  }
  // A float run sees the float64 run's samples, rounded.
  DataSampler f64(cpu_context({3}, at::kDouble), batch, d);
  DataSampler f32(cpu_context({3}, at::kFloat), batch, d);
  CHECK(f64.next_inputs().to(at::kFloat).equal(f32.next_inputs()));
}

TEST_CASE("sampler: inputs(n) has shape [R, n, d], uses the stream, and streams differ", "[sampler]") {
  DataSampler data(cpu_context({1, 2}, at::kDouble), 4, 5, lrlab::Stream::kData);
  DataSampler init(cpu_context({1, 2}, at::kDouble), 4, 5, lrlab::Stream::kInitData);
  const at::Tensor a = data.inputs(6);
  CHECK(a.sizes() == at::IntArrayRef({2, 6, 5}));
  CHECK_FALSE(a.equal(init.inputs(6)));
  CHECK(std::abs(a.mean().item<double>()) < 1.0);
}

TEST_CASE("sampler on CUDA fills the group from a private generator", "[sampler][cuda]") {
  if (!at::hasCUDA()) {
    if (const char* req = std::getenv("LRLAB_REQUIRE_CUDA"); req && std::string(req) == "1")
      FAIL("LRLAB_REQUIRE_CUDA=1 but CUDA is not available");
    WARN("CUDA not available: skipping");
    return;
  }
  lrlab::Context ctx;
  ctx.device = c10::Device(c10::kCUDA, 0);
  ctx.dtype = at::kFloat;
  ctx.seeds = {1, 2, 3, 4};
  at::Generator global = at::globalContext().defaultGenerator(ctx.device);
  const uint64_t global_seed = global.current_seed();
  DataSampler a(ctx, 64, 256), b(ctx, 64, 256);
  const at::Tensor xa = a.next_inputs().cpu();
  CHECK(xa.sizes() == at::IntArrayRef({4, 64, 256}));
  CHECK(xa.equal(b.next_inputs().cpu()));  // reproducible from the seeds
  CHECK(std::abs(xa.mean().item<double>()) < 0.02);
  CHECK(std::abs(xa.var().item<double>() - 1) < 0.03);
  CHECK(global.current_seed() == global_seed);  // the global generator is not reseeded
  CHECK_FALSE(a.per_replica());
}
