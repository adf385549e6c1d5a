// Every registered adapter's CPU kernel (models/adapters/adapter_kernel.h), called directly, equals the
// adapter's own batched tensor code: h = preactivations(x, wx) and the gradients of
// backward_preactivations(x, wx, g), replica by replica, to 1e-12 in float64 at a perturbed point. The
// low_rank teacher's kernel equals Teacher::preactivations. The driver (trainers/kernel_step.h) is
// tested separately against the whole batched step.

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "apps/gradcheck_command.h"
#include "models/register.h"
#include "tests/models/adapters/adapter_test_support.h"

namespace {

using lrlab::models::AdapterKernel;

// The registered adapters, less the test-only "planted_error" that tests/apps/gradcheck_command_test.cpp
// registers (present when every test runs in one process).
std::vector<std::string> registered_adapters() {
  std::vector<std::string> out;
  for (const auto& key : lrlab::models::adapter_registry().keys())
    if (key != "planted_error") out.push_back(key);
  return out;
}

// max |a - b| / max(1, max |b|).
double rel_err(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>() / std::max(1.0, b.abs().max().item<double>());
}

// The dot products of replica r's samples x [B, d] with the kernel's rows: z [B, n] (as the driver's pass).
template <class Rows>
std::vector<double> row_products(const Rows& kernel, int64_t r, const at::Tensor& x) {
  const int64_t n = kernel.rows(), batch = x.size(0), d = x.size(1);
  std::vector<const double*> rows(n);
  kernel.row_pointers(r, rows.data());
  std::vector<double> z(batch * n);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < n; ++t) {
      double acc = 0.0;
      for (int64_t j = 0; j < d; ++j) acc += x[b][j].item<double>() * rows[t][j];
      z[b * n + t] = acc;
    }
  return z;
}

}  // namespace

TEST_CASE("every adapter's CPU kernel equals its batched preactivations and backward", "[kernel][adapters]") {
  const int64_t replicas = 2, batch = 3, d = 12, k = 4;  // d >= vera's default rank 8
  for (const auto& key : registered_adapters()) {
    INFO("adapter " << key);
    auto model = lrlab::test::build_test_model("{type: " + key + "}", "{type: tanh}", replicas, d, k);
    lrlab::perturb_parameters(*model.adapter, 0.5, 5);
    auto& adapter = *model.adapter;
    const at::Tensor x = lrlab::test::test_normal({replicas, batch, d}, 1);
    const at::Tensor g = lrlab::test::test_normal({replicas, batch, k}, 2);
    const at::Tensor wx = model.base->preactivations(x);
    const at::Tensor h = adapter.preactivations(x, wx);
    adapter.backward_preactivations(x, wx, g);
    std::string why;
    auto base = adapter.cpu_kernel(at::kDouble, &why);
    INFO(why);
    REQUIRE(base != nullptr);
    REQUIRE(base->dtype() == at::kDouble);
    auto& kernel = static_cast<AdapterKernel<double>&>(*base);
    kernel.begin_step();
    const auto params = adapter.parameters();
    for (int64_t r = 0; r < replicas; ++r) {
      INFO("replica " << r);
      const at::Tensor xr = x[r].contiguous(), wxr = wx[r].contiguous(), gr = g[r].contiguous();
      const std::vector<double> z = row_products(kernel, r, xr);
      std::vector<double> scratch(std::max<int64_t>(1, kernel.scratch_size(batch))), hk(batch * k);
      kernel.forward(r, batch, xr.data_ptr<double>(), wxr.data_ptr<double>(), z.data(), hk.data(), scratch.data());
      CHECK(rel_err(at::tensor(hk, at::kDouble).view({batch, k}), h[r]) < 1e-12);
      std::vector<std::vector<double>> grads;
      std::vector<double*> ptrs;
      for (auto* p : params) grads.emplace_back(p->value[r].numel(), std::nan(""));  // every number overwritten
      for (auto& v : grads) ptrs.push_back(v.data());
      kernel.backward(r, batch, xr.data_ptr<double>(), wxr.data_ptr<double>(), z.data(), hk.data(),
                      gr.data_ptr<double>(), ptrs.data(), scratch.data());
      for (size_t j = 0; j < params.size(); ++j) {
        INFO("parameter " << params[j]->name);
        const at::Tensor gk = at::tensor(grads[j], at::kDouble).view(params[j]->value[r].sizes());
        CHECK(rel_err(gk, params[j]->grad[r]) < 1e-12);
        CHECK(params[j]->grad[r].abs().max().item<double>() > 0);  // not a comparison of zeros
      }
    }
  }
}

TEST_CASE("the low_rank teacher's CPU kernel equals its preactivations", "[kernel]") {
  const int64_t replicas = 2, batch = 3, d = 7, k = 4;
  auto model = lrlab::test::build_test_model("{type: lora}", "{type: tanh}", replicas, d, k);
  const at::Tensor x = lrlab::test::test_normal({replicas, batch, d}, 3);
  const at::Tensor wx = model.base->preactivations(x);
  const at::Tensor hs = model.teacher->preactivations(x, wx);
  auto base = model.teacher->cpu_kernel(at::kDouble, nullptr);
  REQUIRE(base != nullptr);
  auto& kernel = static_cast<lrlab::models::TeacherKernel<double>&>(*base);
  for (int64_t r = 0; r < replicas; ++r) {
    const at::Tensor xr = x[r].contiguous(), wxr = wx[r].contiguous();
    const std::vector<double> z = row_products(kernel, r, xr);
    std::vector<double> out(batch * k);
    kernel.preactivations(r, batch, wxr.data_ptr<double>(), z.data(), out.data());
    CHECK(rel_err(at::tensor(out, at::kDouble).view({batch, k}), hs[r]) < 1e-12);
    CHECK(rel_err(hs[r], wx[r]) > 1e-3);  // the perturbation is there
  }
}
